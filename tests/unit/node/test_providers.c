/*
 * test_providers.c — the durable provider registry: adverts signed by real Ed25519 node keys
 * are accepted (store, then scheduler), stale and forged ones are refused and not written,
 * a restart rebuilds the same registry from the store (expired adverts are dropped, a corrupt
 * row is skipped and counted), and expiry empties both — against SQLite and, with OCTO_TEST_PG
 * set, PostgreSQL.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "crypto/ident.h"
#include "node/providers.h"
#include "test.h"
#include "testdb.h"

#include <stdio.h>
#include <string.h>

#define NOW_MS UINT64_C(1800000000000)
#define T0 (UINT64_C(5) * OCTO_NS_PER_S)
#define PROVIDERS 40

static void sched_new(struct octo_sched *s)
{
    struct octo_sched_config c = {.providers_max = 64, .models_max = 16, .tasks_max = 16};
    OCTO_ASSERT(octo_sched_init(s, &c, T0) == 0);
}

/* Signed advert of provider n (key from a seed), sequence seq, expiring at expiry. */
static size_t signed_advert(uint32_t n, uint64_t seq, uint64_t expiry, uint64_t price, uint8_t *out)
{
    uint8_t seed[32];
    memset(seed, 0x5c, sizeof(seed));
    memcpy(seed, &n, sizeof(n));
    struct octo_identity id;
    OCTO_ASSERT(octo_identity_from_seed(&id, seed) == 0);
    struct octo_advert *a = octo_malloc(sizeof(*a));
    OCTO_ASSERT(a != NULL);
    octo_advert_init(a);
    octo_peerid_from_pubkey(&id.pub, &a->provider);
    a->seq = seq;
    a->price_in_per_mtok = price;
    a->price_out_per_mtok = price;
    a->expiry_ms = expiry;
    a->max_concurrency = 4;
    a->hw_tier = 1;
    a->isolation = OCTO_ISOLATION_CONTAINER;
    memcpy(a->country, "FR", 3);
    memcpy(a->continent, "EU", 3);
    a->models_count = 1;
    snprintf(a->models[0].name, sizeof(a->models[0].name), "llama-%u", n % 3);
    snprintf(a->models[0].quant, sizeof(a->models[0].quant), "q8_0");
    memset(a->models[0].weights_hash, 1, sizeof(a->models[0].weights_hash));
    a->models[0].context_len = 4096;
    a->endpoints_count = 1;
    const uint8_t ep[] = {0x04, 10, 0, 0, 1, 0x06, 0x10, 0x00};
    memcpy(a->endpoints[0].bytes, ep, sizeof(ep));
    a->endpoints[0].len = sizeof(ep);
    size_t len = 0;
    enum octo_advert_reason why;
    OCTO_ASSERT(octo_advert_sign(a, &id, out, OCTO_ADVERT_SIGNED_MAX, &len, &why) == 0);
    octo_free(a);
    octo_identity_deinit(&id);
    return len;
}

static void test_accept_restart_expire(void)
{
    struct octo_store *db = tdb_open_migrated("providers");
    CHECK(db != NULL);
    struct octo_provstore ps;
    octo_provstore_init(&ps, db, 0);
    struct octo_sched s;
    sched_new(&s);
    uint8_t *buf = octo_malloc(OCTO_ADVERT_SIGNED_MAX);
    enum octo_advert_reason why;
    for (uint32_t n = 0; n < PROVIDERS; n++) {
        /* a quarter expire one minute in, the rest in an hour */
        uint64_t expiry = NOW_MS + (n % 4 == 0 ? 60000 : 3600000);
        size_t len = signed_advert(n, 1, expiry, 1000 + n, buf);
        CHECK_EQ_INT(octo_providers_accept(&ps, &s, buf, len, NOW_MS, T0, &why),
                     OCTO_REGISTRY_INSERTED);
    }
    /* newer replaces, same seq is stale and writes nothing */
    size_t len = signed_advert(1, 2, NOW_MS + 3600000, 777, buf);
    CHECK_EQ_INT(octo_providers_accept(&ps, &s, buf, len, NOW_MS, T0, &why),
                 OCTO_REGISTRY_REPLACED);
    CHECK_EQ_INT(octo_providers_accept(&ps, &s, buf, len, NOW_MS, T0, &why), OCTO_REGISTRY_STALE);
    /* a forged advert (one signature byte flipped) is refused and not stored */
    len = signed_advert(PROVIDERS, 1, NOW_MS + 3600000, 5, buf);
    buf[len - 1] ^= 1;
    CHECK(octo_providers_accept(&ps, &s, buf, len, NOW_MS, T0, &why) < 0);
    /* an expired one too */
    len = signed_advert(PROVIDERS + 1, 1, NOW_MS - 1, 5, buf);
    CHECK(octo_providers_accept(&ps, &s, buf, len, NOW_MS, T0, &why) < 0);
    uint64_t count = 0;
    CHECK_OK(octo_provstore_count(&ps, &count));
    CHECK_EQ_U64(count, PROVIDERS);

    /* restart: a new scheduler rebuilds the same registry from the store */
    octo_sched_deinit(&s);
    sched_new(&s);
    struct octo_providers_load_stats st;
    CHECK_OK(octo_providers_load(&ps, &s, NOW_MS + 1000, T0, &st));
    CHECK_EQ_INT(st.loaded, PROVIDERS);
    CHECK_EQ_INT(st.rejected + st.expired + st.refused, 0);
    struct octo_registry_stats rs;
    octo_registry_stats(octo_sched_registry(&s), &rs);
    CHECK_EQ_INT(rs.providers, PROVIDERS);
    len = signed_advert(1, 2, NOW_MS + 3600000, 777, buf);
    CHECK_EQ_INT(octo_providers_accept(&ps, &s, buf, len, NOW_MS, T0, &why), OCTO_REGISTRY_STALE);

    /* a restart after the short adverts expired drops them from memory and the store */
    octo_sched_deinit(&s);
    sched_new(&s);
    CHECK_OK(octo_providers_load(&ps, &s, NOW_MS + 120000, T0, &st));
    CHECK_EQ_INT(st.loaded, PROVIDERS - PROVIDERS / 4);
    CHECK_EQ_INT(st.expired, PROVIDERS / 4);
    CHECK_OK(octo_provstore_count(&ps, &count));
    CHECK_EQ_U64(count, PROVIDERS - PROVIDERS / 4);

    /* expiry while running */
    CHECK_EQ_INT(octo_providers_expire(&ps, &s, NOW_MS + 3600000), PROVIDERS - PROVIDERS / 4);
    octo_registry_stats(octo_sched_registry(&s), &rs);
    CHECK_EQ_INT(rs.providers, 0);
    CHECK_OK(octo_provstore_count(&ps, &count));
    CHECK_EQ_U64(count, 0);
    octo_free(buf);
    octo_sched_deinit(&s);
    octo_store_close(db);
}

static void test_corrupt_row_skipped(void)
{
    struct octo_store *db = tdb_open_migrated("providers-corrupt");
    CHECK(db != NULL);
    struct octo_provstore ps;
    octo_provstore_init(&ps, db, 0);
    uint8_t *buf = octo_malloc(OCTO_ADVERT_SIGNED_MAX);
    size_t len = signed_advert(3, 1, NOW_MS + 3600000, 9, buf);
    buf[len / 2] ^= 0x40; /* stored bytes damaged on disk */
    uint8_t id[4] = {1, 2, 3, 4};
    struct octo_provstore_record rec = {.id = id,
                                        .id_len = sizeof(id),
                                        .seq = 1,
                                        .expiry_ms = NOW_MS + 3600000,
                                        .received_ms = NOW_MS,
                                        .advert = buf,
                                        .advert_len = len};
    CHECK_EQ_INT(octo_provstore_put(&ps, &rec), 1);
    len = signed_advert(4, 1, NOW_MS + 3600000, 9, buf);
    struct octo_sched s;
    sched_new(&s);
    enum octo_advert_reason why;
    CHECK_EQ_INT(octo_providers_accept(&ps, &s, buf, len, NOW_MS, T0, &why),
                 OCTO_REGISTRY_INSERTED);
    octo_sched_deinit(&s);
    sched_new(&s);
    struct octo_providers_load_stats st;
    CHECK_OK(octo_providers_load(&ps, &s, NOW_MS, T0, &st));
    CHECK_EQ_INT(st.loaded, 1);
    CHECK_EQ_INT(st.rejected, 1);
    octo_free(buf);
    octo_sched_deinit(&s);
    octo_store_close(db);
}

int main(void)
{
    struct octo_log_config lc = {.level = OCTO_LOG_OFF};
    octo_log_configure(&lc);
    OCTO_ASSERT(octo_crypto_init() == 0);
    if (tdb_init("node_providers") < 0)
        return 1;
    TDB_RUN(test_accept_restart_expire);
    TDB_RUN(test_corrupt_row_skipped);
    tdb_done();
    return octo_test_finish();
}
