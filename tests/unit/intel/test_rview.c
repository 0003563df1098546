/*
 * test_rview.c — price-ordered candidate rows: init limits and out of memory; for a seeded
 * population under random upserts, replacements (price and model changes), removals and
 * expiry, every model's rows are exactly its live postings, in ascending (price, slot,
 * model index) order, with the entry's current price; rows are rebuilt only for models
 * whose stamp moved; ids freed and reused get fresh rows; bad and unused ids are refused.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/rng.h"
#include "crypto/ident.h"
#include "intel/registry.h"
#include "intel/rview.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS UINT64_C(1800000000000)
#define PROVIDERS 600
#define MODELS 24

static uint64_t now_ms = NOW_MS; /* adverts expire 1 to 100 minutes after it */

static void advert_of(uint32_t i, uint64_t seq, struct octo_rng *r, struct octo_advert *a)
{
    octo_advert_init(a);
    struct octo_pubkey pub;
    memset(&pub, 0, sizeof(pub));
    for (int k = 0; k < 4; k++)
        pub.bytes[k] = (uint8_t)(i >> (8 * k));
    pub.bytes[31] = 0x17;
    octo_peerid_from_pubkey(&pub, &a->provider);
    a->seq = seq;
    a->expiry_ms = now_ms + 60000 * (1 + octo_rng_below(r, 100));
    a->price_in_per_mtok = octo_rng_below(r, 50); /* few distinct prices: many ties */
    a->price_out_per_mtok = octo_rng_below(r, 50);
    a->max_concurrency = 4;
    a->hw_tier = 1;
    a->isolation = OCTO_ISOLATION_PROCESS;
    memcpy(a->country, "DE", 3);
    memcpy(a->continent, "EU", 3);
    static const char *const quants[] = {"q4_k_m", "q8_0", "f16"};
    size_t want = 1 + octo_rng_below(r, 3);
    while (a->models_count < want) {
        struct octo_advert_model *m = &a->models[a->models_count];
        snprintf(m->name, sizeof(m->name), "rv-model-%u", (unsigned)octo_rng_below(r, MODELS));
        snprintf(m->quant, sizeof(m->quant), "%s", quants[octo_rng_below(r, 3)]);
        bool dup = false;
        for (size_t k = 0; k < a->models_count; k++)
            dup = dup || (strcmp(a->models[k].name, m->name) == 0 &&
                          strcmp(a->models[k].quant, m->quant) == 0);
        if (dup)
            continue;
        memset(m->weights_hash, 1, sizeof(m->weights_hash));
        m->context_len = 4096;
        a->models_count++;
    }
    const uint8_t ep[] = {0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1};
    memcpy(a->endpoints[0].bytes, ep, sizeof(ep));
    a->endpoints[0].len = sizeof(ep);
    a->endpoints_count = 1;
}

static void test_init(void)
{
    struct octo_rview v;
    CHECK_ERR(octo_rview_init(&v, 0), OCTO_EINVAL);
    octo_rview_deinit(&v);
    CHECK_ERR(octo_rview_init(&v, OCTO_REGISTRY_MODELS_LIMIT + 1), OCTO_EINVAL);
    octo_alloc_fail_after(1, 1);
    int rc = octo_rview_init(&v, 8);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    octo_rview_deinit(&v);
    struct octo_rview zero;
    memset(&zero, 0, sizeof(zero));
    octo_rview_deinit(&zero);
}

/* Checks every model id's rows against the registry; *total receives the rows seen. */
static void check_ids(struct octo_rview *v, const struct octo_registry *reg, size_t *total)
{
    *total = 0;
    for (uint32_t id = 0; id < MODELS; id++) {
        const struct octo_rview_row *rows;
        size_t n;
        int rc = octo_rview_rows(v, reg, id, &rows, &n);
        if (octo_registry_model_stamp(reg, id) == 0) {
            CHECK_ERR(rc, OCTO_ENOTFOUND);
            CHECK_EQ_U64(n, 0);
            continue;
        }
        CHECK_OK(rc);
        CHECK_EQ_U64(n, octo_registry_model_size(reg, id));
        for (size_t i = 0; i < n; i++) {
            const struct octo_registry_entry *e = octo_registry_at(reg, rows[i].slot);
            CHECK(e != NULL);
            if (e == NULL)
                continue;
            CHECK(rows[i].model_idx < e->models_count);
            CHECK_EQ_INT(e->models[rows[i].model_idx].model_id, id);
            CHECK_EQ_U64(rows[i].price, e->price_in_per_mtok + e->price_out_per_mtok);
            if (i > 0) { /* strictly ascending: sorted and no posting twice */
                const struct octo_rview_row *p = &rows[i - 1];
                bool less = p->price < rows[i].price ||
                            (p->price == rows[i].price &&
                             (p->slot < rows[i].slot ||
                              (p->slot == rows[i].slot && p->model_idx < rows[i].model_idx)));
                CHECK(less);
            }
        }
        *total += n;
    }
}

static size_t check_all(struct octo_rview *v, const struct octo_registry *reg)
{
    size_t total = SIZE_MAX; /* stays so if a check failed */
    check_ids(v, reg, &total);
    return total;
}

static void test_rows_follow_registry(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg = {.providers_max = PROVIDERS, .models_max = MODELS};
    memset(cfg.hash_key, 3, sizeof(cfg.hash_key));
    CHECK_OK(octo_registry_init(&reg, &cfg));
    struct octo_rview v;
    CHECK_OK(octo_rview_init(&v, MODELS));
    struct octo_rng r;
    octo_rng_init(&r, 99);
    static struct octo_advert a;
    uint64_t seq[PROVIDERS] = {0};
    for (uint32_t i = 0; i < PROVIDERS / 2; i++) {
        advert_of(i, ++seq[i], &r, &a);
        CHECK(octo_registry_upsert(&reg, &a, NOW_MS, NULL, NULL) == OCTO_REGISTRY_INSERTED);
    }
    const struct octo_rview_row *rows;
    size_t n;
    CHECK_ERR(octo_rview_rows(&v, &reg, MODELS, &rows, &n), OCTO_EINVAL);
    struct octo_registry_stats st;
    octo_registry_stats(&reg, &st);
    CHECK_EQ_U64(check_all(&v, &reg), st.postings);
    /* unchanged: no rebuild */
    uint64_t rebuilds = v.rebuilds;
    check_all(&v, &reg);
    CHECK_EQ_U64(v.rebuilds, rebuilds);
    /* a replacement rebuilds only the models it touches */
    uint32_t slot;
    advert_of(0, ++seq[0], &r, &a);
    CHECK_EQ_INT(octo_registry_upsert(&reg, &a, NOW_MS, &slot, NULL), OCTO_REGISTRY_REPLACED);
    const struct octo_registry_entry *e = octo_registry_at(&reg, slot);
    check_all(&v, &reg);
    CHECK(v.rebuilds > rebuilds);
    CHECK(v.rebuilds <= rebuilds + 2 * (uint64_t)e->models_count);
    /* random churn: inserts, replacements, removals, expiry */
    now_ms = NOW_MS;
    uint64_t now = NOW_MS;
    for (int round = 0; round < 40; round++) {
        for (int op = 0; op < 50; op++) {
            uint32_t i = (uint32_t)octo_rng_below(&r, PROVIDERS);
            if (octo_rng_below(&r, 5) == 0) {
                advert_of(i, 0, &r, &a);
                int rc = octo_registry_remove(&reg, &a.provider);
                CHECK(rc == 0 || rc == OCTO_ENOTFOUND);
            } else {
                advert_of(i, ++seq[i], &r, &a);
                int rc = octo_registry_upsert(&reg, &a, now, NULL, NULL);
                CHECK(rc > 0 || rc == OCTO_ELIMIT);
            }
        }
        if (round % 10 == 9) {
            now += 60000 * 30;
            now_ms = now;
            printf("  round %d: %u expired\n", round, octo_registry_expire(&reg, now));
        }
        octo_registry_stats(&reg, &st);
        CHECK_EQ_U64(check_all(&v, &reg), st.postings);
    }
    /* everything gone: every id refused, then reused ids get fresh rows */
    CHECK(octo_registry_expire(&reg, UINT64_MAX) > 0);
    CHECK_EQ_U64(check_all(&v, &reg), 0);
    for (uint32_t i = 0; i < 20; i++) {
        advert_of(i, ++seq[i], &r, &a);
        CHECK(octo_registry_upsert(&reg, &a, now, NULL, NULL) == OCTO_REGISTRY_INSERTED);
    }
    octo_registry_stats(&reg, &st);
    CHECK_EQ_U64(check_all(&v, &reg), st.postings);
    /* out of memory while growing a model's rows: refused, retried later */
    uint32_t id = UINT32_MAX;
    for (uint32_t m = 0; m < MODELS && id == UINT32_MAX; m++) {
        if (octo_registry_model_stamp(&reg, m) != 0)
            id = m;
    }
    CHECK(id != UINT32_MAX);
    for (uint32_t i = 100; i < 400; i++) { /* grow model `id` well past its rows */
        advert_of(i, ++seq[i], &r, &a);
        snprintf(a.models[0].name, sizeof(a.models[0].name), "%s",
                 octo_registry_model_name(&reg, id));
        snprintf(a.models[0].quant, sizeof(a.models[0].quant), "int3");
        CHECK(octo_registry_upsert(&reg, &a, now, NULL, NULL) > 0);
    }
    octo_alloc_fail_after(1, 1);
    int rc = octo_rview_rows(&v, &reg, id, &rows, &n);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    CHECK_EQ_U64(n, 0);
    octo_registry_stats(&reg, &st);
    CHECK_EQ_U64(check_all(&v, &reg), st.postings);
    printf("  %llu rebuilds, %llu rows held for %llu postings\n", (unsigned long long)v.rebuilds,
           (unsigned long long)v.rows_held, (unsigned long long)st.postings);
    octo_rview_deinit(&v);
    octo_registry_deinit(&reg);
}

static int cmp_ranked(const void *a, const void *b)
{
    const struct octo_rview_ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* The rank heap pops in (key, row) order: checked against qsort on random keys with many
 * ties, including the empty and one-element heaps. */
static void test_rank_heap(void)
{
    static struct octo_rview_ranked h[600], want[600];
    struct octo_rview_ranked out;
    size_t len = 0;
    CHECK(!octo_rview_rank_pop(h, &len, &out));
    struct octo_rng r;
    octo_rng_init(&r, 5);
    for (unsigned round = 0; round < 200; round++) {
        size_t n = octo_rng_below(&r, 600);
        uint64_t spread = round % 2 ? 4 : UINT64_MAX;
        for (size_t i = 0; i < n; i++)
            h[i] =
                (struct octo_rview_ranked){.key = octo_rng_below(&r, spread), .row = (uint32_t)i};
        memcpy(want, h, n * sizeof(h[0]));
        qsort(want, n, sizeof(want[0]), cmp_ranked);
        octo_rview_rank_heapify(h, n);
        len = n;
        for (size_t i = 0; i < n; i++) {
            CHECK(octo_rview_rank_pop(h, &len, &out));
            CHECK_EQ_U64(out.key, want[i].key);
            CHECK_EQ_INT(out.row, want[i].row);
        }
        CHECK(!octo_rview_rank_pop(h, &len, &out));
    }
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    OCTO_RUN(test_init);
    OCTO_RUN(test_rows_follow_registry);
    OCTO_RUN(test_rank_heap);
    return octo_test_finish();
}
