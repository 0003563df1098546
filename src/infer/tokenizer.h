/*
 * tokenizer.h — the SentencePiece (SPM) and byte-level BPE tokenizers of the Local Inference
 * Engine, read from GGUF metadata, with the token ids llama.cpp produces (its llama-vocab.cpp
 * behaviour and its tests/test-tokenizer-0 vectors are the reference).
 *
 * Supported: tokenizer.ggml.model "llama" (SPM: score-driven bigram merging, <0xNN> byte
 * fallback, "▁" for spaces, optional space prefix) and "gpt2" (byte-level BPE: merges by rank
 * over pre-tokenized words, GPT-2 byte<->unicode mapping) with tokenizer.ggml.pre "default" (or
 * absent), "gpt-2"/"gpt2", "llama3"/"llama-v3"/"llama-bpe" and "qwen2"/"deepseek-r1-qwen". Any
 * other model or pre-tokenizer is OCTO_EUNSUPPORTED with a reason.
 *
 * Memory: struct octo_tok is caller-allocated; init builds general-heap tables (a token table,
 * a text->id hash, per-token sorted merge rows, the special-token list and its matcher,
 * compiled PCRE2 patterns) whose sizes are bounded by the OCTO_TOK_* limits below, checked
 * before allocation. Token texts are borrowed from the GGUF buffer, which must outlive the
 * tokenizer. Encoding and decoding never modify the tokenizer: one tokenizer may serve several
 * threads at once; each encode call allocates its scratch space (proportional to the text, at
 * most OCTO_TOK_SCRATCH_MAX bytes) and frees it on return.
 *
 * Hostile vocabularies: init is O(vocabulary + merges) up to log factors whatever the texts
 * (the text hash bounds every probe sequence to OCTO_TOK_PROBE_MAX slots and rejects a
 * vocabulary that would need more; merges are sorted arrays, not hashed), and encode is
 * O(text) up to log factors plus the special-token occurrences in the text.
 *
 * Requires PCRE2 (libpcre2-8) 10.34 or later, built with Unicode support.
 */
#ifndef OCTO_INFER_TOKENIZER_H
#define OCTO_INFER_TOKENIZER_H

#include "base/buf.h"
#include "base/err.h"
#include "infer/gguf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_TOK_VOCAB_MAX (1u << 20)  /* tokens in a vocabulary (the largest real: 262144) */
#define OCTO_TOK_TOKEN_MAX 1024u       /* bytes of one token's text */
#define OCTO_TOK_MERGES_MAX (1u << 21) /* BPE merge rules */
#define OCTO_TOK_TEXT_MAX (1u << 20)   /* bytes of text per encode call (a 65536-token prompt) */
#define OCTO_TOK_REGEX_MAX 4u          /* pre-tokenizer patterns applied in sequence */
#define OCTO_TOK_REASON_MAX 200u
/* Bytes of scratch one encode call may hold (its arrays; PCRE2's match data is bounded by its
 * own heap limit). A text of OCTO_TOK_TEXT_MAX bytes needs at most about 130 bytes per text
 * byte (one 1 MiB BPE word, or SPM text whose "▁"s invalid lead bytes split), so only a hostile
 * vocabulary can reach it; past it encode is OCTO_ETOOBIG. */
#define OCTO_TOK_SCRATCH_MAX (160u << 20)
/* Slots the text->id hash probes at most for one text: a vocabulary whose texts would need a
 * longer probe sequence (in a table kept at most a quarter full, where chance gives about
 * e^-40 odds per token of getting there) is rejected as OCTO_EMALFORMED. */
#define OCTO_TOK_PROBE_MAX 64u
/* The most bytes octo_tok_piece produces for one token: a byte-level BPE token whose code
 * points are not GPT-2 bytes gets "[UNK_BYTE_0x<utf8 hex><text>]" for its first such code point
 * and "[UNK_BYTE_0x<utf8 hex>]" (at most 19 bytes per text byte) for every later one. */
#define OCTO_TOK_PIECE_MAX (20u * OCTO_TOK_TOKEN_MAX)

/* Token attributes (llama.cpp's llama_token_attr bits, derived from token_type; of its strip
 * bits only RSTRIP is ever set, by the Phi-3 rule). */
#define OCTO_TOK_ATTR_UNDEFINED 0x0000u
#define OCTO_TOK_ATTR_UNKNOWN 0x0001u
#define OCTO_TOK_ATTR_UNUSED 0x0002u
#define OCTO_TOK_ATTR_NORMAL 0x0004u
#define OCTO_TOK_ATTR_CONTROL 0x0008u
#define OCTO_TOK_ATTR_USER_DEFINED 0x0010u
#define OCTO_TOK_ATTR_BYTE 0x0020u
#define OCTO_TOK_ATTR_RSTRIP 0x0100u

enum octo_tok_model {
    OCTO_TOK_SPM = 1, /* tokenizer.ggml.model "llama" */
    OCTO_TOK_BPE = 2  /* tokenizer.ggml.model "gpt2" */
};

enum octo_tok_pre {
    OCTO_TOK_PRE_NONE = 0, /* SPM: no pre-tokenizer */
    OCTO_TOK_PRE_DEFAULT,
    OCTO_TOK_PRE_GPT2,
    OCTO_TOK_PRE_LLAMA3,
    OCTO_TOK_PRE_QWEN2
};

/* One vocabulary entry. `text` borrows the GGUF buffer (or the tokenizer's arena for the
 * "[EMPTY_<id>]" name llama.cpp gives an empty token); not NUL-terminated. */
struct octo_tok_entry {
    const char *text;
    uint32_t len;
    uint16_t attr;
    uint8_t byte; /* BYTE tokens: the byte value of "<0xNN>" */
    uint8_t pad_;
    float score;
};

struct octo_tok_merge;   /* internal: one merge rule (right id, rank, result) */
struct octo_tok_matcher; /* internal: the special-text automaton */

struct octo_tok {
    enum octo_tok_model model;
    enum octo_tok_pre pre;
    uint32_t n_vocab;
    uint32_t n_merges;
    struct octo_tok_entry *tokens; /* [n_vocab] */
    uint32_t *text_slots;          /* text -> id + 1 (0 = empty), linear probing */
    size_t text_mask;
    uint32_t *merge_row;           /* [n_vocab + 1]: left id -> its rules in merges[] */
    struct octo_tok_merge *merges; /* each left id's rules sorted by right id */
    uint32_t *special; /* CONTROL/USER_DEFINED/UNKNOWN ids, longest text first, one per text */
    uint32_t n_special;
    struct octo_tok_matcher *matcher; /* finds the special texts in a text (NULL: none) */
    uint32_t *eog;                    /* end-of-generation ids, sorted */
    uint32_t n_eog;
    int32_t byte_tok[256];      /* SPM: "<0xNN>" (else the 1-byte text); BPE: the mapped char */
    int32_t byte1_tok[256];     /* BPE: the token whose text is this single raw byte, or -1 */
    char gpt2_text[256][2];     /* BPE: each byte's GPT-2 code point as UTF-8 ... */
    uint8_t gpt2_len[256];      /* ... of 1 or 2 bytes */
    int32_t bos, eos, eot, eom; /* -1 when absent */
    bool add_bos, add_eos, add_space_prefix, ignore_merges;
    void *re[OCTO_TOK_REGEX_MAX]; /* compiled pcre2_code_8 patterns */
    uint32_t n_re;
    void *re_gctx; /* pcre2 general context routing allocations to octo_malloc */
    struct octo_arena arena;
};

/* Builds a tokenizer from the tokenizer.ggml.* metadata of a parsed GGUF: model, pre, tokens,
 * scores, token_type, merges, bos/eos/eot/eom/unknown/padding ids, add_bos_token,
 * add_eos_token, add_space_prefix (and general.name for llama.cpp's Phi-3 rstrip rule). g and
 * its buffer must outlive t. reason (reason_size bytes, may be NULL) explains a failure (bytes
 * of the file that are not printable ASCII appear in it as \xNN).
 * Several tokens with one text: the text names the last of them (llama.cpp's token_to_id),
 * except that a special (CONTROL, USER_DEFINED, UNKNOWN) token is never displaced by a later
 * ordinary one; octo_tok_find, the special-token cutting of encode and the end-of-generation
 * texts all use that one id.
 * Errors: OCTO_ENOTFOUND a required key is absent (model, tokens, merges for BPE);
 * OCTO_EUNSUPPORTED another model or pre-tokenizer, or a PCRE2 library without the Unicode
 * support the pre-tokenizers need; OCTO_EMALFORMED wrong value types, counts that disagree with
 * the token count, an id out of range, a merge that is not "a b" over known tokens, an empty
 * vocabulary, a NaN score, a BYTE token not spelled <0xNN>, token texts crafted to collide in
 * the text hash (see OCTO_TOK_PROBE_MAX); OCTO_ETOOBIG vocabulary, token text or merges over
 * the OCTO_TOK_* limits; OCTO_ENOMEM. On failure t is left deinitialised (safe to deinit
 * again). */
OCTO_MUST_USE int octo_tok_init(struct octo_tok *t, const struct octo_gguf *g, char *reason,
                                size_t reason_size);

/* Frees the tables; tolerates a zeroed or already deinitialised struct. */
void octo_tok_deinit(struct octo_tok *t);

/* Tokenizes text[0..len) as llama_tokenize does: add_special adds BOS/EOS as the vocabulary
 * asks (add_bos/add_eos), parse_special lets control tokens written in the text become their
 * ids (user-defined tokens always do, as in llama.cpp). Writes up to cap ids to ids (may be
 * NULL when cap is 0) and the total count to *n. Errors: OCTO_ENOSPACE cap < *n (the first cap
 * ids are written; call again with *n slots); OCTO_ETOOBIG len over OCTO_TOK_TEXT_MAX, or the
 * scratch space over OCTO_TOK_SCRATCH_MAX, or the pre-tokenizer over its match limits (neither
 * happens with the supported vocabularies and patterns, which match in linear time);
 * OCTO_ENOTFOUND an SPM text needs a byte the vocabulary cannot spell (no <0xNN> token and no
 * one-byte token: llama.cpp fails there too); OCTO_EUNSUPPORTED the PCRE2 library failed in a
 * way other than running out of memory or limits; OCTO_ENOMEM. Invalid UTF-8 is accepted (see
 * tokenizer.c on how it is split). */
OCTO_MUST_USE int octo_tok_encode(const struct octo_tok *t, const char *text, size_t len,
                                  bool add_special, bool parse_special, int32_t *ids, size_t cap,
                                  size_t *n);

/* The bytes token id stands for in output (llama_token_to_piece without lstrip): SPM "▁" ->
 * " ", <0xNN> -> the byte; byte-level BPE text mapped back to bytes (code points that are not
 * GPT-2 bytes as described at OCTO_TOK_PIECE_MAX); user-defined tokens as written; control and
 * unknown tokens empty unless special is set (then their text). At most OCTO_TOK_PIECE_MAX
 * bytes. Writes up to cap bytes (no NUL) and the full length to *n. Errors: OCTO_ERANGE id
 * outside the vocabulary; OCTO_ENOSPACE cap < *n. */
OCTO_MUST_USE int octo_tok_piece(const struct octo_tok *t, int32_t id, bool special, char *out,
                                 size_t cap, size_t *n);

/* Concatenates the pieces of ids[0..n_ids), dropping one leading space of the first piece when
 * the vocabulary adds a space prefix (llama.cpp's detokenize; its clean_spaces pass is not
 * applied). Errors: those of octo_tok_piece (*n is the full length on OCTO_ENOSPACE). */
OCTO_MUST_USE int octo_tok_decode(const struct octo_tok *t, const int32_t *ids, size_t n_ids,
                                  bool special, char *out, size_t cap, size_t *n);

/* The id whose text is the NUL-terminated s (e.g. "<|im_start|>"), or OCTO_ENOTFOUND. */
int32_t octo_tok_find(const struct octo_tok *t, const char *s);

/* The hash of a token text the text->id table is indexed by (its low bits pick the first slot).
 * Exposed so that tests can build colliding vocabularies. */
uint64_t octo_tok_text_hash(const char *s, size_t n);

/* A token's raw vocabulary text (not NUL-terminated) and attributes; NULL / 0 when id is out of
 * range. */
const char *octo_tok_text(const struct octo_tok *t, int32_t id, size_t *len);
uint32_t octo_tok_attr(const struct octo_tok *t, int32_t id);

/* Accessors; ids are -1 when the vocabulary has none. */
uint32_t octo_tok_n_vocab(const struct octo_tok *t);
int32_t octo_tok_bos(const struct octo_tok *t);
int32_t octo_tok_eos(const struct octo_tok *t);
int32_t octo_tok_eot(const struct octo_tok *t);
/* True when id ends generation (eos, eot, eom and llama.cpp's end-of-generation texts). */
bool octo_tok_is_eog(const struct octo_tok *t, int32_t id);

#endif
