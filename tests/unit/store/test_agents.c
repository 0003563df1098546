/*
 * test_agents.c — the agents table (store/agents.h): insert and read back by id and by name,
 * names unique per owner (another owner may reuse one), an owner's limit counted in the
 * insert's transaction, list by name, delete, shapes refused — against SQLite and, with
 * OCTO_TEST_PG set, PostgreSQL (testdb.h).
 */
#define _GNU_SOURCE
#include "base/assert.h"
#include "base/buf.h"
#include "crypto/ident.h"
#include "store/agents.h"
#include "test.h"
#include "testdb.h"

#include <stdio.h>
#include <string.h>

static const char manifest[] = "{\"name\":\"poet\",\"model\":\"tiny\"}";

static void make(const char *owner, const char *name, uint8_t tag, struct octo_agent_rec *r)
{
    memset(r, 0, sizeof(*r));
    uint8_t rnd[16];
    memset(rnd, tag, sizeof(rnd));
    octo_uuid_v4(rnd, r->id);
    snprintf(r->owner, sizeof(r->owner), "%s", owner);
    snprintf(r->name, sizeof(r->name), "%s", name);
    memset(r->manifest_hash, tag, 32);
    memset(r->registrar, 0x52, 32);
    memset(r->sig, 0x53, 64);
    r->created_ms = 1700000000000u + tag;
}

static void test_store(void)
{
    struct octo_store *s = tdb_open_migrated("agents");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    struct octo_agent_rec a, b, got;
    make("0123456789ab", "poet", 1, &a);
    CHECK_OK(octo_agent_insert(s, &a, manifest, strlen(manifest)));
    struct octo_buf man;
    octo_buf_init(&man, OCTO_AGENT_STORE_MANIFEST_MAX);
    CHECK_OK(octo_agent_get(s, "0123456789ab", "poet", &got, &man));
    CHECK(strcmp(got.id, a.id) == 0 && strcmp(got.name, "poet") == 0);
    CHECK(man.len == strlen(manifest) && memcmp(man.data, manifest, man.len) == 0);
    CHECK(memcmp(got.sig, a.sig, 64) == 0 && got.created_ms == a.created_ms);
    CHECK_OK(octo_agent_get(s, "0123456789ab", a.id, &got, NULL)); /* by id */
    /* another owner sees nothing, and may use the name */
    CHECK_EQ_INT(octo_agent_get(s, "ba9876543210", "poet", &got, NULL), OCTO_ENOTFOUND);
    CHECK_EQ_INT(octo_agent_get(s, "ba9876543210", a.id, &got, NULL), OCTO_ENOTFOUND);
    make("ba9876543210", "poet", 2, &b);
    CHECK_OK(octo_agent_insert(s, &b, manifest, strlen(manifest)));
    /* a name once per owner; an id once */
    make("0123456789ab", "poet", 3, &b);
    CHECK_EQ_INT(octo_agent_insert(s, &b, manifest, strlen(manifest)), OCTO_EEXIST);
    make("0123456789ab", "other", 1, &b); /* a's id again */
    CHECK_EQ_INT(octo_agent_insert(s, &b, manifest, strlen(manifest)), OCTO_EEXIST);
    /* shapes */
    make("0123456789ab", "x", 4, &b);
    b.id[8] = 'x';
    CHECK_EQ_INT(octo_agent_insert(s, &b, manifest, strlen(manifest)), OCTO_EINVAL);
    make("0123456789ab", "", 4, &b);
    CHECK_EQ_INT(octo_agent_insert(s, &b, manifest, strlen(manifest)), OCTO_EINVAL);
    make("0123456789ab", "x", 4, &b);
    CHECK_EQ_INT(octo_agent_insert(s, &b, "\xff\xfe", 2), OCTO_EINVAL);
    CHECK_EQ_INT(octo_agent_insert(s, &b, manifest, 0), OCTO_EINVAL);
    /* delete */
    CHECK_OK(octo_agent_delete(s, "0123456789ab", "poet"));
    CHECK_EQ_INT(octo_agent_delete(s, "0123456789ab", "poet"), OCTO_ENOTFOUND);
    CHECK_OK(octo_agent_get(s, "ba9876543210", "poet", &got, NULL)); /* the other owner's stays */
    octo_buf_deinit(&man);
    octo_store_close(s);
}

struct listed {
    int n;
    char first[OCTO_AGENT_STORE_NAME_MAX + 1];
};

static int on_agent(void *ctx, const struct octo_agent_rec *r, const char *m, size_t len)
{
    (void)m;
    (void)len;
    struct listed *l = ctx;
    if (l->n++ == 0)
        snprintf(l->first, sizeof(l->first), "%s", r->name);
    return 0;
}

static void test_limit_and_list(void)
{
    struct octo_store *s = tdb_open_migrated("agents-limit");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_OK(octo_store_begin(s, true)); /* one transaction: the inserts join it */
    struct octo_agent_rec r;
    for (unsigned i = 0; i < OCTO_AGENTS_PER_OWNER_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "a%03u", OCTO_AGENTS_PER_OWNER_MAX - 1 - i);
        make("0123456789ab", name, (uint8_t)i, &r);
        r.id[0] = "0123456789abcdef"[i % 16]; /* ids differ in more than the tag */
        r.id[1] = "0123456789abcdef"[i / 16 % 16];
        CHECK_OK(octo_agent_insert(s, &r, manifest, strlen(manifest)));
    }
    CHECK_OK(octo_store_commit(s));
    make("0123456789ab", "zzz", 0xee, &r);
    CHECK_EQ_INT(octo_agent_insert(s, &r, manifest, strlen(manifest)), OCTO_ELIMIT);
    struct listed l = {0};
    CHECK_OK(octo_agent_list(s, "0123456789ab", on_agent, &l));
    CHECK_EQ_INT(l.n, (int)OCTO_AGENTS_PER_OWNER_MAX);
    CHECK_STR(l.first, "a000"); /* by name */
    struct listed none = {0};
    CHECK_OK(octo_agent_list(s, "ba9876543210", on_agent, &none));
    CHECK_EQ_INT(none.n, 0);
    octo_store_close(s);
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    if (tdb_init("agents") != 0)
        return 1;
    TDB_RUN(test_store);
    TDB_RUN(test_limit_and_list);
    tdb_done();
    return octo_test_finish();
}
