/*
 * test_tokenizer.c — the SPM and BPE tokenizers (infer/tokenizer.h).
 *
 * Parity: llama.cpp's vocab-only GGUF files and their test vectors ($OCTO_LLAMA_MODELS:
 * ggml-vocab-<name>.gguf, .inp inputs separated by "\n__ggml_vocab_test__\n", .out one line of
 * ids per input, produced by tests/test-tokenizer-0 with add_special = false and
 * parse_special = false). Every input of llama-spm, phi-3, qwen2, llama-bpe and gpt-2 must give
 * exactly the expected ids; decoding gives the input back. Also: special tokens with
 * parse_special on and off, BOS/EOS with add_special, pieces, eog, find; 1 MiB prompts full of
 * special tokens (timed, checked against per-segment encoding); hand-made
 * vocabularies (written with the GGUF writer) for the merge logic, every pre-tokenizer on
 * 1 MiB of whitespace (the PCRE2 match limits), the special-token cutting
 * against a direct transcription of llama.cpp's per-token passes (random texts, both the
 * listed and the searching strategy, with and without RSTRIP), duplicate texts, crafted hash
 * collisions, the piece bound, SPM bytes the vocabulary cannot spell, and every rejection
 * path; allocation failures in init and in SPM and BPE encode; the generated model's
 * vocabulary (infer/gentest.h). Without $OCTO_LLAMA_MODELS the tests that need llama.cpp's
 * files are skipped (and named); the others still run. Init time and encode speed are printed.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "infer/gentest.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *g_models;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- a loaded vocab file ---- */

struct vocab {
    char *file;
    size_t len;
    struct octo_gguf g;
    struct octo_tok t;
    double init_ms;
};

static void vocab_free(struct vocab *v)
{
    octo_tok_deinit(&v->t);
    octo_gguf_deinit(&v->g);
    octo_free(v->file);
    v->file = NULL;
}

/* Loads ggml-vocab-<name>.gguf; on failure prints why and frees what it had (v is then safe to
 * free again). */
static int vocab_load(struct vocab *v, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/ggml-vocab-%s.gguf", g_models, name);
    memset(v, 0, sizeof(*v));
    octo_gguf_init(&v->g);
    v->file = octo_test_read_file(path, &v->len);
    if (v->file == NULL) {
        printf("  cannot read %s\n", path);
        return OCTO_ENOTFOUND;
    }
    int rc = octo_gguf_parse(&v->g, v->file, v->len);
    if (rc != 0) {
        printf("  parse %s: %s\n", path, v->g.reason);
        vocab_free(v);
        return rc;
    }
    char why[OCTO_TOK_REASON_MAX];
    double t0 = now_s();
    rc = octo_tok_init(&v->t, &v->g, why, sizeof(why));
    v->init_ms = (now_s() - t0) * 1e3;
    if (rc != 0) {
        printf("  tok init %s: %s\n", name, why);
        vocab_free(v);
    }
    return rc;
}

/* Encodes into a heap array (*ids, freed by the caller) using the ENOSPACE protocol. */
static int encode_all(const struct octo_tok *t, const char *s, size_t len, bool add_special,
                      bool parse_special, int32_t **ids, size_t *n)
{
    *ids = NULL;
    int rc = octo_tok_encode(t, s, len, add_special, parse_special, NULL, 0, n);
    if (rc == 0)
        return 0;
    if (rc != OCTO_ENOSPACE)
        return rc;
    *ids = octo_malloc(*n * sizeof(**ids));
    if (*ids == NULL)
        return OCTO_ENOMEM;
    size_t need = *n;
    rc = octo_tok_encode(t, s, len, add_special, parse_special, *ids, need, n);
    if (rc == 0 && *n != need)
        rc = OCTO_EPROTO;
    return rc;
}

static int decode_all(const struct octo_tok *t, const int32_t *ids, size_t n, bool special,
                      char **out, size_t *len)
{
    *out = NULL;
    int rc = octo_tok_decode(t, ids, n, special, NULL, 0, len);
    if (rc == 0)
        return 0;
    if (rc != OCTO_ENOSPACE)
        return rc;
    *out = octo_malloc(*len + 1);
    if (*out == NULL)
        return OCTO_ENOMEM;
    size_t need = *len;
    return octo_tok_decode(t, ids, n, special, *out, need, len);
}

static void print_escaped(const char *label, const char *s, size_t n)
{
    printf("  %s \"", label);
    for (size_t i = 0; i < n && i < 200; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\"\n");
}

/* ---- parity on one corpus ---- */

/* Returns the number of failing inputs (and prints the first few). */
static int corpus_check(const char *name, bool roundtrip)
{
    struct vocab v;
    int rc = vocab_load(&v, name);
    if (rc != 0)
        return -1;
    char path[1024];
    size_t inp_len, out_len;
    snprintf(path, sizeof(path), "%s/ggml-vocab-%s.gguf.inp", g_models, name);
    char *inp = octo_test_read_file(path, &inp_len);
    snprintf(path, sizeof(path), "%s/ggml-vocab-%s.gguf.out", g_models, name);
    char *out = octo_test_read_file(path, &out_len);
    if (inp == NULL || out == NULL) {
        printf("  missing %s vectors\n", name);
        octo_free(inp);
        octo_free(out);
        vocab_free(&v);
        return -1;
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const size_t sep_len = sizeof(sep) - 1;
    size_t ip = 0, op = 0;
    int cases = 0, failed = 0, rt_failed = 0;
    size_t bytes = 0;
    double t_enc = 0;
    while (ip < inp_len) {
        const char *s = inp + ip;
        const char *e = memmem(s, inp_len - ip, sep, sep_len);
        size_t slen = e != NULL ? (size_t)(e - s) : inp_len - ip;
        ip = e != NULL ? ip + slen + sep_len : inp_len;
        /* the expected line */
        if (op >= out_len) {
            printf("  %s: fewer .out lines than inputs\n", name);
            failed++;
            break;
        }
        const char *line = out + op;
        const char *nl = memchr(line, '\n', out_len - op);
        size_t line_len = nl != NULL ? (size_t)(nl - line) : out_len - op;
        op += line_len + (nl != NULL);
        int32_t want[4096];
        size_t n_want = 0;
        size_t q = 0;
        while (q < line_len && n_want < OCTO_ARRAY_LEN(want)) {
            while (q < line_len && line[q] == ' ')
                q++;
            if (q >= line_len || line[q] < '0' || line[q] > '9')
                break;
            int32_t id = 0;
            while (q < line_len && line[q] >= '0' && line[q] <= '9')
                id = id * 10 + (line[q++] - '0');
            want[n_want++] = id;
        }
        cases++;
        int32_t *ids;
        size_t n;
        double t0 = now_s();
        rc = encode_all(&v.t, s, slen, false, false, &ids, &n);
        t_enc += now_s() - t0;
        bytes += slen;
        bool ok = rc == 0 && n == n_want && (n == 0 || memcmp(ids, want, n * sizeof(*ids)) == 0);
        if (!ok) {
            failed++;
            if (failed <= 4) {
                printf("  %s: case %d mismatch (rc %d)\n", name, cases, rc);
                print_escaped("input", s, slen);
                printf("  want:");
                for (size_t i = 0; i < n_want; i++)
                    printf(" %d", want[i]);
                printf("\n  got: ");
                for (size_t i = 0; rc == 0 && i < n; i++)
                    printf(" %d", ids[i]);
                printf("\n");
            }
        }
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (ids[i] < 0 || (uint32_t)ids[i] >= octo_tok_n_vocab(&v.t))
                failed++;
        if (roundtrip && rc == 0) {
            char *dec;
            size_t dlen;
            int drc = decode_all(&v.t, ids, n, false, &dec, &dlen);
            if (drc != 0 || dlen != slen || (slen > 0 && memcmp(dec, s, slen) != 0)) {
                rt_failed++;
                if (rt_failed <= 2) {
                    print_escaped("roundtrip input", s, slen);
                    print_escaped("decoded", dec != NULL ? dec : "", dec != NULL ? dlen : 0);
                }
            }
            octo_free(dec);
        }
        octo_free(ids);
    }
    if (cases == 0) {
        printf("  %s: no test inputs\n", name);
        failed++;
    }
    if (op != out_len) {
        printf("  %s: %zu bytes of .out lines left over (more lines than inputs)\n", name,
               out_len - op);
        failed++;
    }
    printf("  %-10s %3d cases, %d mismatches, %d roundtrip failures; init %.1f ms, "
           "vectors %.2f MB/s\n",
           name, cases, failed, rt_failed, v.init_ms,
           t_enc > 0 ? (double)bytes / t_enc / 1e6 : 0.0);
    octo_free(inp);
    octo_free(out);
    vocab_free(&v);
    return failed + rt_failed;
}

static void test_parity_llama_spm(void)
{
    CHECK_EQ_INT(corpus_check("llama-spm", true), 0);
}

static void test_parity_phi3(void)
{
    CHECK_EQ_INT(corpus_check("phi-3", true), 0);
}

static void test_parity_qwen2(void)
{
    CHECK_EQ_INT(corpus_check("qwen2", true), 0);
}

static void test_parity_llama_bpe(void)
{
    CHECK_EQ_INT(corpus_check("llama-bpe", true), 0);
}

static void test_parity_gpt2(void)
{
    CHECK_EQ_INT(corpus_check("gpt-2", true), 0);
}

/* ---- behaviour on the real vocabularies ---- */

static void expect_ids(const struct octo_tok *t, const char *s, bool add_special,
                       bool parse_special, const int32_t *want, size_t n_want)
{
    int32_t ids[256];
    size_t n;
    int rc = octo_tok_encode(t, s, strlen(s), add_special, parse_special, ids, 256, &n);
    if (rc != 0 || n != n_want || memcmp(ids, want, n * sizeof(*ids)) != 0) {
        print_escaped("input", s, strlen(s));
        printf("  got (rc %d):", rc);
        for (size_t i = 0; rc == 0 && i < n; i++)
            printf(" %d", ids[i]);
        printf("\n");
        octo_test_fail_at(__FILE__, __LINE__, "ids differ");
    }
}

static void test_special_qwen2(void)
{
    struct vocab v;
    CHECK_OK(vocab_load(&v, "qwen2"));
    const struct octo_tok *t = &v.t;
    int32_t im_start = octo_tok_find(t, "<|im_start|>");
    int32_t im_end = octo_tok_find(t, "<|im_end|>");
    CHECK_EQ_INT(im_start, 151644);
    CHECK_EQ_INT(im_end, 151645);
    CHECK_EQ_INT(octo_tok_find(t, "<|no such token|>"), OCTO_ENOTFOUND);
    CHECK_EQ_INT(octo_tok_bos(t), 151643);
    CHECK_EQ_INT(octo_tok_eos(t), 151643);
    CHECK(octo_tok_is_eog(t, 151643));
    CHECK(octo_tok_is_eog(t, im_end));
    CHECK(!octo_tok_is_eog(t, im_start));
    CHECK(!octo_tok_is_eog(t, 9707));
    CHECK(!octo_tok_is_eog(t, -1));
    CHECK(octo_tok_eot(t) == 151643 || octo_tok_eot(t) == im_end);

    /* parse_special: control tokens become their ids; without, they are text. */
    const char *chat = "<|im_start|>user\nHello<|im_end|>";
    int32_t ids[64];
    size_t n;
    CHECK_OK(octo_tok_encode(t, chat, strlen(chat), false, true, ids, 64, &n));
    CHECK(n >= 4);
    CHECK_EQ_INT(ids[0], im_start);
    CHECK_EQ_INT(ids[n - 1], im_end);
    CHECK_OK(octo_tok_encode(t, chat, strlen(chat), false, false, ids, 64, &n));
    for (size_t i = 0; i < n; i++) {
        CHECK(ids[i] != im_start);
        CHECK(ids[i] != im_end);
    }
    /* User-defined tokens are cut out even without parse_special (as in llama.cpp). */
    int32_t pad = octo_tok_find(t, "[PAD151700]");
    CHECK_EQ_INT(pad, 151700);
    CHECK_EQ_INT(octo_tok_attr(t, pad) & OCTO_TOK_ATTR_USER_DEFINED, OCTO_TOK_ATTR_USER_DEFINED);
    const int32_t want_pad[] = {9707, 151700, 9707};
    expect_ids(t, "Hello[PAD151700]Hello", false, false, want_pad, 3);
    /* add_special: qwen2 adds no BOS (add_bos defaults to false for BPE). */
    const int32_t want_hello[] = {9707};
    expect_ids(t, "Hello", true, false, want_hello, 1);

    /* Pieces: control tokens are empty unless special; BPE text maps back to bytes. */
    char piece[64];
    CHECK_OK(octo_tok_piece(t, im_start, false, piece, sizeof(piece), &n));
    CHECK_EQ_U64(n, 0);
    CHECK_OK(octo_tok_piece(t, im_start, true, piece, sizeof(piece), &n));
    CHECK_EQ_U64(n, 12);
    CHECK_MEM(piece, "<|im_start|>", 12);
    CHECK_OK(octo_tok_piece(t, 21927, false, piece, sizeof(piece), &n)); /* " Hello" */
    CHECK_EQ_U64(n, 6);
    CHECK_MEM(piece, " Hello", 6);
    CHECK_ERR(octo_tok_piece(t, 21927, false, piece, 3, &n), OCTO_ENOSPACE);
    CHECK_EQ_U64(n, 6);
    CHECK_MEM(piece, " He", 3);
    CHECK_ERR(octo_tok_piece(t, -1, false, piece, sizeof(piece), &n), OCTO_ERANGE);
    CHECK_ERR(octo_tok_piece(t, 151936, false, piece, sizeof(piece), &n), OCTO_ERANGE);

    /* decode(encode(x)) == x with parse_special and special pieces. */
    int32_t *all;
    CHECK_OK(encode_all(t, chat, strlen(chat), false, true, &all, &n));
    char *dec;
    size_t dlen;
    int rc = decode_all(t, all, n, true, &dec, &dlen);
    octo_free(all);
    CHECK_OK(rc);
    CHECK_EQ_U64(dlen, strlen(chat));
    CHECK_MEM(dec, chat, dlen);
    octo_free(dec);

    /* Invalid UTF-8 and every byte value survive a round trip. */
    char bytes[512];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (char)(i * 7 + (i >> 8));
    CHECK_OK(encode_all(t, bytes, sizeof(bytes), false, false, &all, &n));
    rc = decode_all(t, all, n, false, &dec, &dlen);
    octo_free(all);
    CHECK_OK(rc);
    CHECK_EQ_U64(dlen, sizeof(bytes));
    CHECK_MEM(dec, bytes, dlen);
    octo_free(dec);
    vocab_free(&v);
}

static void test_special_llama_spm(void)
{
    struct vocab v;
    CHECK_OK(vocab_load(&v, "llama-spm"));
    const struct octo_tok *t = &v.t;
    CHECK_EQ_INT(octo_tok_n_vocab(t), 32000);
    CHECK_EQ_INT(octo_tok_bos(t), 1);
    CHECK_EQ_INT(octo_tok_eos(t), 2);
    CHECK(octo_tok_is_eog(t, 2));
    /* add_special adds BOS; "Hello world" is " Hello" " world". */
    const int32_t want_bos[] = {1, 15043, 3186};
    expect_ids(t, "Hello world", true, false, want_bos, 3);
    /* parse_special: "<s>" is BOS, and the text after it gets the space prefix again. */
    const int32_t want_special[] = {1, 15043};
    expect_ids(t, "<s>Hello", false, true, want_special, 2);
    int32_t ids[64];
    size_t n;
    CHECK_OK(octo_tok_encode(t, "<s>Hello", 8, false, false, ids, 64, &n));
    CHECK(n > 2);
    CHECK(ids[0] != 1);
    /* Byte fallback: a character without a token becomes <0xNN> tokens; pieces are bytes. */
    const char *rare = "\xf0\x9f\xa6\x99"; /* llama emoji */
    const int32_t want_rare[] = {29871, 243, 162, 169, 156};
    expect_ids(t, rare, false, false, want_rare, 5);
    char piece[16];
    CHECK_OK(octo_tok_piece(t, 243, false, piece, sizeof(piece), &n));
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_INT((uint8_t)piece[0], 0xF0);
    CHECK_OK(octo_tok_piece(t, 15043, false, piece, sizeof(piece), &n));
    CHECK_EQ_U64(n, 6);
    CHECK_MEM(piece, " Hello", 6);
    CHECK_OK(octo_tok_piece(t, 1, false, piece, sizeof(piece), &n));
    CHECK_EQ_U64(n, 0);
    /* decode drops the space prefix. */
    CHECK_OK(octo_tok_decode(t, want_bos + 1, 2, false, piece, sizeof(piece), &n));
    CHECK_EQ_U64(n, 11);
    CHECK_MEM(piece, "Hello world", 11);
    CHECK_ERR(octo_tok_decode(t, want_bos + 1, 2, false, piece, 4, &n), OCTO_ENOSPACE);
    CHECK_EQ_U64(n, 11);
    /* The output capacity protocol. */
    CHECK_ERR(octo_tok_encode(t, "Hello world", 11, true, false, ids, 2, &n), OCTO_ENOSPACE);
    CHECK_EQ_U64(n, 3);
    CHECK_EQ_INT(ids[0], 1);
    CHECK_EQ_INT(ids[1], 15043);
    /* The text limit is checked before anything is read. */
    CHECK_ERR(octo_tok_encode(t, "x", (size_t)OCTO_TOK_TEXT_MAX + 1, false, false, ids, 64, &n),
              OCTO_ETOOBIG);
    vocab_free(&v);
}

/* Phi-3: "</s>" is user-defined but, being an end-of-generation text, also control (so only
 * cut out with parse_special); it has rstrip, so the spaces after it are dropped and the next
 * text gets the SPM space prefix. */
static void test_special_phi3(void)
{
    struct vocab v;
    CHECK_OK(vocab_load(&v, "phi-3"));
    const struct octo_tok *t = &v.t;
    CHECK(octo_tok_attr(t, 2) & OCTO_TOK_ATTR_RSTRIP);
    CHECK(octo_tok_is_eog(t, 32007)); /* <|end|> */
    int32_t a[16], b[16];
    size_t na, nb;
    CHECK_OK(octo_tok_encode(t, "Hi</s>   there", 14, false, true, a, 16, &na));
    CHECK_OK(octo_tok_encode(t, "Hi</s>there", 11, false, true, b, 16, &nb));
    CHECK_EQ_U64(na, nb);
    CHECK_MEM(a, b, na * sizeof(*a));
    CHECK_EQ_INT(a[1], 2);
    CHECK_OK(octo_tok_encode(t, "Hi</s>there", 11, false, false, b, 16, &nb));
    CHECK(nb > na);
    vocab_free(&v);
}

/* llama-bpe adds BOS under add_special (llama3 default) and ignores merges for whole words. */
static void test_special_llama_bpe(void)
{
    struct vocab v;
    CHECK_OK(vocab_load(&v, "llama-bpe"));
    const struct octo_tok *t = &v.t;
    const int32_t want[] = {128000, 9906, 1917};
    expect_ids(t, "Hello world", true, false, want, 3);
    const int32_t want_eot[] = {9906, 128009};
    expect_ids(t, "Hello<|eot_id|>", false, true, want_eot, 2);
    CHECK_EQ_INT(octo_tok_eot(t), 128009);
    CHECK(octo_tok_is_eog(t, 128009));
    CHECK(octo_tok_is_eog(t, 128001));
    vocab_free(&v);
}

/* Encode speed on ~1 MB of mixed text, printed as a figure. */
static void test_speed(void)
{
    static const char *const names[] = {"llama-spm", "qwen2", "llama-bpe"};
    static const char sample[] =
        "The quick brown fox jumps over the lazy dog. 1234567 numbers,\tand   spaces\n\n"
        "Ünïcödé текст на български 日本語のテキスト 🦙🚀 it's "
        "we'll "
        "they're "
        "(parens) "
        "[x] ";
    size_t len = 1u << 20;
    char *text = octo_malloc(len);
    CHECK(text != NULL);
    for (size_t i = 0; i < len; i++)
        text[i] = sample[i % (sizeof(sample) - 1)];
    while (len > 0 && ((uint8_t)text[len - 1] & 0xC0) == 0x80)
        len--;
    for (size_t k = 0; k < OCTO_ARRAY_LEN(names); k++) {
        struct vocab v;
        if (vocab_load(&v, names[k]) != 0) {
            octo_free(text);
            CHECK(0);
        }
        int32_t *ids;
        size_t n;
        double t0 = now_s();
        int rc = encode_all(&v.t, text, len, false, false, &ids, &n);
        double dt = now_s() - t0;
        printf("  %-10s init %6.1f ms, encode %.2f MB/s (%zu tokens for %zu bytes; "
               "two passes)\n",
               names[k], v.init_ms, (double)len * 2 / dt / 1e6, n, len);
        octo_free(ids);
        vocab_free(&v);
        if (rc != 0)
            octo_free(text);
        CHECK_OK(rc);
    }
    octo_free(text);
}

/* A growable int32 array for expected ids. */
struct ids {
    int32_t *v;
    size_t n, cap;
};

static int ids_append(struct ids *a, const int32_t *v, size_t n)
{
    if (a->n + n > a->cap) {
        size_t cap = a->cap != 0 ? a->cap : 1024;
        while (cap < a->n + n)
            cap *= 2;
        int32_t *p = octo_realloc(a->v, cap * sizeof(*p));
        if (p == NULL)
            return OCTO_ENOMEM;
        a->v = p;
        a->cap = cap;
    }
    if (n > 0)
        memcpy(a->v + a->n, v, n * sizeof(*v));
    a->n += n;
    return 0;
}

/* Special ids whose text starts with '<' or '[' and has no other '<' or '[' (so that no special
 * text can start inside one of them or inside the plain chunks below), named by their text. */
static size_t usable_specials(const struct octo_tok *t, int32_t *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t id = 0; id < octo_tok_n_vocab(t) && n < cap; id++) {
        if (!(octo_tok_attr(t, (int32_t)id) & (OCTO_TOK_ATTR_CONTROL | OCTO_TOK_ATTR_USER_DEFINED)))
            continue;
        size_t len;
        const char *text = octo_tok_text(t, (int32_t)id, &len);
        char buf[80];
        if (len == 0 || len >= sizeof(buf) || (text[0] != '<' && text[0] != '['))
            continue;
        if (memchr(text + 1, '<', len - 1) != NULL || memchr(text + 1, '[', len - 1) != NULL)
            continue;
        memcpy(buf, text, len);
        buf[len] = 0;
        if (octo_tok_find(t, buf) == (int32_t)id)
            out[n++] = (int32_t)id;
    }
    return n;
}

/* 1 MiB of plain chunks alternating with every usable special token: the whole encodes (with
 * parse_special) to the concatenation of the segments' encodings, and quickly (printed). */
static int big_prompt_check(const struct octo_tok *t, const char *name)
{
    static const char *const chunks[] = {"Hello world, this is a prompt. ",
                                         "\n\nSome code: x = f(y) + 2;\n",
                                         "  \xc3\x9cn\xc3\xaf"
                                         "c\xc3\xb6"
                                         "d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
                                         "\xf0\x9f\xa6\x99 ",
                                         "it's 12345 numbers\t\t", " "};
    enum { SPECIALS_MAX = 4096 };
    int32_t *sp = octo_malloc(SPECIALS_MAX * sizeof(*sp));
    char *text = octo_malloc(OCTO_TOK_TEXT_MAX);
    struct ids want = {0};
    int rc = sp != NULL && text != NULL ? 0 : OCTO_ENOMEM;
    size_t n_sp = rc == 0 ? usable_specials(t, sp, SPECIALS_MAX) : 0, len = 0, n_segs = 0;
    if (rc == 0 && n_sp == 0)
        rc = OCTO_ENOTFOUND;
    for (size_t i = 0; rc == 0; i++) {
        size_t tl;
        const char *st = octo_tok_text(t, sp[i % n_sp], &tl);
        const char *c = chunks[i % OCTO_ARRAY_LEN(chunks)];
        size_t cl = strlen(c);
        if (len + cl + tl > OCTO_TOK_TEXT_MAX)
            break;
        const char *parts[2] = {c, st};
        const size_t lens[2] = {cl, tl};
        for (int k = 0; rc == 0 && k < 2; k++) {
            int32_t *ids;
            size_t n;
            rc = encode_all(t, parts[k], lens[k], false, true, &ids, &n);
            if (rc == 0)
                rc = ids_append(&want, ids, n);
            octo_free(ids);
            memcpy(text + len, parts[k], lens[k]);
            len += lens[k];
            n_segs++;
        }
    }
    int32_t *got = NULL;
    size_t n_got = 0;
    double t0 = now_s(), dt = 0;
    if (rc == 0) {
        rc = encode_all(t, text, len, false, true, &got, &n_got);
        dt = now_s() - t0;
    }
    bool same = rc == 0 && n_got == want.n && memcmp(got, want.v, n_got * sizeof(*got)) == 0;
    octo_free(got);
    /* Without parse_special only user-defined tokens are cut; it must be as quick. */
    double dt2 = 0;
    if (rc == 0) {
        t0 = now_s();
        rc = encode_all(t, text, len, false, false, &got, &n_got);
        dt2 = now_s() - t0;
        octo_free(got);
    }
    printf("  %-10s 1 MiB prompt, %zu segments, %zu distinct special tokens: encode %.1f ms "
           "(parse_special), %.1f ms (without)%s\n",
           name, n_segs, n_sp, dt * 1e3, dt2 * 1e3, same ? "" : " MISMATCH");
    octo_free(sp);
    octo_free(text);
    octo_free(want.v);
    return rc != 0 ? rc : same ? 0 : OCTO_EPROTO;
}

/* 1 MiB runs of whitespace (the patterns' backtracking case: "\s*[\r\n]+" retreats over the
 * whole run) encode within the match limits and decode back. */
static int whitespace_check(const struct octo_tok *t, const char *name)
{
    static const char *const fills[] = {" ", "\n"};
    char *text = octo_malloc(OCTO_TOK_TEXT_MAX);
    if (text == NULL)
        return OCTO_ENOMEM;
    int rc = 0;
    for (size_t f = 0; rc == 0 && f < OCTO_ARRAY_LEN(fills); f++) {
        size_t fl = strlen(fills[f]), len = 0;
        while (len + fl <= OCTO_TOK_TEXT_MAX) {
            memcpy(text + len, fills[f], fl);
            len += fl;
        }
        int32_t *ids;
        size_t n;
        double t0 = now_s();
        rc = encode_all(t, text, len, false, false, &ids, &n);
        double dt = now_s() - t0;
        char *dec = NULL;
        size_t dlen = 0;
        if (rc == 0)
            rc = decode_all(t, ids, n, false, &dec, &dlen);
        if (rc == 0 && (dlen != len || memcmp(dec, text, len) != 0))
            rc = OCTO_EPROTO;
        printf("  %-10s 1 MiB of \"%s\"-style whitespace: rc %d, %zu tokens, %.1f ms\n", name,
               f == 0 ? "space" : "newline", rc, n, dt * 1e3);
        octo_free(ids);
        octo_free(dec);
    }
    octo_free(text);
    return rc;
}

static void test_big_prompts(void)
{
    static const char *const names[] = {"qwen2", "llama-bpe"};
    for (size_t k = 0; k < OCTO_ARRAY_LEN(names); k++) {
        struct vocab v;
        int rc = vocab_load(&v, names[k]);
        if (rc == 0)
            rc = big_prompt_check(&v.t, names[k]);
        vocab_free(&v);
        CHECK_OK(rc);
    }
}

/* ---- hand-made vocabularies ---- */

struct spec {
    const char *model; /* NULL: no key */
    const char *pre;
    const char *const *tokens;
    size_t n_tokens;
    const float *scores;
    size_t n_scores;
    const int32_t *types;
    size_t n_types;
    const char *const *merges;
    size_t n_merges;
};

static int sink(void *ctx, const void *p, size_t n)
{
    return octo_buf_append(ctx, p, n);
}

static int emit_gguf(struct octo_gguf_writer *w, struct octo_buf *out)
{
    return octo_gguf_writer_emit(w, sink, out, NULL, NULL);
}

static int spec_write(const struct spec *s, struct octo_gguf_writer *w)
{
    int rc = 0;
    if (s->model != NULL)
        rc = octo_gguf_writer_add_str(w, "tokenizer.ggml.model", s->model, strlen(s->model));
    if (rc == 0 && s->pre != NULL)
        rc = octo_gguf_writer_add_str(w, "tokenizer.ggml.pre", s->pre, strlen(s->pre));
    if (rc == 0 && s->tokens != NULL)
        rc = octo_gguf_writer_add_str_array(w, "tokenizer.ggml.tokens", s->tokens, NULL,
                                            s->n_tokens);
    if (rc == 0 && s->scores != NULL)
        rc = octo_gguf_writer_add_array(w, "tokenizer.ggml.scores", OCTO_GGUF_F32, s->scores,
                                        s->n_scores);
    if (rc == 0 && s->types != NULL)
        rc = octo_gguf_writer_add_array(w, "tokenizer.ggml.token_type", OCTO_GGUF_I32, s->types,
                                        s->n_types);
    if (rc == 0 && s->merges != NULL)
        rc = octo_gguf_writer_add_str_array(w, "tokenizer.ggml.merges", s->merges, NULL,
                                            s->n_merges);
    return rc;
}

/* Writes the spec plus extra KVs from `extra` (may be NULL), parses, inits the tokenizer.
 * Returns 0 or a negative code; m->stage names the step that failed ("write", "parse" or
 * "init"), so a writer or parser failure is never taken for a tokenizer rejection. */
struct made {
    struct octo_buf file;
    struct octo_gguf g;
    struct octo_tok t;
    const char *stage;
    char why[OCTO_TOK_REASON_MAX];
};

static int made_init(struct made *m, const struct spec *s, int (*extra)(struct octo_gguf_writer *w))
{
    memset(m, 0, sizeof(*m));
    octo_buf_init(&m->file, 64u << 20);
    octo_gguf_init(&m->g);
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    m->stage = "write";
    int rc = spec_write(s, &w);
    if (rc == 0 && extra != NULL)
        rc = extra(&w);
    if (rc == 0)
        rc = emit_gguf(&w, &m->file);
    octo_gguf_writer_deinit(&w);
    if (rc != 0)
        return rc < 0 ? rc : OCTO_EPROTO;
    m->stage = "parse";
    rc = octo_gguf_parse(&m->g, m->file.data, m->file.len);
    if (rc != 0)
        return rc < 0 ? rc : OCTO_EPROTO;
    m->stage = "init";
    return octo_tok_init(&m->t, &m->g, m->why, sizeof(m->why));
}

static void made_free(struct made *m)
{
    octo_tok_deinit(&m->t);
    octo_gguf_deinit(&m->g);
    octo_buf_deinit(&m->file);
}

/* A byte-level BPE vocabulary: the 256 mapped bytes (ids 0..255 in byte order), then merges
 * "h e" -> "he", "l l" -> "ll", "he ll" -> "hell", "hell o" -> "hello", "Ġ w" -> "Ġw", and a
 * control token "<|end|>". */
static char g_bpe_texts[256][4];
static const char *g_bpe_tokens[264];
static int32_t g_bpe_types[264];
static const char *const g_bpe_merges[] = {"h e", "l l", "he ll", "hell o", "\xc4\xa0 w"};

static void bpe_spec(struct spec *s)
{
    for (unsigned b = 0; b < 256; b++) {
        uint32_t cp = b;
        if (b <= 0x20)
            cp = 0x100 + b;
        else if (b >= 0x7F && b <= 0xA0)
            cp = 0x100 + 33 + (b - 0x7F);
        else if (b == 0xAD)
            cp = 0x100 + 67;
        if (cp < 0x80) {
            g_bpe_texts[b][0] = (char)cp;
            g_bpe_texts[b][1] = 0;
        } else {
            g_bpe_texts[b][0] = (char)(0xC0 | (cp >> 6));
            g_bpe_texts[b][1] = (char)(0x80 | (cp & 0x3F));
            g_bpe_texts[b][2] = 0;
        }
        g_bpe_tokens[b] = g_bpe_texts[b];
        g_bpe_types[b] = 1;
    }
    const char *extra[] = {"he", "ll", "hell", "hello", "\xc4\xa0w", "<|end|>"};
    for (unsigned i = 0; i < 6; i++) {
        g_bpe_tokens[256 + i] = extra[i];
        g_bpe_types[256 + i] = i == 5 ? 3 : 1;
    }
    memset(s, 0, sizeof(*s));
    s->model = "gpt2";
    s->pre = "gpt-2";
    s->tokens = g_bpe_tokens;
    s->n_tokens = 262;
    s->types = g_bpe_types;
    s->n_types = 262;
    s->merges = g_bpe_merges;
    s->n_merges = OCTO_ARRAY_LEN(g_bpe_merges);
}

static void test_made_bpe(void)
{
    struct spec s;
    bpe_spec(&s);
    struct made m;
    int rc = made_init(&m, &s, NULL);
    if (rc != 0)
        printf("  %s\n", m.why);
    CHECK_OK(rc);
    /* "hello world": "hello" by merges, " w" merged, then the single bytes o r l d. */
    const int32_t want[] = {259, 260, 'o', 'r', 'l', 'd'};
    expect_ids(&m.t, "hello world", false, false, want, 6);
    /* The control token only with parse_special; it is an end-of-generation token. */
    const int32_t want_end[] = {258, 261};
    expect_ids(&m.t, "hell<|end|>", false, true, want_end, 2);
    CHECK(octo_tok_is_eog(&m.t, 261));
    int32_t ids[32];
    size_t n;
    CHECK_OK(octo_tok_encode(&m.t, "hell<|end|>", 11, false, false, ids, 32, &n));
    CHECK_EQ_U64(n, 8);
    /* BPE defaults: bos = eos = 11 (llama.cpp's), no BOS added. */
    CHECK_EQ_INT(octo_tok_bos(&m.t), 11);
    const int32_t want_plain[] = {259};
    expect_ids(&m.t, "hello", true, false, want_plain, 1);
    /* Empty input. */
    CHECK_OK(octo_tok_encode(&m.t, "", 0, false, false, ids, 32, &n));
    CHECK_EQ_U64(n, 0);
    /* Piece of a mapped byte: "Ġ" is the space. */
    char piece[8];
    CHECK_OK(octo_tok_piece(&m.t, 0x20, false, piece, sizeof(piece), &n));
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_INT(piece[0], ' ');
    made_free(&m);
}

static void expect_reject(const struct spec *s, int (*extra)(struct octo_gguf_writer *), int want,
                          const char *what)
{
    struct made m;
    int rc = made_init(&m, s, extra);
    bool at_init = strcmp(m.stage, "init") == 0;
    if (rc != want || !at_init)
        printf("  %s: got %d at %s (%s), want %d\n", what, rc, m.stage, m.why, want);
    else if (m.why[0] == 0)
        printf("  %s: no reason given\n", what);
    bool ok = rc == want && at_init && m.why[0] != 0;
    made_free(&m);
    if (!ok)
        octo_test_fail_at(__FILE__, __LINE__, "%s", what);
}

/* As expect_reject, and the reason must contain `needle`. */
static void expect_reject_why(const struct spec *s, int (*extra)(struct octo_gguf_writer *),
                              int want, const char *needle, const char *what)
{
    struct made m;
    int rc = made_init(&m, s, extra);
    bool ok = rc == want && strcmp(m.stage, "init") == 0 && strstr(m.why, needle) != NULL;
    if (!ok)
        printf("  %s: got %d at %s (%s), want %d and \"%s\"\n", what, rc, m.stage, m.why, want,
               needle);
    made_free(&m);
    if (!ok)
        octo_test_fail_at(__FILE__, __LINE__, "%s", what);
}

/* bpe_spec plus extra tokens (ids from 262 on) of the given types. */
static const char *g_plus_tokens[262 + 64];
static int32_t g_plus_types[262 + 64];

static void bpe_spec_plus(struct spec *s, const char *const *extra, const int32_t *types, size_t n)
{
    OCTO_ASSERT(n <= 64);
    bpe_spec(s);
    memcpy(g_plus_tokens, g_bpe_tokens, 262 * sizeof(*g_plus_tokens));
    memcpy(g_plus_types, g_bpe_types, 262 * sizeof(*g_plus_types));
    for (size_t i = 0; i < n; i++) {
        g_plus_tokens[262 + i] = extra[i];
        g_plus_types[262 + i] = types[i];
    }
    s->tokens = g_plus_tokens;
    s->n_tokens = 262 + n;
    s->types = g_plus_types;
    s->n_types = 262 + n;
}

/* Every pre-tokenizer's patterns on 1 MiB of whitespace (hand-made vocabularies: no merges of
 * spaces, so the time is the patterns'). */
static void test_whitespace_limits(void)
{
    static const char *const pres[] = {"default", "gpt-2", "llama3", "qwen2"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(pres); i++) {
        struct spec s;
        bpe_spec(&s);
        s.pre = pres[i];
        struct made m;
        int rc = made_init(&m, &s, NULL);
        if (rc == 0)
            rc = whitespace_check(&m.t, pres[i]);
        made_free(&m);
        CHECK_OK(rc);
    }
}

/* ---- the special-token cutting against llama.cpp's algorithm ---- */

struct rfrag {
    size_t off, len;
    int32_t id;
};

/* The special ids in llama.cpp's order (longest text first, then lower id), one per text. */
static size_t ref_specials(const struct octo_tok *t, int32_t *out, size_t cap)
{
    size_t n = 0;
    const uint32_t special =
        OCTO_TOK_ATTR_CONTROL | OCTO_TOK_ATTR_USER_DEFINED | OCTO_TOK_ATTR_UNKNOWN;
    for (uint32_t id = 0; id < octo_tok_n_vocab(t); id++) {
        size_t len;
        const char *text = octo_tok_text(t, (int32_t)id, &len);
        char buf[OCTO_TOK_TOKEN_MAX + 1];
        memcpy(buf, text, len);
        buf[len] = 0;
        if ((octo_tok_attr(t, (int32_t)id) & special) && octo_tok_find(t, buf) == (int32_t)id) {
            OCTO_ASSERT(n < cap);
            out[n++] = (int32_t)id;
        }
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: small vocabularies */
        for (size_t j = i; j > 0; j--) {
            size_t la, lb;
            octo_tok_text(t, out[j - 1], &la);
            octo_tok_text(t, out[j], &lb);
            if (la > lb || (la == lb && out[j - 1] < out[j]))
                break;
            int32_t tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    return n;
}

static bool ref_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* One token's pass over the fragment list in[0..n) into out (llama.cpp's
 * tokenizer_st_partition loop body, transcribed). Returns the new count. */
static size_t ref_pass(const struct octo_tok *t, const char *text, int32_t id,
                       const struct rfrag *in, size_t n, struct rfrag *out)
{
    size_t m = 0, tl;
    const char *tt = octo_tok_text(t, id, &tl);
    uint32_t attr = octo_tok_attr(t, id);
    for (size_t i = 0; i < n; i++) {
        if (in[i].id >= 0) {
            out[m++] = in[i];
            continue;
        }
        size_t base = in[i].off, blen = in[i].len;
        for (;;) {
            const char *hit = blen >= tl ? memmem(text + base, blen, tt, tl) : NULL;
            if (hit == NULL) {
                if (blen > 0)
                    out[m++] = (struct rfrag){base, blen, -1};
                break;
            }
            size_t match = (size_t)(hit - text), left = match - base;
            if (left > 0)
                out[m++] = (struct rfrag){base, left, -1};
            out[m++] = (struct rfrag){0, 0, id};
            size_t right = match + tl;
            if (right >= base + blen)
                break;
            size_t rlen = base + blen - right;
            if (attr & OCTO_TOK_ATTR_RSTRIP)
                while (rlen > 0 && ref_space(text[right])) {
                    right++;
                    rlen--;
                }
            base = right;
            blen = rlen;
        }
    }
    return m;
}

/* The ids llama.cpp's algorithm gives: the reference partition, raw fragments encoded on their
 * own (they hold no enabled special text any more). */
static int ref_encode(const struct octo_tok *t, const int32_t *specials, size_t n_specials,
                      const char *text, size_t len, bool parse_special, struct ids *want)
{
    struct rfrag *a = octo_malloc((2 * len + 2) * sizeof(*a));
    struct rfrag *b = octo_malloc((2 * len + 2) * sizeof(*b));
    int rc = a != NULL && b != NULL ? 0 : OCTO_ENOMEM;
    size_t n = 0;
    if (rc == 0 && len > 0)
        a[n++] = (struct rfrag){0, len, -1};
    for (size_t k = 0; rc == 0 && k < n_specials; k++) {
        uint32_t attr = octo_tok_attr(t, specials[k]);
        if (!parse_special && (attr & (OCTO_TOK_ATTR_CONTROL | OCTO_TOK_ATTR_UNKNOWN)))
            continue;
        n = ref_pass(t, text, specials[k], a, n, b);
        struct rfrag *tmp = a;
        a = b;
        b = tmp;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (a[i].id >= 0) {
            rc = ids_append(want, &a[i].id, 1);
            continue;
        }
        int32_t *ids;
        size_t k;
        rc = encode_all(t, text + a[i].off, a[i].len, false, parse_special, &ids, &k);
        if (rc == 0)
            rc = ids_append(want, ids, k);
        octo_free(ids);
    }
    octo_free(a);
    octo_free(b);
    return rc;
}

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng % n);
}

/* Overlapping and nested special texts, CONTROL (3) and USER_DEFINED (4): "aa".."aaaaaa" nest
 * five deep, so texts of a few thousand 'a's overflow the occurrence list and take the
 * searching strategy. */
static const char *const g_cut_texts[] = {"<a>", "<a><b>", "a>",    "<<",     "aa",  "aaa",
                                          "ab",  "b<",     "  ",    "\n\n",   " <",  "<b>",
                                          "xa",  "aaaa",   "aaaaa", "aaaaaa", "<s>", "a a"};
static const int32_t g_cut_types[] = {3, 4, 3, 4, 3, 4, 3, 4, 3, 4, 3, 4, 4, 3, 4, 3, 3, 4};

static int extra_phi3_name(struct octo_gguf_writer *w)
{
    return octo_gguf_writer_add_str(w, "general.name", "Phi-3 cut test", 14);
}

static int cut_compare(const struct octo_tok *t, const int32_t *specials, size_t n_specials,
                       const char *text, size_t len, bool parse_special)
{
    struct ids want = {0};
    int32_t *got = NULL;
    size_t n = 0;
    int rc = ref_encode(t, specials, n_specials, text, len, parse_special, &want);
    if (rc == 0)
        rc = encode_all(t, text, len, false, parse_special, &got, &n);
    bool same = rc == 0 && n == want.n && (n == 0 || memcmp(got, want.v, n * sizeof(*got)) == 0);
    if (rc == 0 && !same) {
        print_escaped("cut mismatch on", text, len);
        printf("  parse_special %d: want", parse_special);
        for (size_t i = 0; i < want.n && i < 40; i++)
            printf(" %d", want.v[i]);
        printf("\n  got ");
        for (size_t i = 0; i < n && i < 40; i++)
            printf(" %d", got[i]);
        printf("\n");
    }
    octo_free(got);
    octo_free(want.v);
    return rc != 0 ? rc : same ? 0 : OCTO_EPROTO;
}

static void test_cut_reference(void)
{
    static const char alphabet[] = "<a>b \nx";
    for (int variant = 0; variant < 2; variant++) {
        struct spec s;
        bpe_spec_plus(&s, g_cut_texts, g_cut_types, OCTO_ARRAY_LEN(g_cut_texts));
        struct made m;
        int rc = made_init(&m, &s, variant == 1 ? extra_phi3_name : NULL);
        if (rc != 0) {
            printf("  %s: %s\n", m.stage, m.why);
            made_free(&m);
        }
        CHECK_OK(rc);
        /* The Phi-3 rule: RSTRIP on every special but "<s>" (and <unk>, <|endoftext|>). */
        int32_t s_id = octo_tok_find(&m.t, "<s>"), aa = octo_tok_find(&m.t, "aa");
        bool rstrip_ok = (octo_tok_attr(&m.t, s_id) & OCTO_TOK_ATTR_RSTRIP) == 0 &&
                         ((octo_tok_attr(&m.t, aa) & OCTO_TOK_ATTR_RSTRIP) != 0) == (variant == 1);
        int32_t specials[64];
        size_t n_specials = ref_specials(&m.t, specials, 64);
        char text[6000];
        for (int iter = 0; rc == 0 && iter < 2000; iter++) {
            size_t len;
            if (iter % 100 == 99) {
                len = 3000 + rnd(3000); /* long 'a' runs: the searching strategy */
                for (size_t i = 0; i < len; i++)
                    text[i] = rnd(40) == 0 ? alphabet[rnd(7)] : 'a';
            } else {
                len = rnd(48);
                for (size_t i = 0; i < len; i++)
                    text[i] = alphabet[rnd(7)];
            }
            rc = cut_compare(&m.t, specials, n_specials, text, len, iter % 2 == 0);
        }
        made_free(&m);
        CHECK(rstrip_ok);
        CHECK_EQ_U64(n_specials, OCTO_ARRAY_LEN(g_cut_texts) + 1); /* and "<|end|>" */
        CHECK_OK(rc);
    }
}

/* 20000 special tokens (llama.cpp's way costs a pass over the text for each): a 1 MiB prompt
 * cycling through 4096 of them encodes as its segments do, in time printed by
 * big_prompt_check. */
static void test_many_specials(void)
{
    enum { N = 20000 };
    struct spec s;
    bpe_spec(&s);
    const char **toks = octo_malloc((262 + N) * sizeof(*toks));
    int32_t *types = octo_malloc((262 + N) * sizeof(*types));
    char(*names)[16] = octo_malloc(N * sizeof(*names));
    int rc = toks != NULL && types != NULL && names != NULL ? 0 : OCTO_ENOMEM;
    struct made m;
    memset(&m, 0, sizeof(m));
    if (rc == 0) {
        memcpy(toks, g_bpe_tokens, 262 * sizeof(*toks));
        memcpy(types, g_bpe_types, 262 * sizeof(*types));
        for (uint32_t i = 0; i < N; i++) {
            snprintf(names[i], sizeof(names[i]), "<s%u>", i);
            toks[262 + i] = names[i];
            types[262 + i] = i % 2 == 0 ? 3 : 4;
        }
        s.tokens = toks;
        s.n_tokens = s.n_types = 262 + N;
        s.types = types;
        rc = made_init(&m, &s, NULL);
    }
    if (rc == 0)
        rc = big_prompt_check(&m.t, "20k-special");
    made_free(&m);
    octo_free(toks);
    octo_free(types);
    octo_free(names);
    CHECK_OK(rc);
}

/* ---- duplicate texts, hash collisions, the piece bound ---- */

static void test_duplicates(void)
{
    /* 262: a second "<|end|>" (both CONTROL); 263/264: "<|x|>" CONTROL then NORMAL;
     * 265/266: "<|y|>" NORMAL then USER_DEFINED. */
    static const char *const extra[] = {"<|end|>", "<|x|>", "<|x|>", "<|y|>", "<|y|>"};
    static const int32_t types[] = {3, 3, 1, 1, 4};
    struct spec s;
    bpe_spec_plus(&s, extra, types, OCTO_ARRAY_LEN(extra));
    struct made m;
    int rc = made_init(&m, &s, NULL);
    if (rc != 0)
        made_free(&m);
    CHECK_OK(rc);
    const struct octo_tok *t = &m.t;
    int32_t end = octo_tok_find(t, "<|end|>"), x = octo_tok_find(t, "<|x|>");
    int32_t y = octo_tok_find(t, "<|y|>"), eot = octo_tok_eot(t);
    bool eog_end = octo_tok_is_eog(t, 262), eog_old = octo_tok_is_eog(t, 261);
    int32_t ids[8];
    size_t n1 = 0, n2 = 0, n3 = 0;
    int32_t a[8], b[8];
    int rc1 = octo_tok_encode(t, "a<|end|>", 8, false, true, ids, 8, &n1);
    int rc2 = octo_tok_encode(t, "<|x|>", 5, false, true, a, 8, &n2);
    int rc3 = octo_tok_encode(t, "<|y|>", 5, false, false, b, 8, &n3);
    made_free(&m);
    CHECK_EQ_INT(end, 262);
    CHECK_EQ_INT(eot, 262);
    CHECK(eog_end);
    CHECK(!eog_old);
    CHECK_OK(rc1);
    CHECK_EQ_U64(n1, 2);
    CHECK_EQ_INT(ids[1], 262);
    CHECK_EQ_INT(x, 263);
    CHECK_OK(rc2);
    CHECK_EQ_U64(n2, 1);
    CHECK_EQ_INT(a[0], 263);
    CHECK_EQ_INT(y, 266);
    CHECK_OK(rc3);
    CHECK_EQ_U64(n3, 1);
    CHECK_EQ_INT(b[0], 266);
}

/* Texts whose hash has its low 12 bits zero start at slot 0 of any table of at most 4096 slots
 * (vocabularies of at most 1024 tokens): OCTO_TOK_PROBE_MAX of them still fit, one more is
 * rejected — init stays linear instead of quadratic. */
static void test_hash_collisions(void)
{
    enum { N = OCTO_TOK_PROBE_MAX + 1 };
    static char names[N + 1][16];
    static const char *toks[N + 1];
    size_t found = 0;
    for (uint32_t i = 0; found < N + 1; i++) {
        char buf[16];
        int k = snprintf(buf, sizeof(buf), "c%u", i);
        if ((octo_tok_text_hash(buf, (size_t)k) & 0xFFF) == 0) {
            memcpy(names[found], buf, (size_t)k + 1);
            toks[found] = names[found];
            found++;
        }
    }
    struct spec s = {.model = "llama", .tokens = toks, .n_tokens = N - 1};
    struct made m;
    int rc = made_init(&m, &s, NULL);
    bool all_found = rc == 0;
    for (size_t i = 0; all_found && i < N - 1; i++)
        all_found = octo_tok_find(&m.t, toks[i]) == (int32_t)i;
    int32_t absent = rc == 0 ? octo_tok_find(&m.t, toks[N - 1]) : 0;
    if (rc != 0)
        printf("  %s\n", m.why);
    made_free(&m);
    CHECK_OK(rc);
    CHECK(all_found);
    CHECK_EQ_INT(absent, OCTO_ENOTFOUND);
    s.n_tokens = N;
    expect_reject_why(&s, NULL, OCTO_EMALFORMED, "collides", "colliding texts");
}

/* A byte-level BPE token of 1024 invalid bytes is the longest piece there is; the marker names
 * the token's text once. */
static void test_piece_max(void)
{
    static char big[OCTO_TOK_TOKEN_MAX + 1];
    memset(big, 0xFF, OCTO_TOK_TOKEN_MAX);
    static const char *const extra[] = {big, "a\n", "\n\n"};
    static const int32_t types[] = {1, 1, 1};
    struct spec s;
    bpe_spec_plus(&s, extra, types, OCTO_ARRAY_LEN(extra));
    struct made m;
    int rc = made_init(&m, &s, NULL);
    if (rc != 0)
        made_free(&m);
    CHECK_OK(rc);
    char *piece = octo_malloc(OCTO_TOK_PIECE_MAX + 1);
    size_t n_big = 0, n1 = 0, n2 = 0;
    char p1[64], p2[64];
    int rc_big = piece != NULL ? octo_tok_piece(&m.t, 262, false, piece, OCTO_TOK_PIECE_MAX, &n_big)
                               : OCTO_ENOMEM;
    bool big_ok = rc_big == 0 && memcmp(piece, "[UNK_BYTE_0xefbfbd\xff\xff", 20) == 0 &&
                  memcmp(piece + n_big - 19, "[UNK_BYTE_0xefbfbd]", 19) == 0;
    int rc1 = octo_tok_piece(&m.t, 263, false, p1, sizeof(p1), &n1);
    int rc2 = octo_tok_piece(&m.t, 264, false, p2, sizeof(p2), &n2);
    octo_free(piece);
    made_free(&m);
    CHECK_OK(rc_big);
    CHECK_EQ_U64(n_big, OCTO_TOK_PIECE_MAX);
    CHECK(big_ok);
    CHECK_OK(rc1);
    CHECK_EQ_U64(n1, 18);
    CHECK_MEM(p1, "a[UNK_BYTE_0x0aa\n]", 18);
    CHECK_OK(rc2);
    CHECK_EQ_U64(n2, 32);
    CHECK_MEM(p2, "[UNK_BYTE_0x0a\n\n][UNK_BYTE_0x0a]", 32);
}

/* An SPM vocabulary: <unk> <s> </s>, the 256 <0xNN> byte tokens (ids 3..258), then "▁" "a" "b"
 * "▁a" "ab" "▁ab" (ids 259..264) scored so that "▁ab" wins. */
static void spm_spec(struct spec *s)
{
    static char byte_names[256][8];
    static const char *tokens[265];
    static float scores[265];
    static int32_t types[265];
    tokens[0] = "<unk>";
    tokens[1] = "<s>";
    tokens[2] = "</s>";
    types[0] = 2;
    types[1] = 3;
    types[2] = 3;
    for (unsigned b = 0; b < 256; b++) {
        snprintf(byte_names[b], sizeof(byte_names[b]), "<0x%02X>", b);
        tokens[3 + b] = byte_names[b];
        types[3 + b] = 6;
    }
    static const char *const words[] = {"\xe2\x96\x81",
                                        "a",
                                        "b",
                                        "\xe2\x96\x81"
                                        "a",
                                        "ab",
                                        "\xe2\x96\x81"
                                        "ab"};
    static const float word_scores[] = {-1.0f, -2.0f, -2.0f, -3.0f, -1.5f, -0.5f};
    for (unsigned i = 0; i < 6; i++) {
        tokens[259 + i] = words[i];
        scores[259 + i] = word_scores[i];
        types[259 + i] = 1;
    }
    *s = (struct spec){.model = "llama",
                       .tokens = tokens,
                       .n_tokens = 265,
                       .scores = scores,
                       .n_scores = 265,
                       .types = types,
                       .n_types = 265};
}

/* SPM: "▁a" "b" merge by score; unknown characters fall back to bytes. */
static void test_made_spm(void)
{
    struct spec s;
    spm_spec(&s);
    struct made m;
    int rc = made_init(&m, &s, NULL);
    if (rc != 0)
        printf("  %s\n", m.why);
    CHECK_OK(rc);
    /* " ab" -> "▁ab"; "c" has no token: <0x63>. */
    const int32_t want[] = {264, 3 + 'c'};
    expect_ids(&m.t, "abc", false, false, want, 2);
    const int32_t want_bos[] = {1, 264};
    expect_ids(&m.t, "ab", true, false, want_bos, 2);
    int32_t ids[16];
    size_t n;
    char text[16];
    CHECK_OK(octo_tok_encode(&m.t, "ab abc", 6, false, false, ids, 16, &n));
    CHECK_OK(octo_tok_decode(&m.t, ids, n, false, text, sizeof(text), &n));
    CHECK_EQ_U64(n, 6);
    CHECK_MEM(text, "ab abc", 6);
    /* An invalid lead byte before a space splits its "▁" into three symbols (found by the
     * fuzzer: more symbols than text bytes); the bytes come back, the split "▁" as bytes. */
    char big[3000];
    for (size_t i = 0; i < sizeof(big); i += 2)
        memcpy(big + i, "\xd5 ", 2);
    int32_t *all;
    char *dec;
    size_t dlen;
    int rc2 = encode_all(&m.t, big, sizeof(big), false, false, &all, &n);
    if (rc2 == 0) {
        rc2 = decode_all(&m.t, all, n, false, &dec, &dlen);
        octo_free(all);
    }
    bool same = rc2 == 0 && dlen == 2 * sizeof(big) && memcmp(dec, "\xd5\xe2\x96\x81\xd5", 5) == 0;
    if (rc2 == 0)
        octo_free(dec);
    made_free(&m);
    CHECK_OK(rc2);
    CHECK(same);
}

/* SPM without byte tokens: a byte with neither <0xNN> nor a one-byte token is an error (as in
 * llama.cpp, which throws), not dropped and not <unk>. */
static void test_spm_missing_byte(void)
{
    static const char *const toks[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "b"};
    static const float sc[] = {0, 0, 0, -1, -2, -2};
    static const int32_t ty[] = {2, 3, 3, 1, 1, 1};
    struct spec s = {.model = "llama",
                     .tokens = toks,
                     .n_tokens = 6,
                     .scores = sc,
                     .n_scores = 6,
                     .types = ty,
                     .n_types = 6};
    struct made m;
    int rc = made_init(&m, &s, NULL);
    if (rc != 0)
        printf("  %s\n", m.why);
    CHECK_OK(rc);
    int32_t ids[16];
    size_t n = 99;
    /* "a" falls back to its one-byte token; "c" has no token at all. */
    const int32_t want[] = {3, 4, 5};
    expect_ids(&m.t, "ab", false, false, want, 3);
    rc = octo_tok_encode(&m.t, "abc", 3, false, false, ids, 16, &n);
    made_free(&m);
    CHECK_ERR(rc, OCTO_ENOTFOUND);
    CHECK_EQ_U64(n, 0);
}

/* ---- rejection paths ---- */

static int extra_bos_out_of_range(struct octo_gguf_writer *w)
{
    return octo_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 100000);
}

static int extra_bos_wrong_type(struct octo_gguf_writer *w)
{
    return octo_gguf_writer_add_str(w, "tokenizer.ggml.bos_token_id", "1", 1);
}

static int extra_add_bos_wrong_type(struct octo_gguf_writer *w)
{
    return octo_gguf_writer_add_u32(w, "tokenizer.ggml.add_bos_token", 1);
}

static int extra_tokens_u32(struct octo_gguf_writer *w)
{
    const uint32_t v[2] = {1, 2};
    return octo_gguf_writer_add_array(w, "tokenizer.ggml.tokens", OCTO_GGUF_U32, v, 2);
}

static int extra_types_f32(struct octo_gguf_writer *w)
{
    float v[262] = {0};
    return octo_gguf_writer_add_array(w, "tokenizer.ggml.token_type", OCTO_GGUF_F32, v, 262);
}

static int extra_model_u32(struct octo_gguf_writer *w)
{
    return octo_gguf_writer_add_u32(w, "tokenizer.ggml.model", 1);
}

static void test_rejects(void)
{
    struct spec base;
    bpe_spec(&base);
    struct spec s = base;
    s.model = NULL;
    expect_reject(&s, NULL, OCTO_ENOTFOUND, "no model");
    expect_reject(&s, extra_model_u32, OCTO_EMALFORMED, "model not a string");
    s = base;
    s.model = "bert";
    expect_reject(&s, NULL, OCTO_EUNSUPPORTED, "bert model");
    /* Names from the file appear in reasons with unprintable bytes escaped. */
    s.model = "\x01"
              "bad\xff'";
    expect_reject_why(&s, NULL, OCTO_EUNSUPPORTED, "'\\x01bad\\xff\\x27'", "unprintable model");
    s = base;
    s.pre = "fal\ncon";
    expect_reject_why(&s, NULL, OCTO_EUNSUPPORTED, "'fal\\x0acon'", "unprintable pre");
    s = base;
    s.pre = "falcon";
    expect_reject(&s, NULL, OCTO_EUNSUPPORTED, "falcon pre-tokenizer");
    s = base;
    s.tokens = NULL;
    s.types = NULL;
    expect_reject(&s, NULL, OCTO_ENOTFOUND, "no tokens");
    expect_reject(&s, extra_tokens_u32, OCTO_EMALFORMED, "tokens not strings");
    s = base;
    s.n_tokens = 0;
    s.types = NULL;
    s.merges = NULL;
    s.model = "llama";
    expect_reject(&s, NULL, OCTO_EMALFORMED, "empty vocabulary");
    s = base;
    s.n_types = 100;
    expect_reject(&s, NULL, OCTO_EMALFORMED, "token_type count");
    s = base;
    s.types = NULL;
    expect_reject(&s, extra_types_f32, OCTO_EMALFORMED, "token_type f32");
    s = base;
    s.merges = NULL;
    expect_reject(&s, NULL, OCTO_ENOTFOUND, "no merges");
    static const char *const bad_merge1[] = {"h e", "hello"};
    s = base;
    s.merges = bad_merge1;
    s.n_merges = 2;
    expect_reject(&s, NULL, OCTO_EMALFORMED, "merge without space");
    static const char *const bad_merge2[] = {"h e", "he zz"};
    s.merges = bad_merge2;
    expect_reject(&s, NULL, OCTO_EMALFORMED, "merge of unknown token");
    static const char *const bad_merge3[] = {"h "};
    s.merges = bad_merge3;
    s.n_merges = 1;
    expect_reject(&s, NULL, OCTO_EMALFORMED, "merge with empty right side");
    s = base;
    expect_reject(&s, extra_bos_out_of_range, OCTO_EMALFORMED, "bos out of range");
    expect_reject(&s, extra_bos_wrong_type, OCTO_EMALFORMED, "bos wrong type");
    expect_reject(&s, extra_add_bos_wrong_type, OCTO_EMALFORMED, "add_bos wrong type");

    /* SPM: scores count, NaN score (after a well-formed byte token, so that the NaN is what
     * is rejected), malformed byte token, an oversize token. */
    static const char *const toks[] = {"<unk>", "<0x04>", "a"};
    static const float sc[] = {0, 0, NAN};
    static const int32_t ty[] = {2, 6, 1};
    struct spec p = {.model = "llama",
                     .tokens = toks,
                     .n_tokens = 3,
                     .scores = sc,
                     .n_scores = 2,
                     .types = ty,
                     .n_types = 3};
    expect_reject(&p, NULL, OCTO_EMALFORMED, "scores count");
    p.n_scores = 3;
    expect_reject_why(&p, NULL, OCTO_EMALFORMED, "token 2 has a NaN score", "NaN score");
    static const float sc_ok[] = {0, 0, 0};
    p.scores = sc_ok;
    static const char *const toks_bad_byte[] = {"<unk>", "<0x4>", "a"};
    p.tokens = toks_bad_byte;
    expect_reject_why(&p, NULL, OCTO_EMALFORMED, "byte token 1 is not spelled", "bad byte token");
    static char big[OCTO_TOK_TOKEN_MAX + 2];
    memset(big, 'x', OCTO_TOK_TOKEN_MAX + 1);
    static const char *toks_big[3] = {"<unk>", "a", big};
    static const int32_t ty_ok[] = {2, 1, 1};
    p.tokens = toks_big;
    p.types = ty_ok;
    expect_reject(&p, NULL, OCTO_ETOOBIG, "oversize token");
}

/* Every allocation of init and encode can fail cleanly (and nothing leaks); the text has a
 * special token so that the cutting allocates too. */
static void oom_loop(const struct spec *s, const char *text)
{
    struct made m;
    int rc = made_init(&m, s, NULL);
    if (rc != 0)
        made_free(&m);
    CHECK_OK(rc);
    octo_tok_deinit(&m.t);
    int failures = 0;
    bool done = false;
    for (uint64_t k = 1; k < 400 && !done; k++) {
        struct octo_tok t;
        char why[OCTO_TOK_REASON_MAX];
        octo_alloc_fail_after(k, 1);
        rc = octo_tok_init(&t, &m.g, why, sizeof(why));
        int32_t ids[64];
        size_t n = 0;
        int erc = rc == 0 ? octo_tok_encode(&t, text, strlen(text), true, true, ids, 64, &n) : 0;
        octo_alloc_fail_after(0, 0);
        if (rc == 0) {
            if (erc == OCTO_ENOMEM)
                failures++;
            else if (erc != 0)
                rc = erc;
            octo_tok_deinit(&t);
            done = erc == 0;
        } else {
            failures++;
        }
        if (rc != 0 && rc != OCTO_ENOMEM) {
            made_free(&m);
            CHECK_ERR(rc, OCTO_ENOMEM);
        }
    }
    made_free(&m);
    CHECK(done);
    CHECK(failures > 5);
}

static void test_oom(void)
{
    struct spec s;
    bpe_spec(&s);
    oom_loop(&s, "hello <|end|> world");
    spm_spec(&s);
    oom_loop(&s, "ab <s>abc b");
}

/* The generated model's vocabulary (llama-spm style, "▁t<id>" pieces) tokenizes and decodes. */
static void test_gentest_vocab(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 64u << 20);
    struct octo_gentest_params p = {
        .shape = octo_gentest_shape_find("tiny"), .weight_type = OCTO_GGML_F32, .seed = 1};
    char why[OCTO_TOK_REASON_MAX];
    int rc = octo_gentest_write(&p, sink, &b, why, sizeof(why));
    if (rc != 0)
        octo_buf_deinit(&b);
    CHECK_OK(rc);
    struct octo_gguf g;
    octo_gguf_init(&g);
    rc = octo_gguf_parse(&g, b.data, b.len);
    struct octo_tok t;
    if (rc == 0)
        rc = octo_tok_init(&t, &g, why, sizeof(why));
    if (rc != 0) {
        printf("  %s\n", why);
        octo_gguf_deinit(&g);
        octo_buf_deinit(&b);
    }
    CHECK_OK(rc);
    const char *text = " t300 t301 Hello, world! \xe2\x82\xac";
    int32_t ids[256];
    size_t n;
    char dec[256];
    size_t dlen = 0;
    rc = octo_tok_encode(&t, text, strlen(text), true, false, ids, 256, &n);
    int drc = rc == 0 ? octo_tok_decode(&t, ids + 1, n - 1, false, dec, sizeof(dec), &dlen) : rc;
    char piece[32];
    size_t pn = 0;
    int prc = octo_tok_piece(&t, 300, false, piece, sizeof(piece), &pn);
    bool in_range = true;
    for (size_t i = 0; rc == 0 && i < n; i++)
        in_range = in_range && ids[i] >= 0 && (uint32_t)ids[i] < octo_tok_n_vocab(&t);
    octo_tok_deinit(&t);
    octo_gguf_deinit(&g);
    octo_buf_deinit(&b);
    CHECK_OK(rc);
    CHECK(in_range);
    CHECK_EQ_INT(ids[0], 1);
    CHECK_OK(drc);
    /* The vocabulary has no "▁" token and no pair of its pieces forms a token, so text comes
     * out as <0xNN> byte tokens of the escaped form (llama.cpp does the same): decoding gives
     * the prefix and every space as the bytes of "▁". */
    char want[256];
    size_t wn = 0;
    memcpy(want, "\xe2\x96\x81", 3);
    wn = 3;
    for (const char *c = text; *c != 0; c++) {
        if (*c == ' ') {
            memcpy(want + wn, "\xe2\x96\x81", 3);
            wn += 3;
        } else {
            want[wn++] = *c;
        }
    }
    CHECK_EQ_U64(dlen, wn);
    CHECK_MEM(dec, want, dlen);
    CHECK_OK(prc);
    CHECK_EQ_U64(pn, 5);
    CHECK_MEM(piece, " t300", 5);
}

/* With OCTO_TOK_SEED_DIR set, writes small vocabulary GGUFs for fuzz/fuzz_gguf.c's corpus:
 *   OCTO_TOK_SEED_DIR=fuzz/seeds/gguf build/<dir>/tests/unit/infer/test_infer_tokenizer */
static void write_seed(const char *dir, const char *name, const struct spec *s,
                       int (*extra)(struct octo_gguf_writer *))
{
    struct made m;
    int rc = made_init(&m, s, extra);
    OCTO_ASSERT(rc == 0);
    octo_test_write_file(dir, name, m.file.data, m.file.len);
    made_free(&m);
}

static void write_seeds(void)
{
    const char *dir = getenv("OCTO_TOK_SEED_DIR");
    if (dir == NULL)
        return;
    struct spec s;
    bpe_spec(&s);
    write_seed(dir, "vocab-bpe", &s, NULL);
    bpe_spec_plus(&s, g_cut_texts, g_cut_types, OCTO_ARRAY_LEN(g_cut_texts));
    write_seed(dir, "vocab-bpe-specials-phi3", &s, extra_phi3_name);
    spm_spec(&s);
    write_seed(dir, "vocab-spm", &s, NULL);
    printf("wrote the vocabulary seeds to %s\n", dir);
}

/* Tests that need llama.cpp's vocab files run only when $OCTO_LLAMA_MODELS names them; the
 * others always run. */
static bool g_have_models;
static int g_skipped;

static void run_vocab(const char *name, void (*fn)(void))
{
    if (g_have_models) {
        octo_test_run(name, fn);
    } else {
        printf("skip %s (needs llama.cpp's vocab files: OCTO_LLAMA_MODELS is not set)\n", name);
        g_skipped++;
    }
}

#define RUN_VOCAB(fn) run_vocab(#fn, fn)

int main(void)
{
    g_models = getenv("OCTO_LLAMA_MODELS");
    g_have_models = g_models != NULL && g_models[0] != 0;
    write_seeds();
    RUN_VOCAB(test_parity_llama_spm);
    RUN_VOCAB(test_parity_phi3);
    RUN_VOCAB(test_parity_qwen2);
    RUN_VOCAB(test_parity_llama_bpe);
    RUN_VOCAB(test_parity_gpt2);
    RUN_VOCAB(test_special_qwen2);
    RUN_VOCAB(test_special_llama_spm);
    RUN_VOCAB(test_special_phi3);
    RUN_VOCAB(test_special_llama_bpe);
    RUN_VOCAB(test_speed);
    RUN_VOCAB(test_big_prompts);
    OCTO_RUN(test_made_bpe);
    OCTO_RUN(test_made_spm);
    OCTO_RUN(test_spm_missing_byte);
    OCTO_RUN(test_whitespace_limits);
    OCTO_RUN(test_cut_reference);
    OCTO_RUN(test_many_specials);
    OCTO_RUN(test_duplicates);
    OCTO_RUN(test_hash_collisions);
    OCTO_RUN(test_piece_max);
    OCTO_RUN(test_rejects);
    OCTO_RUN(test_oom);
    OCTO_RUN(test_gentest_vocab);
    if (g_skipped > 0)
        printf("%d tests skipped: llama.cpp parity and real-vocabulary checks did not run\n",
               g_skipped);
    if (octo_test_count == 0)
        return 77;
    return octo_test_finish();
}
