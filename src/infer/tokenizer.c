/*
 * tokenizer.c — SPM and byte-level BPE tokenizers from GGUF metadata (see tokenizer.h for the
 * contracts). The behaviour reproduces llama.cpp's src/llama-vocab.cpp and src/unicode.cpp
 * (read for facts; nothing is copied):
 *
 *   Special tokens. Tokens typed CONTROL, USER_DEFINED or UNKNOWN are cut out of the text
 *   first, longest text first (ties: lower id first; llama.cpp's std::sort leaves ties
 *   unordered), each one's every occurrence in every remaining raw fragment, honouring the
 *   RSTRIP attribute (set for Phi-3 vocabularies by general.name, as llama.cpp does; nothing
 *   here sets llama.cpp's LSTRIP).
 *   Without parse_special, CONTROL and UNKNOWN tokens are left as text but USER_DEFINED ones
 *   are still cut out. Texts llama.cpp recognises as end-of-turn / FIM / end-of-generation
 *   markers get the CONTROL attribute as there.
 *
 *   How the cutting is done (same result as llama.cpp's one pass per special token, without
 *   its cost of a pass over the text per special token). The raw fragments are always the
 *   maximal runs of text bytes not yet cut or stripped, kept as a bitmap of used bytes; a pass
 *   for token k takes its occurrences left to right, each one lying wholly in unused bytes, and
 *   marks it (and the whitespace its RSTRIP removes) used — exactly what the per-
 *   fragment leftmost search does. An Aho-Corasick automaton over the special texts (built at
 *   init) first finds which special tokens occur in the text at all, in one pass: usually none,
 *   and then the text is one fragment. Otherwise a second pass lists every occurrence of those,
 *   bucketed per token, and the passes run in priority order over the lists: O(text +
 *   occurrences). Only vocabularies whose special texts nest deeply (runs of whitespace) can
 *   make the list long; past a ceiling (2 per text byte) each occurring token's pass searches
 *   the remaining unused runs with memmem instead, which needs no list.
 *
 *   SPM. Each raw fragment gets a leading space when add_space_prefix is set and the fragment
 *   starts the text or follows a special token; spaces become "▁". Symbols are UTF-8 lead-byte
 *   lengths (invalid bytes included, as in llama.cpp); adjacent pairs whose concatenation is a
 *   token go into a max-heap on (score, then leftmost); merging repeats until the heap is empty.
 *   A final symbol that is not a token is emitted as <0xNN> byte tokens (the 1-byte token if
 *   there is no <0xNN>); a byte with neither is OCTO_ENOTFOUND, where llama.cpp throws (its
 *   byte_to_token does not fall back to <unk>).
 *
 *   BPE. The fragment is split by the pre-tokenizer patterns (PCRE2, applied in sequence, each
 *   match and each unmatched gap becoming a word, as llama.cpp's splitter does). Each word's
 *   bytes map to GPT-2's printable code points; a symbol is one byte and carries its token id;
 *   merges are looked up by the (left id, right id) pair and applied lowest rank (then
 *   leftmost) first. With ignore_merges (llama3) a word that is itself a token is emitted
 *   whole. A final symbol that is not a token falls back to the tokens of its single bytes.
 *
 * Pre-tokenizer patterns and llama.cpp's engine. llama.cpp runs hand-written matchers for the
 * gpt2, llama3 and qwen2 expressions and std::regex over a "collapsed" text for the others.
 * We use the published expressions with PCRE2 (UTF, UCP, MATCH_INVALID_UTF, JIT when
 * available), with these deliberate adaptations:
 *   - \s is spelled out as llama.cpp's whitespace set (9-13, 0x20, 0x85, 0xA0, 0x1680,
 *     0x2000-0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000): PCRE2 10.42's \s lacks U+0085;
 *   - the gpt2 expression gets llama.cpp's implicit trailing "|\s+" (its matcher has it; the
 *     split is the same either way since gaps become words);
 *   - (?i:'s|...) is written with explicit [sS] classes as llama.cpp's adapted form is;
 *   - \p{L}, \p{N}, \p{P} come from PCRE2's Unicode tables, llama.cpp's from its generated
 *     unicode-data.cpp: code points assigned in different Unicode versions may classify
 *     differently (none in the test corpora);
 *   - invalid UTF-8: llama.cpp decodes each invalid byte to U+FFFD and re-encodes it, so its
 *     BPE output cannot be decoded back to the input; we keep the raw bytes (PCRE2 skips them,
 *     so runs of invalid bytes become their own words) and decode(encode(x)) == x holds for
 *     every byte string. Valid UTF-8 is split exactly as llama.cpp splits it.
 *   - Code points above U+10FFFF (F4 90.. F7 lead bytes), on which llama.cpp throws, are
 *     invalid UTF-8 here and handled as above.
 *
 * Other deviations, all on malformed input where llama.cpp only warns or aborts: special ids
 * out of range, score/type arrays whose length differs from the vocabulary, merges that do not
 * name two known tokens are rejected at init. When several texts qualify as the end-of-turn
 * (or a FIM) token, the first in llama.cpp's list order wins ("<|eot_id|>" before
 * "<|im_end|>" before "<|endoftext|>"...); llama.cpp takes whichever its hash map yields first.
 * When several tokens share a text, llama.cpp's token_to_id keeps the last, but its special
 * list holds all of them and cuts the text as whichever its sort put first; here the text
 * names one id everywhere (the last, unless that would let an ordinary token displace a
 * special one) and only that id is in the special list.
 *
 * Tables and hostile vocabularies. text -> id is an open-addressing table at most a quarter
 * full, indexed by FNV-1a with a 64-bit finaliser; no key is stored more than
 * OCTO_TOK_PROBE_MAX slots from its home slot (a vocabulary that would need it is rejected),
 * so every insert and lookup is O(OCTO_TOK_PROBE_MAX) even when the texts were chosen to
 * collide. The merges are kept per left id, sorted by right id (binary search): no hashing.
 *
 * Scratch. Every array an encode call grows has a ceiling derived from the text length and
 * they all draw on one byte budget (OCTO_TOK_SCRATCH_MAX).
 *
 * PCRE2. Version 10.34 or later (PCRE2_MATCH_INVALID_UTF). Each match runs with match, depth
 * and heap limits proportional to the text: the patterns backtrack at most over the run of
 * whitespace they start on, so a linear budget is ample; hitting a limit is OCTO_ETOOBIG, a
 * memory failure OCTO_ENOMEM, any other PCRE2 error OCTO_EUNSUPPORTED.
 */
#define _GNU_SOURCE /* memmem */
#include "infer/tokenizer.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/hex.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#if PCRE2_MAJOR < 10 || (PCRE2_MAJOR == 10 && PCRE2_MINOR < 34)
#error "PCRE2 10.34 or later is required (PCRE2_MATCH_INVALID_UTF)"
#endif

_Static_assert(OCTO_TOK_VOCAB_MAX <= INT32_MAX / 2, "ids fit int32 with room");
_Static_assert(OCTO_TOK_TEXT_MAX <= UINT32_MAX / 4, "offsets fit uint32");
_Static_assert(OCTO_TOK_VOCAB_MAX <= SIZE_MAX / 16, "the text table size fits");
_Static_assert(OCTO_TOK_PIECE_MAX >= OCTO_TOK_TOKEN_MAX + 32, "a piece holds any token text");

struct octo_tok_merge {
    uint32_t right;
    uint32_t rank;
    int32_t result; /* id of left+right, or -1 */
};

/* ---- errors ---- */

/* Writes s[0..n) into out (size >= 4 bytes, NUL-terminated) for a reason: printable ASCII as
 * is, every other byte (and '\\', '\'') as \xNN; at most 48 input bytes, then "...". */
static void escape_name(const char *s, size_t n, char *out, size_t size)
{
    OCTO_ASSERT(size >= 4);
    size_t k = 0;
    for (size_t i = 0; i < n && i < 48; i++) {
        uint8_t c = (uint8_t)s[i];
        bool plain = c >= 0x20 && c < 0x7F && c != '\\' && c != '\'';
        size_t need = plain ? 1 : 4;
        if (k + need + 4 > size)
            break;
        if (plain)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, size - k, "\\x%02x", c);
    }
    if (n > 48 && k + 4 <= size) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = 0;
}

/* ---- hashing ---- */

static uint64_t fnv_step(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The hash of the text a[0..na) + b[0..nb). */
static uint64_t text_hash2(const char *a, size_t na, const char *b, size_t nb)
{
    return mix64(fnv_step(fnv_step(0xcbf29ce484222325ull, a, na), b, nb));
}

uint64_t octo_tok_text_hash(const char *s, size_t n)
{
    OCTO_ASSERT(s != NULL || n == 0);
    return text_hash2(s, n, NULL, 0);
}

/* Smallest power of two >= want (want <= 2^31). */
static size_t pow2_at_least(size_t want)
{
    size_t n = 16;
    while (n < want)
        n *= 2;
    return n;
}

/* ---- text -> id ---- */

/* Id of the token spelled a[0..na) + b[0..nb), or -1. Every stored text lies within
 * OCTO_TOK_PROBE_MAX slots of its home slot, so the search stops there. */
static int32_t find_text2(const struct octo_tok *t, const char *a, size_t na, const char *b,
                          size_t nb)
{
    size_t i = (size_t)text_hash2(a, na, b, nb) & t->text_mask;
    for (uint32_t d = 0; d < OCTO_TOK_PROBE_MAX; d++) {
        uint32_t v = t->text_slots[i];
        if (v == 0)
            return -1;
        const struct octo_tok_entry *e = &t->tokens[v - 1];
        if (e->len == na + nb && memcmp(e->text, a, na) == 0 &&
            (nb == 0 || memcmp(e->text + na, b, nb) == 0))
            return (int32_t)(v - 1);
        i = (i + 1) & t->text_mask;
    }
    return -1;
}

static int32_t find_text(const struct octo_tok *t, const char *s, size_t n)
{
    return find_text2(t, s, n, NULL, 0);
}

static bool is_special_attr(uint16_t attr)
{
    return (attr & (OCTO_TOK_ATTR_CONTROL | OCTO_TOK_ATTR_USER_DEFINED | OCTO_TOK_ATTR_UNKNOWN)) !=
           0;
}

/* Inserts id under its text. A later duplicate text replaces the earlier id (llama.cpp's
 * token_to_id[word] = i) unless the earlier one is special and the later one is not.
 * OCTO_EMALFORMED when the text would sit more than OCTO_TOK_PROBE_MAX slots from home (the
 * table is at most a quarter full, so only texts chosen to collide get there). */
static int text_insert(struct octo_tok *t, uint32_t id)
{
    const struct octo_tok_entry *e = &t->tokens[id];
    size_t i = (size_t)text_hash2(e->text, e->len, NULL, 0) & t->text_mask;
    for (uint32_t d = 0; d < OCTO_TOK_PROBE_MAX; d++) {
        uint32_t v = t->text_slots[i];
        if (v == 0) {
            t->text_slots[i] = id + 1;
            return 0;
        }
        const struct octo_tok_entry *o = &t->tokens[v - 1];
        if (o->len == e->len && memcmp(o->text, e->text, e->len) == 0) {
            if (!is_special_attr(o->attr) || is_special_attr(e->attr))
                t->text_slots[i] = id + 1;
            return 0;
        }
        i = (i + 1) & t->text_mask;
    }
    return OCTO_EMALFORMED;
}

/* ---- merges ---- */

/* The rule merging left id l with right id r (binary search in l's row), or NULL. */
static const struct octo_tok_merge *merge_find(const struct octo_tok *t, uint32_t l, uint32_t r)
{
    OCTO_DASSERT(l < t->n_vocab);
    uint32_t lo = t->merge_row[l], hi = t->merge_row[l + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t v = t->merges[mid].right;
        if (v == r)
            return &t->merges[mid];
        if (v < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- GPT-2 byte <-> code point mapping ---- */

/* Bytes 0x21-0x7E, 0xA1-0xAC, 0xAE-0xFF stand for themselves; the other 68 map in order to
 * U+0100.. U+0143. */
static uint32_t gpt2_byte_cp(uint8_t b)
{
    if (b <= 0x20)
        return 0x100u + b;
    if (b >= 0x7F && b <= 0xA0)
        return 0x100u + 33u + (uint32_t)(b - 0x7F);
    if (b == 0xAD)
        return 0x100u + 67u;
    return b;
}

/* The byte a code point stands for, or -1. */
static int gpt2_cp_byte(uint32_t cp)
{
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp >= 0x100 && cp < 0x100 + 33)
        return (int)(cp - 0x100);
    if (cp >= 0x100 + 33 && cp < 0x100 + 67)
        return (int)(0x7F + (cp - 0x100 - 33));
    if (cp == 0x100 + 67)
        return 0xAD;
    return -1;
}

/* UTF-8 of a code point <= 0x10FFFF into out (4 bytes); returns the length. */
static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* t->gpt2_text/gpt2_len: the mapped UTF-8 of every byte (1 or 2 bytes each). */
static void gpt2_map_build(struct octo_tok *t)
{
    for (unsigned b = 0; b < 256; b++) {
        char tmp[4];
        size_t n = utf8_put(gpt2_byte_cp((uint8_t)b), tmp);
        OCTO_ASSERT(n <= 2);
        memcpy(t->gpt2_text[b], tmp, n);
        t->gpt2_len[b] = (uint8_t)n;
    }
}

/* llama.cpp's lenient decoder: the code point at p[0..n) and its length; an invalid sequence
 * is U+FFFD of length 1. Code points above U+10FFFF are reported as-is. */
static uint32_t utf8_get_lenient(const uint8_t *p, size_t n, size_t *len)
{
    uint8_t b = p[0];
    *len = 1;
    if (b < 0x80)
        return b;
    if ((b & 0x40) == 0)
        return 0xFFFD;
    size_t need = (b & 0x20) == 0 ? 2 : (b & 0x10) == 0 ? 3 : (b & 0x08) == 0 ? 4 : 0;
    if (need == 0 || n < need)
        return 0xFFFD;
    for (size_t i = 1; i < need; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0xFFFD;
    uint32_t cp = need == 2 ? (b & 0x1Fu) : need == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (size_t i = 1; i < need; i++)
        cp = (cp << 6) | (p[i] & 0x3Fu);
    *len = need;
    return cp;
}

/* Bytes of the UTF-8 sequence a lead byte announces (llama.cpp's unicode_len_utf8). */
static size_t utf8_lead_len(uint8_t b)
{
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[b >> 4];
}

/* ---- pre-tokenizer patterns ---- */

#define WS                                                                                         \
    "\\t-\\r\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"          \
    "\\x{205f}\\x{3000}"
#define SP "[" WS "]"
#define NSP "[^" WS "]"
#define CONTRACTIONS_CI "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

static const char re_gpt2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS
                              "\\p{L}\\p{N}]+|" SP "+(?!" NSP ")|" SP "+";
static const char re_llama3[] =
    CONTRACTIONS_CI "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^" WS
                    "\\p{L}\\p{N}]+[\\r\\n]*|" SP "*[\\r\\n]+|" SP "+(?!" NSP ")|" SP "+";
static const char re_qwen2[] =
    CONTRACTIONS_CI "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*|" SP
                    "*[\\r\\n]+|" SP "+(?!" NSP ")|" SP "+";
static const char re_default_punct[] = "[\\p{P}$+<=>^~|]+";
static const char re_default_digits[] = "\\p{N}+";
static const char re_default_three[] = "[0-9][0-9][0-9]";

static void *pcre_alloc(size_t size, void *ctx)
{
    (void)ctx;
    return octo_malloc(size);
}

static void pcre_dealloc(void *p, void *ctx)
{
    (void)ctx;
    octo_free(p);
}

static int regex_add(struct octo_tok *t, const char *pattern, char *reason, size_t rsize)
{
    OCTO_ASSERT(t->n_re < OCTO_TOK_REGEX_MAX);
    pcre2_compile_context *cctx = pcre2_compile_context_create(t->re_gctx);
    if (cctx == NULL)
        return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory compiling a pattern");
    int err = 0;
    PCRE2_SIZE err_off = 0;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_off, cctx);
    pcre2_compile_context_free(cctx);
    if (code == NULL) {
        if (err == PCRE2_ERROR_HEAP_FAILED || err == PCRE2_ERROR_NOMEMORY)
            return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory compiling a pattern");
        /* Our own patterns compile on every PCRE2 >= 10.34 built with Unicode support; a
         * library built otherwise says so here. */
        PCRE2_UCHAR msg[120];
        if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
            msg[0] = 0;
        return octo_err_reason(reason, rsize, OCTO_EUNSUPPORTED,
                               "this PCRE2 library cannot compile the pre-tokenizer pattern: %s",
                               (const char *)msg);
    }
    /* JIT is an optimisation: without it (unsupported CPU, no executable memory) the
     * interpreter gives the same matches. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    t->re[t->n_re++] = code;
    return 0;
}

static int regex_setup(struct octo_tok *t, char *reason, size_t rsize)
{
    uint32_t unicode = 0;
    if (t->pre != OCTO_TOK_PRE_NONE &&
        (pcre2_config(PCRE2_CONFIG_UNICODE, &unicode) < 0 || unicode == 0))
        return octo_err_reason(reason, rsize, OCTO_EUNSUPPORTED,
                               "the PCRE2 library was built without Unicode support");
    t->re_gctx = pcre2_general_context_create(pcre_alloc, pcre_dealloc, NULL);
    if (t->re_gctx == NULL)
        return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory");
    const char *list[OCTO_TOK_REGEX_MAX];
    size_t n = 0;
    switch (t->pre) {
    case OCTO_TOK_PRE_DEFAULT:
        list[n++] = re_default_punct;
        list[n++] = re_gpt2;
        list[n++] = re_default_digits;
        list[n++] = re_default_three;
        break;
    case OCTO_TOK_PRE_GPT2:
        list[n++] = re_gpt2;
        break;
    case OCTO_TOK_PRE_LLAMA3:
        list[n++] = re_llama3;
        break;
    case OCTO_TOK_PRE_QWEN2:
        list[n++] = re_qwen2;
        break;
    case OCTO_TOK_PRE_NONE:
        break;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = regex_add(t, list[i], reason, rsize);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- metadata helpers ---- */

/* Reads an optional token id key into *id; absent keeps *id. */
static int read_id(const struct octo_tok *t, const struct octo_gguf *g, const char *key,
                   int32_t *id, char *reason, size_t rsize)
{
    uint32_t v;
    int rc = octo_gguf_get_u32(g, key, &v);
    if (rc == OCTO_ENOTFOUND)
        return 0;
    if (rc < 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED, "%s is not a u32 token id", key);
    if (v >= t->n_vocab)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "%s = %u is outside the vocabulary (%u)", key, v, t->n_vocab);
    *id = (int32_t)v;
    return 0;
}

static int read_bool(const struct octo_gguf *g, const char *key, bool *out, char *reason,
                     size_t rsize)
{
    int rc = octo_gguf_get_bool(g, key, out);
    if (rc == OCTO_ENOTFOUND)
        return 0;
    if (rc < 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED, "%s is not a bool", key);
    return 0;
}

static bool str_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* An optional array key of elem_type with exactly n elements; *arr = NULL when absent. A
 * second accepted element type may be given (or the same twice). */
static int read_array(const struct octo_gguf *g, const char *key, uint32_t type_a, uint32_t type_b,
                      uint64_t n, const struct octo_gguf_value **arr, char *reason, size_t rsize)
{
    *arr = NULL;
    int rc = octo_gguf_get_array(g, key, arr);
    if (rc == OCTO_ENOTFOUND)
        return 0;
    if (rc < 0 || ((*arr)->elem_type != type_a && (*arr)->elem_type != type_b))
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED, "%s has the wrong type", key);
    if ((*arr)->count != n)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "%s has %llu entries for %llu tokens", key,
                               (unsigned long long)(*arr)->count, (unsigned long long)n);
    return 0;
}

/* llama.cpp's LLAMA_TOKEN_TYPE -> attribute. */
static uint16_t type_attr(int32_t type)
{
    switch (type) {
    case 1:
        return OCTO_TOK_ATTR_NORMAL;
    case 2:
        return OCTO_TOK_ATTR_UNKNOWN;
    case 3:
        return OCTO_TOK_ATTR_CONTROL;
    case 4:
        return OCTO_TOK_ATTR_USER_DEFINED;
    case 5:
        return OCTO_TOK_ATTR_UNUSED;
    case 6:
        return OCTO_TOK_ATTR_BYTE;
    default:
        return OCTO_TOK_ATTR_UNDEFINED;
    }
}

/* ---- init: tokens ---- */

static int load_tokens(struct octo_tok *t, const struct octo_gguf *g, char *reason, size_t rsize)
{
    const struct octo_gguf_value *toks;
    int rc = octo_gguf_get_array(g, "tokenizer.ggml.tokens", &toks);
    if (rc == OCTO_ENOTFOUND)
        return octo_err_reason(reason, rsize, rc, "tokenizer.ggml.tokens is missing");
    if (rc < 0 || toks->elem_type != OCTO_GGUF_STRING)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "tokenizer.ggml.tokens is not a string array");
    if (toks->count == 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED, "the vocabulary is empty");
    if (toks->count > OCTO_TOK_VOCAB_MAX)
        return octo_err_reason(reason, rsize, OCTO_ETOOBIG, "%llu tokens exceed the limit of %u",
                               (unsigned long long)toks->count, OCTO_TOK_VOCAB_MAX);
    t->n_vocab = (uint32_t)toks->count;

    const struct octo_gguf_value *scores, *types;
    rc = read_array(g, "tokenizer.ggml.scores", OCTO_GGUF_F32, OCTO_GGUF_I32, t->n_vocab, &scores,
                    reason, rsize);
    if (rc < 0)
        return rc;
    rc = read_array(g, "tokenizer.ggml.token_type", OCTO_GGUF_I32, OCTO_GGUF_I32, t->n_vocab,
                    &types, reason, rsize);
    if (rc < 0)
        return rc;

    t->tokens = octo_calloc(t->n_vocab, sizeof(*t->tokens));
    if (t->tokens == NULL)
        return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        struct octo_tok_entry *e = &t->tokens[i];
        struct octo_gguf_value v;
        rc = octo_gguf_array_get(toks, i, &v);
        OCTO_ASSERT(rc == 0);
        if (v.len > OCTO_TOK_TOKEN_MAX)
            return octo_err_reason(reason, rsize, OCTO_ETOOBIG, "token %u is %llu bytes (limit %u)",
                                   i, (unsigned long long)v.len, OCTO_TOK_TOKEN_MAX);
        e->text = (const char *)v.data;
        e->len = (uint32_t)v.len;
        if (e->len == 0) {
            char name[32];
            int k = snprintf(name, sizeof(name), "[EMPTY_%u]", i);
            OCTO_ASSERT(k > 0 && (size_t)k < sizeof(name));
            e->text = octo_arena_memdup(&t->arena, name, (size_t)k);
            if (e->text == NULL)
                return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory");
            e->len = (uint32_t)k;
        }
        e->score = 0.0f;
        if (scores != NULL) {
            if (scores->elem_type == OCTO_GGUF_F32) {
                memcpy(&e->score, scores->data + (size_t)i * 4, 4);
            } else {
                int32_t s;
                memcpy(&s, scores->data + (size_t)i * 4, 4);
                e->score = (float)s;
            }
            if (isnan(e->score))
                return octo_err_reason(reason, rsize, OCTO_EMALFORMED, "token %u has a NaN score",
                                       i);
        }
        e->attr = OCTO_TOK_ATTR_NORMAL;
        if (types != NULL) {
            int32_t ty;
            memcpy(&ty, types->data + (size_t)i * 4, 4);
            e->attr = type_attr(ty);
        }
        if (e->attr & OCTO_TOK_ATTR_BYTE) {
            if (e->len != 6 || memcmp(e->text, "<0x", 3) != 0 || e->text[5] != '>' ||
                octo_hex_decode(e->text + 3, 2, &e->byte, 1) != 1)
                return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                                       "byte token %u is not spelled <0xNN>", i);
        }
    }

    /* At most a quarter full: see OCTO_TOK_PROBE_MAX. */
    size_t slots = pow2_at_least((size_t)t->n_vocab * 4);
    t->text_slots = octo_calloc(slots, sizeof(*t->text_slots));
    if (t->text_slots == NULL)
        return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory");
    t->text_mask = slots - 1;
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        if (text_insert(t, i) < 0)
            return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                                   "token %u's text collides with %u others in the text hash "
                                   "(a crafted vocabulary?)",
                                   i, OCTO_TOK_PROBE_MAX);
    }
    return 0;
}

/* ---- init: merges ---- */

/* One parsed rule before sorting. */
struct merge_in {
    uint32_t left, right, rank;
    int32_t result;
};

static int cmp_merge_row(const void *a, const void *b)
{
    const struct octo_tok_merge *x = a, *y = b;
    if (x->right != y->right)
        return x->right < y->right ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Parses every rule into in[] (rank = position), counting each left id's rules in
 * t->merge_row[left + 1]. */
static int merges_parse(struct octo_tok *t, const struct octo_gguf_value *arr, struct merge_in *in,
                        char *reason, size_t rsize)
{
    for (uint32_t i = 0; i < t->n_merges; i++) {
        struct octo_gguf_value v;
        int rc = octo_gguf_array_get(arr, i, &v);
        OCTO_ASSERT(rc == 0);
        const char *s = (const char *)v.data;
        size_t n = (size_t)v.len;
        /* llama.cpp splits at the first space after the first byte. */
        const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;
        if (sp == NULL || (size_t)(sp - s) + 1 >= n)
            return octo_err_reason(reason, rsize, OCTO_EMALFORMED, "merge %u is not \"left right\"",
                                   i);
        size_t nl = (size_t)(sp - s), nr = n - nl - 1;
        int32_t l = find_text(t, s, nl);
        int32_t r = find_text(t, sp + 1, nr);
        if (l < 0 || r < 0)
            return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                                   "merge %u names an unknown token", i);
        in[i] = (struct merge_in){(uint32_t)l, (uint32_t)r, i, find_text2(t, s, nl, sp + 1, nr)};
        t->merge_row[l + 1]++;
    }
    return 0;
}

/* Lays the parsed rules out per left id (counting sort), sorts each row by right id and keeps
 * the first rank of a duplicate pair (llama.cpp's emplace). */
static void merges_build(struct octo_tok *t, const struct merge_in *in)
{
    for (uint32_t l = 0; l < t->n_vocab; l++)
        t->merge_row[l + 1] += t->merge_row[l];
    /* merge_row[l] is now the start of row l; fill moves it to the row's end. */
    for (uint32_t i = 0; i < t->n_merges; i++) {
        uint32_t *at = &t->merge_row[in[i].left];
        t->merges[*at] = (struct octo_tok_merge){in[i].right, in[i].rank, in[i].result};
        (*at)++;
    }
    uint32_t start = 0, out = 0;
    for (uint32_t l = 0; l < t->n_vocab; l++) {
        uint32_t end = t->merge_row[l];
        if (end - start > 1)
            qsort(t->merges + start, end - start, sizeof(*t->merges), cmp_merge_row);
        t->merge_row[l] = out;
        for (uint32_t k = start; k < end; k++)
            if (k == start || t->merges[k].right != t->merges[k - 1].right)
                t->merges[out++] = t->merges[k];
        start = end;
    }
    t->merge_row[t->n_vocab] = out;
}

static int load_merges(struct octo_tok *t, const struct octo_gguf *g, char *reason, size_t rsize)
{
    const struct octo_gguf_value *arr;
    int rc = octo_gguf_get_array(g, "tokenizer.ggml.merges", &arr);
    if (rc == OCTO_ENOTFOUND)
        return octo_err_reason(reason, rsize, rc,
                               "tokenizer.ggml.merges is missing (required for BPE)");
    if (rc < 0 || arr->elem_type != OCTO_GGUF_STRING)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "tokenizer.ggml.merges is not a string array");
    if (arr->count > OCTO_TOK_MERGES_MAX)
        return octo_err_reason(reason, rsize, OCTO_ETOOBIG, "%llu merges exceed the limit of %u",
                               (unsigned long long)arr->count, OCTO_TOK_MERGES_MAX);
    t->n_merges = (uint32_t)arr->count;
    t->merge_row = octo_calloc((size_t)t->n_vocab + 1, sizeof(*t->merge_row));
    t->merges = octo_malloc(((size_t)t->n_merges + 1) * sizeof(*t->merges));
    struct merge_in *in = octo_malloc(((size_t)t->n_merges + 1) * sizeof(*in));
    if (t->merge_row == NULL || t->merges == NULL || in == NULL) {
        octo_free(in);
        return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory");
    }
    rc = merges_parse(t, arr, in, reason, rsize);
    if (rc == 0)
        merges_build(t, in);
    octo_free(in);
    return rc;
}

/* ---- init: model, pre-tokenizer, flags, special ids ---- */

static int load_model(struct octo_tok *t, const struct octo_gguf *g, char *reason, size_t rsize)
{
    const char *s;
    size_t n;
    int rc = octo_gguf_get_str(g, "tokenizer.ggml.model", &s, &n);
    if (rc == OCTO_ENOTFOUND)
        return octo_err_reason(reason, rsize, rc, "tokenizer.ggml.model is missing");
    if (rc < 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "tokenizer.ggml.model is not a string");
    if (str_is(s, n, "llama")) {
        t->model = OCTO_TOK_SPM;
    } else if (str_is(s, n, "gpt2")) {
        t->model = OCTO_TOK_BPE;
    } else {
        char name[OCTO_TOK_REASON_MAX];
        escape_name(s, n, name, sizeof(name));
        return octo_err_reason(reason, rsize, OCTO_EUNSUPPORTED,
                               "tokenizer model '%s' is not supported (only llama and gpt2)", name);
    }
    if (t->model == OCTO_TOK_SPM) {
        t->pre = OCTO_TOK_PRE_NONE;
        return 0;
    }
    rc = octo_gguf_get_str(g, "tokenizer.ggml.pre", &s, &n);
    if (rc == OCTO_ENOTFOUND) {
        t->pre = OCTO_TOK_PRE_DEFAULT;
        return 0;
    }
    if (rc < 0)
        return octo_err_reason(reason, rsize, OCTO_EMALFORMED,
                               "tokenizer.ggml.pre is not a string");
    if (n == 0 || str_is(s, n, "default")) {
        t->pre = OCTO_TOK_PRE_DEFAULT;
    } else if (str_is(s, n, "gpt-2") || str_is(s, n, "gpt2")) {
        t->pre = OCTO_TOK_PRE_GPT2;
    } else if (str_is(s, n, "llama3") || str_is(s, n, "llama-v3") || str_is(s, n, "llama-bpe")) {
        t->pre = OCTO_TOK_PRE_LLAMA3;
    } else if (str_is(s, n, "qwen2") || str_is(s, n, "deepseek-r1-qwen")) {
        t->pre = OCTO_TOK_PRE_QWEN2;
    } else {
        char name[OCTO_TOK_REASON_MAX];
        escape_name(s, n, name, sizeof(name));
        return octo_err_reason(
            reason, rsize, OCTO_EUNSUPPORTED,
            "pre-tokenizer '%s' is not supported (default, gpt-2, llama3/llama-bpe, "
            "qwen2)",
            name);
    }
    return 0;
}

static int load_flags(struct octo_tok *t, const struct octo_gguf *g, char *reason, size_t rsize)
{
    int32_t nv = (int32_t)t->n_vocab;
    if (t->model == OCTO_TOK_SPM) {
        t->bos = 1;
        t->eos = 2;
        t->add_bos = true;
        t->add_space_prefix = true;
    } else {
        t->bos = 11;
        t->eos = 11;
        t->add_bos = t->pre == OCTO_TOK_PRE_LLAMA3;
        t->ignore_merges = t->pre == OCTO_TOK_PRE_LLAMA3;
        t->add_space_prefix = false;
    }
    /* A default outside the vocabulary is disabled, as in llama.cpp. */
    if (t->bos >= nv)
        t->bos = -1;
    if (t->eos >= nv)
        t->eos = -1;
    t->eot = t->eom = -1;
    t->add_eos = false;
    int32_t unk = -1, pad = -1; /* only checked: nothing here uses them */

    struct {
        const char *key;
        int32_t *id;
    } ids[] = {
        {"tokenizer.ggml.bos_token_id", &t->bos},  {"tokenizer.ggml.eos_token_id", &t->eos},
        {"tokenizer.ggml.eot_token_id", &t->eot},  {"tokenizer.ggml.eom_token_id", &t->eom},
        {"tokenizer.ggml.unknown_token_id", &unk}, {"tokenizer.ggml.padding_token_id", &pad},
    };
    for (size_t i = 0; i < OCTO_ARRAY_LEN(ids); i++) {
        int rc = read_id(t, g, ids[i].key, ids[i].id, reason, rsize);
        if (rc < 0)
            return rc;
    }
    int rc = read_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix, reason, rsize);
    if (rc == 0)
        rc = read_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos, reason, rsize);
    if (rc == 0)
        rc = read_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos, reason, rsize);
    return rc;
}

static void load_byte_tables(struct octo_tok *t)
{
    gpt2_map_build(t);
    for (unsigned b = 0; b < 256; b++) {
        char raw = (char)b;
        t->byte1_tok[b] = find_text(t, &raw, 1);
        if (t->model == OCTO_TOK_SPM) {
            char hex[7];
            snprintf(hex, sizeof(hex), "<0x%02X>", b);
            int32_t id = find_text(t, hex, 6);
            t->byte_tok[b] = id >= 0 ? id : t->byte1_tok[b];
        } else {
            t->byte_tok[b] = find_text(t, t->gpt2_text[b], t->gpt2_len[b]);
        }
    }
}

/* ---- init: special-token attributes (llama.cpp's text-based detection) ---- */

static const char *const eot_texts[] = {"<|eot_id|>",
                                        "<|im_end|>",
                                        "<|end|>",
                                        "<end_of_turn>",
                                        "<|endoftext|>",
                                        "<|end_of_text|>",
                                        "<EOT>",
                                        "_<EOT>",
                                        "[EOT]",
                                        "<\xef\xbd\x9c"
                                        "end\xe2\x96\x81"
                                        "of\xe2\x96\x81"
                                        "sentence\xef\xbd\x9c>",
                                        "<end_of_utterance>",
                                        NULL};
static const char *const eom_texts[] = {"<|eom_id|>", NULL};
static const char *const fim_pre_texts[] = {"<|fim_prefix|>",
                                            "<fim-prefix>",
                                            "<fim_prefix>",
                                            "<\xef\xbd\x9c"
                                            "fim\xe2\x96\x81"
                                            "begin\xef\xbd\x9c>",
                                            "<PRE>",
                                            "\xe2\x96\x81<PRE>",
                                            "<|code_prefix|>",
                                            "<|prefix|>",
                                            NULL};
static const char *const fim_suf_texts[] = {"<|fim_suffix|>",
                                            "<fim-suffix>",
                                            "<fim_suffix>",
                                            "<\xef\xbd\x9c"
                                            "fim\xe2\x96\x81"
                                            "hole\xef\xbd\x9c>",
                                            "<SUF>",
                                            "\xe2\x96\x81<SUF>",
                                            "<|code_suffix|>",
                                            "<|suffix|>",
                                            NULL};
static const char *const fim_mid_texts[] = {"<|fim_middle|>",
                                            "<fim-middle>",
                                            "<fim_middle>",
                                            "<\xef\xbd\x9c"
                                            "fim\xe2\x96\x81"
                                            "end\xef\xbd\x9c>",
                                            "<MID>",
                                            "\xe2\x96\x81<MID>",
                                            "<|code_middle|>",
                                            "<|middle|>",
                                            NULL};
static const char *const fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>",
                                            "<PAD>",       "[PAD]",     NULL};
static const char *const fim_rep_texts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                            "<REPO>",       "<reponame>",    NULL};
static const char *const fim_sep_texts[] = {"<|file_sep|>", NULL};
static const char *const eog_texts[] = {"<|eot_id|>",
                                        "<|im_end|>",
                                        "<|end|>",
                                        "<|return|>",
                                        "<|call|>",
                                        "<|flush|>",
                                        "<|calls|>",
                                        "<end_of_turn>",
                                        "<|endoftext|>",
                                        "</s>",
                                        "<|eom_id|>",
                                        "<EOT>",
                                        "_<EOT>",
                                        "[EOT]",
                                        "[EOS]",
                                        "<|end_of_text|>",
                                        "<end_of_utterance>",
                                        "<eos>",
                                        "<turn|>",
                                        "<|tool_response>",
                                        "<\xef\xbd\x9c"
                                        "end\xe2\x96\x81"
                                        "of\xe2\x96\x81"
                                        "sentence\xef\xbd\x9c>",
                                        "[e~[",
                                        NULL};

/* The id of the first text of list the vocabulary has, or -1. */
static int32_t find_any(const struct octo_tok *t, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        int32_t id = find_text(t, list[i], strlen(list[i]));
        if (id >= 0)
            return id;
    }
    return -1;
}

/* Detects an id by text when no key gave one; the detected token becomes CONTROL. */
static int32_t detect(struct octo_tok *t, int32_t id, const char *const *list)
{
    if (id >= 0)
        return id;
    id = find_any(t, list);
    if (id >= 0)
        t->tokens[id].attr |= OCTO_TOK_ATTR_CONTROL;
    return id;
}

static int eog_add(struct octo_tok *t, int32_t id)
{
    if (id < 0)
        return 0;
    for (uint32_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == (uint32_t)id)
            return 0;
    uint32_t *grown = octo_realloc(t->eog, (t->n_eog + 1) * sizeof(*t->eog));
    if (grown == NULL)
        return OCTO_ENOMEM;
    t->eog = grown;
    t->eog[t->n_eog++] = (uint32_t)id;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Token id belongs in the special list: it is special and its text names it. */
static bool special_listed(const struct octo_tok *t, uint32_t id)
{
    const struct octo_tok_entry *e = &t->tokens[id];
    return is_special_attr(e->attr) && find_text(t, e->text, e->len) == (int32_t)id;
}

static int load_specials(struct octo_tok *t, const struct octo_gguf *g, char *reason, size_t rsize)
{
    int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
    struct {
        const char *key;
        int32_t *id;
    } keys[] = {
        {"tokenizer.ggml.fim_pre_token_id", &fim_pre},
        {"tokenizer.ggml.fim_suf_token_id", &fim_suf},
        {"tokenizer.ggml.fim_mid_token_id", &fim_mid},
        {"tokenizer.ggml.fim_pad_token_id", &fim_pad},
        {"tokenizer.ggml.fim_rep_token_id", &fim_rep},
        {"tokenizer.ggml.fim_sep_token_id", &fim_sep},
    };
    for (size_t i = 0; i < OCTO_ARRAY_LEN(keys); i++) {
        int rc = read_id(t, g, keys[i].key, keys[i].id, reason, rsize);
        if (rc < 0)
            return rc;
    }
    t->eot = detect(t, t->eot, eot_texts);
    t->eom = detect(t, t->eom, eom_texts);
    (void)detect(t, fim_pre, fim_pre_texts);
    (void)detect(t, fim_suf, fim_suf_texts);
    (void)detect(t, fim_mid, fim_mid_texts);
    fim_pad = detect(t, fim_pad, fim_pad_texts);
    fim_rep = detect(t, fim_rep, fim_rep_texts);
    fim_sep = detect(t, fim_sep, fim_sep_texts);

    int rc = eog_add(t, fim_pad);
    if (rc == 0)
        rc = eog_add(t, fim_rep);
    if (rc == 0)
        rc = eog_add(t, fim_sep);
    for (size_t i = 0; rc == 0 && eog_texts[i] != NULL; i++) {
        int32_t id = find_text(t, eog_texts[i], strlen(eog_texts[i]));
        if (id >= 0) {
            t->tokens[id].attr |= OCTO_TOK_ATTR_CONTROL;
            rc = eog_add(t, id);
        }
    }
    /* gpt-oss: these are always rendered. */
    static const char *const user_texts[] = {"<|channel|>", "<|message|>", "<|start|>",
                                             "<|constrain|>"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(user_texts); i++) {
        int32_t id = find_text(t, user_texts[i], strlen(user_texts[i]));
        if (id >= 0)
            t->tokens[id].attr = OCTO_TOK_ATTR_USER_DEFINED;
    }
    if (rc == 0)
        rc = eog_add(t, t->eos);
    if (rc == 0)
        rc = eog_add(t, t->eot);
    if (rc == 0)
        rc = eog_add(t, t->eom);
    if (rc < 0)
        return octo_err_reason(reason, rsize, rc, "out of memory");
    if (t->n_eog > 1)
        qsort(t->eog, t->n_eog, sizeof(*t->eog), cmp_u32);

    /* The special-token list, longest text first, then by id; a text shared by several tokens
     * is listed once, under the id the text names. */
    uint32_t count = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++)
        if (special_listed(t, i))
            count++;
    if (count > 0) {
        uint64_t *keyed = octo_malloc(count * sizeof(*keyed));
        t->special = octo_malloc(count * sizeof(*t->special));
        if (keyed == NULL || t->special == NULL) {
            octo_free(keyed);
            return octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory");
        }
        uint32_t k = 0;
        for (uint32_t i = 0; i < t->n_vocab; i++)
            if (special_listed(t, i))
                keyed[k++] = ((uint64_t)(UINT32_MAX - t->tokens[i].len) << 32) | i;
        qsort(keyed, count, sizeof(*keyed), cmp_u64);
        for (uint32_t i = 0; i < count; i++)
            t->special[i] = (uint32_t)keyed[i];
        octo_free(keyed);
        t->n_special = count;
    }

    /* Phi-3: every special token strips the whitespace after it, except these. */
    const char *name;
    size_t name_len;
    if (octo_gguf_get_str(g, "general.name", &name, &name_len) == 0) {
        char lower[256];
        size_t n = name_len < sizeof(lower) - 1 ? name_len : sizeof(lower) - 1;
        for (size_t i = 0; i < n; i++)
            lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
        lower[n] = 0;
        if (strstr(lower, "phi-3") != NULL || strstr(lower, "phi3") != NULL) {
            for (uint32_t i = 0; i < t->n_special; i++)
                t->tokens[t->special[i]].attr |= OCTO_TOK_ATTR_RSTRIP;
            int32_t id = find_text(t, "</s>", 4);
            if (id >= 0)
                t->tokens[id].attr |= OCTO_TOK_ATTR_RSTRIP;
            static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
            for (size_t i = 0; i < OCTO_ARRAY_LEN(keep); i++) {
                id = find_text(t, keep[i], strlen(keep[i]));
                if (id >= 0)
                    t->tokens[id].attr &= (uint16_t)~OCTO_TOK_ATTR_RSTRIP;
            }
        }
    }
    return 0;
}

/* ---- init: the special-text matcher (Aho-Corasick) ---- */

/* A trie over the special texts (node 0 is the root; a node's edges are sorted by byte) with
 * failure links (the longest proper suffix that is a node) and dictionary links (the nearest
 * node on the failure chain where a special text ends). Built once, read-only afterwards. */
struct octo_tok_matcher {
    uint32_t n_nodes;
    uint32_t *edge_start; /* [n_nodes + 1]: node -> its edges */
    uint8_t *edge_byte;   /* [n_nodes] */
    uint32_t *edge_child; /* [n_nodes] */
    uint32_t *fail;       /* [n_nodes] */
    uint32_t *dict;       /* [n_nodes] 0 = none */
    int32_t *out;         /* [n_nodes] the special-list index of the text ending here, or -1 */
    uint32_t root_next[256];
};

static void matcher_free(struct octo_tok_matcher *m)
{
    if (m == NULL)
        return;
    octo_free(m->edge_start);
    octo_free(m->edge_byte);
    octo_free(m->edge_child);
    octo_free(m->fail);
    octo_free(m->dict);
    octo_free(m->out);
    octo_free(m);
}

/* The child of node s along byte c, or 0. */
static uint32_t edge_find(const struct octo_tok_matcher *m, uint32_t s, uint8_t c)
{
    uint32_t lo = m->edge_start[s], hi = m->edge_start[s + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->edge_byte[mid] == c)
            return m->edge_child[mid];
        if (m->edge_byte[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The automaton's state after reading byte c in state s. */
static uint32_t matcher_next(const struct octo_tok_matcher *m, uint32_t s, uint8_t c)
{
    while (s != 0) {
        uint32_t v = edge_find(m, s, c);
        if (v != 0)
            return v;
        s = m->fail[s];
    }
    return m->root_next[c];
}

/* The first node at or below s on the suffix chain where a special text ends, or 0. */
static uint32_t matcher_first_out(const struct octo_tok_matcher *m, uint32_t s)
{
    return m->out[s] >= 0 ? s : m->dict[s];
}

struct sp_text {
    const char *s;
    uint32_t len;
    uint32_t index; /* in t->special */
};

static int cmp_sp_text(const void *a, const void *b)
{
    const struct sp_text *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Builds the trie from the texts sorted bytewise (a node's children are then created in byte
 * order, in preorder): parent[] and byte_of[] per node, out[] set. Returns the node count. */
static uint32_t trie_from_sorted(const struct sp_text *list, uint32_t n, uint32_t *parent,
                                 uint8_t *byte_of, int32_t *out)
{
    uint32_t path[OCTO_TOK_TOKEN_MAX + 1];
    uint32_t nodes = 1;
    out[0] = -1;
    path[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lcp = 0;
        if (i > 0) {
            uint32_t max = list[i - 1].len < list[i].len ? list[i - 1].len : list[i].len;
            while (lcp < max && list[i - 1].s[lcp] == list[i].s[lcp])
                lcp++;
            OCTO_ASSERT(lcp < list[i].len); /* distinct texts, prefixes first */
        }
        for (uint32_t d = lcp + 1; d <= list[i].len; d++) {
            parent[nodes] = path[d - 1];
            byte_of[nodes] = (uint8_t)list[i].s[d - 1];
            out[nodes] = -1;
            path[d] = nodes++;
        }
        out[path[list[i].len]] = (int32_t)list[i].index;
    }
    return nodes;
}

/* Edges from parent[] (counting sort by parent keeps each node's children in byte order), then
 * failure and dictionary links breadth first (queue: scratch of n_nodes entries). */
static void trie_link(struct octo_tok_matcher *m, const uint32_t *parent, const uint8_t *byte_of,
                      uint32_t *queue)
{
    uint32_t n = m->n_nodes;
    memset(m->edge_start, 0, ((size_t)n + 1) * sizeof(*m->edge_start));
    for (uint32_t v = 1; v < n; v++)
        m->edge_start[parent[v] + 1]++;
    for (uint32_t v = 0; v < n; v++)
        m->edge_start[v + 1] += m->edge_start[v];
    for (uint32_t v = 1; v < n; v++) {
        uint32_t at = m->edge_start[parent[v]] + queue[parent[v]]++;
        m->edge_byte[at] = byte_of[v];
        m->edge_child[at] = v;
    }
    memset(m->root_next, 0, sizeof(m->root_next));
    for (uint32_t e = m->edge_start[0]; e < m->edge_start[1]; e++)
        m->root_next[m->edge_byte[e]] = m->edge_child[e];
    m->fail[0] = 0;
    m->dict[0] = 0;
    uint32_t head = 0, tail = 0;
    queue[tail++] = 0;
    while (head < tail) {
        uint32_t u = queue[head++];
        for (uint32_t e = m->edge_start[u]; e < m->edge_start[u + 1]; e++) {
            uint32_t v = m->edge_child[e];
            m->fail[v] = u == 0 ? 0 : matcher_next(m, m->fail[u], m->edge_byte[e]);
            uint32_t f = m->fail[v];
            m->dict[v] = m->out[f] >= 0 ? f : m->dict[f];
            queue[tail++] = v;
        }
    }
}

/* Allocates the matcher's arrays for up to n nodes; NULL on OOM. */
static struct octo_tok_matcher *matcher_alloc(size_t n)
{
    struct octo_tok_matcher *m = octo_calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->edge_start = octo_malloc((n + 1) * sizeof(*m->edge_start));
    m->edge_byte = octo_malloc(n);
    m->edge_child = octo_malloc(n * sizeof(*m->edge_child));
    m->fail = octo_malloc(n * sizeof(*m->fail));
    m->dict = octo_malloc(n * sizeof(*m->dict));
    m->out = octo_malloc(n * sizeof(*m->out));
    if (m->edge_start == NULL || m->edge_byte == NULL || m->edge_child == NULL || m->fail == NULL ||
        m->dict == NULL || m->out == NULL) {
        matcher_free(m);
        return NULL;
    }
    return m;
}

/* Builds t->matcher over the special list (none when the list is empty). Nodes: at most one
 * per byte of the special texts, plus the root. */
static int matcher_build(struct octo_tok *t, char *reason, size_t rsize)
{
    if (t->n_special == 0)
        return 0;
    size_t total = 1;
    for (uint32_t k = 0; k < t->n_special; k++)
        total += t->tokens[t->special[k]].len;
    OCTO_ASSERT(total <= UINT32_MAX / 2);
    struct octo_tok_matcher *m = matcher_alloc(total);
    struct sp_text *list = octo_malloc(t->n_special * sizeof(*list));
    uint32_t *parent = octo_malloc(total * sizeof(*parent));
    uint32_t *queue = octo_calloc(total, sizeof(*queue));
    uint8_t *byte_of = octo_malloc(total);
    int rc = 0;
    if (m == NULL || list == NULL || parent == NULL || queue == NULL || byte_of == NULL) {
        matcher_free(m);
        rc = octo_err_reason(reason, rsize, OCTO_ENOMEM, "out of memory");
    } else {
        for (uint32_t k = 0; k < t->n_special; k++) {
            const struct octo_tok_entry *e = &t->tokens[t->special[k]];
            list[k] = (struct sp_text){e->text, e->len, k};
        }
        qsort(list, t->n_special, sizeof(*list), cmp_sp_text);
        m->n_nodes = trie_from_sorted(list, t->n_special, parent, byte_of, m->out);
        OCTO_ASSERT(m->n_nodes <= total);
        trie_link(m, parent, byte_of, queue);
        t->matcher = m;
    }
    octo_free(list);
    octo_free(parent);
    octo_free(queue);
    octo_free(byte_of);
    return rc;
}

int octo_tok_init(struct octo_tok *t, const struct octo_gguf *g, char *reason, size_t reason_size)
{
    memset(t, 0, sizeof(*t));
    octo_arena_init(&t->arena, 1024, 1u << 24);
    if (reason != NULL && reason_size > 0)
        reason[0] = 0;
    int rc = load_model(t, g, reason, reason_size);
    if (rc == 0)
        rc = load_tokens(t, g, reason, reason_size);
    if (rc == 0 && t->model == OCTO_TOK_BPE)
        rc = load_merges(t, g, reason, reason_size);
    if (rc == 0)
        rc = load_flags(t, g, reason, reason_size);
    if (rc == 0) {
        load_byte_tables(t);
        rc = load_specials(t, g, reason, reason_size);
    }
    if (rc == 0)
        rc = matcher_build(t, reason, reason_size);
    if (rc == 0)
        rc = regex_setup(t, reason, reason_size);
    if (rc < 0) {
        octo_tok_deinit(t);
        return rc;
    }
    return 0;
}

void octo_tok_deinit(struct octo_tok *t)
{
    for (uint32_t i = 0; i < t->n_re; i++)
        pcre2_code_free((pcre2_code *)t->re[i]);
    if (t->re_gctx != NULL)
        pcre2_general_context_free((pcre2_general_context *)t->re_gctx);
    octo_free(t->tokens);
    octo_free(t->text_slots);
    octo_free(t->merge_row);
    octo_free(t->merges);
    octo_free(t->special);
    octo_free(t->eog);
    matcher_free(t->matcher);
    octo_arena_deinit(&t->arena);
    memset(t, 0, sizeof(*t));
}

/* ======================================================================================== */
/* encode                                                                                   */
/* ======================================================================================== */

struct frag {
    uint32_t off;
    uint32_t len;
    int32_t id; /* >= 0: a special token; -1: raw text */
};

struct sym {
    uint32_t off; /* into the session text */
    uint32_t n;   /* bytes; 0 once merged into its left neighbour */
    int32_t prev, next;
    int32_t id; /* BPE: token of the symbol's text, or -1 */
};

/* A candidate merge of the adjacent symbols left and right. The heap pops the highest prio,
 * then the leftmost pair: SPM's prio is the merged token's score (a float), BPE's is -rank
 * (exact in a float: ranks are below OCTO_TOK_MERGES_MAX = 2^21 < 2^24), so SPM merges the best
 * score first and BPE the lowest rank first, leftmost on ties, as llama.cpp does. 20 bytes. */
_Static_assert(OCTO_TOK_MERGES_MAX <= (1u << 24), "BPE ranks must be exact as floats");

struct bigram {
    float prio;
    int32_t left, right;
    uint32_t size;  /* bytes of left + right when pushed (see bigram_stale) */
    int32_t result; /* BPE: the merged token; SPM: -1 */
};

struct span {
    uint32_t off, len;
};

/* The bytes of scratch one encode call holds, against OCTO_TOK_SCRATCH_MAX. */
struct budget {
    size_t used;
    size_t max;
};

/* A growable array of elements of `size` bytes, at most `max` of them, charged to a budget. */
struct vec {
    void *p;
    size_t n, cap, size, max;
    struct budget *b;
};

struct out {
    int32_t *ids;
    size_t cap;
    size_t n;
};

struct scratch {
    struct budget budget;
    struct vec frags; /* struct frag: the text cut at special tokens */
    struct vec text;  /* bytes: an SPM session text or a mapped BPE word */
    struct vec syms;  /* struct sym */
    struct vec heap;  /* struct bigram */
    struct vec words, words2;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

static void vec_init(struct vec *v, size_t size, size_t max, struct budget *b)
{
    OCTO_ASSERT(size > 0 && max <= SIZE_MAX / 2 / size);
    memset(v, 0, sizeof(*v));
    v->size = size;
    v->max = max;
    v->b = b;
}

static void vec_free(struct vec *v)
{
    if (v->p != NULL) {
        OCTO_ASSERT(v->b->used >= v->cap * v->size);
        v->b->used -= v->cap * v->size;
        octo_free(v->p);
    }
    v->p = NULL;
    v->n = v->cap = 0;
}

/* Room for want elements. OCTO_ETOOBIG past the vec's ceiling or the budget; OCTO_ENOMEM. */
static int vec_reserve(struct vec *v, size_t want)
{
    if (want <= v->cap)
        return 0;
    if (want > v->max)
        return OCTO_ETOOBIG;
    size_t cap = v->cap != 0 ? v->cap : 16;
    while (cap < want)
        cap *= 2;
    if (cap > v->max)
        cap = v->max;
    size_t grow = (cap - v->cap) * v->size;
    if (grow > v->b->max - v->b->used)
        return OCTO_ETOOBIG;
    void *p = octo_realloc(v->p, cap * v->size);
    if (p == NULL)
        return OCTO_ENOMEM;
    v->b->used += grow;
    v->p = p;
    v->cap = cap;
    return 0;
}

static int vec_push(struct vec *v, const void *elem)
{
    int rc = vec_reserve(v, v->n + 1);
    if (rc < 0)
        return rc;
    memcpy((char *)v->p + v->n * v->size, elem, v->size);
    v->n++;
    return 0;
}

/* Makes v hold n zeroed elements. */
static int vec_zeroed(struct vec *v, size_t n)
{
    int rc = vec_reserve(v, n);
    if (rc < 0)
        return rc;
    if (n > 0)
        memset(v->p, 0, n * v->size);
    v->n = n;
    return 0;
}

static void emit(struct out *o, int32_t id)
{
    if (o->n < o->cap)
        o->ids[o->n] = id;
    o->n++;
}

static bool c_isspace(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* ---- special-token cutting (see the design comment) ---- */

/* Occurrence lists longer than this many entries per text byte (plus a constant) are not
 * built; the cutting searches instead. */
#define OCC_PER_BYTE 2u
#define OCC_EXTRA 4096u

/* An occurrence of special k at text byte `start` (listed, or cut). */
struct occ {
    uint32_t start;
    uint32_t k; /* index in t->special */
};

/* Scratch of one partition. `used` bit i: text byte i is cut or stripped. */
struct cutter {
    const struct octo_tok *t;
    const char *text;
    size_t len;
    bool parse_special;
    struct vec used;  /* uint64_t */
    struct vec seen;  /* uint64_t: bit k, special k occurs in the text */
    struct vec occ;   /* struct occ, in text order */
    struct vec order; /* uint32_t: occ indices grouped by k, text order within a group */
    struct vec group; /* uint32_t [n_special]: end of group k in order[] */
    struct vec cuts;  /* struct occ: the occurrences cut */
};

static bool bit_get(const struct vec *v, size_t i)
{
    return (((const uint64_t *)v->p)[i / 64] >> (i % 64)) & 1u;
}

static void bit_set(struct vec *v, size_t i)
{
    ((uint64_t *)v->p)[i / 64] |= 1ull << (i % 64);
}

/* No byte of [a, b) is used. */
static bool range_free(const struct vec *used, size_t a, size_t b)
{
    const uint64_t *w = used->p;
    while (a < b) {
        size_t bit = a % 64, n = 64 - bit < b - a ? 64 - bit : b - a;
        uint64_t mask = (n == 64 ? ~0ull : (1ull << n) - 1) << bit;
        if (w[a / 64] & mask)
            return false;
        a += n;
    }
    return true;
}

/* The first i in [from, end) whose used bit equals `set`, or end. */
static size_t bit_find(const struct vec *used, size_t from, size_t end, bool set)
{
    const uint64_t *w = used->p;
    size_t i = from;
    while (i < end) {
        uint64_t word = set ? w[i / 64] : ~w[i / 64];
        word &= ~0ull << (i % 64);
        if (word != 0) {
            size_t at = (i / 64) * 64 + (size_t)__builtin_ctzll(word);
            return at < end ? at : end;
        }
        i = (i / 64 + 1) * 64;
    }
    return end;
}

static bool special_enabled(const struct octo_tok *t, uint32_t k, bool parse_special)
{
    uint16_t attr = t->tokens[t->special[k]].attr;
    return parse_special || (attr & (OCTO_TOK_ATTR_CONTROL | OCTO_TOK_ATTR_UNKNOWN)) == 0;
}

static void cutter_init(struct cutter *c, const struct octo_tok *t, const char *text, size_t len,
                        bool parse_special, struct budget *b)
{
    c->t = t;
    c->text = text;
    c->len = len;
    c->parse_special = parse_special;
    size_t occ_max = (size_t)OCC_PER_BYTE * len + OCC_EXTRA;
    vec_init(&c->used, sizeof(uint64_t), len / 64 + 1, b);
    vec_init(&c->seen, sizeof(uint64_t), t->n_special / 64 + 1, b);
    vec_init(&c->occ, sizeof(struct occ), occ_max, b);
    vec_init(&c->order, sizeof(uint32_t), occ_max, b);
    vec_init(&c->group, sizeof(uint32_t), (size_t)t->n_special + 1, b);
    vec_init(&c->cuts, sizeof(struct occ), len, b);
}

static void cutter_deinit(struct cutter *c)
{
    vec_free(&c->used);
    vec_free(&c->seen);
    vec_free(&c->occ);
    vec_free(&c->order);
    vec_free(&c->group);
    vec_free(&c->cuts);
}

/* One pass of the automaton: marks in `seen` every special text that occurs and counts the
 * enabled ones in *n. A text already seen has had its whole suffix chain seen, so the chain
 * walk stops there: O(len + automaton size). */
static int scan_occurring(struct cutter *c, size_t *n)
{
    const struct octo_tok_matcher *m = c->t->matcher;
    *n = 0;
    int rc = vec_zeroed(&c->seen, c->t->n_special / 64 + 1);
    if (rc < 0)
        return rc;
    uint32_t st = 0;
    for (size_t i = 0; i < c->len; i++) {
        st = matcher_next(m, st, (uint8_t)c->text[i]);
        for (uint32_t x = matcher_first_out(m, st); x != 0; x = m->dict[x]) {
            uint32_t k = (uint32_t)m->out[x];
            if (bit_get(&c->seen, k))
                break;
            bit_set(&c->seen, k);
            if (special_enabled(c->t, k, c->parse_special))
                (*n)++;
        }
    }
    return 0;
}

/* Lists every occurrence of every enabled special text (text order), then groups them by
 * token (counting sort; text order kept within a group). OCTO_ETOOBIG when the list would
 * pass its ceiling. */
static int list_occurrences(struct cutter *c)
{
    const struct octo_tok *t = c->t;
    const struct octo_tok_matcher *m = t->matcher;
    int rc = vec_zeroed(&c->group, t->n_special + 1);
    uint32_t st = 0;
    for (size_t i = 0; rc == 0 && i < c->len; i++) {
        st = matcher_next(m, st, (uint8_t)c->text[i]);
        for (uint32_t x = matcher_first_out(m, st); rc == 0 && x != 0; x = m->dict[x]) {
            uint32_t k = (uint32_t)m->out[x];
            if (!special_enabled(t, k, c->parse_special))
                continue;
            struct occ o = {(uint32_t)(i + 1 - t->tokens[t->special[k]].len), k};
            rc = vec_push(&c->occ, &o);
            if (rc == 0)
                ((uint32_t *)c->group.p)[k + 1]++;
        }
    }
    if (rc == 0)
        rc = vec_reserve(&c->order, c->occ.n);
    if (rc < 0)
        return rc;
    uint32_t *group = c->group.p;
    for (uint32_t k = 0; k < t->n_special; k++)
        group[k + 1] += group[k];
    /* group[k] is the start of group k; filling moves it to the end of group k. */
    const struct occ *os = c->occ.p;
    uint32_t *order = c->order.p;
    for (size_t j = 0; j < c->occ.n; j++)
        order[group[os[j].k]++] = (uint32_t)j;
    c->order.n = c->occ.n;
    return 0;
}

/* Cuts special k at [p, p + len): marks it, and the whitespace its RSTRIP attribute removes
 * from the raw text after it, as used; records the cut. *end: the first byte after what was
 * marked. */
static int cut_at(struct cutter *c, size_t p, uint32_t k, size_t *end)
{
    const struct octo_tok_entry *e = &c->t->tokens[c->t->special[k]];
    size_t b = p + e->len;
    OCTO_DASSERT(b <= c->len && range_free(&c->used, p, b));
    if (e->attr & OCTO_TOK_ATTR_RSTRIP)
        while (b < c->len && !bit_get(&c->used, b) && c_isspace(c->text[b]))
            b++;
    for (size_t i = p; i < b; i++)
        bit_set(&c->used, i);
    *end = b;
    struct occ cut = {(uint32_t)p, k};
    return vec_push(&c->cuts, &cut);
}

/* The passes over the grouped occurrence lists, in priority order. */
static int cut_listed(struct cutter *c)
{
    const struct occ *os = c->occ.p;
    const uint32_t *order = c->order.p, *group = c->group.p;
    for (uint32_t k = 0; k < c->t->n_special; k++) {
        uint32_t len = c->t->tokens[c->t->special[k]].len;
        for (uint32_t j = k == 0 ? 0 : group[k - 1]; j < group[k]; j++) {
            size_t p = os[order[j]].start, end;
            if (!range_free(&c->used, p, p + len))
                continue;
            int rc = cut_at(c, p, k, &end);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* The passes without lists: each occurring enabled token, in priority order, searches every
 * raw run (memmem) left to right. */
static int cut_searched(struct cutter *c)
{
    const struct octo_tok *t = c->t;
    for (uint32_t k = 0; k < t->n_special; k++) {
        if (!bit_get(&c->seen, k) || !special_enabled(t, k, c->parse_special))
            continue;
        const struct octo_tok_entry *e = &t->tokens[t->special[k]];
        size_t a = bit_find(&c->used, 0, c->len, false);
        while (a < c->len) {
            size_t b = bit_find(&c->used, a, c->len, true);
            size_t q = a;
            while (b - q >= e->len) {
                const char *m = memmem(c->text + q, b - q, e->text, e->len);
                if (m == NULL)
                    break;
                int rc = cut_at(c, (size_t)(m - c->text), k, &q);
                if (rc < 0)
                    return rc;
            }
            a = bit_find(&c->used, b, c->len, false);
        }
    }
    return 0;
}

static int cmp_occ_start(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Appends the raw runs of [a, b) as fragments. */
static int push_raw_runs(const struct cutter *c, size_t a, size_t b, struct vec *frags)
{
    while (a < b) {
        size_t s = c->used.n > 0 ? bit_find(&c->used, a, b, false) : a;
        if (s >= b)
            break;
        size_t e = c->used.n > 0 ? bit_find(&c->used, s, b, true) : b;
        struct frag f = {(uint32_t)s, (uint32_t)(e - s), -1};
        int rc = vec_push(frags, &f);
        if (rc < 0)
            return rc;
        a = e;
    }
    return 0;
}

/* The fragment list: raw runs and cuts in text order. */
static int partition_emit(struct cutter *c, struct vec *frags)
{
    struct occ *cuts = c->cuts.p;
    if (c->cuts.n > 1)
        qsort(cuts, c->cuts.n, sizeof(*cuts), cmp_occ_start);
    size_t pos = 0;
    for (size_t i = 0; i < c->cuts.n; i++) {
        int rc = push_raw_runs(c, pos, cuts[i].start, frags);
        uint32_t id = c->t->special[cuts[i].k];
        struct frag f = {0, 0, (int32_t)id};
        if (rc == 0)
            rc = vec_push(frags, &f);
        if (rc < 0)
            return rc;
        pos = cuts[i].start + c->t->tokens[id].len;
    }
    return push_raw_runs(c, pos, c->len, frags);
}

/* Finds and cuts the special tokens (no-op when none occurs). */
static int partition_cut(struct cutter *c)
{
    if (c->t->matcher == NULL)
        return 0;
    size_t n_occurring;
    int rc = scan_occurring(c, &n_occurring);
    if (rc < 0 || n_occurring == 0)
        return rc;
    rc = vec_zeroed(&c->used, c->len / 64 + 1);
    if (rc < 0)
        return rc;
    rc = list_occurrences(c);
    if (rc == 0)
        return cut_listed(c);
    if (rc != OCTO_ETOOBIG)
        return rc;
    vec_free(&c->occ);
    vec_free(&c->order);
    vec_free(&c->group);
    return cut_searched(c);
}

/* Splits text[0..len) into raw fragments and special tokens (llama.cpp's
 * tokenizer_st_partition) into s->frags. */
static int partition(const struct octo_tok *t, const char *text, size_t len, bool parse_special,
                     struct scratch *s)
{
    s->frags.n = 0;
    if (len == 0)
        return 0;
    struct cutter c;
    cutter_init(&c, t, text, len, parse_special, &s->budget);
    int rc = partition_cut(&c);
    if (rc == 0)
        rc = partition_emit(&c, &s->frags);
    cutter_deinit(&c);
    return rc;
}

/* ---- the merge heap (SPM and BPE) ---- */

static bool bigram_before(const struct bigram *a, const struct bigram *b)
{
    return a->prio > b->prio || (a->prio == b->prio && a->left < b->left);
}

static int bigram_push(struct vec *h, const struct bigram *b)
{
    int rc = vec_push(h, b);
    if (rc < 0)
        return rc;
    struct bigram *a = h->p;
    size_t i = h->n - 1;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!bigram_before(&a[i], &a[parent]))
            break;
        struct bigram tmp = a[i];
        a[i] = a[parent];
        a[parent] = tmp;
        i = parent;
    }
    return 0;
}

static struct bigram bigram_pop(struct vec *h)
{
    struct bigram *a = h->p;
    struct bigram top = a[0];
    a[0] = a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < h->n && bigram_before(&a[l], &a[best]))
            best = l;
        if (r < h->n && bigram_before(&a[r], &a[best]))
            best = r;
        if (best == i)
            break;
        struct bigram tmp = a[i];
        a[i] = a[best];
        a[best] = tmp;
        i = best;
    }
    return top;
}

/* A popped bigram is outdated when either side has merged since it was pushed. Symbols start
 * non-empty and only grow, or drop to 0 bytes when merged into their left neighbour, so "both
 * sides unchanged" is "both non-empty with the pushed total". */
static bool bigram_stale(const struct sym *l, const struct sym *r, const struct bigram *b)
{
    return l->n == 0 || r->n == 0 || l->n + r->n != b->size;
}

/* Merges the popped bigram b's right symbol into its left one (unlinking the right). */
static void bigram_merge(struct sym *sy, const struct bigram *b)
{
    struct sym *l = &sy[b->left], *r = &sy[b->right];
    l->n += r->n;
    r->n = 0;
    l->next = r->next;
    if (r->next >= 0)
        sy[r->next].prev = b->left;
}

/* ---- SPM ---- */

static int spm_try_bigram(const struct octo_tok *t, const char *text, struct scratch *s,
                          int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return 0;
    const struct sym *sy = s->syms.p;
    size_t n = (size_t)sy[left].n + sy[right].n;
    int32_t id = find_text(t, text + sy[left].off, n);
    if (id < 0)
        return 0;
    struct bigram b = {t->tokens[id].score, left, right, (uint32_t)n, -1};
    return bigram_push(&s->heap, &b);
}

/* Tokenizes text[0..len) (already prefixed and escaped) with the SPM algorithm. */
static int spm_session(const struct octo_tok *t, const char *text, size_t len, struct scratch *s,
                       struct out *o)
{
    s->syms.n = 0;
    s->heap.n = 0;
    if (len == 0)
        return 0;
    int rc;
    for (size_t off = 0; off < len;) {
        size_t n = utf8_lead_len((uint8_t)text[off]);
        if (n > len - off)
            n = len - off;
        struct sym sy = {(uint32_t)off, (uint32_t)n, (int32_t)s->syms.n - 1,
                         off + n == len ? -1 : (int32_t)s->syms.n + 1, -1};
        rc = vec_push(&s->syms, &sy);
        if (rc < 0)
            return rc;
        off += n;
    }
    for (size_t i = 1; i < s->syms.n; i++) {
        rc = spm_try_bigram(t, text, s, (int32_t)i - 1, (int32_t)i);
        if (rc < 0)
            return rc;
    }
    while (s->heap.n > 0) {
        struct bigram b = bigram_pop(&s->heap);
        struct sym *sy = s->syms.p;
        if (bigram_stale(&sy[b.left], &sy[b.right], &b))
            continue;
        bigram_merge(sy, &b);
        int32_t prev = sy[b.left].prev, next = sy[b.left].next;
        rc = spm_try_bigram(t, text, s, prev, b.left);
        if (rc == 0)
            rc = spm_try_bigram(t, text, s, b.left, next);
        if (rc < 0)
            return rc;
    }
    const struct sym *sy = s->syms.p;
    for (int32_t i = 0; i != -1; i = sy[i].next) {
        int32_t id = find_text(t, text + sy[i].off, sy[i].n);
        if (id >= 0) {
            emit(o, id);
            continue;
        }
        for (uint32_t j = 0; j < sy[i].n; j++) {
            int32_t bt = t->byte_tok[(uint8_t)text[sy[i].off + j]];
            if (bt < 0)
                return OCTO_ENOTFOUND; /* llama.cpp's byte_to_token throws here */
            emit(o, bt);
        }
    }
    return 0;
}

/* Builds the SPM session text: optional " " prefix, then the fragment with ' ' -> U+2581. */
static int spm_text(const char *raw, size_t len, bool prefix, struct vec *buf)
{
    int rc = vec_reserve(buf, len * 3 + 3);
    if (rc < 0)
        return rc;
    char *p = buf->p;
    size_t n = 0;
    if (prefix) {
        memcpy(p, "\xe2\x96\x81", 3);
        n = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == ' ') {
            memcpy(p + n, "\xe2\x96\x81", 3);
            n += 3;
        } else {
            p[n++] = raw[i];
        }
    }
    buf->n = n;
    return 0;
}

/* ---- BPE ---- */

static int bpe_try_bigram(const struct octo_tok *t, struct scratch *s, int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return 0;
    const struct sym *sy = s->syms.p;
    if (sy[left].id < 0 || sy[right].id < 0)
        return 0;
    const struct octo_tok_merge *m = merge_find(t, (uint32_t)sy[left].id, (uint32_t)sy[right].id);
    if (m == NULL)
        return 0;
    struct bigram b = {-(float)m->rank, left, right, sy[left].n + sy[right].n, m->result};
    return bigram_push(&s->heap, &b);
}

/* Emits the tokens of the mapped bytes of raw[0..n) one byte at a time (the fallback for a
 * symbol that is not a token). */
static void bpe_fallback(const struct octo_tok *t, const char *raw, size_t n, struct out *o)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)raw[i];
        for (size_t j = 0; j < t->gpt2_len[b]; j++) {
            int32_t id = t->byte1_tok[(uint8_t)t->gpt2_text[b][j]];
            if (id >= 0)
                emit(o, id);
        }
    }
}

/* BPE over one pre-tokenized word raw[0..len) (raw bytes; symbols start as single bytes). */
static int bpe_word(const struct octo_tok *t, const char *raw, size_t len, struct scratch *s,
                    struct out *o)
{
    int rc;
    if (t->ignore_merges) {
        rc = vec_reserve(&s->text, len * 2);
        if (rc < 0)
            return rc;
        char *p = s->text.p;
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
            uint8_t b = (uint8_t)raw[i];
            memcpy(p + n, t->gpt2_text[b], t->gpt2_len[b]);
            n += t->gpt2_len[b];
        }
        int32_t id = find_text(t, p, n);
        if (id >= 0) {
            emit(o, id);
            return 0;
        }
    }
    s->syms.n = 0;
    s->heap.n = 0;
    for (size_t i = 0; i < len; i++) {
        struct sym sy = {(uint32_t)i, 1, (int32_t)i - 1, i + 1 == len ? -1 : (int32_t)i + 1,
                         t->byte_tok[(uint8_t)raw[i]]};
        rc = vec_push(&s->syms, &sy);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 1; i < len; i++) {
        rc = bpe_try_bigram(t, s, (int32_t)i - 1, (int32_t)i);
        if (rc < 0)
            return rc;
    }
    while (s->heap.n > 0) {
        struct bigram b = bigram_pop(&s->heap);
        struct sym *sy = s->syms.p;
        if (bigram_stale(&sy[b.left], &sy[b.right], &b))
            continue;
        bigram_merge(sy, &b);
        sy[b.left].id = b.result;
        int32_t prev = sy[b.left].prev, next = sy[b.left].next;
        rc = bpe_try_bigram(t, s, prev, b.left);
        if (rc == 0)
            rc = bpe_try_bigram(t, s, b.left, next);
        if (rc < 0)
            return rc;
    }
    const struct sym *sy = s->syms.p;
    for (int32_t i = 0; len > 0 && i != -1; i = sy[i].next) {
        if (sy[i].id >= 0)
            emit(o, sy[i].id);
        else
            bpe_fallback(t, raw + sy[i].off, sy[i].n, o);
    }
    return 0;
}

/* A pcre2_match error as an OCTO_E* code (see the design comment). */
static int pcre_error(int rc)
{
    switch (rc) {
    case PCRE2_ERROR_NOMEMORY:
        return OCTO_ENOMEM;
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
        return OCTO_ETOOBIG;
    default:
        return OCTO_EUNSUPPORTED;
    }
}

/* Splits every span of s->words by pattern re: matches and the gaps between them. */
static int split_words(const pcre2_code *re, const char *text, struct scratch *s)
{
    s->words2.n = 0;
    const struct span *ws = s->words.p;
    for (size_t w = 0; w < s->words.n; w++) {
        const char *subj = text + ws[w].off;
        size_t len = ws[w].len, pos = 0, prev = 0;
        while (pos < len) {
            int rc = pcre2_match(re, (PCRE2_SPTR)subj, len, pos, 0, s->md, s->mctx);
            if (rc == PCRE2_ERROR_NOMATCH)
                break;
            if (rc < 0)
                return pcre_error(rc);
            const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
            OCTO_ASSERT(ov[1] > ov[0]); /* no pattern matches the empty string */
            if (ov[0] > prev) {
                struct span gap = {ws[w].off + (uint32_t)prev, (uint32_t)(ov[0] - prev)};
                int e = vec_push(&s->words2, &gap);
                if (e < 0)
                    return e;
            }
            struct span m = {ws[w].off + (uint32_t)ov[0], (uint32_t)(ov[1] - ov[0])};
            int e = vec_push(&s->words2, &m);
            if (e < 0)
                return e;
            prev = pos = ov[1];
        }
        if (prev < len) {
            struct span gap = {ws[w].off + (uint32_t)prev, (uint32_t)(len - prev)};
            int e = vec_push(&s->words2, &gap);
            if (e < 0)
                return e;
        }
    }
    struct vec tmp = s->words;
    s->words = s->words2;
    s->words2 = tmp;
    return 0;
}

static int bpe_fragment(const struct octo_tok *t, const char *text, struct frag f,
                        struct scratch *s, struct out *o)
{
    s->words.n = 0;
    struct span all = {f.off, f.len};
    int rc = vec_push(&s->words, &all);
    for (uint32_t i = 0; rc == 0 && i < t->n_re; i++)
        rc = split_words((const pcre2_code *)t->re[i], text, s);
    if (rc < 0)
        return rc;
    /* bpe_word reuses syms/heap/text; the word list stays intact. */
    const struct span *ws = s->words.p;
    for (size_t w = 0; w < s->words.n; w++) {
        rc = bpe_word(t, text + ws[w].off, ws[w].len, s, o);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Scratch for a text of len bytes: every array's ceiling follows from len. Fragments: a raw
 * run and a cut per byte at most. Session text: 3 bytes per byte plus the prefix. Symbols: at
 * most one per session-text byte (SPM symbols follow lead bytes, and an invalid lead byte
 * before a space can split its "▁" into three; BPE symbols are the word's bytes). The heap:
 * the first bigrams and two per merge, so three per symbol. Words: one per byte. The budget
 * (OCTO_TOK_SCRATCH_MAX), not these ceilings, is what binds in practice. */
static void scratch_init(struct scratch *s, size_t len)
{
    s->budget.used = 0;
    s->budget.max = OCTO_TOK_SCRATCH_MAX;
    vec_init(&s->frags, sizeof(struct frag), 2 * len + 1, &s->budget);
    vec_init(&s->text, 1, 3 * len + 3, &s->budget);
    vec_init(&s->syms, sizeof(struct sym), 3 * len + 3, &s->budget);
    vec_init(&s->heap, sizeof(struct bigram), 9 * len + 9, &s->budget);
    vec_init(&s->words, sizeof(struct span), len + 1, &s->budget);
    vec_init(&s->words2, sizeof(struct span), len + 1, &s->budget);
    s->md = NULL;
    s->mctx = NULL;
}

static void scratch_deinit(struct scratch *s)
{
    vec_free(&s->frags);
    vec_free(&s->text);
    vec_free(&s->syms);
    vec_free(&s->heap);
    vec_free(&s->words);
    vec_free(&s->words2);
    OCTO_ASSERT(s->budget.used == 0);
    if (s->md != NULL)
        pcre2_match_data_free(s->md);
    if (s->mctx != NULL)
        pcre2_match_context_free(s->mctx);
}

/* PCRE2 limits per match (see the design comment): backtracking steps and depth grow with the
 * text, the interpreter's backtracking heap is capped outright. */
#define MATCH_LIMIT_BASE 100000u
#define MATCH_LIMIT_PER_BYTE 32u
#define MATCH_HEAP_LIMIT_KIB (64u << 10)
_Static_assert(MATCH_LIMIT_BASE + (uint64_t)MATCH_LIMIT_PER_BYTE * OCTO_TOK_TEXT_MAX <= UINT32_MAX,
               "the match limit fits uint32");

static int regex_scratch(const struct octo_tok *t, size_t len, struct scratch *s)
{
    pcre2_general_context *gctx = t->re_gctx;
    s->md = pcre2_match_data_create(1, gctx);
    s->mctx = pcre2_match_context_create(gctx);
    if (s->md == NULL || s->mctx == NULL)
        return OCTO_ENOMEM;
    uint32_t limit = MATCH_LIMIT_BASE + MATCH_LIMIT_PER_BYTE * (uint32_t)len;
    if (pcre2_set_match_limit(s->mctx, limit) != 0 || pcre2_set_depth_limit(s->mctx, limit) != 0 ||
        pcre2_set_heap_limit(s->mctx, MATCH_HEAP_LIMIT_KIB) != 0)
        return OCTO_EUNSUPPORTED;
    return 0;
}

static int encode_fragments(const struct octo_tok *t, const char *text, size_t len,
                            struct scratch *s, struct out *o)
{
    const struct frag *fs = s->frags.p;
    size_t n_frags = s->frags.n;
    int rc = 0;
    if (t->model == OCTO_TOK_SPM) {
        bool prev_special = true;
        for (size_t i = 0; rc == 0 && i < n_frags; i++) {
            if (fs[i].id >= 0) {
                emit(o, fs[i].id);
                prev_special = true;
                continue;
            }
            struct frag f = fs[i];
            rc = spm_text(text + f.off, f.len, t->add_space_prefix && prev_special, &s->text);
            if (rc == 0)
                rc = spm_session(t, s->text.p, s->text.n, s, o);
            prev_special = false;
        }
        return rc;
    }
    rc = regex_scratch(t, len, s);
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < n_frags; i++) {
        struct frag f = ((const struct frag *)s->frags.p)[i];
        if (f.id >= 0)
            emit(o, f.id);
        else
            rc = bpe_fragment(t, text, f, s, o);
    }
    return rc;
}

int octo_tok_encode(const struct octo_tok *t, const char *text, size_t len, bool add_special,
                    bool parse_special, int32_t *ids, size_t cap, size_t *n)
{
    OCTO_ASSERT(t->tokens != NULL);
    OCTO_ASSERT(ids != NULL || cap == 0);
    OCTO_ASSERT(text != NULL || len == 0);
    *n = 0;
    if (len > OCTO_TOK_TEXT_MAX)
        return OCTO_ETOOBIG;
    struct out o = {ids, cap, 0};
    if (add_special && t->add_bos && t->bos >= 0)
        emit(&o, t->bos);
    struct scratch s;
    scratch_init(&s, len);
    int rc = partition(t, text, len, parse_special, &s);
    if (rc == 0)
        rc = encode_fragments(t, text, len, &s, &o);
    scratch_deinit(&s);
    if (rc < 0)
        return rc;
    if (add_special && t->add_eos && t->eos >= 0)
        emit(&o, t->eos);
    *n = o.n;
    return o.n > cap ? OCTO_ENOSPACE : 0;
}

/* ======================================================================================== */
/* decode                                                                                   */
/* ======================================================================================== */

struct writer {
    char *out;
    size_t cap;
    size_t n;
    bool skip_space; /* drop one leading ' ' of the next non-empty write */
};

static void put(struct writer *w, const char *p, size_t len)
{
    if (len == 0)
        return;
    if (w->skip_space) {
        w->skip_space = false;
        if (p[0] == ' ') {
            p++;
            len--;
        }
    }
    if (w->n < w->cap) {
        size_t k = w->cap - w->n < len ? w->cap - w->n : len;
        memcpy(w->out + w->n, p, k);
    }
    w->n += len;
}

/* llama.cpp's llama_decode_text: each code point back to its byte; one that is not a mapped
 * byte is written as "[UNK_BYTE_0x<utf8 hex><token text>]" — but only the first such one of a
 * token: later ones get "[UNK_BYTE_0x<utf8 hex>]", which bounds the piece (llama.cpp repeats
 * the whole text for each, quadratic in the token's length). See OCTO_TOK_PIECE_MAX. */
static void bpe_decode_text(const struct octo_tok_entry *e, struct writer *w)
{
    const uint8_t *p = (const uint8_t *)e->text;
    bool marked = false;
    size_t i = 0;
    while (i < e->len) {
        size_t n;
        uint32_t cp = utf8_get_lenient(p + i, e->len - i, &n);
        int b = gpt2_cp_byte(cp);
        if (b >= 0) {
            char c = (char)b;
            put(w, &c, 1);
        } else {
            char enc[4];
            size_t k = cp <= 0x10FFFF ? utf8_put(cp, enc) : 0;
            if (k == 0) {
                memcpy(enc, p + i, n);
                k = n;
            }
            char hex[2 * sizeof(enc) + 1];
            int hn = octo_hex_encode((const uint8_t *)enc, k, hex, sizeof(hex));
            OCTO_ASSERT(hn == (int)(2 * k));
            put(w, "[UNK_BYTE_0x", 12);
            put(w, hex, (size_t)hn);
            if (!marked)
                put(w, e->text, e->len);
            marked = true;
            put(w, "]", 1);
        }
        i += n;
    }
}

static void piece_write(const struct octo_tok *t, uint32_t id, bool special, struct writer *w)
{
    const struct octo_tok_entry *e = &t->tokens[id];
    const uint16_t attr_special = OCTO_TOK_ATTR_UNKNOWN | OCTO_TOK_ATTR_CONTROL;
    if (!special && (e->attr & attr_special))
        return;
    if (e->attr & (attr_special | OCTO_TOK_ATTR_USER_DEFINED)) {
        put(w, e->text, e->len);
        return;
    }
    if (e->attr & OCTO_TOK_ATTR_NORMAL) {
        if (t->model == OCTO_TOK_BPE) {
            bpe_decode_text(e, w);
            return;
        }
        size_t start = 0;
        for (size_t i = 0; i + 3 <= e->len;) {
            if (memcmp(e->text + i, "\xe2\x96\x81", 3) == 0) {
                put(w, e->text + start, i - start);
                put(w, " ", 1);
                i += 3;
                start = i;
            } else {
                i++;
            }
        }
        put(w, e->text + start, e->len - start);
        return;
    }
    if (e->attr & OCTO_TOK_ATTR_BYTE) {
        char c = (char)e->byte;
        put(w, &c, 1);
    }
}

int octo_tok_piece(const struct octo_tok *t, int32_t id, bool special, char *out, size_t cap,
                   size_t *n)
{
    OCTO_ASSERT(out != NULL || cap == 0);
    *n = 0;
    if (id < 0 || (uint32_t)id >= t->n_vocab)
        return OCTO_ERANGE;
    struct writer w = {out, cap, 0, false};
    piece_write(t, (uint32_t)id, special, &w);
    OCTO_DASSERT(w.n <= OCTO_TOK_PIECE_MAX);
    *n = w.n;
    return w.n > cap ? OCTO_ENOSPACE : 0;
}

int octo_tok_decode(const struct octo_tok *t, const int32_t *ids, size_t n_ids, bool special,
                    char *out, size_t cap, size_t *n)
{
    OCTO_ASSERT(out != NULL || cap == 0);
    OCTO_ASSERT(ids != NULL || n_ids == 0);
    *n = 0;
    struct writer w = {out, cap, 0, t->add_space_prefix};
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_vocab)
            return OCTO_ERANGE;
        piece_write(t, (uint32_t)ids[i], special, &w);
        w.skip_space = false;
    }
    *n = w.n;
    return w.n > cap ? OCTO_ENOSPACE : 0;
}

/* ======================================================================================== */
/* accessors                                                                                */
/* ======================================================================================== */

int32_t octo_tok_find(const struct octo_tok *t, const char *s)
{
    int32_t id = find_text(t, s, strlen(s));
    return id >= 0 ? id : OCTO_ENOTFOUND;
}

const char *octo_tok_text(const struct octo_tok *t, int32_t id, size_t *len)
{
    if (id < 0 || (uint32_t)id >= t->n_vocab) {
        *len = 0;
        return NULL;
    }
    *len = t->tokens[id].len;
    return t->tokens[id].text;
}

uint32_t octo_tok_attr(const struct octo_tok *t, int32_t id)
{
    if (id < 0 || (uint32_t)id >= t->n_vocab)
        return 0;
    return t->tokens[id].attr;
}

uint32_t octo_tok_n_vocab(const struct octo_tok *t)
{
    return t->n_vocab;
}

int32_t octo_tok_bos(const struct octo_tok *t)
{
    return t->bos;
}

int32_t octo_tok_eos(const struct octo_tok *t)
{
    return t->eos;
}

int32_t octo_tok_eot(const struct octo_tok *t)
{
    return t->eot;
}

bool octo_tok_is_eog(const struct octo_tok *t, int32_t id)
{
    if (id < 0)
        return false;
    uint32_t key = (uint32_t)id;
    return t->n_eog > 0 && bsearch(&key, t->eog, t->n_eog, sizeof(*t->eog), cmp_u32) != NULL;
}
