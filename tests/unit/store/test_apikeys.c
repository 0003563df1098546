/*
 * test_apikeys.c — API keys: the text shown once parses back to the stored id and hash, a
 * wrong or altered secret fails the check, a revoked key fails it; insert refuses a taken id
 * and values out of range; spending stays within the budget to the unit (also from a second
 * connection, and a refused spend changes nothing); list in id order — against SQLite and,
 * with OCTO_TEST_PG set, PostgreSQL (testdb.h).
 */
#define _GNU_SOURCE
#include "base/assert.h"
#include "crypto/ident.h"
#include "store/apikeys.h"
#include "test.h"
#include "testdb.h"

#include <string.h>

static void make(uint8_t tag, uint64_t budget, struct octo_apikey *k,
                 char text[OCTO_APIKEY_TEXT_LEN + 1])
{
    uint8_t id[OCTO_APIKEY_ID_HEX / 2], secret[OCTO_APIKEY_SECRET_LEN], account[32];
    memset(id, tag, sizeof(id));
    memset(secret, tag ^ 0x5a, sizeof(secret));
    memset(account, 0xac, sizeof(account));
    octo_apikey_make(id, secret, account, budget, 60, 1700000000000u, k, text);
}

static void test_text(void)
{
    struct octo_apikey k;
    char text[OCTO_APIKEY_TEXT_LEN + 1];
    make(0x1f, 100, &k, text);
    CHECK_EQ_U64(strlen(text), OCTO_APIKEY_TEXT_LEN);
    CHECK(strncmp(text, "octo-1f1f1f1f1f1f-", 18) == 0);
    char id[OCTO_APIKEY_ID_HEX + 1];
    uint8_t hash[32];
    CHECK_OK(octo_apikey_parse(text, id, hash));
    CHECK(strcmp(id, k.id) == 0);
    CHECK(octo_apikey_check(&k, hash));
    /* one digit of the secret changed: parses, does not check */
    text[OCTO_APIKEY_TEXT_LEN - 1] = text[OCTO_APIKEY_TEXT_LEN - 1] == '0' ? '1' : '0';
    CHECK_OK(octo_apikey_parse(text, id, hash));
    CHECK(!octo_apikey_check(&k, hash));
    /* shapes that are not keys */
    static const char *const bad[] = {
        "",
        "octo-",
        "sk-1234",
        "octo-1F1f1f1f1f1f-00000000000000000000000000000000000000000000000"
        "00000000000000000",
        "octo-1f1f1f1f1f1f_0000000000000000000000000000000000000000000000000000000000000000",
        "octo-1f1f1f1f1f1f-000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(octo_apikey_parse(bad[i], id, hash), OCTO_EINVAL);
    k.revoked = true;
    make(0x1f, 100, &k, text);
    k.revoked = true;
    CHECK_OK(octo_apikey_parse(text, id, hash));
    CHECK(!octo_apikey_check(&k, hash));
}

static void test_store(void)
{
    struct octo_store *s = tdb_open_migrated("apikeys");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    struct octo_apikey k, got;
    char text[OCTO_APIKEY_TEXT_LEN + 1];
    make(0x21, 1000, &k, text);
    CHECK_OK(octo_apikey_insert(s, &k));
    CHECK_EQ_INT(octo_apikey_insert(s, &k), OCTO_EEXIST);
    CHECK_OK(octo_apikey_get(s, k.id, &got));
    CHECK(memcmp(got.hash, k.hash, 32) == 0 && memcmp(got.account, k.account, 32) == 0);
    CHECK_EQ_U64(got.budget, 1000);
    CHECK_EQ_U64(got.spent, 0);
    CHECK_EQ_INT(got.rate_per_min, 60);
    CHECK_EQ_U64(got.created_ms, 1700000000000u);
    CHECK(!got.revoked);
    CHECK_EQ_INT(octo_apikey_get(s, "000000000000", &got), OCTO_ENOTFOUND);
    /* spending: to the budget exactly, never past it */
    CHECK_OK(octo_apikey_spend(s, k.id, 600));
    CHECK_EQ_INT(octo_apikey_spend(s, k.id, 401), OCTO_ERANGE);
    CHECK_OK(octo_apikey_get(s, k.id, &got));
    CHECK_EQ_U64(got.spent, 600); /* the refused spend changed nothing */
    struct octo_store *s2 = NULL;
    CHECK_OK(tdb_open_again(&s2, 0)); /* a second connection sees and respects it */
    CHECK_OK(octo_apikey_spend(s2, k.id, 400));
    CHECK_EQ_INT(octo_apikey_spend(s, k.id, 1), OCTO_ERANGE);
    octo_store_close(s2);
    CHECK_OK(octo_apikey_get(s, k.id, &got));
    CHECK_EQ_U64(got.spent, 1000);
    CHECK_EQ_INT(octo_apikey_spend(s, "000000000000", 1), OCTO_ENOTFOUND);
    /* revoked: no more spending, no check */
    struct octo_apikey k2;
    make(0x03, 50, &k2, text);
    CHECK_OK(octo_apikey_insert(s, &k2));
    CHECK_OK(octo_apikey_revoke(s, k2.id));
    CHECK_EQ_INT(octo_apikey_spend(s, k2.id, 1), OCTO_ESTATE);
    CHECK_OK(octo_apikey_get(s, k2.id, &got));
    CHECK(got.revoked);
    CHECK_EQ_INT(octo_apikey_revoke(s, "000000000000"), OCTO_ENOTFOUND);
    /* out of range */
    struct octo_apikey bad = k;
    bad.id[0] = 'X';
    CHECK_EQ_INT(octo_apikey_insert(s, &bad), OCTO_EINVAL);
    bad = k;
    bad.rate_per_min = 0;
    CHECK_EQ_INT(octo_apikey_insert(s, &bad), OCTO_EINVAL);
    bad = k;
    bad.spent = bad.budget + 1;
    CHECK_EQ_INT(octo_apikey_insert(s, &bad), OCTO_EINVAL);
    octo_store_close(s);
}

struct listed {
    int n;
    char ids[4][OCTO_APIKEY_ID_HEX + 1];
};

static int on_key(void *ctx, const struct octo_apikey *k)
{
    struct listed *l = ctx;
    if (l->n < 4)
        memcpy(l->ids[l->n], k->id, sizeof(k->id));
    l->n++;
    return 0;
}

static void test_list(void)
{
    struct octo_store *s = tdb_open_migrated("apikeys-list");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    struct octo_apikey k;
    char text[OCTO_APIKEY_TEXT_LEN + 1];
    static const uint8_t tags[] = {0x30, 0x10, 0x20};
    for (int i = 0; i < 3; i++) {
        make(tags[i], 5, &k, text);
        CHECK_OK(octo_apikey_insert(s, &k));
    }
    struct listed l = {0};
    CHECK_OK(octo_apikey_list(s, on_key, &l));
    CHECK_EQ_INT(l.n, 3);
    CHECK(strcmp(l.ids[0], "101010101010") == 0 && strcmp(l.ids[2], "303030303030") == 0);
    octo_store_close(s);
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    if (tdb_init("apikeys") != 0)
        return 1;
    OCTO_RUN(test_text);
    TDB_RUN(test_store);
    TDB_RUN(test_list);
    tdb_done();
    return octo_test_finish();
}
