/*
 * rview.c — per-model price-ordered rows (design and contracts in rview.h).
 *
 * Per model id one record: the rows array, its capacity, the row count and the registry
 * stamp it was built at (0 = never built; registry stamps of models in use are never 0).
 * A rebuild sizes the array from octo_registry_model_size before touching it, fills it from
 * an unfiltered octo_registry_iter_model walk and sorts it with qsort; the key (price, slot,
 * model_idx) is unique per posting, so the order is total and the same on every machine.
 */
#include "intel/rview.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <stdlib.h>
#include <string.h>

#define ROWS_SHRINK_MIN 64 /* arrays at most this large are never shrunk */

struct octo_rview_model {
    struct octo_rview_row *rows;
    uint32_t len;
    uint32_t cap;
    uint64_t stamp; /* registry stamp the rows were built at, 0 = none */
};

int octo_rview_init(struct octo_rview *v, uint32_t models_max)
{
    OCTO_ASSERT(v != NULL);
    memset(v, 0, sizeof(*v));
    if (models_max == 0 || models_max > OCTO_REGISTRY_MODELS_LIMIT)
        return OCTO_EINVAL;
    v->models = octo_calloc(models_max, sizeof(*v->models));
    if (v->models == NULL)
        return OCTO_ENOMEM;
    v->models_max = models_max;
    return 0;
}

void octo_rview_deinit(struct octo_rview *v)
{
    OCTO_ASSERT(v != NULL);
    for (uint32_t m = 0; m < v->models_max; m++)
        octo_free(v->models[m].rows);
    octo_free(v->models);
    memset(v, 0, sizeof(*v));
}

static int row_cmp(const void *a, const void *b)
{
    const struct octo_rview_row *x = a, *y = b;
    if (x->price != y->price)
        return x->price < y->price ? -1 : 1;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return (x->model_idx > y->model_idx) - (x->model_idx < y->model_idx);
}

static void model_drop(struct octo_rview *v, struct octo_rview_model *rec)
{
    v->rows_held -= rec->cap;
    octo_free(rec->rows);
    memset(rec, 0, sizeof(*rec));
}

/* Makes room for exactly `need` rows (growing, or shrinking a mostly empty array). */
static int rows_fit(struct octo_rview *v, struct octo_rview_model *rec, uint32_t need)
{
    bool shrink = rec->cap > ROWS_SHRINK_MIN && need < rec->cap / 4;
    if (need <= rec->cap && !shrink)
        return 0;
    uint32_t cap = need > 0 ? need : 1;
    struct octo_rview_row *rows = octo_realloc(rec->rows, (size_t)cap * sizeof(*rows));
    if (rows == NULL)
        return shrink && need <= rec->cap ? 0 : OCTO_ENOMEM; /* shrinking may fail */
    v->rows_held = v->rows_held - rec->cap + cap;
    rec->rows = rows;
    rec->cap = cap;
    return 0;
}

static int rebuild(struct octo_rview *v, const struct octo_registry *reg, uint32_t model_id,
                   uint64_t stamp)
{
    struct octo_rview_model *rec = &v->models[model_id];
    uint32_t need = octo_registry_model_size(reg, model_id);
    OCTO_ASSERT((uint64_t)need <= (uint64_t)reg->cfg.providers_max * OCTO_ADVERT_MODELS_MAX);
    rec->stamp = 0;
    rec->len = 0;
    int rc = rows_fit(v, rec, need);
    if (rc < 0) {
        model_drop(v, rec);
        return rc;
    }
    struct octo_registry_iter it;
    rc = octo_registry_iter_model(&it, reg, model_id);
    OCTO_ASSERT(rc == 0);
    struct octo_registry_candidate c;
    uint32_t n = 0;
    while (octo_registry_iter_next(&it, &c)) {
        OCTO_ASSERT(n < need);
        const struct octo_registry_entry *e = c.entry;
        uint64_t price = e->price_in_per_mtok + e->price_out_per_mtok;
        if (price < e->price_in_per_mtok)
            price = UINT64_MAX;
        rec->rows[n++] = (struct octo_rview_row){
            .price = price, .slot = c.index, .model_idx = (uint32_t)(c.model - e->models)};
    }
    OCTO_ASSERT(n == need);
    if (n > 1)
        qsort(rec->rows, n, sizeof(rec->rows[0]), row_cmp);
    rec->len = n;
    rec->stamp = stamp;
    v->rebuilds++;
    return 0;
}

int octo_rview_rows(struct octo_rview *v, const struct octo_registry *reg, uint32_t model_id,
                    const struct octo_rview_row **rows, size_t *n)
{
    OCTO_ASSERT(v != NULL);
    OCTO_ASSERT(v->models != NULL);
    OCTO_ASSERT(reg != NULL);
    OCTO_ASSERT(rows != NULL);
    OCTO_ASSERT(n != NULL);
    OCTO_ASSERT(v->reg == NULL || v->reg == reg); /* one registry per view */
    v->reg = reg;
    *rows = NULL;
    *n = 0;
    if (model_id >= v->models_max)
        return OCTO_EINVAL;
    struct octo_rview_model *rec = &v->models[model_id];
    uint64_t stamp = octo_registry_model_stamp(reg, model_id);
    if (stamp == 0) {
        rec->stamp = 0;
        rec->len = 0;
        return OCTO_ENOTFOUND;
    }
    if (rec->stamp != stamp) {
        int rc = rebuild(v, reg, model_id, stamp);
        if (rc < 0)
            return rc;
    }
    *rows = rec->len > 0 ? rec->rows : NULL;
    *n = rec->len;
    return 0;
}

/* ---- rank heap ---- */

static bool ranked_less(const struct octo_rview_ranked *a, const struct octo_rview_ranked *b)
{
    return a->key < b->key || (a->key == b->key && a->row < b->row);
}

static void ranked_down(struct octo_rview_ranked *h, size_t n, size_t i)
{
    struct octo_rview_ranked x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ranked_less(&h[c + 1], &h[c]))
            c++;
        if (!ranked_less(&h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

void octo_rview_rank_heapify(struct octo_rview_ranked *h, size_t n)
{
    OCTO_ASSERT(h != NULL || n == 0);
    for (size_t i = n / 2; i-- > 0;)
        ranked_down(h, n, i);
}

bool octo_rview_rank_pop(struct octo_rview_ranked *h, size_t *n, struct octo_rview_ranked *out)
{
    OCTO_ASSERT(n != NULL && out != NULL);
    if (*n == 0)
        return false;
    *out = h[0];
    h[0] = h[--*n];
    ranked_down(h, *n, 0);
    return true;
}
