/*
 * gguf.c — GGUF v3 reader and writer (see gguf.h for the contracts).
 *
 * Reader: a bounds-checked cursor walks the buffer once. Every count is compared with the bytes
 * that remain (divided by the smallest possible encoding of one element) before a table is
 * allocated, so allocation is linear in the input. Tables of arrays live in an arena released
 * by deinit. After the walk, keys and tensor names are sorted (heap sort of index arrays) which
 * both finds duplicates and gives O(log n) lookup; tensors are then sorted by offset to check
 * that no two overlap.
 *
 * Writer: KVs are encoded into a bounded buffer as they are added (the reader's value parser
 * validates pre-encoded values); tensor descriptors are kept in an array. emit() computes the
 * offsets, writes the metadata and pulls each tensor's data through the caller's callback,
 * counting the bytes it writes.
 */
#include "infer/gguf.h"

#include "base/alloc.h"
#include "base/assert.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ARENA_CHUNK (64u * 1024u)

/* ---- ggml types ---- */

struct type_info {
    uint32_t id;
    uint32_t block_elems;
    uint32_t block_bytes;
    const char *name;
};

/* Block sizes from ggml-common.h. */
static const struct type_info g_types[] = {
    {OCTO_GGML_F32, 1, 4, "F32"},       {OCTO_GGML_F16, 1, 2, "F16"},
    {OCTO_GGML_Q4_0, 32, 18, "Q4_0"},   {OCTO_GGML_Q4_1, 32, 20, "Q4_1"},
    {OCTO_GGML_Q5_0, 32, 22, "Q5_0"},   {OCTO_GGML_Q5_1, 32, 24, "Q5_1"},
    {OCTO_GGML_Q8_0, 32, 34, "Q8_0"},   {OCTO_GGML_Q8_1, 32, 36, "Q8_1"},
    {OCTO_GGML_Q2_K, 256, 84, "Q2_K"},  {OCTO_GGML_Q3_K, 256, 110, "Q3_K"},
    {OCTO_GGML_Q4_K, 256, 144, "Q4_K"}, {OCTO_GGML_Q5_K, 256, 176, "Q5_K"},
    {OCTO_GGML_Q6_K, 256, 210, "Q6_K"}, {OCTO_GGML_Q8_K, 256, 292, "Q8_K"},
    {OCTO_GGML_I8, 1, 1, "I8"},         {OCTO_GGML_I16, 1, 2, "I16"},
    {OCTO_GGML_I32, 1, 4, "I32"},       {OCTO_GGML_I64, 1, 8, "I64"},
    {OCTO_GGML_F64, 1, 8, "F64"},       {OCTO_GGML_BF16, 1, 2, "BF16"},
};

static const struct type_info *type_find(uint32_t type)
{
    for (size_t i = 0; i < OCTO_ARRAY_LEN(g_types); i++)
        if (g_types[i].id == type)
            return &g_types[i];
    return NULL;
}

bool octo_ggml_type_size(uint32_t type, uint64_t *block_elems, uint64_t *block_bytes)
{
    const struct type_info *t = type_find(type);
    if (t == NULL)
        return false;
    *block_elems = t->block_elems;
    *block_bytes = t->block_bytes;
    return true;
}

const char *octo_ggml_type_name(uint32_t type)
{
    const struct type_info *t = type_find(type);
    return t != NULL ? t->name : "?";
}

/* Byte size of a fixed-size value type, 0 for STRING, ARRAY and unknown types. */
static size_t scalar_size(uint32_t type)
{
    switch (type) {
    case OCTO_GGUF_U8:
    case OCTO_GGUF_I8:
    case OCTO_GGUF_BOOL:
        return 1;
    case OCTO_GGUF_U16:
    case OCTO_GGUF_I16:
        return 2;
    case OCTO_GGUF_U32:
    case OCTO_GGUF_I32:
    case OCTO_GGUF_F32:
        return 4;
    case OCTO_GGUF_U64:
    case OCTO_GGUF_I64:
    case OCTO_GGUF_F64:
        return 8;
    default:
        return 0;
    }
}

/* Smallest encoding of one value of a type (for bounding counts by the bytes present). */
static size_t min_size(uint32_t type)
{
    if (type == OCTO_GGUF_STRING)
        return 8;
    if (type == OCTO_GGUF_ARRAY)
        return 12;
    return scalar_size(type);
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

static size_t fmt_len(size_t n)
{
    return n < 64 ? n : 64; /* quote at most 64 bytes of a name in a reason */
}

/* ---- reader: cursor ---- */

struct cursor {
    const uint8_t *p;
    size_t len;
    size_t pos;
};

static size_t cur_left(const struct cursor *c)
{
    return c->len - c->pos;
}

static bool cur_u32(struct cursor *c, uint32_t *v)
{
    if (cur_left(c) < 4)
        return false;
    *v = (uint32_t)load_le(c->p + c->pos, 4);
    c->pos += 4;
    return true;
}

static bool cur_u64(struct cursor *c, uint64_t *v)
{
    if (cur_left(c) < 8)
        return false;
    *v = load_le(c->p + c->pos, 8);
    c->pos += 8;
    return true;
}

/* Context for reasons: the parser fills `what` with the KV or tensor being parsed. */
struct pctx {
    struct octo_gguf *g; /* NULL when validating a writer value */
    struct octo_arena *arena;
    char *reason;
    const char *what;
    size_t what_len;
};

static int fail(struct pctx *x, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct pctx *x, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->reason, OCTO_GGUF_REASON_MAX, fmt, ap);
    va_end(ap);
    return rc;
}

/* Parses one value of `type` at the cursor; depth counts enclosing arrays. */
static int parse_value(struct pctx *x, struct cursor *c, uint32_t type, unsigned depth,
                       struct octo_gguf_value *v);

static int parse_string(struct pctx *x, struct cursor *c, struct octo_gguf_value *v)
{
    uint64_t n;
    if (!cur_u64(c, &n))
        return fail(x, OCTO_EMALFORMED, "key '%.*s': truncated string length",
                    (int)fmt_len(x->what_len), x->what);
    if (n > OCTO_GGUF_STRING_MAX)
        return fail(x, OCTO_ETOOBIG, "key '%.*s': string of %llu bytes over the limit %u",
                    (int)fmt_len(x->what_len), x->what, (unsigned long long)n,
                    OCTO_GGUF_STRING_MAX);
    if (n > cur_left(c))
        return fail(x, OCTO_EMALFORMED, "key '%.*s': string of %llu bytes past the end",
                    (int)fmt_len(x->what_len), x->what, (unsigned long long)n);
    v->data = c->p + c->pos;
    v->len = n;
    c->pos += (size_t)n;
    return 0;
}

static int parse_string_array(struct pctx *x, struct cursor *c, struct octo_gguf_value *v)
{
    uint64_t *off = NULL;
    if (v->count > 0) {
        off = octo_arena_alloc(x->arena, (size_t)v->count * sizeof(*off), 8);
        if (off == NULL)
            return fail(x, OCTO_ENOMEM, "key '%.*s': out of memory for a string array",
                        (int)fmt_len(x->what_len), x->what);
    }
    for (uint64_t i = 0; i < v->count; i++) {
        off[i] = (uint64_t)(c->p + c->pos - v->data);
        struct octo_gguf_value s;
        int rc = parse_string(x, c, &s);
        if (rc < 0)
            return rc;
    }
    v->str_off = off;
    return 0;
}

static int parse_array(struct pctx *x, struct cursor *c, unsigned depth, struct octo_gguf_value *v)
{
    int w = (int)fmt_len(x->what_len);
    if (depth >= OCTO_GGUF_DEPTH_MAX)
        return fail(x, OCTO_ETOOBIG, "key '%.*s': arrays nested deeper than %u", w, x->what,
                    OCTO_GGUF_DEPTH_MAX);
    if (!cur_u32(c, &v->elem_type) || !cur_u64(c, &v->count))
        return fail(x, OCTO_EMALFORMED, "key '%.*s': truncated array header", w, x->what);
    if (v->elem_type >= OCTO_GGUF_VTYPE_COUNT)
        return fail(x, OCTO_EMALFORMED, "key '%.*s': unknown array element type %u", w, x->what,
                    v->elem_type);
    size_t min = min_size(v->elem_type);
    if (v->count > cur_left(c) / min)
        return fail(x, OCTO_EMALFORMED, "key '%.*s': array count %llu larger than the file", w,
                    x->what, (unsigned long long)v->count);
    v->data = c->p + c->pos;
    if (v->elem_type == OCTO_GGUF_STRING) {
        int rc = parse_string_array(x, c, v);
        if (rc < 0)
            return rc;
    } else if (v->elem_type == OCTO_GGUF_ARRAY) {
        struct octo_gguf_value *items = NULL;
        if (v->count > 0) {
            items = octo_arena_alloc(x->arena, (size_t)v->count * sizeof(*items), 8);
            if (items == NULL)
                return fail(x, OCTO_ENOMEM, "key '%.*s': out of memory for an array", w, x->what);
        }
        for (uint64_t i = 0; i < v->count; i++) {
            int rc = parse_value(x, c, OCTO_GGUF_ARRAY, depth + 1, &items[i]);
            if (rc < 0)
                return rc;
        }
        v->items = items;
    } else {
        if (v->elem_type == OCTO_GGUF_BOOL)
            for (uint64_t i = 0; i < v->count; i++)
                if (v->data[i] > 1)
                    return fail(x, OCTO_EMALFORMED, "key '%.*s': bool element %llu is %u", w,
                                x->what, (unsigned long long)i, v->data[i]);
        c->pos += (size_t)v->count * min;
    }
    v->len = (uint64_t)(c->p + c->pos - v->data);
    return 0;
}

static int parse_value(struct pctx *x, struct cursor *c, uint32_t type, unsigned depth,
                       struct octo_gguf_value *v)
{
    memset(v, 0, sizeof(*v));
    v->type = type;
    if (type == OCTO_GGUF_STRING)
        return parse_string(x, c, v);
    if (type == OCTO_GGUF_ARRAY)
        return parse_array(x, c, depth, v);
    size_t n = scalar_size(type);
    if (n == 0)
        return fail(x, OCTO_EMALFORMED, "key '%.*s': unknown value type %u",
                    (int)fmt_len(x->what_len), x->what, type);
    if (cur_left(c) < n)
        return fail(x, OCTO_EMALFORMED, "key '%.*s': truncated value", (int)fmt_len(x->what_len),
                    x->what);
    v->data = c->p + c->pos;
    v->len = n;
    if (type == OCTO_GGUF_BOOL && v->data[0] > 1)
        return fail(x, OCTO_EMALFORMED, "key '%.*s': bool value %u", (int)fmt_len(x->what_len),
                    x->what, v->data[0]);
    c->pos += n;
    return 0;
}

/* ---- reader: file ---- */

void octo_gguf_init(struct octo_gguf *g)
{
    memset(g, 0, sizeof(*g));
    octo_arena_init(&g->arena, ARENA_CHUNK, SIZE_MAX / 8);
    g->alignment = OCTO_GGUF_ALIGN_DEFAULT;
}

void octo_gguf_deinit(struct octo_gguf *g)
{
    octo_free(g->kvs);
    octo_free(g->kv_index);
    octo_free(g->tensors);
    octo_free(g->tensor_index);
    octo_arena_deinit(&g->arena);
    g->kvs = NULL;
    g->kv_index = NULL;
    g->tensors = NULL;
    g->tensor_index = NULL;
    g->n_kv = 0;
    g->n_tensors = 0;
}

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0)
        return r;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* An entry's name (key or tensor name) and its length. */
typedef const char *(*name_of_fn)(const struct octo_gguf *g, uint32_t i, size_t *len);

static const char *kv_name(const struct octo_gguf *g, uint32_t i, size_t *len)
{
    *len = g->kvs[i].key_len;
    return g->kvs[i].key;
}

static const char *tensor_name(const struct octo_gguf *g, uint32_t i, size_t *len)
{
    *len = g->tensors[i].name_len;
    return g->tensors[i].name;
}

/* Index comparators: compare entries a and b of g's tables. */
typedef int (*index_cmp_fn)(const struct octo_gguf *g, uint32_t a, uint32_t b);

static int kv_index_cmp(const struct octo_gguf *g, uint32_t a, uint32_t b)
{
    const struct octo_gguf_kv *ka = &g->kvs[a], *kb = &g->kvs[b];
    return name_cmp(ka->key, ka->key_len, kb->key, kb->key_len);
}

static int tensor_index_cmp(const struct octo_gguf *g, uint32_t a, uint32_t b)
{
    const struct octo_gguf_tensor *ta = &g->tensors[a], *tb = &g->tensors[b];
    return name_cmp(ta->name, ta->name_len, tb->name, tb->name_len);
}

/* The entry (a table position) of index[0..n), sorted by name, whose name the next entry
 * repeats, the first such; -1 when all names differ. */
static long index_first_duplicate(const struct octo_gguf *g, const uint32_t *index, uint64_t n,
                                  name_of_fn name_of)
{
    for (uint64_t i = 1; i < n; i++) {
        size_t la, lb;
        const char *a = name_of(g, index[i - 1], &la), *b = name_of(g, index[i], &lb);
        if (name_cmp(a, la, b, lb) == 0)
            return (long)index[i - 1];
    }
    return -1;
}

static int tensor_offset_cmp(const struct octo_gguf *g, uint32_t a, uint32_t b)
{
    const struct octo_gguf_tensor *ta = &g->tensors[a], *tb = &g->tensors[b];
    if (ta->offset != tb->offset)
        return ta->offset < tb->offset ? -1 : 1;
    return ta->size < tb->size ? -1 : (ta->size > tb->size ? 1 : 0);
}

/* Heap sort (qsort has no context argument; this needs no global): O(n log n) worst case. */
static void sift_down(const struct octo_gguf *g, uint32_t *idx, size_t root, size_t n,
                      index_cmp_fn cmp)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(g, idx[child], idx[child + 1]) < 0)
            child++;
        if (cmp(g, idx[root], idx[child]) >= 0)
            return;
        uint32_t t = idx[root];
        idx[root] = idx[child];
        idx[child] = t;
        root = child;
    }
}

static uint32_t *make_index(const struct octo_gguf *g, uint64_t count, index_cmp_fn cmp)
{
    size_t n = (size_t)count;
    uint32_t *idx = octo_malloc(n > 0 ? n * sizeof(*idx) : 1);
    if (idx == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    for (size_t i = n / 2; i > 0; i--)
        sift_down(g, idx, i - 1, n, cmp);
    for (size_t end = n; end > 1; end--) {
        uint32_t t = idx[0];
        idx[0] = idx[end - 1];
        idx[end - 1] = t;
        sift_down(g, idx, 0, end - 1, cmp);
    }
    return idx;
}

static int parse_header(struct pctx *x, struct cursor *c)
{
    struct octo_gguf *g = x->g;
    uint32_t magic;
    if (!cur_u32(c, &magic))
        return fail(x, OCTO_EMALFORMED, "truncated header (%zu bytes)", c->len);
    if (magic != OCTO_GGUF_MAGIC)
        return fail(x, OCTO_EMALFORMED, "bad magic 0x%08x (not a GGUF file)", magic);
    if (!cur_u32(c, &g->version))
        return fail(x, OCTO_EMALFORMED, "truncated header (%zu bytes)", c->len);
    if (g->version != OCTO_GGUF_VERSION)
        return fail(x, OCTO_EUNSUPPORTED, "GGUF version %u unsupported (only 3)", g->version);
    if (!cur_u64(c, &g->n_tensors) || !cur_u64(c, &g->n_kv))
        return fail(x, OCTO_EMALFORMED, "truncated header (%zu bytes)", c->len);
    if (g->n_tensors > OCTO_GGUF_TENSORS_MAX)
        return fail(x, OCTO_ETOOBIG, "tensor count %llu over the limit %u",
                    (unsigned long long)g->n_tensors, OCTO_GGUF_TENSORS_MAX);
    if (g->n_kv > OCTO_GGUF_KV_MAX)
        return fail(x, OCTO_ETOOBIG, "metadata count %llu over the limit %u",
                    (unsigned long long)g->n_kv, OCTO_GGUF_KV_MAX);
    /* A KV takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info 8 + 4 + 8 + 4 + 8. */
    if (g->n_kv > cur_left(c) / 13)
        return fail(x, OCTO_EMALFORMED, "metadata count %llu larger than the file",
                    (unsigned long long)g->n_kv);
    if (g->n_tensors > (cur_left(c) - g->n_kv * 13) / 32)
        return fail(x, OCTO_EMALFORMED, "tensor count %llu larger than the file",
                    (unsigned long long)g->n_tensors);
    return 0;
}

static int parse_kv(struct pctx *x, struct cursor *c, struct octo_gguf_kv *kv, uint64_t i)
{
    uint64_t n;
    if (!cur_u64(c, &n))
        return fail(x, OCTO_EMALFORMED, "metadata %llu: truncated key", (unsigned long long)i);
    if (n > OCTO_GGUF_KEY_MAX)
        return fail(x, OCTO_ETOOBIG, "metadata %llu: key of %llu bytes over the limit %u",
                    (unsigned long long)i, (unsigned long long)n, OCTO_GGUF_KEY_MAX);
    if (n == 0 || n > cur_left(c))
        return fail(x, OCTO_EMALFORMED, "metadata %llu: key of %llu bytes %s",
                    (unsigned long long)i, (unsigned long long)n,
                    n == 0 ? "is empty" : "past the end");
    kv->key = (const char *)(c->p + c->pos);
    kv->key_len = (size_t)n;
    c->pos += (size_t)n;
    x->what = kv->key;
    x->what_len = kv->key_len;
    uint32_t type;
    if (!cur_u32(c, &type))
        return fail(x, OCTO_EMALFORMED, "key '%.*s': truncated value type",
                    (int)fmt_len(kv->key_len), kv->key);
    return parse_value(x, c, type, 0, &kv->value);
}

static int parse_kvs(struct pctx *x, struct cursor *c)
{
    struct octo_gguf *g = x->g;
    g->kvs = octo_calloc(g->n_kv > 0 ? (size_t)g->n_kv : 1, sizeof(*g->kvs));
    if (g->kvs == NULL)
        return fail(x, OCTO_ENOMEM, "out of memory for %llu KVs", (unsigned long long)g->n_kv);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        int rc = parse_kv(x, c, &g->kvs[i], i);
        if (rc < 0)
            return rc;
    }
    g->kv_index = make_index(g, g->n_kv, kv_index_cmp);
    if (g->kv_index == NULL)
        return fail(x, OCTO_ENOMEM, "out of memory for the key index");
    long dup = index_first_duplicate(g, g->kv_index, g->n_kv, kv_name);
    if (dup >= 0) {
        const struct octo_gguf_kv *a = &g->kvs[dup];
        return fail(x, OCTO_EEXIST, "duplicate key '%.*s'", (int)fmt_len(a->key_len), a->key);
    }
    return 0;
}

static int parse_alignment(struct pctx *x)
{
    struct octo_gguf *g = x->g;
    const struct octo_gguf_kv *kv = octo_gguf_find(g, "general.alignment");
    if (kv == NULL)
        return 0;
    if (kv->value.type != OCTO_GGUF_U32)
        return fail(x, OCTO_EMALFORMED, "key 'general.alignment': type %u, want u32",
                    kv->value.type);
    uint64_t a = load_le(kv->value.data, 4);
    if (a == 0 || a % 8 != 0 || a > OCTO_GGUF_ALIGN_MAX)
        return fail(x, OCTO_EMALFORMED,
                    "key 'general.alignment': %llu is not a nonzero multiple of 8 up to %u",
                    (unsigned long long)a, OCTO_GGUF_ALIGN_MAX);
    g->alignment = a;
    return 0;
}

/* Element count and byte size of a tensor, from dims and type. */
static int tensor_size(struct pctx *x, struct octo_gguf_tensor *t)
{
    int w = (int)t->name_len;
    uint64_t be, bb;
    if (!octo_ggml_type_size(t->type, &be, &bb))
        return fail(x, OCTO_EUNSUPPORTED, "tensor '%.*s': unknown ggml type %u", w, t->name,
                    t->type);
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (t->ne[d] > (uint64_t)INT64_MAX || (t->ne[d] != 0 && n > (uint64_t)INT64_MAX / t->ne[d]))
            return fail(x, OCTO_ERANGE, "tensor '%.*s': element count overflows", w, t->name);
        n *= t->ne[d];
    }
    if (t->ne[0] % be != 0)
        return fail(x, OCTO_EMALFORMED,
                    "tensor '%.*s': row length %llu not a multiple of the %s block (%llu)", w,
                    t->name, (unsigned long long)t->ne[0], octo_ggml_type_name(t->type),
                    (unsigned long long)be);
    t->n_elements = n;
    /* n / be * bb: n / be <= INT64_MAX and bb <= 292, so check before multiplying. */
    if (n / be > UINT64_MAX / bb)
        return fail(x, OCTO_ERANGE, "tensor '%.*s': byte size overflows", w, t->name);
    t->size = n / be * bb;
    return 0;
}

static int parse_tensor(struct pctx *x, struct cursor *c, struct octo_gguf_tensor *t, uint64_t i)
{
    uint64_t n;
    if (!cur_u64(c, &n))
        return fail(x, OCTO_EMALFORMED, "tensor %llu: truncated name", (unsigned long long)i);
    if (n > OCTO_GGUF_NAME_MAX)
        return fail(x, OCTO_ETOOBIG, "tensor %llu: name of %llu bytes over the limit %u",
                    (unsigned long long)i, (unsigned long long)n, OCTO_GGUF_NAME_MAX);
    if (n == 0 || n > cur_left(c))
        return fail(x, OCTO_EMALFORMED, "tensor %llu: name of %llu bytes %s", (unsigned long long)i,
                    (unsigned long long)n, n == 0 ? "is empty" : "past the end");
    t->name = (const char *)(c->p + c->pos);
    t->name_len = (size_t)n;
    c->pos += (size_t)n;
    int w = (int)t->name_len;
    if (!cur_u32(c, &t->n_dims))
        return fail(x, OCTO_EMALFORMED, "tensor '%.*s': truncated", w, t->name);
    if (t->n_dims == 0 || t->n_dims > OCTO_GGUF_DIMS_MAX)
        return fail(x, OCTO_EMALFORMED, "tensor '%.*s': n_dims %u outside 1..%u", w, t->name,
                    t->n_dims, OCTO_GGUF_DIMS_MAX);
    for (uint32_t d = 0; d < OCTO_GGUF_DIMS_MAX; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && !cur_u64(c, &t->ne[d]))
            return fail(x, OCTO_EMALFORMED, "tensor '%.*s': truncated", w, t->name);
    }
    if (!cur_u32(c, &t->type) || !cur_u64(c, &t->offset))
        return fail(x, OCTO_EMALFORMED, "tensor '%.*s': truncated", w, t->name);
    return tensor_size(x, t);
}

/* Offsets, bounds and data pointers, once the data section is known. */
static int place_tensors(struct pctx *x)
{
    struct octo_gguf *g = x->g;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        struct octo_gguf_tensor *t = &g->tensors[i];
        int w = (int)t->name_len;
        if (t->offset % g->alignment != 0)
            return fail(x, OCTO_EMALFORMED, "tensor '%.*s': offset %llu not aligned to %llu", w,
                        t->name, (unsigned long long)t->offset, (unsigned long long)g->alignment);
        if (t->offset > g->data_size || t->size > g->data_size - t->offset)
            return fail(x, OCTO_EMALFORMED,
                        "tensor '%.*s': offset %llu + size %llu past the data section (%zu bytes)",
                        w, t->name, (unsigned long long)t->offset, (unsigned long long)t->size,
                        g->data_size);
        t->data = g->buf + g->data_offset + t->offset;
    }
    uint32_t *by_off = make_index(g, g->n_tensors, tensor_offset_cmp);
    if (by_off == NULL)
        return fail(x, OCTO_ENOMEM, "out of memory for the offset index");
    /* In offset order, each non-empty tensor against the non-empty one reaching furthest so
     * far: any earlier tensor it overlaps reaches past its start, so that one does too (empty
     * tensors overlap nothing, and must not hide an overlap between their neighbours). */
    int rc = 0;
    const struct octo_gguf_tensor *far = NULL;
    for (uint64_t i = 0; i < g->n_tensors && rc == 0; i++) {
        const struct octo_gguf_tensor *b = &g->tensors[by_off[i]];
        if (b->size == 0)
            continue;
        if (far != NULL && far->offset + far->size > b->offset)
            rc = fail(x, OCTO_EMALFORMED, "tensor '%.*s' overlaps tensor '%.*s'", (int)b->name_len,
                      b->name, (int)far->name_len, far->name);
        if (far == NULL || b->offset + b->size > far->offset + far->size)
            far = b;
    }
    octo_free(by_off);
    return rc;
}

static int parse_tensors(struct pctx *x, struct cursor *c)
{
    struct octo_gguf *g = x->g;
    g->tensors = octo_calloc(g->n_tensors > 0 ? (size_t)g->n_tensors : 1, sizeof(*g->tensors));
    if (g->tensors == NULL)
        return fail(x, OCTO_ENOMEM, "out of memory for %llu tensors",
                    (unsigned long long)g->n_tensors);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        int rc = parse_tensor(x, c, &g->tensors[i], i);
        if (rc < 0)
            return rc;
    }
    g->tensor_index = make_index(g, g->n_tensors, tensor_index_cmp);
    if (g->tensor_index == NULL)
        return fail(x, OCTO_ENOMEM, "out of memory for the tensor index");
    long dup = index_first_duplicate(g, g->tensor_index, g->n_tensors, tensor_name);
    if (dup >= 0) {
        const struct octo_gguf_tensor *a = &g->tensors[dup];
        return fail(x, OCTO_EEXIST, "duplicate tensor name '%.*s'", (int)a->name_len, a->name);
    }
    /* The data section starts at the aligned end of the infos. A file without tensors may end
     * before the padding. */
    size_t pad = (size_t)((g->alignment - c->pos % g->alignment) % g->alignment);
    if (pad > cur_left(c)) {
        if (g->n_tensors > 0)
            return fail(x, OCTO_EMALFORMED, "truncated before the data section");
        pad = cur_left(c);
    }
    g->data_offset = c->pos + pad;
    g->data_size = c->len - g->data_offset;
    return place_tensors(x);
}

int octo_gguf_parse(struct octo_gguf *g, const void *buf, size_t len)
{
    OCTO_ASSERT(g->kvs == NULL && g->tensors == NULL);
    OCTO_ASSERT(buf != NULL || len == 0);
    g->buf = buf;
    g->len = len;
    g->reason[0] = '\0';
    struct pctx x = {.g = g, .arena = &g->arena, .reason = g->reason, .what = "", .what_len = 0};
    struct cursor c = {.p = buf, .len = len, .pos = 0};
    int rc = parse_header(&x, &c);
    if (rc == 0)
        rc = parse_kvs(&x, &c);
    if (rc == 0)
        rc = parse_alignment(&x);
    if (rc == 0)
        rc = parse_tensors(&x, &c);
    if (rc < 0) {
        octo_gguf_deinit(g); /* the arena is reset, still usable */
        g->alignment = OCTO_GGUF_ALIGN_DEFAULT;
    }
    return rc;
}

/* ---- reader: lookups ---- */

/* Position in index[0..n) (sorted by name) of the entry named name[0..len), or -1; name_of
 * gives an entry's name. O(log n). */
static long index_find(const struct octo_gguf *g, const uint32_t *index, uint64_t n,
                       name_of_fn name_of, const char *name, size_t len)
{
    if (index == NULL)
        return -1;
    size_t lo = 0, hi = (size_t)n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, elen;
        const char *e = name_of(g, index[mid], &elen);
        int r = name_cmp(e, elen, name, len);
        if (r == 0)
            return (long)mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

const struct octo_gguf_kv *octo_gguf_find(const struct octo_gguf *g, const char *key)
{
    long i = index_find(g, g->kv_index, g->n_kv, kv_name, key, strlen(key));
    return i < 0 ? NULL : &g->kvs[g->kv_index[i]];
}

const struct octo_gguf_tensor *octo_gguf_find_tensor(const struct octo_gguf *g, const char *name)
{
    long i = index_find(g, g->tensor_index, g->n_tensors, tensor_name, name, strlen(name));
    return i < 0 ? NULL : &g->tensors[g->tensor_index[i]];
}

int octo_gguf_array_get(const struct octo_gguf_value *arr, uint64_t i, struct octo_gguf_value *out)
{
    if (arr->type != OCTO_GGUF_ARRAY)
        return OCTO_EINVAL;
    if (i >= arr->count)
        return OCTO_ERANGE;
    if (arr->elem_type == OCTO_GGUF_ARRAY) {
        *out = arr->items[i];
        return 0;
    }
    memset(out, 0, sizeof(*out));
    out->type = arr->elem_type;
    if (arr->elem_type == OCTO_GGUF_STRING) {
        const uint8_t *p = arr->data + arr->str_off[i];
        out->len = load_le(p, 8);
        out->data = p + 8;
        return 0;
    }
    size_t n = scalar_size(arr->elem_type);
    out->data = arr->data + (size_t)i * n;
    out->len = n;
    return 0;
}

/* An integer value as sign and magnitude. OCTO_EINVAL for a non-integer type. */
static int value_int(const struct octo_gguf_value *v, bool *neg, uint64_t *mag)
{
    size_t n;
    bool is_signed;
    switch (v->type) {
    case OCTO_GGUF_U8:
    case OCTO_GGUF_U16:
    case OCTO_GGUF_U32:
    case OCTO_GGUF_U64:
        is_signed = false;
        break;
    case OCTO_GGUF_I8:
    case OCTO_GGUF_I16:
    case OCTO_GGUF_I32:
    case OCTO_GGUF_I64:
        is_signed = true;
        break;
    default:
        return OCTO_EINVAL;
    }
    n = scalar_size(v->type);
    uint64_t raw = load_le(v->data, n);
    *neg = false;
    if (is_signed && (raw >> (8 * n - 1)) != 0) {
        *neg = true;
        uint64_t ext = n == 8 ? raw : raw | (~UINT64_C(0) << (8 * n));
        *mag = ~ext + 1; /* two's complement magnitude; INT64_MIN gives 2^63 */
        return 0;
    }
    *mag = raw;
    return 0;
}

int octo_gguf_value_u64(const struct octo_gguf_value *v, uint64_t *out)
{
    bool neg;
    uint64_t mag;
    int rc = value_int(v, &neg, &mag);
    if (rc < 0)
        return rc;
    if (neg)
        return OCTO_ERANGE;
    *out = mag;
    return 0;
}

int octo_gguf_value_i64(const struct octo_gguf_value *v, int64_t *out)
{
    bool neg;
    uint64_t mag;
    int rc = value_int(v, &neg, &mag);
    if (rc < 0)
        return rc;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return OCTO_ERANGE;
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        return 0;
    }
    if (mag > (uint64_t)INT64_MAX)
        return OCTO_ERANGE;
    *out = (int64_t)mag;
    return 0;
}

int octo_gguf_value_f32(const struct octo_gguf_value *v, float *out)
{
    if (v->type != OCTO_GGUF_F32)
        return OCTO_EINVAL;
    uint32_t bits = (uint32_t)load_le(v->data, 4);
    memcpy(out, &bits, 4);
    return 0;
}

int octo_gguf_value_f64(const struct octo_gguf_value *v, double *out)
{
    if (v->type == OCTO_GGUF_F32) {
        float f;
        OCTO_IGNORE(octo_gguf_value_f32(v, &f));
        *out = (double)f;
        return 0;
    }
    if (v->type != OCTO_GGUF_F64)
        return OCTO_EINVAL;
    uint64_t bits = load_le(v->data, 8);
    memcpy(out, &bits, 8);
    return 0;
}

int octo_gguf_value_bool(const struct octo_gguf_value *v, bool *out)
{
    if (v->type != OCTO_GGUF_BOOL)
        return OCTO_EINVAL;
    *out = v->data[0] != 0;
    return 0;
}

int octo_gguf_value_str(const struct octo_gguf_value *v, const char **s, size_t *len)
{
    if (v->type != OCTO_GGUF_STRING)
        return OCTO_EINVAL;
    *s = (const char *)v->data;
    *len = (size_t)v->len;
    return 0;
}

static int get_value(const struct octo_gguf *g, const char *key, const struct octo_gguf_value **v)
{
    const struct octo_gguf_kv *kv = octo_gguf_find(g, key);
    if (kv == NULL)
        return OCTO_ENOTFOUND;
    *v = &kv->value;
    return 0;
}

int octo_gguf_get_u32(const struct octo_gguf *g, const char *key, uint32_t *out)
{
    const struct octo_gguf_value *v;
    uint64_t u;
    int rc = get_value(g, key, &v);
    if (rc == 0)
        rc = octo_gguf_value_u64(v, &u);
    if (rc == 0 && u > UINT32_MAX)
        rc = OCTO_ERANGE;
    if (rc == 0)
        *out = (uint32_t)u;
    return rc;
}

int octo_gguf_get_u64(const struct octo_gguf *g, const char *key, uint64_t *out)
{
    const struct octo_gguf_value *v;
    int rc = get_value(g, key, &v);
    return rc < 0 ? rc : octo_gguf_value_u64(v, out);
}

int octo_gguf_get_i32(const struct octo_gguf *g, const char *key, int32_t *out)
{
    const struct octo_gguf_value *v;
    int64_t i;
    int rc = get_value(g, key, &v);
    if (rc == 0)
        rc = octo_gguf_value_i64(v, &i);
    if (rc == 0 && (i > INT32_MAX || i < INT32_MIN))
        rc = OCTO_ERANGE;
    if (rc == 0)
        *out = (int32_t)i;
    return rc;
}

int octo_gguf_get_f32(const struct octo_gguf *g, const char *key, float *out)
{
    const struct octo_gguf_value *v;
    int rc = get_value(g, key, &v);
    return rc < 0 ? rc : octo_gguf_value_f32(v, out);
}

int octo_gguf_get_bool(const struct octo_gguf *g, const char *key, bool *out)
{
    const struct octo_gguf_value *v;
    int rc = get_value(g, key, &v);
    return rc < 0 ? rc : octo_gguf_value_bool(v, out);
}

int octo_gguf_get_str(const struct octo_gguf *g, const char *key, const char **s, size_t *len)
{
    const struct octo_gguf_value *v;
    int rc = get_value(g, key, &v);
    return rc < 0 ? rc : octo_gguf_value_str(v, s, len);
}

int octo_gguf_get_array(const struct octo_gguf *g, const char *key,
                        const struct octo_gguf_value **arr)
{
    const struct octo_gguf_value *v;
    int rc = get_value(g, key, &v);
    if (rc < 0)
        return rc;
    if (v->type != OCTO_GGUF_ARRAY)
        return OCTO_EINVAL;
    *arr = v;
    return 0;
}

/* ---- writer ---- */

/* The n low bytes of v, little-endian, at p. */
static void store_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int put_le(struct octo_buf *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    store_le(tmp, v, n);
    return octo_buf_append(b, tmp, n);
}

void octo_gguf_writer_init(struct octo_gguf_writer *w)
{
    memset(w, 0, sizeof(*w));
    octo_buf_init(&w->kv, OCTO_GGUF_META_MAX);
    octo_buf_init(&w->keys, OCTO_GGUF_META_MAX);
    w->alignment = OCTO_GGUF_ALIGN_DEFAULT;
}

void octo_gguf_writer_deinit(struct octo_gguf_writer *w)
{
    octo_buf_deinit(&w->kv);
    octo_buf_deinit(&w->keys);
    octo_free(w->tensors);
    w->tensors = NULL;
    w->n_tensors = 0;
    w->cap_tensors = 0;
}

int octo_gguf_encode_array_head(struct octo_buf *b, uint32_t elem_type, uint64_t count)
{
    if (elem_type >= OCTO_GGUF_VTYPE_COUNT)
        return OCTO_EINVAL;
    int rc = put_le(b, elem_type, 4);
    return rc < 0 ? rc : put_le(b, count, 8);
}

int octo_gguf_encode_str(struct octo_buf *b, const char *s, size_t n)
{
    if (n > OCTO_GGUF_STRING_MAX)
        return OCTO_ETOOBIG;
    int rc = put_le(b, n, 8);
    return rc < 0 ? rc : octo_buf_append(b, s, n);
}

/* Encodes a fixed-size scalar of `type` from host memory into out (8 bytes); returns its size,
 * or OCTO_EINVAL for a type that is not a fixed-size scalar or a bool other than 0 or 1. */
static int scalar_encode(uint32_t type, const void *v, uint8_t out[8])
{
    size_t n = scalar_size(type);
    if (n == 0)
        return OCTO_EINVAL;
    uint64_t raw = 0;
    if (n == 1)
        raw = *(const uint8_t *)v;
    else if (n == 2) {
        uint16_t t;
        memcpy(&t, v, 2);
        raw = t;
    } else if (n == 4) {
        uint32_t t;
        memcpy(&t, v, 4);
        raw = t;
    } else {
        memcpy(&raw, v, 8);
    }
    if (type == OCTO_GGUF_BOOL && raw > 1)
        return OCTO_EINVAL;
    store_le(out, raw, n);
    return (int)n;
}

int octo_gguf_encode_scalar(struct octo_buf *b, uint32_t type, const void *v)
{
    uint8_t enc[8];
    int n = scalar_encode(type, v, enc);
    return n < 0 ? n : octo_buf_append(b, enc, (size_t)n);
}

/* Checks the key and records it; on success the caller appends the key, type and value. */
static int writer_key(struct octo_gguf_writer *w, const char *key)
{
    size_t n = strlen(key);
    if (n == 0)
        return OCTO_EINVAL;
    if (n > OCTO_GGUF_KEY_MAX)
        return OCTO_ETOOBIG;
    if (w->n_kv >= OCTO_GGUF_KV_MAX)
        return OCTO_ETOOBIG;
    for (size_t off = 0; off < w->keys.len;) {
        const char *k = (const char *)w->keys.data + off;
        size_t kl = strlen(k);
        if (kl == n && memcmp(k, key, n) == 0) {
            snprintf(w->reason, sizeof(w->reason), "duplicate key '%.*s'", (int)fmt_len(n), key);
            return OCTO_EEXIST;
        }
        off += kl + 1;
    }
    return 0;
}

/* Appends one complete KV and records the key. The value's bytes are head[0..head_len) (a
 * scalar or a string's length prefix, encoded on the caller's stack: no heap buffer) followed
 * by body[0..body_len) (a string's bytes, an encoded array or value), copied once. */
static int writer_put(struct octo_gguf_writer *w, const char *key, uint32_t type, const void *head,
                      size_t head_len, const void *body, size_t body_len)
{
    int rc = writer_key(w, key);
    if (rc < 0)
        return rc;
    size_t n = strlen(key);
    size_t kv_len = w->kv.len, keys_len = w->keys.len;
    rc = put_le(&w->kv, n, 8);
    if (rc == 0)
        rc = octo_buf_append(&w->kv, key, n);
    if (rc == 0)
        rc = put_le(&w->kv, type, 4);
    if (rc == 0 && head_len > 0)
        rc = octo_buf_append(&w->kv, head, head_len);
    if (rc == 0 && body_len > 0)
        rc = octo_buf_append(&w->kv, body, body_len);
    if (rc == 0)
        rc = octo_buf_append(&w->keys, key, n + 1);
    if (rc < 0) {
        w->kv.len = kv_len;
        w->keys.len = keys_len;
        return rc;
    }
    w->n_kv++;
    return 0;
}

static int writer_scalar(struct octo_gguf_writer *w, const char *key, uint32_t type, const void *v)
{
    uint8_t enc[8];
    int n = scalar_encode(type, v, enc);
    return n < 0 ? n : writer_put(w, key, type, enc, (size_t)n, NULL, 0);
}

int octo_gguf_writer_add_u8(struct octo_gguf_writer *w, const char *key, uint8_t v)
{
    return writer_scalar(w, key, OCTO_GGUF_U8, &v);
}

int octo_gguf_writer_add_i8(struct octo_gguf_writer *w, const char *key, int8_t v)
{
    return writer_scalar(w, key, OCTO_GGUF_I8, &v);
}

int octo_gguf_writer_add_u16(struct octo_gguf_writer *w, const char *key, uint16_t v)
{
    return writer_scalar(w, key, OCTO_GGUF_U16, &v);
}

int octo_gguf_writer_add_i16(struct octo_gguf_writer *w, const char *key, int16_t v)
{
    return writer_scalar(w, key, OCTO_GGUF_I16, &v);
}

int octo_gguf_writer_add_u32(struct octo_gguf_writer *w, const char *key, uint32_t v)
{
    bool is_align = strcmp(key, "general.alignment") == 0;
    /* Stricter than the reader: llama.cpp also wants a power of two. */
    if (is_align && (v < 8 || (v & (v - 1)) != 0 || v > OCTO_GGUF_ALIGN_MAX))
        return OCTO_EINVAL;
    int rc = writer_scalar(w, key, OCTO_GGUF_U32, &v);
    if (rc == 0 && is_align)
        w->alignment = v;
    return rc;
}

int octo_gguf_writer_add_i32(struct octo_gguf_writer *w, const char *key, int32_t v)
{
    return writer_scalar(w, key, OCTO_GGUF_I32, &v);
}

int octo_gguf_writer_add_f32(struct octo_gguf_writer *w, const char *key, float v)
{
    return writer_scalar(w, key, OCTO_GGUF_F32, &v);
}

int octo_gguf_writer_add_bool(struct octo_gguf_writer *w, const char *key, bool v)
{
    uint8_t b = v ? 1 : 0;
    return writer_scalar(w, key, OCTO_GGUF_BOOL, &b);
}

int octo_gguf_writer_add_u64(struct octo_gguf_writer *w, const char *key, uint64_t v)
{
    return writer_scalar(w, key, OCTO_GGUF_U64, &v);
}

int octo_gguf_writer_add_i64(struct octo_gguf_writer *w, const char *key, int64_t v)
{
    return writer_scalar(w, key, OCTO_GGUF_I64, &v);
}

int octo_gguf_writer_add_f64(struct octo_gguf_writer *w, const char *key, double v)
{
    return writer_scalar(w, key, OCTO_GGUF_F64, &v);
}

int octo_gguf_writer_add_str(struct octo_gguf_writer *w, const char *key, const char *s, size_t n)
{
    if (n > OCTO_GGUF_STRING_MAX)
        return OCTO_ETOOBIG;
    uint8_t len[8];
    store_le(len, n, 8);
    return writer_put(w, key, OCTO_GGUF_STRING, len, sizeof(len), s, n);
}

int octo_gguf_writer_add_array(struct octo_gguf_writer *w, const char *key, uint32_t elem_type,
                               const void *elems, uint64_t count)
{
    size_t n = scalar_size(elem_type);
    if (n == 0 || (count > 0 && elems == NULL))
        return OCTO_EINVAL;
    if (count > OCTO_GGUF_META_MAX / n)
        return OCTO_ETOOBIG;
    struct octo_buf b;
    octo_buf_init(&b, OCTO_GGUF_META_MAX);
    int rc = octo_gguf_encode_array_head(&b, elem_type, count);
    const uint8_t *p = elems;
    for (uint64_t i = 0; i < count && rc == 0; i++)
        rc = octo_gguf_encode_scalar(&b, elem_type, p + i * n);
    if (rc == 0)
        rc = writer_put(w, key, OCTO_GGUF_ARRAY, NULL, 0, b.data, b.len);
    octo_buf_deinit(&b);
    return rc;
}

int octo_gguf_writer_add_str_array(struct octo_gguf_writer *w, const char *key,
                                   const char *const *strs, const size_t *lens, uint64_t count)
{
    if (count > 0 && strs == NULL)
        return OCTO_EINVAL;
    if (count > OCTO_GGUF_META_MAX / 8)
        return OCTO_ETOOBIG;
    struct octo_buf b;
    octo_buf_init(&b, OCTO_GGUF_META_MAX);
    int rc = octo_gguf_encode_array_head(&b, OCTO_GGUF_STRING, count);
    for (uint64_t i = 0; i < count && rc == 0; i++)
        rc = octo_gguf_encode_str(&b, strs[i], lens != NULL ? lens[i] : strlen(strs[i]));
    if (rc == 0)
        rc = writer_put(w, key, OCTO_GGUF_ARRAY, NULL, 0, b.data, b.len);
    octo_buf_deinit(&b);
    return rc;
}

int octo_gguf_writer_add_value(struct octo_gguf_writer *w, const char *key, uint32_t type,
                               const void *enc, size_t len)
{
    if (type == OCTO_GGUF_U32 && strcmp(key, "general.alignment") == 0) {
        if (len != 4)
            return OCTO_EMALFORMED;
        uint32_t v = (uint32_t)load_le(enc, 4);
        return octo_gguf_writer_add_u32(w, key, v);
    }
    struct octo_arena arena;
    octo_arena_init(&arena, ARENA_CHUNK, SIZE_MAX / 8);
    struct pctx x = {
        .g = NULL, .arena = &arena, .reason = w->reason, .what = key, .what_len = strlen(key)};
    struct cursor c = {.p = enc, .len = len, .pos = 0};
    struct octo_gguf_value v;
    int rc = parse_value(&x, &c, type, 0, &v);
    if (rc == 0 && c.pos != len)
        rc = fail(&x, OCTO_EMALFORMED, "key '%.*s': %zu bytes after the value",
                  (int)fmt_len(x.what_len), key, len - c.pos);
    octo_arena_deinit(&arena);
    if (rc == 0)
        rc = writer_put(w, key, type, NULL, 0, enc, len);
    return rc;
}

int octo_gguf_writer_add_tensor(struct octo_gguf_writer *w, const char *name, uint32_t type,
                                uint32_t n_dims, const uint64_t *ne)
{
    size_t n = strlen(name);
    if (n == 0 || n_dims == 0 || n_dims > OCTO_GGUF_DIMS_MAX)
        return OCTO_EINVAL;
    if (n > OCTO_GGUF_NAME_MAX || w->n_tensors >= OCTO_GGUF_TENSORS_MAX)
        return OCTO_ETOOBIG;
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return OCTO_EEXIST;
    struct octo_gguf_tensor t = {.name = name, .name_len = n, .type = type, .n_dims = n_dims};
    for (uint32_t d = 0; d < OCTO_GGUF_DIMS_MAX; d++)
        t.ne[d] = d < n_dims ? ne[d] : 1;
    struct pctx x = {.g = NULL, .reason = w->reason, .what = name, .what_len = n};
    int rc = tensor_size(&x, &t);
    if (rc == OCTO_EMALFORMED)
        return OCTO_EINVAL;
    if (rc < 0)
        return rc;
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 16;
        struct octo_gguf_wtensor *nt = octo_realloc(w->tensors, cap * sizeof(*nt));
        if (nt == NULL)
            return OCTO_ENOMEM;
        w->tensors = nt;
        w->cap_tensors = cap;
    }
    struct octo_gguf_wtensor *wt = &w->tensors[w->n_tensors];
    memset(wt, 0, sizeof(*wt));
    memcpy(wt->name, name, n);
    wt->type = type;
    wt->n_dims = n_dims;
    memcpy(wt->ne, t.ne, sizeof(wt->ne));
    wt->size = t.size;
    return (int)w->n_tensors++;
}

/* Counts the bytes a data callback writes and forwards them. */
struct counter {
    octo_gguf_write_fn write;
    void *ctx;
    uint64_t n;
};

static int count_write(void *ctx, const void *p, size_t n)
{
    struct counter *c = ctx;
    c->n += n;
    return n == 0 ? 0 : c->write(c->ctx, p, n);
}

static int write_zeros(octo_gguf_write_fn write, void *wctx, uint64_t n)
{
    static const uint8_t zeros[256];
    while (n > 0) {
        size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
        int rc = write(wctx, zeros, k);
        if (rc < 0)
            return rc;
        n -= k;
    }
    return 0;
}

static uint64_t pad_to(uint64_t pos, uint64_t align)
{
    return (align - pos % align) % align;
}

/* Header and tensor infos (offsets assigned here) around the KV bytes. */
static int emit_meta(struct octo_gguf_writer *w, octo_gguf_write_fn write, void *wctx)
{
    struct octo_buf b;
    octo_buf_init(&b, OCTO_GGUF_META_MAX);
    int rc = put_le(&b, OCTO_GGUF_MAGIC, 4);
    if (rc == 0)
        rc = put_le(&b, OCTO_GGUF_VERSION, 4);
    if (rc == 0)
        rc = put_le(&b, w->n_tensors, 8);
    if (rc == 0)
        rc = put_le(&b, w->n_kv, 8);
    if (rc == 0)
        rc = write(wctx, b.data, b.len);
    uint64_t pos = b.len;
    if (rc == 0 && w->kv.len > 0)
        rc = write(wctx, w->kv.data, w->kv.len);
    pos += w->kv.len;
    octo_buf_reset(&b);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors && rc == 0; i++) {
        struct octo_gguf_wtensor *t = &w->tensors[i];
        t->offset = off;
        uint64_t span = t->size + pad_to(t->size, w->alignment);
        if (span < t->size || off > UINT64_MAX - span) {
            rc = OCTO_ERANGE;
            break;
        }
        off += span;
        size_t n = strlen(t->name);
        rc = put_le(&b, n, 8);
        if (rc == 0)
            rc = octo_buf_append(&b, t->name, n);
        if (rc == 0)
            rc = put_le(&b, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims && rc == 0; d++)
            rc = put_le(&b, t->ne[d], 8);
        if (rc == 0)
            rc = put_le(&b, t->type, 4);
        if (rc == 0)
            rc = put_le(&b, t->offset, 8);
    }
    if (rc == 0 && b.len > 0)
        rc = write(wctx, b.data, b.len);
    pos += b.len;
    octo_buf_deinit(&b);
    if (rc == 0)
        rc = write_zeros(write, wctx, pad_to(pos, w->alignment));
    return rc;
}

int octo_gguf_writer_emit(struct octo_gguf_writer *w, octo_gguf_write_fn write, void *wctx,
                          octo_gguf_data_fn data, void *dctx)
{
    OCTO_ASSERT(write != NULL && (data != NULL || w->n_tensors == 0));
    int rc = emit_meta(w, write, wctx);
    for (size_t i = 0; i < w->n_tensors && rc == 0; i++) {
        struct counter c = {.write = write, .ctx = wctx, .n = 0};
        rc = data(dctx, i, count_write, &c);
        if (rc == 0 && c.n != w->tensors[i].size)
            rc = OCTO_EPROTO;
        if (rc == 0)
            rc = write_zeros(write, wctx, pad_to(c.n, w->alignment));
    }
    return rc;
}
