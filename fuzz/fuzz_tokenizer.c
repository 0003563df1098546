/*
 * fuzz_tokenizer.c — libFuzzer harness for the SPM and BPE tokenizers (infer/tokenizer.h).
 *
 * Setup (once): small vocabularies written with the GGUF writer and parsed back — two SPM
 * (<unk> <s> </s>, the 256 <0xNN> byte tokens, a few "▁" words, a user-defined token; one
 * with the space prefix, one without) and one byte-level BPE per pre-tokenizer (default,
 * gpt-2, llama3, qwen2: the 256 mapped bytes, a chain of merges, nested and overlapping control
 * and user-defined tokens; the qwen2 one named Phi-3 so that its specials strip whitespace
 * after them).
 *
 * Text mode (any input not starting with the vocabulary magic): the input is the text. Each
 * vocabulary encodes it with parse_special off and on (and add_special on for the first).
 * Invariants: encode succeeds; the capacity protocol reports the same count it then fills;
 * every id is inside the vocabulary; decoding gives the input back: byte for byte for
 * byte-level BPE (invalid UTF-8 included, special pieces on), with every "▁" as a space for
 * SPM without the prefix, and the same for SPM with the prefix when no special token was cut
 * (a cut one puts a prefix space after it). Then the input, read as 16-bit ids modulo the
 * vocabulary, is decoded: each piece is at most OCTO_TOK_PIECE_MAX bytes and the decoded text
 * is the pieces' concatenation (less the leading space when the vocabulary adds a prefix).
 *
 * Vocabulary mode (input "\xffV" flags, then entries separated by NUL bytes): builds a
 * vocabulary from the input — flags bit 0 BPE (else SPM), bits 1-2 the pre-tokenizer, bit 3
 * add_space_prefix, bit 4 a Phi-3 name; each entry's first byte is its token type (or 'M': a
 * merge rule, the rest of the entry); BPE vocabularies get the 256 mapped bytes first — and
 * initialises it: init fails only with a documented code and a reason; when it succeeds,
 * fixed texts encode (or fail with OCTO_ENOTFOUND for an SPM byte without a token) to ids in
 * range, which decode, and every piece is within OCTO_TOK_PIECE_MAX. Seeds:
 * fuzz/seeds/tokenizer/ (vocab-* are vocabulary mode).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "infer/gguf.h"
#include "infer/tokenizer.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_VOCABS 6
#define INPUT_MAX 4096
#define VOCAB_ENTRIES_MAX 512

struct fz_vocab {
    struct octo_buf file;
    struct octo_gguf g;
    struct octo_tok t;
    bool bpe;
    bool phi3; /* its specials strip the whitespace after them */
};

static struct fz_vocab g_vocabs[N_VOCABS];
static bool g_ready;

static int sink(void *ctx, const void *p, size_t n)
{
    return octo_buf_append(ctx, p, n);
}

static const char *const spm_words[] = {"\xe2\x96\x81",
                                        "a",
                                        "b",
                                        "\xe2\x96\x81"
                                        "a",
                                        "ab",
                                        "\xe2\x96\x81"
                                        "ab",
                                        "<|user|>"};
/* Ordinary words, then the specials: CONTROL (type 3) and USER_DEFINED (type 4), nested and
 * overlapping. */
static const char *const bpe_words[] = {"he", "ll",  "hell",    "hello", "\xc4\xa0w", "\xc4\xa0wo",
                                        "12", "123", "<|end|>", "<a>",   "<a><b>",    "a>",
                                        "aa", "aaa", "[PAD1]",  "b<",    "  ",        "<s>"};
static const int32_t bpe_word_types[] = {1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 4, 3, 4, 3, 4, 3, 4, 3};
_Static_assert(sizeof(bpe_words) / sizeof(bpe_words[0]) ==
                   sizeof(bpe_word_types) / sizeof(bpe_word_types[0]),
               "one type per word");
static const char *const bpe_merges[] = {"h e",        "l l",         "he ll", "hell o",
                                         "\xc4\xa0 w", "\xc4\xa0w o", "1 2",   "12 3"};

static void build(struct fz_vocab *v, struct octo_gguf_writer *w)
{
    octo_buf_init(&v->file, 1u << 22);
    OCTO_ASSERT(octo_gguf_writer_emit(w, sink, &v->file, NULL, NULL) == 0);
    octo_gguf_init(&v->g);
    OCTO_ASSERT(octo_gguf_parse(&v->g, v->file.data, v->file.len) == 0);
    char why[OCTO_TOK_REASON_MAX];
    int rc = octo_tok_init(&v->t, &v->g, why, sizeof(why));
    if (rc != 0)
        fprintf(stderr, "fuzz_tokenizer setup: %s\n", why);
    OCTO_ASSERT(rc == 0);
}

static void build_spm(struct fz_vocab *v, bool prefix)
{
    static char names[256][8];
    const char *toks[3 + 256 + OCTO_ARRAY_LEN(spm_words)];
    float scores[OCTO_ARRAY_LEN(toks)];
    int32_t types[OCTO_ARRAY_LEN(toks)];
    size_t n = 0;
    static const char *const head[] = {"<unk>", "<s>", "</s>"};
    for (size_t i = 0; i < 3; i++) {
        scores[n] = 0;
        types[n] = i == 0 ? 2 : 3;
        toks[n++] = head[i];
    }
    for (unsigned b = 0; b < 256; b++) {
        snprintf(names[b], sizeof(names[b]), "<0x%02X>", b);
        scores[n] = 0;
        types[n] = 6;
        toks[n++] = names[b];
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(spm_words); i++) {
        scores[n] = -(float)i;
        types[n] = i + 1 == OCTO_ARRAY_LEN(spm_words) ? 4 : 1;
        toks[n++] = spm_words[i];
    }
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    OCTO_ASSERT(octo_gguf_writer_add_str(&w, "tokenizer.ggml.model", "llama", 5) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.tokens", toks, NULL, n) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_array(&w, "tokenizer.ggml.scores", OCTO_GGUF_F32, scores, n) ==
                0);
    OCTO_ASSERT(
        octo_gguf_writer_add_array(&w, "tokenizer.ggml.token_type", OCTO_GGUF_I32, types, n) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_bool(&w, "tokenizer.ggml.add_space_prefix", prefix) == 0);
    build(v, &w);
    octo_gguf_writer_deinit(&w);
    v->bpe = false;
}

/* The UTF-8 of GPT-2's code point for byte b into out (1 or 2 bytes, NUL-terminated). */
static void gpt2_mapped(unsigned b, char out[3])
{
    uint32_t cp = b <= 0x20                  ? 0x100 + b
                  : (b >= 0x7F && b <= 0xA0) ? 0x100 + 33 + (b - 0x7F)
                  : b == 0xAD                ? 0x100 + 67
                                             : b;
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
}

static void build_bpe(struct fz_vocab *v, const char *pre, bool phi3)
{
    static char mapped[256][3];
    const char *toks[256 + OCTO_ARRAY_LEN(bpe_words)];
    int32_t types[OCTO_ARRAY_LEN(toks)];
    size_t n = 0;
    for (unsigned b = 0; b < 256; b++) {
        gpt2_mapped(b, mapped[b]);
        types[n] = 1;
        toks[n++] = mapped[b];
    }
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bpe_words); i++) {
        types[n] = bpe_word_types[i];
        toks[n++] = bpe_words[i];
    }
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    OCTO_ASSERT(octo_gguf_writer_add_str(&w, "tokenizer.ggml.model", "gpt2", 4) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_str(&w, "tokenizer.ggml.pre", pre, strlen(pre)) == 0);
    if (phi3)
        OCTO_ASSERT(octo_gguf_writer_add_str(&w, "general.name", "phi-3 fuzz", 10) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.tokens", toks, NULL, n) == 0);
    OCTO_ASSERT(
        octo_gguf_writer_add_array(&w, "tokenizer.ggml.token_type", OCTO_GGUF_I32, types, n) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.merges", bpe_merges, NULL,
                                               OCTO_ARRAY_LEN(bpe_merges)) == 0);
    build(v, &w);
    octo_gguf_writer_deinit(&w);
    v->bpe = true;
    v->phi3 = phi3;
}

static void setup(void)
{
    build_spm(&g_vocabs[0], true);
    build_spm(&g_vocabs[1], false);
    build_bpe(&g_vocabs[2], "default", false);
    build_bpe(&g_vocabs[3], "gpt-2", false);
    build_bpe(&g_vocabs[4], "llama3", false);
    build_bpe(&g_vocabs[5], "qwen2", true);
    g_ready = true;
}

static bool any_special(const struct octo_tok *t, const int32_t *ids, size_t n)
{
    const uint32_t special =
        OCTO_TOK_ATTR_CONTROL | OCTO_TOK_ATTR_USER_DEFINED | OCTO_TOK_ATTR_UNKNOWN;
    for (size_t i = 0; i < n; i++)
        if (octo_tok_attr(t, ids[i]) & special)
            return true;
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* a and b are equal once their ASCII whitespace is removed. */
static bool same_without_space(const char *a, size_t na, const char *b, size_t nb)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < na && is_space(a[i]))
            i++;
        while (j < nb && is_space(b[j]))
            j++;
        if (i == na || j == nb)
            return i == na && j == nb;
        if (a[i++] != b[j++])
            return false;
    }
}

/* text with every "▁" (U+2581) replaced by a space into out; returns the length. */
static size_t spm_expected(const char *text, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (len - i >= 3 && memcmp(text + i, "\xe2\x96\x81", 3) == 0) {
            out[n++] = ' ';
            i += 3;
        } else {
            out[n++] = text[i++];
        }
    }
    return n;
}

static void check(const struct fz_vocab *v, const char *text, size_t len, bool add_special,
                  bool parse_special)
{
    static int32_t ids[4 * INPUT_MAX + 8];
    static char dec[8 * INPUT_MAX + 64];
    static char want[INPUT_MAX], got[sizeof(dec)];
    size_t n = 0, n2 = 0;
    int rc = octo_tok_encode(&v->t, text, len, add_special, parse_special, NULL, 0, &n);
    OCTO_ASSERT(rc == 0 || rc == OCTO_ENOSPACE);
    OCTO_ASSERT((rc == 0) == (n == 0));
    OCTO_ASSERT(n <= OCTO_ARRAY_LEN(ids));
    rc = octo_tok_encode(&v->t, text, len, add_special, parse_special, ids, n, &n2);
    OCTO_ASSERT(rc == 0);
    OCTO_ASSERT(n2 == n);
    for (size_t i = 0; i < n; i++)
        OCTO_ASSERT(ids[i] >= 0 && (uint32_t)ids[i] < octo_tok_n_vocab(&v->t));
    size_t dlen = 0;
    rc = octo_tok_decode(&v->t, ids, n, true, dec, sizeof(dec), &dlen);
    OCTO_ASSERT(rc == 0);
    if (add_special)
        return;
    /* Phi-3 (RSTRIP) vocabularies drop whitespace after a cut special token. */
    if (v->phi3 && any_special(&v->t, ids, n)) {
        OCTO_ASSERT(same_without_space(dec, dlen, text, len));
        return;
    }
    if (v->bpe) {
        OCTO_ASSERT(dlen == len);
        OCTO_ASSERT(len == 0 || memcmp(dec, text, len) == 0);
        return;
    }
    /* SPM: exact modulo "▁" (a space whose "▁" fell back to byte tokens decodes as "▁", as in
     * llama.cpp) without the prefix; with it, only when nothing was cut. */
    if (v->t.add_space_prefix && any_special(&v->t, ids, n))
        return;
    size_t wn = spm_expected(text, len, want);
    size_t gn = spm_expected(dec, dlen, got);
    OCTO_ASSERT(gn == wn);
    OCTO_ASSERT(wn == 0 || memcmp(got, want, wn) == 0);
}

/* Decodes the input read as 16-bit ids: pieces are bounded and concatenate to the decode. */
static void check_ids(const struct octo_tok *t, const uint8_t *data, size_t size, bool special)
{
    static int32_t ids[INPUT_MAX / 2];
    static char dec[INPUT_MAX / 2 * OCTO_TOK_PIECE_MAX / 16];
    static char cat[sizeof(dec)];
    static char piece[OCTO_TOK_PIECE_MAX];
    size_t n = size / 2, at = 0;
    for (size_t i = 0; i < n; i++)
        ids[i] = (int32_t)(((uint32_t)data[2 * i] | (uint32_t)data[2 * i + 1] << 8) %
                           octo_tok_n_vocab(t));
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        size_t pn = 0;
        int rc = octo_tok_piece(t, ids[i], special, piece, sizeof(piece), &pn);
        OCTO_ASSERT(rc == 0 && pn <= OCTO_TOK_PIECE_MAX);
        if (at + pn > sizeof(cat)) {
            fits = false;
            break;
        }
        memcpy(cat + at, piece, pn);
        at += pn;
    }
    if (!fits)
        return;
    size_t dlen = 0;
    int rc = octo_tok_decode(t, ids, n, special, dec, sizeof(dec), &dlen);
    OCTO_ASSERT(rc == 0);
    /* decode drops one leading space (of the first non-empty piece) with the prefix rule */
    size_t skip = 0;
    if (t->add_space_prefix && n > 0) {
        size_t pn = 0;
        OCTO_ASSERT(octo_tok_piece(t, ids[0], special, piece, sizeof(piece), &pn) == 0);
        skip = pn > 0 && piece[0] == ' ' ? 1 : 0;
    }
    OCTO_ASSERT(dlen + skip == at);
    OCTO_ASSERT(dlen == 0 || memcmp(dec, cat + skip, dlen) == 0);
}

/* ---- vocabulary mode ---- */

static const char *const fixed_texts[] = {"hello world", "<s>a b</s>", "<|end|> \n\n  x",
                                          "\xe2\x96\x81\xff\xfe<a><b>aaa",
                                          "12345 it's 'S \xc3\xa9\xe6\x97\xa5"};

/* Exercises a tokenizer built from fuzzed metadata. */
static void exercise(const struct octo_tok *t, const uint8_t *data, size_t size)
{
    static int32_t ids[256];
    static char dec[256 * OCTO_TOK_PIECE_MAX / 64];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(fixed_texts); i++) {
        for (int ps = 0; ps < 2; ps++) {
            size_t n = 0;
            const char *s = fixed_texts[i];
            int rc =
                octo_tok_encode(t, s, strlen(s), ps == 1, ps == 1, ids, OCTO_ARRAY_LEN(ids), &n);
            OCTO_ASSERT(rc == 0 || rc == OCTO_ENOTFOUND);
            if (rc == OCTO_ENOTFOUND) {
                OCTO_ASSERT(t->model == OCTO_TOK_SPM);
                continue;
            }
            OCTO_ASSERT(n <= OCTO_ARRAY_LEN(ids));
            for (size_t k = 0; k < n; k++)
                OCTO_ASSERT(ids[k] >= 0 && (uint32_t)ids[k] < octo_tok_n_vocab(t));
            size_t dlen = 0;
            rc = octo_tok_decode(t, ids, n, ps == 1, dec, sizeof(dec), &dlen);
            OCTO_ASSERT(rc == 0 || rc == OCTO_ENOSPACE);
            OCTO_ASSERT(dlen <= n * OCTO_TOK_PIECE_MAX);
        }
    }
    check_ids(t, data, size < INPUT_MAX ? size : INPUT_MAX, true);
    check_ids(t, data, size < INPUT_MAX ? size : INPUT_MAX, false);
}

static void vocab_mode(const uint8_t *data, size_t size)
{
    static const char *const pres[] = {"default", "gpt-2", "llama3", "qwen2"};
    static char mapped[256][3];
    static const char *toks[256 + VOCAB_ENTRIES_MAX];
    static const char *merges[VOCAB_ENTRIES_MAX];
    static int32_t types[256 + VOCAB_ENTRIES_MAX];
    static float scores[256 + VOCAB_ENTRIES_MAX];
    static char copy[INPUT_MAX + 1];
    if (size < 3)
        return;
    uint8_t flags = data[2];
    bool bpe = (flags & 1) != 0;
    size_t len = size - 3 < INPUT_MAX ? size - 3 : INPUT_MAX;
    memcpy(copy, data + 3, len);
    copy[len] = 0;
    size_t n = 0, n_merges = 0;
    for (unsigned b = 0; bpe && b < 256; b++) {
        gpt2_mapped(b, mapped[b]);
        types[n] = 1;
        scores[n] = 0;
        toks[n++] = mapped[b];
    }
    /* entries: NUL-separated; the first byte a type, or 'M' for a merge */
    for (size_t i = 0; i < len && n < OCTO_ARRAY_LEN(toks);) {
        size_t e = strlen(copy + i);
        if (e > 0 && copy[i] == 'M' && n_merges < VOCAB_ENTRIES_MAX) {
            merges[n_merges++] = copy + i + 1;
        } else if (e > 0) {
            types[n] = (uint8_t)copy[i] % 8;
            scores[n] = -(float)n;
            toks[n++] = copy + i + 1;
        }
        i += e + 1;
    }
    struct octo_gguf_writer w;
    octo_gguf_writer_init(&w);
    OCTO_ASSERT(octo_gguf_writer_add_str(&w, "tokenizer.ggml.model", bpe ? "gpt2" : "llama",
                                         bpe ? 4 : 5) == 0);
    const char *pre = pres[(flags >> 1) & 3];
    if (bpe)
        OCTO_ASSERT(octo_gguf_writer_add_str(&w, "tokenizer.ggml.pre", pre, strlen(pre)) == 0);
    OCTO_ASSERT(
        octo_gguf_writer_add_bool(&w, "tokenizer.ggml.add_space_prefix", (flags & 8) != 0) == 0);
    if (flags & 16)
        OCTO_ASSERT(octo_gguf_writer_add_str(&w, "general.name", "Phi-3", 5) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.tokens", toks, NULL, n) == 0);
    OCTO_ASSERT(
        octo_gguf_writer_add_array(&w, "tokenizer.ggml.token_type", OCTO_GGUF_I32, types, n) == 0);
    OCTO_ASSERT(octo_gguf_writer_add_array(&w, "tokenizer.ggml.scores", OCTO_GGUF_F32, scores, n) ==
                0);
    if (bpe)
        OCTO_ASSERT(octo_gguf_writer_add_str_array(&w, "tokenizer.ggml.merges", merges, NULL,
                                                   n_merges) == 0);
    struct octo_buf file;
    octo_buf_init(&file, 1u << 22);
    OCTO_ASSERT(octo_gguf_writer_emit(&w, sink, &file, NULL, NULL) == 0);
    octo_gguf_writer_deinit(&w);
    struct octo_gguf g;
    octo_gguf_init(&g);
    OCTO_ASSERT(octo_gguf_parse(&g, file.data, file.len) == 0);
    struct octo_tok t;
    char why[OCTO_TOK_REASON_MAX];
    int rc = octo_tok_init(&t, &g, why, sizeof(why));
    if (rc == 0) {
        exercise(&t, data, size);
        octo_tok_deinit(&t);
    } else {
        OCTO_ASSERT(rc == OCTO_EMALFORMED || rc == OCTO_ENOTFOUND || rc == OCTO_EUNSUPPORTED ||
                    rc == OCTO_ETOOBIG);
        OCTO_ASSERT(why[0] != 0);
    }
    octo_gguf_deinit(&g);
    octo_buf_deinit(&file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_ready)
        setup();
    if (size >= 2 && data[0] == 0xFF && data[1] == 'V') {
        vocab_mode(data, size);
        return 0;
    }
    if (size > INPUT_MAX)
        size = INPUT_MAX;
    const char *text = (const char *)data;
    for (size_t i = 0; i < N_VOCABS; i++) {
        check(&g_vocabs[i], text, size, false, false);
        check(&g_vocabs[i], text, size, false, true);
        check_ids(&g_vocabs[i].t, data, size, i % 2 == 0);
    }
    check(&g_vocabs[0], text, size, true, false);
    return 0;
}
