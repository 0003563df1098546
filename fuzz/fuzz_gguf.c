/*
 * fuzz_gguf.c — libFuzzer harness for the GGUF v3 reader (infer/gguf.h).
 *
 * Input: a whole GGUF file. The harness parses it and, when it is accepted, walks every KV
 * (every array element, recursively, through every conversion), looks every key and tensor up
 * by name and reads every tensor's first and last byte; then hands it to the llama loader and
 * to the tokenizer (octo_tok_init on whatever metadata it has; a tokenizer that builds encodes
 * fixed texts with parse_special off and on, decodes them, and decodes ids taken from the
 * input).
 *
 * Invariants: errors only from the documented set, always with a reason; an accepted file has
 * version 3, unique keys and tensor names that find themselves, n_dims 1..4, offsets aligned,
 * data inside the buffer and inside the data section, and no two non-empty tensors overlapping.
 * Tokenizer: init fails only with a documented code and a reason; encode succeeds (or is
 * OCTO_ENOTFOUND for an SPM byte the vocabulary cannot spell) with ids inside the vocabulary;
 * every piece is at most OCTO_TOK_PIECE_MAX bytes and decode agrees with the pieces' total.
 * Seeds (fuzz/seeds/gguf/) come from write_seeds() in tests/unit/infer/test_gguf.c; the vocab-*
 * seeds are small SPM and BPE vocabularies written by tests/unit/infer/test_tokenizer.c (with
 * OCTO_TOK_SEED_DIR set).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "infer/gguf.h"
#include "infer/llama.h"
#include "infer/tokenizer.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t g_sink;

static void walk_value(const struct octo_gguf_value *v, unsigned depth)
{
    OCTO_ASSERT(depth <= OCTO_GGUF_DEPTH_MAX);
    uint64_t u;
    int64_t i;
    float f;
    double d;
    bool b;
    const char *s;
    size_t n;
    if (octo_gguf_value_u64(v, &u) == 0)
        g_sink += u;
    if (octo_gguf_value_i64(v, &i) == 0)
        g_sink += (uint64_t)i;
    if (octo_gguf_value_f32(v, &f) == 0)
        g_sink += f == f;
    if (octo_gguf_value_f64(v, &d) == 0)
        g_sink += d == d;
    if (octo_gguf_value_bool(v, &b) == 0)
        g_sink += b;
    if (octo_gguf_value_str(v, &s, &n) == 0) {
        OCTO_ASSERT(n <= OCTO_GGUF_STRING_MAX);
        if (n > 0)
            g_sink += (uint8_t)s[0] + (uint8_t)s[n - 1];
    }
    if (v->type != OCTO_GGUF_ARRAY)
        return;
    struct octo_gguf_value el;
    for (uint64_t k = 0; k < v->count; k++) {
        OCTO_ASSERT(octo_gguf_array_get(v, k, &el) == 0);
        OCTO_ASSERT(el.type == v->elem_type);
        walk_value(&el, depth + 1);
    }
    OCTO_ASSERT(octo_gguf_array_get(v, v->count, &el) == OCTO_ERANGE);
}

static void check_accepted(const struct octo_gguf *g, const uint8_t *data, size_t size)
{
    char name[OCTO_GGUF_KEY_MAX + 1];
    OCTO_ASSERT(g->version == 3);
    OCTO_ASSERT(g->data_offset <= size && g->data_offset + g->data_size == size);
    for (uint64_t k = 0; k < g->n_kv; k++) {
        const struct octo_gguf_kv *kv = &g->kvs[k];
        memcpy(name, kv->key, kv->key_len);
        name[kv->key_len] = '\0';
        /* Keys may hold NUL bytes; only NUL-free keys can be looked up by C string. */
        if (memchr(kv->key, 0, kv->key_len) == NULL)
            OCTO_ASSERT(octo_gguf_find(g, name) == kv);
        walk_value(&kv->value, 0);
    }
    for (uint64_t k = 0; k < g->n_tensors; k++) {
        const struct octo_gguf_tensor *t = &g->tensors[k];
        OCTO_ASSERT(t->n_dims >= 1 && t->n_dims <= OCTO_GGUF_DIMS_MAX);
        OCTO_ASSERT(t->offset % g->alignment == 0);
        OCTO_ASSERT(t->offset + t->size <= g->data_size);
        OCTO_ASSERT(t->data >= data && t->data + t->size <= data + size);
        memcpy(name, t->name, t->name_len);
        name[t->name_len] = '\0';
        if (memchr(t->name, 0, t->name_len) == NULL)
            OCTO_ASSERT(octo_gguf_find_tensor(g, name) == t);
        if (t->size > 0)
            g_sink += t->data[0] + t->data[t->size - 1];
        for (uint64_t m = 0; m < g->n_tensors; m++) {
            const struct octo_gguf_tensor *o = &g->tensors[m];
            if (m == k || t->size == 0 || o->size == 0)
                continue;
            OCTO_ASSERT(t->offset + t->size <= o->offset || o->offset + o->size <= t->offset);
            if (m > 64)
                break; /* quadratic check on the first tensors only */
        }
    }
}

/* An accepted file is also handed to the llama loader; a model that loads runs two steps. */
static void try_model(const struct octo_gguf *g)
{
    struct octo_llama_model m;
    char why[OCTO_LLAMA_REASON_MAX];
    int rc = octo_llama_load(&m, g, why, sizeof(why));
    if (rc != 0) {
        OCTO_ASSERT(why[0] != '\0');
        return;
    }
    struct octo_llama_state st;
    if (octo_llama_state_init(&st, &m, 2, OCTO_QUANT_DETERMINISTIC) == 0) {
        if (octo_llama_forward(&st, 0) == 0)
            OCTO_IGNORE(octo_llama_forward(&st, m.cfg.n_vocab - 1));
        octo_llama_state_deinit(&st);
    }
    octo_llama_unload(&m);
}

static const char *const tok_texts[] = {"Hello world", "<s>a b</s><|im_start|>x<|end|>",
                                        " \n\n  it's 123 \xe2\x96\x81\xff\xc3\xa9"};

/* Encodes and decodes with a tokenizer built from the file's metadata. */
static void exercise_tok(const struct octo_tok *t, const uint8_t *data, size_t size)
{
    static int32_t ids[128];
    static char piece[OCTO_TOK_PIECE_MAX];
    for (size_t i = 0; i < sizeof(tok_texts) / sizeof(tok_texts[0]); i++) {
        for (int ps = 0; ps < 2; ps++) {
            size_t n = 0;
            const char *s = tok_texts[i];
            int rc = octo_tok_encode(t, s, strlen(s), ps == 1, ps == 1, ids, 128, &n);
            OCTO_ASSERT(rc == 0 || rc == OCTO_ENOTFOUND || rc == OCTO_ENOSPACE);
            if (rc == OCTO_ENOTFOUND)
                continue;
            size_t total = 0;
            for (size_t k = 0; k < n && k < 128; k++) {
                OCTO_ASSERT(ids[k] >= 0 && (uint32_t)ids[k] < octo_tok_n_vocab(t));
                size_t pn = 0;
                OCTO_ASSERT(octo_tok_piece(t, ids[k], ps == 1, piece, sizeof(piece), &pn) == 0);
                total += pn;
            }
            size_t dlen = 0;
            rc = octo_tok_decode(t, ids, n < 128 ? n : 128, ps == 1, NULL, 0, &dlen);
            OCTO_ASSERT(rc == 0 || rc == OCTO_ENOSPACE);
            OCTO_ASSERT(dlen == total || dlen + 1 == total);
        }
    }
    /* ids from the input's last bytes */
    size_t n = size / 4 < 128 ? size / 4 : 128;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = data + size - 4 * (k + 1);
        uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
        ids[k] = (int32_t)(v % octo_tok_n_vocab(t));
        size_t pn = 0;
        OCTO_ASSERT(octo_tok_piece(t, ids[k], true, piece, sizeof(piece), &pn) == 0);
        OCTO_ASSERT(pn <= OCTO_TOK_PIECE_MAX);
    }
    size_t dlen = 0;
    int rc = octo_tok_decode(t, ids, n, false, NULL, 0, &dlen);
    OCTO_ASSERT(rc == 0 || rc == OCTO_ENOSPACE);
    OCTO_ASSERT(dlen <= n * OCTO_TOK_PIECE_MAX);
}

/* An accepted file's tokenizer metadata, if any, builds a tokenizer or is refused cleanly. */
static void try_tokenizer(const struct octo_gguf *g, const uint8_t *data, size_t size)
{
    struct octo_tok t;
    char why[OCTO_TOK_REASON_MAX];
    int rc = octo_tok_init(&t, g, why, sizeof(why));
    if (rc != 0) {
        OCTO_ASSERT(rc == OCTO_ENOTFOUND || rc == OCTO_EUNSUPPORTED || rc == OCTO_EMALFORMED ||
                    rc == OCTO_ETOOBIG || rc == OCTO_ENOMEM);
        OCTO_ASSERT(why[0] != '\0');
        return;
    }
    exercise_tok(&t, data, size);
    octo_tok_deinit(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct octo_gguf g;
    octo_gguf_init(&g);
    int rc = octo_gguf_parse(&g, data, size);
    if (rc == 0) {
        check_accepted(&g, data, size);
        try_model(&g);
        try_tokenizer(&g, data, size);
    } else {
        OCTO_ASSERT(rc == OCTO_EMALFORMED || rc == OCTO_EUNSUPPORTED || rc == OCTO_ETOOBIG ||
                    rc == OCTO_EEXIST || rc == OCTO_ERANGE || rc == OCTO_ENOMEM);
        OCTO_ASSERT(g.reason[0] != '\0');
        OCTO_ASSERT(g.kvs == NULL && g.tensors == NULL);
    }
    octo_gguf_deinit(&g);
    return 0;
}
