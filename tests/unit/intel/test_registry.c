/*
 * test_registry.c — the provider registry: upsert and sequence ordering, removal, expiry,
 * posting order, limits, out-of-memory atomicity, a randomized model check (a seeded
 * population of 5,000 providers under 20,000 random operations, every query compared with a
 * brute-force scan of a shadow copy, and the whole run repeated under another hash key to
 * show that outputs do not depend on it), and a 100,000-provider fill that prints the memory
 * used per provider. Also: model lookup, per-model change stamps, entry incarnations, the
 * per-model walk, and models_max applied after a replacement releases its old names.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/multiaddr.h"
#include "base/rng.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "intel/advert.h"
#include "intel/registry.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS UINT64_C(1800000000000)
#define MINUTE_MS UINT64_C(60000)

static const char *const quants[] = {"q4_k_m", "q8_0", "f16"};
static const char *const countries[][2] = {
    {"DE", "EU"}, {"FR", "EU"}, {"US", "NA"}, {"CA", "NA"}, {"BR", "SA"},
    {"JP", "AS"}, {"IN", "AS"}, {"NG", "AF"}, {"AU", "OC"}, {"AQ", "AN"},
};
#define COUNTRIES ((unsigned)OCTO_ARRAY_LEN(countries))
#define QUANTS ((unsigned)OCTO_ARRAY_LEN(quants))

static struct octo_multiaddr ep_tcp, ep_quic;

/* Provider i's peer id: an Ed25519 identity id whose key bytes encode i (never checked as a
 * curve point by the registry, so no key generation is needed). */
static void peer_of(uint32_t i, struct octo_peerid *out)
{
    struct octo_pubkey pub;
    memset(&pub, 0, sizeof(pub));
    for (int k = 0; k < 4; k++)
        pub.bytes[k] = (uint8_t)(i >> (8 * k));
    pub.bytes[31] = 0x42;
    octo_peerid_from_pubkey(&pub, out);
}

static uint32_t index_of_peer(const struct octo_peerid *id)
{
    /* identity multihash 00 24, then the PublicKey protobuf 08 01 12 20, then the key */
    const uint8_t *k = id->bytes + 6;
    return (uint32_t)k[0] | ((uint32_t)k[1] << 8) | ((uint32_t)k[2] << 16) | ((uint32_t)k[3] << 24);
}

static void model_name(unsigned m, char *out, size_t size)
{
    snprintf(out, size, "org%u/model-%u-instruct", m % 7, m);
}

/* A compact description of an advert, from which the advert is rebuilt exactly. */
struct desc {
    uint64_t seq;
    uint64_t expiry_ms;
    uint8_t isolation;
    uint8_t country; /* index into countries */
    uint8_t models_count;
    uint8_t endpoints_count;
    uint16_t model[4];
    uint8_t quant[4];
    uint32_t price;
};

static void build(uint32_t i, const struct desc *d, struct octo_advert *a)
{
    octo_advert_init(a);
    peer_of(i, &a->provider);
    a->seq = d->seq;
    a->expiry_ms = d->expiry_ms;
    for (unsigned k = 0; k < d->models_count; k++) {
        struct octo_advert_model *m = &a->models[k];
        model_name(d->model[k], m->name, sizeof(m->name));
        snprintf(m->quant, sizeof(m->quant), "%s", quants[d->quant[k]]);
        memset(m->weights_hash, (int)(d->model[k] & 0xff), OCTO_ADVERT_HASH_LEN);
        m->context_len = 4096u << (d->quant[k]);
    }
    a->models_count = d->models_count;
    a->hw_tier = (uint8_t)(1 + i % OCTO_HW_TIER_MAX);
    a->price_in_per_mtok = d->price;
    a->price_out_per_mtok = 4 * (uint64_t)d->price;
    memcpy(a->country, countries[d->country][0], 3);
    memcpy(a->continent, countries[d->country][1], 3);
    a->isolation = d->isolation;
    if (d->isolation == OCTO_ISOLATION_TEE) {
        memcpy(a->attestation, "tdx:quote:", 10);
        a->attestation[10] = (uint8_t)i;
        a->attestation_len = 11;
    }
    a->max_concurrency = 1 + i % 64;
    const struct octo_multiaddr *eps[2] = {&ep_tcp, &ep_quic};
    for (unsigned k = 0; k < d->endpoints_count; k++) {
        memcpy(a->endpoints[k].bytes, eps[k]->bytes, eps[k]->len);
        a->endpoints[k].len = (uint16_t)eps[k]->len;
    }
    a->endpoints_count = d->endpoints_count;
}

static void random_desc(struct octo_rng *r, unsigned model_pool, uint64_t seq, uint64_t now_ms,
                        struct desc *d)
{
    memset(d, 0, sizeof(*d));
    d->seq = seq;
    d->expiry_ms = now_ms + MINUTE_MS * (1 + octo_rng_below(r, 3000));
    d->isolation = (uint8_t)(1 + octo_rng_below(r, 3));
    d->country = (uint8_t)octo_rng_below(r, COUNTRIES);
    d->endpoints_count = (uint8_t)(1 + octo_rng_below(r, 2));
    d->price = (uint32_t)octo_rng_below(r, 1000000000);
    unsigned want = 1 + (unsigned)octo_rng_below(r, 4);
    while (d->models_count < want) {
        uint16_t m = (uint16_t)octo_rng_below(r, model_pool);
        uint8_t q = (uint8_t)octo_rng_below(r, QUANTS);
        bool dup = false;
        for (unsigned k = 0; k < d->models_count; k++)
            dup = dup || (d->model[k] == m && d->quant[k] == q);
        if (!dup) {
            d->model[d->models_count] = m;
            d->quant[d->models_count] = q;
            d->models_count++;
        }
    }
}

static void config(struct octo_registry_config *cfg, uint32_t providers, uint32_t models,
                   uint8_t key)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->providers_max = providers;
    cfg->models_max = models;
    memset(cfg->hash_key, key, sizeof(cfg->hash_key));
}

/* Candidate sequence of a query as provider numbers (peer index * 8 + model index). */
static int collect(const struct octo_registry *reg, const char *model, uint8_t iso,
                   const char *country, const char *continent, uint32_t *out, size_t max)
{
    struct octo_registry_query q = {model, iso, country, continent};
    struct octo_registry_iter it;
    int rc = octo_registry_iter_init(&it, reg, &q);
    if (rc < 0)
        return rc;
    struct octo_registry_candidate c;
    size_t n = 0;
    while (octo_registry_iter_next(&it, &c)) {
        OCTO_ASSERT(n < max);
        OCTO_ASSERT(octo_registry_at(reg, c.index) == c.entry);
        OCTO_ASSERT(strcmp(octo_registry_model_name(reg, c.model->model_id), model) == 0);
        uint32_t j = (uint32_t)(c.model - c.entry->models);
        OCTO_ASSERT(j < c.entry->models_count);
        out[n++] = index_of_peer(&c.entry->provider) * 8 + j;
    }
    return (int)n;
}

/* ---- small explicit cases ---- */

static void test_init_limits(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 0, 10, 1);
    CHECK_ERR(octo_registry_init(&reg, &cfg), OCTO_EINVAL);
    octo_registry_deinit(&reg);
    config(&cfg, OCTO_REGISTRY_PROVIDERS_LIMIT + 1, 10, 1);
    CHECK_ERR(octo_registry_init(&reg, &cfg), OCTO_EINVAL);
    config(&cfg, 10, 0, 1);
    CHECK_ERR(octo_registry_init(&reg, &cfg), OCTO_EINVAL);
    config(&cfg, 10, OCTO_REGISTRY_MODELS_LIMIT + 1, 1);
    CHECK_ERR(octo_registry_init(&reg, &cfg), OCTO_EINVAL);
    config(&cfg, 10, 10, 1);
    octo_alloc_fail_after(1, 1);
    int rc = octo_registry_init(&reg, &cfg);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    octo_registry_deinit(&reg);
    /* a zeroed registry is deinit-safe; an empty one answers every lookup */
    struct octo_registry zero;
    memset(&zero, 0, sizeof(zero));
    octo_registry_deinit(&zero);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    struct octo_peerid id;
    peer_of(1, &id);
    CHECK(octo_registry_find(&reg, &id, NULL) == NULL);
    CHECK(octo_registry_at(&reg, 0) == NULL);
    CHECK_ERR(octo_registry_remove(&reg, &id), OCTO_ENOTFOUND);
    CHECK_EQ_INT(octo_registry_expire(&reg, UINT64_MAX), 0);
    CHECK_EQ_U64(octo_registry_next_expiry(&reg), UINT64_MAX);
    struct octo_advert a;
    CHECK_ERR(octo_registry_advert(&reg, 0, &a), OCTO_ENOTFOUND);
    uint32_t out[4];
    CHECK_EQ_INT(collect(&reg, "none", 0, NULL, NULL, out, 4), 0);
    octo_registry_deinit(&reg);
}

static void test_upsert_seq_order(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 16, 16, 2);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    struct desc d = {.seq = 5,
                     .expiry_ms = NOW_MS + 10 * MINUTE_MS,
                     .isolation = 2,
                     .country = 0,
                     .models_count = 2,
                     .endpoints_count = 2,
                     .model = {1, 2},
                     .quant = {0, 1},
                     .price = 1000};
    struct octo_advert a, back;
    build(7, &d, &a);
    uint32_t idx = 99, idx2 = 98;
    enum octo_advert_reason why;
    CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, &idx, &why), OCTO_REGISTRY_INSERTED);
    CHECK_EQ_INT(why, OCTO_ADVERT_OK);
    const struct octo_registry_entry *e = octo_registry_find(&reg, &a.provider, &idx2);
    CHECK(e != NULL);
    CHECK_EQ_INT(idx2, idx);
    CHECK(octo_registry_at(&reg, idx) == e);
    CHECK_EQ_U64(e->seq, 5);
    CHECK_EQ_INT(e->models_count, 2);
    CHECK_STR(e->country, "DE");
    CHECK_STR(e->continent, "EU");
    CHECK_STR(octo_registry_model_name(&reg, e->models[0].model_id), a.models[0].name);
    CHECK_STR(e->models[1].quant, "q8_0");
    size_t len;
    const uint8_t *ep = octo_registry_endpoint(e, 1, &len);
    CHECK_EQ_U64(len, ep_quic.len);
    CHECK_MEM(ep, ep_quic.bytes, len);
    CHECK(octo_registry_attestation(e) == NULL);
    CHECK_OK(octo_registry_advert(&reg, idx, &back));
    CHECK(memcmp(&a, &back, sizeof(a)) == 0);
    /* equal and older sequence numbers change nothing */
    struct desc d2 = d;
    d2.price = 5;
    d2.isolation = OCTO_ISOLATION_TEE;
    build(7, &d2, &a);
    CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, &idx2, NULL), OCTO_REGISTRY_STALE);
    CHECK_EQ_INT(idx2, idx);
    d2.seq = 4;
    build(7, &d2, &a);
    CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL), OCTO_REGISTRY_STALE);
    e = octo_registry_at(&reg, idx);
    CHECK_EQ_U64(e->price_in_per_mtok, 1000);
    /* a newer one replaces it in place */
    d2.seq = 6;
    d2.models_count = 1;
    d2.model[0] = 3;
    d2.endpoints_count = 1;
    build(7, &d2, &a);
    CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, &idx2, NULL), OCTO_REGISTRY_REPLACED);
    CHECK_EQ_INT(idx2, idx);
    e = octo_registry_at(&reg, idx);
    CHECK_EQ_U64(e->price_in_per_mtok, 5);
    CHECK_EQ_INT(e->isolation, OCTO_ISOLATION_TEE);
    CHECK_EQ_INT(e->attestation_len, 11);
    CHECK_MEM(octo_registry_attestation(e), "tdx:quote:\x07", 11);
    CHECK_OK(octo_registry_advert(&reg, idx, &back));
    CHECK(memcmp(&a, &back, sizeof(a)) == 0);
    /* models 1 and 2 are gone with their names, model 3 is in */
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    CHECK_EQ_INT(st.providers, 1);
    CHECK_EQ_INT(st.models, 1);
    CHECK_EQ_U64(st.postings, 1);
    CHECK_EQ_U64(st.inserted, 1);
    CHECK_EQ_U64(st.replaced, 1);
    CHECK_EQ_U64(st.stale, 2);
    uint32_t out[8];
    char name[64];
    model_name(1, name, sizeof(name));
    CHECK_EQ_INT(collect(&reg, name, 0, NULL, NULL, out, 8), 0);
    model_name(3, name, sizeof(name));
    CHECK_EQ_INT(collect(&reg, name, 0, NULL, NULL, out, 8), 1);
    CHECK_EQ_INT(out[0], 7 * 8);
    /* invalid adverts are refused with their reason */
    a.seq = 100;
    a.max_concurrency = 0;
    CHECK_ERR(octo_registry_upsert(&reg, &a, NOW_MS, NULL, &why), OCTO_ERANGE);
    CHECK_EQ_INT(why, OCTO_ADVERT_CONCURRENCY);
    a.max_concurrency = 1;
    CHECK_ERR(octo_registry_upsert(&reg, &a, a.expiry_ms, NULL, &why), OCTO_ETIMEDOUT);
    CHECK_EQ_INT(why, OCTO_ADVERT_EXPIRED);
    octo_registry_stats(&reg, &st);
    CHECK_EQ_U64(st.rejected, 2);
    CHECK_EQ_U64(octo_registry_at(&reg, idx)->seq, 6);
    octo_registry_deinit(&reg);
}

static void upsert_simple(struct octo_registry *reg, uint32_t i, uint64_t seq,
                          const uint16_t *models, unsigned count, int want)
{
    struct desc d = {.seq = seq,
                     .expiry_ms = NOW_MS + MINUTE_MS,
                     .isolation = 1,
                     .country = (uint8_t)(i % COUNTRIES),
                     .models_count = (uint8_t)count,
                     .endpoints_count = 1,
                     .price = i};
    for (unsigned k = 0; k < count; k++)
        d.model[k] = models[k];
    struct octo_advert a;
    build(i, &d, &a);
    int rc = octo_registry_upsert(reg, &a, NOW_MS, NULL, NULL);
    OCTO_ASSERT(rc == want);
}

static bool seq_is(const uint32_t *got, int n, const uint32_t *want, int want_n)
{
    if (n != want_n)
        return false;
    for (int k = 0; k < n; k++) {
        if (got[k] != want[k])
            return false;
    }
    return true;
}

static void test_posting_order(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 128, 16, 3);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    const uint16_t m0[] = {0};
    const uint16_t m01[] = {0, 1};
    const uint16_t m1[] = {1};
    char name0[64];
    model_name(0, name0, sizeof(name0));
    uint32_t out[128];
    upsert_simple(&reg, 10, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    upsert_simple(&reg, 11, 1, m01, 2, OCTO_REGISTRY_INSERTED);
    upsert_simple(&reg, 12, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    int n = collect(&reg, name0, 0, NULL, NULL, out, 128);
    CHECK(seq_is(out, n, (const uint32_t[]){80, 88, 96}, 3));
    /* a refresh keeps the position, even when the model moves within the advert */
    const uint16_t m10[] = {1, 0};
    upsert_simple(&reg, 10, 2, m10, 2, OCTO_REGISTRY_REPLACED);
    n = collect(&reg, name0, 0, NULL, NULL, out, 128);
    CHECK(seq_is(out, n, (const uint32_t[]){81, 88, 96}, 3));
    /* dropping the model removes the pair; adding it back appends it */
    upsert_simple(&reg, 10, 3, m1, 1, OCTO_REGISTRY_REPLACED);
    n = collect(&reg, name0, 0, NULL, NULL, out, 128);
    CHECK(seq_is(out, n, (const uint32_t[]){88, 96}, 2));
    upsert_simple(&reg, 10, 4, m0, 1, OCTO_REGISTRY_REPLACED);
    n = collect(&reg, name0, 0, NULL, NULL, out, 128);
    CHECK(seq_is(out, n, (const uint32_t[]){88, 96, 80}, 3));
    struct octo_peerid id;
    peer_of(11, &id);
    CHECK_OK(octo_registry_remove(&reg, &id));
    CHECK_ERR(octo_registry_remove(&reg, &id), OCTO_ENOTFOUND);
    CHECK(octo_registry_find(&reg, &id, NULL) == NULL);
    upsert_simple(&reg, 13, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    n = collect(&reg, name0, 0, NULL, NULL, out, 128);
    CHECK(seq_is(out, n, (const uint32_t[]){96, 80, 104}, 3));
    /* many insertions and removals: compaction keeps the order of the survivors */
    for (uint32_t i = 20; i < 120; i++)
        upsert_simple(&reg, i, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    for (uint32_t i = 20; i < 120; i++) {
        if (i % 5 != 0) {
            peer_of(i, &id);
            CHECK_OK(octo_registry_remove(&reg, &id));
        }
    }
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    CHECK(st.postings_dead < st.postings); /* compacted at least once */
    n = collect(&reg, name0, 0, NULL, NULL, out, 128);
    CHECK_EQ_INT(n, 3 + 20);
    CHECK(seq_is(out, 3, (const uint32_t[]){96, 80, 104}, 3));
    for (int k = 0; k < 20; k++)
        CHECK_EQ_INT(out[3 + k], (20 + 5 * (uint32_t)k) * 8);
    octo_registry_deinit(&reg);
}

struct cb_state {
    uint32_t seen[8];
    int count;
    int stop_after;
};

static int cb_collect(void *ctx, const struct octo_registry_candidate *c)
{
    struct cb_state *s = ctx;
    s->seen[s->count++] = index_of_peer(&c->entry->provider);
    return s->count >= s->stop_after;
}

static void test_query_callback_and_errors(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 8, 8, 4);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    const uint16_t m0[] = {0};
    for (uint32_t i = 0; i < 5; i++)
        upsert_simple(&reg, i, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    char name0[64];
    model_name(0, name0, sizeof(name0));
    struct octo_registry_query q = {name0, 0, NULL, NULL};
    struct cb_state s = {.stop_after = 100};
    CHECK_EQ_INT(octo_registry_query(&reg, &q, cb_collect, &s), 5);
    CHECK_EQ_INT(s.count, 5);
    for (uint32_t i = 0; i < 5; i++)
        CHECK_EQ_INT(s.seen[i], i);
    struct cb_state s2 = {.stop_after = 2};
    CHECK_EQ_INT(octo_registry_query(&reg, &q, cb_collect, &s2), 2);
    /* malformed queries */
    char long_name[OCTO_ADVERT_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const struct octo_registry_query bad[] = {
        {NULL, 0, NULL, NULL},  {"", 0, NULL, NULL},    {long_name, 0, NULL, NULL},
        {name0, 4, NULL, NULL}, {name0, 0, "de", NULL}, {name0, 0, "DEU", NULL},
        {name0, 0, "", NULL},   {name0, 0, NULL, "XX"}, {name0, 0, NULL, "E"},
    };
    for (size_t k = 0; k < OCTO_ARRAY_LEN(bad); k++)
        CHECK_ERR(octo_registry_query(&reg, &bad[k], cb_collect, &s), OCTO_EINVAL);
    long_name[OCTO_ADVERT_NAME_MAX] = '\0'; /* the longest valid name: unknown, no results */
    struct octo_registry_query ok = {long_name, OCTO_ISOLATION_TEE, "ZZ", "AN"};
    CHECK_EQ_INT(octo_registry_query(&reg, &ok, cb_collect, &s), 0);
    /* isolation and region filters */
    uint32_t out[8];
    CHECK_EQ_INT(collect(&reg, name0, OCTO_ISOLATION_PROCESS, NULL, NULL, out, 8), 5);
    CHECK_EQ_INT(collect(&reg, name0, OCTO_ISOLATION_CONTAINER, NULL, NULL, out, 8), 0);
    CHECK_EQ_INT(collect(&reg, name0, 0, "FR", NULL, out, 8), 1); /* provider 1 */
    CHECK_EQ_INT(out[0], 8);
    CHECK_EQ_INT(collect(&reg, name0, 0, NULL, "NA", out, 8), 2); /* providers 2, 3 */
    CHECK_EQ_INT(collect(&reg, name0, 0, "US", "EU", out, 8), 0);
    octo_registry_deinit(&reg);
}

static void test_expiry(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 200, 8, 5);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    struct octo_rng rng;
    octo_rng_init(&rng, 77);
    uint64_t expiry[200];
    for (uint32_t i = 0; i < 200; i++) {
        struct desc d;
        random_desc(&rng, 8, 1, NOW_MS, &d);
        expiry[i] = d.expiry_ms;
        struct octo_advert a;
        build(i, &d, &a);
        CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL), OCTO_REGISTRY_INSERTED);
    }
    /* refresh a few to later expiries: the heap must follow */
    for (uint32_t i = 0; i < 200; i += 7) {
        struct octo_advert a;
        uint32_t idx;
        struct octo_peerid id;
        peer_of(i, &id);
        CHECK(octo_registry_find(&reg, &id, &idx) != NULL);
        CHECK_OK(octo_registry_advert(&reg, idx, &a));
        a.seq = 2;
        a.expiry_ms = i % 2 ? a.expiry_ms + 100 * MINUTE_MS : NOW_MS + 1;
        expiry[i] = a.expiry_ms;
        CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL), OCTO_REGISTRY_REPLACED);
    }
    uint64_t now = NOW_MS;
    uint32_t left = 200;
    while (left > 0) {
        uint64_t next = UINT64_MAX;
        for (uint32_t i = 0; i < 200; i++) {
            if (expiry[i] > now && expiry[i] < next)
                next = expiry[i];
        }
        CHECK_EQ_U64(octo_registry_next_expiry(&reg), next);
        uint32_t due = 0;
        for (uint32_t i = 0; i < 200; i++)
            due += expiry[i] > now && expiry[i] <= next + 5 * MINUTE_MS;
        CHECK_EQ_INT(octo_registry_expire(&reg, next - 1), 0);
        now = next + 5 * MINUTE_MS;
        CHECK_EQ_INT(octo_registry_expire(&reg, now), due);
        left -= due;
        struct octo_registry_stats st;
        octo_registry_stats(&reg, &st);
        CHECK_EQ_INT(st.providers, left);
        for (uint32_t i = 0; i < 200; i++) {
            struct octo_peerid id;
            peer_of(i, &id);
            CHECK((octo_registry_find(&reg, &id, NULL) != NULL) == (expiry[i] > now));
        }
    }
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    CHECK_EQ_U64(st.expired, 200);
    CHECK_EQ_INT(st.models, 0);
    CHECK_EQ_U64(st.postings, 0);
    CHECK_EQ_U64(st.postings_dead, 0);
    CHECK_EQ_U64(octo_registry_next_expiry(&reg), UINT64_MAX);
    octo_registry_deinit(&reg);
}

static void test_limits(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 3, 2, 6);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    const uint16_t m0[] = {0};
    const uint16_t m12[] = {1, 2};
    upsert_simple(&reg, 0, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    upsert_simple(&reg, 1, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    /* two new names with one slot left for names: refused, nothing kept */
    upsert_simple(&reg, 2, 1, m12, 2, OCTO_ELIMIT);
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    CHECK_EQ_INT(st.models, 1);
    CHECK_EQ_INT(st.providers, 2);
    CHECK_EQ_U64(st.rejected, 1);
    struct octo_peerid id;
    peer_of(2, &id);
    CHECK(octo_registry_find(&reg, &id, NULL) == NULL);
    upsert_simple(&reg, 2, 1, m12, 1, OCTO_REGISTRY_INSERTED);
    /* full: a fourth provider is refused, replacements still work */
    upsert_simple(&reg, 3, 1, m0, 1, OCTO_ELIMIT);
    upsert_simple(&reg, 1, 2, m0, 1, OCTO_REGISTRY_REPLACED);
    peer_of(0, &id);
    CHECK_OK(octo_registry_remove(&reg, &id));
    upsert_simple(&reg, 3, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    octo_registry_stats(&reg, &st);
    CHECK_EQ_INT(st.providers, 3);
    octo_registry_deinit(&reg);
}

static void test_out_of_memory(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 1000, 64, 7);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    struct octo_rng rng;
    octo_rng_init(&rng, 5);
    /* every allocation of an upsert fails in turn: the registry must stay as it was */
    uint32_t inserted = 0;
    for (uint32_t i = 0; i < 300; i++) {
        struct desc d;
        random_desc(&rng, 64, 1 + i % 3, NOW_MS, &d);
        struct octo_advert a;
        build(i % 100, &d, &a);
        struct octo_registry_stats before, after;
        octo_registry_stats(&reg, &before);
        int rc = 0;
        for (uint64_t n = 1; n < 32; n++) {
            octo_alloc_fail_after(n, 1);
            rc = octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL);
            octo_alloc_fail_after(0, 0);
            if (rc != OCTO_ENOMEM)
                break;
            octo_registry_stats(&reg, &after);
            CHECK_EQ_INT(after.providers, before.providers);
            CHECK_EQ_INT(after.models, before.models);
            CHECK_EQ_U64(after.postings, before.postings);
        }
        if (rc <= 0) {
            enum octo_advert_reason why;
            printf("  upsert %u: rc %d, validate %d %s\n", i, rc,
                   octo_advert_validate(&a, NOW_MS, &why), octo_advert_reason_str(why));
        }
        CHECK(rc > 0);
        inserted += rc == OCTO_REGISTRY_INSERTED;
    }
    CHECK_EQ_INT(inserted, 100);
    octo_registry_deinit(&reg);
}

static uint32_t lookup(const struct octo_registry *reg, unsigned m)
{
    char name[64];
    model_name(m, name, sizeof(name));
    uint32_t id = UINT32_MAX;
    int rc = octo_registry_model_lookup(reg, name, &id);
    return rc == 0 ? id : UINT32_MAX;
}

static void test_stamps_and_lookup(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 16, 8, 9);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    uint32_t id;
    char longname[OCTO_ADVERT_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_ERR(octo_registry_model_lookup(&reg, NULL, &id), OCTO_EINVAL);
    CHECK_ERR(octo_registry_model_lookup(&reg, "", &id), OCTO_EINVAL);
    CHECK_ERR(octo_registry_model_lookup(&reg, longname, &id), OCTO_EINVAL);
    CHECK_ERR(octo_registry_model_lookup(&reg, "unknown", &id), OCTO_ENOTFOUND);
    CHECK_EQ_U64(octo_registry_model_stamp(&reg, 0), 0);
    CHECK_EQ_U64(octo_registry_model_stamp(&reg, UINT32_MAX), 0);
    CHECK_EQ_INT(octo_registry_model_size(&reg, 0), 0);
    struct octo_registry_iter it;
    struct octo_registry_candidate c;
    CHECK_ERR(octo_registry_iter_model(&it, &reg, 0), OCTO_ENOTFOUND);
    CHECK(!octo_registry_iter_next(&it, &c));
    /* provider 1 lists models 1 and 2, provider 2 model 1 */
    const uint16_t m12[] = {1, 2}, m1[] = {1}, m5[] = {5};
    upsert_simple(&reg, 1, 1, m12, 2, OCTO_REGISTRY_INSERTED);
    uint32_t id1 = lookup(&reg, 1), id2 = lookup(&reg, 2);
    CHECK(id1 != UINT32_MAX && id2 != UINT32_MAX && id1 != id2);
    uint64_t s1 = octo_registry_model_stamp(&reg, id1), s2 = octo_registry_model_stamp(&reg, id2);
    CHECK(s1 != 0 && s2 != 0);
    struct octo_peerid p1, p2;
    peer_of(1, &p1);
    peer_of(2, &p2);
    uint32_t slot1;
    const struct octo_registry_entry *e1 = octo_registry_find(&reg, &p1, &slot1);
    uint32_t inc1 = e1->incarnation;
    CHECK(inc1 != 0);
    upsert_simple(&reg, 2, 1, m1, 1, OCTO_REGISTRY_INSERTED);
    uint32_t inc2 = octo_registry_find(&reg, &p2, NULL)->incarnation;
    CHECK(inc2 != 0 && inc2 != inc1);
    CHECK(octo_registry_model_stamp(&reg, id1) > s1);
    CHECK_EQ_U64(octo_registry_model_stamp(&reg, id2), s2);
    CHECK_EQ_INT(octo_registry_model_size(&reg, id1), 2);
    CHECK_EQ_INT(octo_registry_model_size(&reg, id2), 1);
    /* a stale advert changes nothing; a replacement renews the stamp, keeps the incarnation */
    s1 = octo_registry_model_stamp(&reg, id1);
    upsert_simple(&reg, 2, 1, m1, 1, OCTO_REGISTRY_STALE);
    CHECK_EQ_U64(octo_registry_model_stamp(&reg, id1), s1);
    upsert_simple(&reg, 2, 2, m1, 1, OCTO_REGISTRY_REPLACED);
    CHECK(octo_registry_model_stamp(&reg, id1) > s1);
    CHECK_EQ_U64(octo_registry_model_stamp(&reg, id2), s2);
    CHECK_EQ_INT(octo_registry_find(&reg, &p2, NULL)->incarnation, inc2);
    /* the per-model walk: every posting in posting order, unfiltered */
    CHECK_OK(octo_registry_iter_model(&it, &reg, id1));
    CHECK(octo_registry_iter_next(&it, &c));
    CHECK_EQ_INT(c.index, slot1);
    CHECK_EQ_INT(c.model->model_id, id1);
    CHECK(octo_registry_iter_next(&it, &c));
    CHECK(octo_peerid_equal(&c.entry->provider, &p2));
    CHECK(!octo_registry_iter_next(&it, &c));
    /* removal: model 2 loses its last posting and its id; model 1 changes */
    s1 = octo_registry_model_stamp(&reg, id1);
    uint64_t before = s1 > s2 ? s1 : s2;
    CHECK_OK(octo_registry_remove(&reg, &p1));
    CHECK(octo_registry_model_stamp(&reg, id1) > s1);
    CHECK_EQ_U64(octo_registry_model_stamp(&reg, id2), 0);
    CHECK_EQ_INT(octo_registry_model_size(&reg, id2), 0);
    CHECK_EQ_INT(lookup(&reg, 2), UINT32_MAX);
    CHECK_ERR(octo_registry_iter_model(&it, &reg, id2), OCTO_ENOTFOUND);
    /* a new provider takes the freed slot with a new incarnation; a new name reuses the
     * freed id with a fresh stamp */
    upsert_simple(&reg, 3, 1, m5, 1, OCTO_REGISTRY_INSERTED);
    struct octo_peerid p3;
    peer_of(3, &p3);
    uint32_t slot3;
    const struct octo_registry_entry *e3 = octo_registry_find(&reg, &p3, &slot3);
    CHECK_EQ_INT(slot3, slot1);
    CHECK(e3->incarnation != 0 && e3->incarnation != inc1 && e3->incarnation != inc2);
    CHECK_EQ_INT(lookup(&reg, 5), id2);
    CHECK(octo_registry_model_stamp(&reg, id2) > before);
    octo_registry_deinit(&reg);
}

/* A replacement at models_max may swap names its old advert alone used for new ones. */
static void test_models_max_replacement(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, 4, 2, 10);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    const uint16_t m0[] = {0}, m1[] = {1}, m2[] = {2}, m45[] = {4, 5}, m17[] = {1, 7}, m6[] = {6};
    upsert_simple(&reg, 0, 1, m0, 1, OCTO_REGISTRY_INSERTED);
    upsert_simple(&reg, 1, 1, m1, 1, OCTO_REGISTRY_INSERTED);
    /* provider 0 swaps model 0 for model 2 at the limit */
    upsert_simple(&reg, 0, 2, m2, 1, OCTO_REGISTRY_REPLACED);
    CHECK_EQ_INT(lookup(&reg, 0), UINT32_MAX);
    uint32_t id2 = lookup(&reg, 2);
    CHECK(id2 < 2);
    uint32_t out[8];
    char name[64];
    model_name(2, name, sizeof(name));
    CHECK_EQ_INT(collect(&reg, name, 0, NULL, NULL, out, 8), 1);
    CHECK_EQ_INT(out[0], 0);
    /* the same new name twice (two quantizations) is one new id */
    struct desc d = {.seq = 3,
                     .expiry_ms = NOW_MS + MINUTE_MS,
                     .isolation = 1,
                     .models_count = 2,
                     .endpoints_count = 1,
                     .model = {3, 3},
                     .quant = {0, 2},
                     .price = 10};
    struct octo_advert a;
    build(0, &d, &a);
    CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL), OCTO_REGISTRY_REPLACED);
    model_name(3, name, sizeof(name));
    CHECK_EQ_INT(collect(&reg, name, 0, NULL, NULL, out, 8), 2);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 1);
    struct octo_advert back;
    uint32_t slot0;
    struct octo_peerid p0;
    peer_of(0, &p0);
    CHECK(octo_registry_find(&reg, &p0, &slot0) != NULL);
    CHECK_OK(octo_registry_advert(&reg, slot0, &back));
    CHECK(memcmp(&a, &back, sizeof(a)) == 0);
    /* more new names than released ones, a kept name, or an insert: still refused */
    upsert_simple(&reg, 1, 2, m45, 2, OCTO_ELIMIT);
    upsert_simple(&reg, 1, 2, m17, 2, OCTO_ELIMIT);
    upsert_simple(&reg, 2, 1, m6, 1, OCTO_ELIMIT);
    CHECK(lookup(&reg, 1) != UINT32_MAX);
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    CHECK_EQ_INT(st.models, 2);
    CHECK_EQ_U64(st.postings, 3);
    /* out of memory in the deferred path leaves everything as it was */
    d.seq = 2;
    d.models_count = 1;
    d.model[0] = 4;
    build(1, &d, &a);
    int rc = 0;
    for (uint64_t n = 1; n < 16; n++) {
        octo_alloc_fail_after(n, 1);
        rc = octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL);
        octo_alloc_fail_after(0, 0);
        if (rc != OCTO_ENOMEM)
            break;
        octo_registry_stats(&reg, &st);
        CHECK_EQ_INT(st.models, 2);
        CHECK_EQ_U64(st.postings, 3);
        CHECK(lookup(&reg, 1) != UINT32_MAX);
        CHECK_EQ_INT(lookup(&reg, 4), UINT32_MAX);
    }
    CHECK_EQ_INT(rc, OCTO_REGISTRY_REPLACED);
    CHECK_EQ_INT(lookup(&reg, 1), UINT32_MAX);
    CHECK(lookup(&reg, 4) != UINT32_MAX);
    octo_registry_deinit(&reg);
}

/* ---- randomized model check ---- */

#define POP 5000
#define POOL 40

struct shadow {
    bool present;
    struct desc d;
};

static uint32_t expect_buf[POP * 4];
static uint32_t got_buf[POP * 4];

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* FNV-1a over the output sequence: the determinism fingerprint. */
static void mix(uint64_t *h, uint32_t v)
{
    for (int k = 0; k < 4; k++) {
        *h ^= (v >> (8 * k)) & 0xff;
        *h *= UINT64_C(0x100000001b3);
    }
}

/* Compares every query's candidates with a scan of the shadow; mixes the raw sequences. */
static bool check_queries(const struct octo_registry *reg, const struct shadow *sh, uint64_t *h,
                          struct octo_rng *rng)
{
    for (unsigned m = 0; m < POOL; m++) {
        char name[64];
        model_name(m, name, sizeof(name));
        for (int variant = 0; variant < 4; variant++) {
            uint8_t iso = (uint8_t)octo_rng_below(rng, 4);
            int ci = variant & 1 ? (int)octo_rng_below(rng, COUNTRIES) : -1;
            int ki = variant & 2 ? (int)octo_rng_below(rng, COUNTRIES) : -1;
            const char *country = ci >= 0 ? countries[ci][0] : NULL;
            const char *continent = ki >= 0 ? countries[ki][1] : NULL;
            size_t want = 0;
            for (uint32_t i = 0; i < POP; i++) {
                const struct desc *d = &sh[i].d;
                if (!sh[i].present || d->isolation < iso)
                    continue;
                if (country != NULL && strcmp(countries[d->country][0], country) != 0)
                    continue;
                if (continent != NULL && strcmp(countries[d->country][1], continent) != 0)
                    continue;
                for (unsigned k = 0; k < d->models_count; k++) {
                    if (d->model[k] == m)
                        expect_buf[want++] = i * 8 + k;
                }
            }
            int n = collect(reg, name, iso, country, continent, got_buf, POP * 4);
            if (n < 0 || (size_t)n != want) {
                printf("  model %u iso %u %s %s: %d candidates, expected %zu\n", m, iso,
                       country ? country : "-", continent ? continent : "-", n, want);
                return false;
            }
            for (int k = 0; k < n; k++)
                mix(h, got_buf[k]);
            qsort(got_buf, want, sizeof(uint32_t), cmp_u32);
            for (size_t k = 0; k < want; k++) {
                if (got_buf[k] != expect_buf[k]) /* expect_buf is ascending already */
                    return false;
            }
        }
    }
    return true;
}

static bool check_contents(const struct octo_registry *reg, const struct shadow *sh)
{
    uint32_t present = 0;
    for (uint32_t i = 0; i < POP; i++) {
        struct octo_peerid id;
        peer_of(i, &id);
        uint32_t idx;
        const struct octo_registry_entry *e = octo_registry_find(reg, &id, &idx);
        if ((e != NULL) != sh[i].present)
            return false;
        if (e == NULL)
            continue;
        present++;
        struct octo_advert want, got;
        build(i, &sh[i].d, &want);
        if (octo_registry_advert(reg, idx, &got) != 0 || memcmp(&want, &got, sizeof(want)) != 0)
            return false;
    }
    struct octo_registry_stats st;
    octo_registry_stats(reg, &st);
    return st.providers == present;
}

/* Runs the whole randomized scenario under a hash key; returns the output fingerprint. */
static uint64_t run_model_check(uint8_t hash_key, bool *ok)
{
    static struct shadow sh[POP];
    memset(sh, 0, sizeof(sh));
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, POP, POOL, hash_key);
    *ok = false;
    if (octo_registry_init(&reg, &cfg) != 0)
        return 0;
    struct octo_rng rng, qrng;
    octo_rng_init(&rng, 2024);
    octo_rng_init(&qrng, 99);
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    uint64_t now = NOW_MS;
    bool good = true;
    for (uint32_t i = 0; i < POP && good; i++) {
        random_desc(&rng, POOL, 1, now, &sh[i].d);
        struct octo_advert a;
        build(i, &sh[i].d, &a);
        good = octo_registry_upsert(&reg, &a, now, NULL, NULL) == OCTO_REGISTRY_INSERTED;
        sh[i].present = true;
    }
    good = good && check_contents(&reg, sh) && check_queries(&reg, sh, &h, &qrng);
    for (uint32_t op = 0; op < 20000 && good; op++) {
        uint32_t i = (uint32_t)octo_rng_below(&rng, POP);
        uint64_t dice = octo_rng_below(&rng, 100);
        if (dice < 75) {
            uint64_t base = sh[i].present ? sh[i].d.seq : 0;
            uint64_t seq = base + octo_rng_below(&rng, 4); /* equal seq: stale */
            struct desc d;
            random_desc(&rng, POOL, seq == 0 ? 1 : seq, now, &d);
            struct octo_advert a;
            build(i, &d, &a);
            int want = !sh[i].present         ? OCTO_REGISTRY_INSERTED
                       : d.seq <= sh[i].d.seq ? OCTO_REGISTRY_STALE
                                              : OCTO_REGISTRY_REPLACED;
            good = octo_registry_upsert(&reg, &a, now, NULL, NULL) == want;
            if (want != OCTO_REGISTRY_STALE) {
                sh[i].d = d;
                sh[i].present = true;
            }
        } else if (dice < 90) {
            int rc = octo_registry_remove(&reg, &(struct octo_peerid){0});
            good = rc == OCTO_ENOTFOUND;
            struct octo_peerid id;
            peer_of(i, &id);
            rc = octo_registry_remove(&reg, &id);
            good = good && rc == (sh[i].present ? 0 : OCTO_ENOTFOUND);
            sh[i].present = false;
        } else {
            now += octo_rng_below(&rng, 2 * MINUTE_MS);
            uint32_t due = 0;
            for (uint32_t k = 0; k < POP; k++) {
                if (sh[k].present && sh[k].d.expiry_ms <= now) {
                    sh[k].present = false;
                    due++;
                }
            }
            good = octo_registry_expire(&reg, now) == due;
        }
        if (good && op % 2500 == 2499)
            good = check_contents(&reg, sh) && check_queries(&reg, sh, &h, &qrng);
    }
    good = good && check_contents(&reg, sh) && check_queries(&reg, sh, &h, &qrng);
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    printf("  key %u: %u providers, %u models, %" PRIu64 " postings (%" PRIu64 " dead), "
           "%" PRIu64 " inserted, %" PRIu64 " replaced, %" PRIu64 " stale, %" PRIu64
           " removed, %" PRIu64 " expired; fingerprint %016" PRIx64 "\n",
           hash_key, st.providers, st.models, st.postings, st.postings_dead, st.inserted,
           st.replaced, st.stale, st.removed, st.expired, h);
    octo_registry_deinit(&reg);
    *ok = good;
    return h;
}

static void test_random_population_against_scan(void)
{
    bool ok1, ok2;
    uint64_t h1 = run_model_check(0x11, &ok1);
    CHECK(ok1);
    uint64_t h2 = run_model_check(0xee, &ok2);
    CHECK(ok2);
    CHECK_EQ_U64(h1, h2); /* same operations, different hash layout: same outputs in order */
}

/* ---- 100,000 providers ---- */

static void test_fill_100k(void)
{
    const uint32_t n = 100000;
    struct octo_alloc_stats s0, s1, s2, s3;
    octo_alloc_stats(&s0);
    struct octo_registry reg;
    struct octo_registry_config cfg;
    config(&cfg, n, 4096, 8);
    CHECK_OK(octo_registry_init(&reg, &cfg));
    octo_alloc_stats(&s1);
    struct octo_rng rng;
    octo_rng_init(&rng, 100000);
    size_t advert_bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct desc d;
        memset(&d, 0, sizeof(d));
        d.seq = 1;
        d.expiry_ms = NOW_MS + MINUTE_MS * (1 + octo_rng_below(&rng, 600));
        d.isolation = (uint8_t)(1 + octo_rng_below(&rng, 3));
        d.country = (uint8_t)octo_rng_below(&rng, COUNTRIES);
        d.endpoints_count = 2;
        d.price = (uint32_t)octo_rng_below(&rng, 1000000000);
        d.models_count = 2; /* a typical provider: two models */
        d.model[0] = (uint16_t)octo_rng_below(&rng, 200);
        d.model[1] = (uint16_t)(200 + octo_rng_below(&rng, 200));
        d.quant[0] = (uint8_t)octo_rng_below(&rng, QUANTS);
        d.quant[1] = (uint8_t)octo_rng_below(&rng, QUANTS);
        struct octo_advert a;
        build(i, &d, &a);
        if (i == 0) {
            uint8_t buf[OCTO_ADVERT_BYTES_MAX];
            CHECK_OK(octo_advert_encode(&a, buf, sizeof(buf), &advert_bytes, NULL));
        }
        int rc = octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL);
        if (rc != OCTO_REGISTRY_INSERTED) {
            CHECK_EQ_INT(rc, OCTO_REGISTRY_INSERTED);
        }
    }
    octo_alloc_stats(&s2);
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    CHECK_EQ_INT(st.providers, n);
    CHECK_EQ_INT(st.models, 400);
    CHECK_EQ_U64(st.postings, 2 * (uint64_t)n);
    /* full */
    const uint16_t m0[] = {0};
    upsert_simple(&reg, n, 1, m0, 1, OCTO_ELIMIT);
    /* the candidates of one model come from its list: about n / 200 of them */
    char name[64];
    model_name(17, name, sizeof(name));
    static uint32_t out[100000];
    int all = collect(&reg, name, 0, NULL, NULL, out, n);
    int tee_de = collect(&reg, name, OCTO_ISOLATION_TEE, "DE", NULL, out, n);
    CHECK(all > 300 && all < 700);
    CHECK(tee_de > 0 && tee_de < all);
    uint64_t table_bytes = s1.bytes_live - s0.bytes_live;
    uint64_t fill_bytes = s2.bytes_live - s1.bytes_live;
    printf("  100000 providers (2 models, 2 endpoints, %zu-byte advert each): tables at init "
           "%" PRIu64 " B, entries %" PRIu64 " B; %" PRIu64 " B per provider in total "
           "(%" PRIu64 " allocations live); %d candidates for one model, %d TEE in DE\n",
           advert_bytes, table_bytes, fill_bytes, (table_bytes + fill_bytes) / n,
           s2.allocs_live - s0.allocs_live, all, tee_de);
    CHECK((table_bytes + fill_bytes) / n < 512); /* "modest": well under the advert's 10 KiB */
    CHECK_EQ_INT(octo_registry_expire(&reg, UINT64_MAX), n);
    octo_registry_stats(&reg, &st);
    CHECK_EQ_INT(st.models, 0);
    octo_registry_deinit(&reg);
    octo_alloc_stats(&s3);
    CHECK_EQ_U64(s3.bytes_live, s0.bytes_live);
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    OCTO_ASSERT(octo_multiaddr_from_text("/ip4/198.51.100.4/tcp/4001", &ep_tcp) == 0);
    OCTO_ASSERT(octo_multiaddr_from_text("/ip6/2001:db8::4/udp/4001/quic-v1", &ep_quic) == 0);
    OCTO_RUN(test_init_limits);
    OCTO_RUN(test_upsert_seq_order);
    OCTO_RUN(test_posting_order);
    OCTO_RUN(test_query_callback_and_errors);
    OCTO_RUN(test_expiry);
    OCTO_RUN(test_limits);
    OCTO_RUN(test_out_of_memory);
    OCTO_RUN(test_stamps_and_lookup);
    OCTO_RUN(test_models_max_replacement);
    OCTO_RUN(test_random_population_against_scan);
    OCTO_RUN(test_fill_100k);
    return octo_test_finish();
}
