/*
 * taskwire.h — the wire format between an orchestrator and its providers, as pure functions:
 * frames, a bounded frame reader, and the JSON bodies of the frames.
 *
 * Two libp2p protocols carry the same frames (len u32 big-endian | kind u8 | body; len counts
 * the kind byte and the body):
 *
 *   /octo/advert/1.0.0   provider -> orchestrator: ADVERT (a SignedProviderAdvert, advert.h);
 *                        the orchestrator answers ACK (JSON {"status":"inserted" | "replaced" |
 *                        "stale"}) or ERROR, then both sides close
 *   /octo/task/1.0.0     orchestrator -> provider: ASSIGN (JSON, below); the provider answers
 *                        TOKEN frames (raw UTF-8 text pieces, as generated) and ends with one
 *                        RESULT or one ERROR, then closes. The orchestrator cancels an
 *                        attempt by resetting the stream.
 *                        A sealed task (ASSIGN with "sealed"): after the ASSIGN both sides
 *                        exchange SEALED frames, each carrying one frame of the Privacy
 *                        Containers' exchange (exec/privacy.h) unchanged: the client's HELLO
 *                        and TASK from the orchestrator, the worker's KEY and RESULT (or an
 *                        ERROR) from the provider; the provider ends with RESULT (the metered
 *                        counts below and the receipt) or ERROR. Neither node can open them.
 *
 * ASSIGN   {"task":HEX32,"attempt":N,"kind":"chat"|"completion","model":NAME,
 *           "deadline_ms":UNIX_MS[,"requester":HEX64][,"sealed":"private"|"confidential",
 *           "max_tokens":N][,"deterministic":true],"request":{...the client's OpenAI request
 *           body, {} when sealed...}}
 *           requester: who escrowed the task on the ledger (none: the run is not paid, no
 *           receipt); max_tokens: the most a sealed run may generate (it is charged for them);
 *           deterministic: run the engine's bit-exact mode (a task whose answer is re-run
 *           elsewhere and compared)
 * RESULT   {"finish":"stop"|"length"|...,"prompt_tokens":N,"completion_tokens":N,
 *           "ttft_ns":N,"run_ns":N,"model_sha256":HEX64[,"receipt":HEX][,"commitment":HEX]}
 *           receipt: the provider's signed ledger receipt (chain/tx.h, OCTO_RECEIPT_LEN bytes)
 *           when both sides are on a chain; commitment: its signed execution commitment
 *           (intel/commit.h: weights, quantization, isolation, attestation, tokens, times)
 * ERROR    {"code":CODE,"message":TEXT,"retry":BOOL}   retry: another provider may succeed
 *
 * Sealed tasks are metered without their content: prompt tokens are the TASK frame body's
 * bytes divided by four, rounded up (octo_taskwire_sealed_prompt_tokens), completion tokens are
 * the ASSIGN's max_tokens; provider and orchestrator compute both the same way.
 *
 * Limits: a frame is at most OCTO_TASKWIRE_FRAME_MAX bytes (the reader refuses a larger length
 * before buffering it), an ASSIGN's request at most OCTO_TASKWIRE_REQUEST_MAX bytes, a TOKEN at
 * most OCTO_TASKWIRE_TOKEN_MAX bytes. Decoders check types and ranges and never trust a length.
 */
#ifndef OCTO_INTEL_TASKWIRE_H
#define OCTO_INTEL_TASKWIRE_H

#include "base/buf.h"
#include "base/err.h"
#include "intel/commit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_TASK_PROTOCOL "/octo/task/1.0.0"
#define OCTO_ADVERT_PROTOCOL "/octo/advert/1.0.0"
#define OCTO_TASKWIRE_HEADER 5u
#define OCTO_TASKWIRE_REQUEST_MAX (1u << 20)
#define OCTO_TASKWIRE_FRAME_MAX (OCTO_TASKWIRE_REQUEST_MAX + 4096u)
#define OCTO_TASKWIRE_TOKEN_MAX 4096u
#define OCTO_TASKWIRE_FEED_MAX (64u * 1024u) /* bytes one feed call takes */
#define OCTO_TASKWIRE_ID_LEN 16
#define OCTO_TASKWIRE_MODEL_MAX 128
#define OCTO_TASKWIRE_CODE_MAX 32
#define OCTO_TASKWIRE_MESSAGE_MAX 256
#define OCTO_TASKWIRE_FINISH_MAX 16
#define OCTO_TASKWIRE_RECEIPT_LEN 289         /* OCTO_RECEIPT_LEN (chain/tx.h) */
#define OCTO_TASKWIRE_SEALED_MAX (1u << 20)   /* body of a SEALED frame */
#define OCTO_TASKWIRE_SEALED_TOKENS_MAX 1024u /* a sealed task's max_tokens */

enum octo_taskwire_kind {
    OCTO_TASKWIRE_ADVERT = 1,
    OCTO_TASKWIRE_ACK = 2,
    OCTO_TASKWIRE_ASSIGN = 3,
    OCTO_TASKWIRE_TOKEN = 4,
    OCTO_TASKWIRE_RESULT = 5,
    OCTO_TASKWIRE_ERROR = 6,
    OCTO_TASKWIRE_SEALED = 7,
};

/* ASSIGN's "sealed": the data class of a sealed task (values of intel/router.h's
 * octo_data_class), or OPEN for a request in the clear. */
enum octo_taskwire_sealed {
    OCTO_TASKWIRE_OPEN = 0,
    OCTO_TASKWIRE_SEALED_CONFIDENTIAL = 2,
    OCTO_TASKWIRE_SEALED_PRIVATE = 3,
};

enum octo_taskwire_task_kind {
    OCTO_TASKWIRE_CHAT = 0,
    OCTO_TASKWIRE_COMPLETION = 1,
};

/* Accumulates stream bytes and hands out whole frames. */
struct octo_taskwire_reader {
    struct octo_buf buf;
    size_t max;  /* largest frame accepted (<= OCTO_TASKWIRE_FRAME_MAX) */
    size_t skip; /* bytes of the frame handed out last, dropped at the next call */
};

void octo_taskwire_reader_init(struct octo_taskwire_reader *r, size_t max);
void octo_taskwire_reader_deinit(struct octo_taskwire_reader *r);
/* Appends data (at most OCTO_TASKWIRE_FEED_MAX bytes; drain the frames after each feed).
 * OCTO_ETOOBIG when a frame announces more than max (or less than one byte:
 * OCTO_EMALFORMED); OCTO_ENOMEM. The stream is unusable after an error. */
OCTO_MUST_USE int octo_taskwire_feed(struct octo_taskwire_reader *r, const uint8_t *data,
                                     size_t len);
/* The next whole frame: 1 with *kind, *body, *len (valid until the next feed or next call), or
 * 0 when none is complete. */
int octo_taskwire_next(struct octo_taskwire_reader *r, uint8_t *kind, const uint8_t **body,
                       size_t *len);

/* Appends one frame to out. OCTO_ETOOBIG past OCTO_TASKWIRE_FRAME_MAX, or out's own max. */
OCTO_MUST_USE int octo_taskwire_frame(struct octo_buf *out, enum octo_taskwire_kind kind,
                                      const void *body, size_t len);

struct octo_taskwire_assign {
    uint8_t task[OCTO_TASKWIRE_ID_LEN];
    uint32_t attempt;
    enum octo_taskwire_task_kind kind;
    char model[OCTO_TASKWIRE_MODEL_MAX + 1];
    uint64_t deadline_ms;
    bool has_requester;
    uint8_t requester[32];
    const char *request; /* the request object's JSON text: encode borrows it; decode makes it
                            (octo_taskwire_assign_free) */
    size_t request_len;
    enum octo_taskwire_sealed sealed;
    uint32_t max_tokens; /* sealed: 1..OCTO_TASKWIRE_SEALED_TOKENS_MAX */
    bool deterministic;
};

/* Appends an ASSIGN frame; request must be a JSON object's text. OCTO_EINVAL for a bad field,
 * OCTO_ETOOBIG, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_taskwire_assign_encode(struct octo_buf *out,
                                              const struct octo_taskwire_assign *a);
/* Decodes an ASSIGN body. OCTO_EMALFORMED (not the shape above), OCTO_ETOOBIG, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_taskwire_assign_decode(const uint8_t *body, size_t len,
                                              struct octo_taskwire_assign *out);
void octo_taskwire_assign_free(struct octo_taskwire_assign *a);

struct octo_taskwire_result {
    char finish[OCTO_TASKWIRE_FINISH_MAX];
    uint32_t prompt_tokens, completion_tokens;
    uint64_t ttft_ns, run_ns;
    uint8_t model_sha256[32];
    bool has_receipt;
    uint8_t receipt[OCTO_TASKWIRE_RECEIPT_LEN];
    bool has_commitment;
    uint8_t commitment[OCTO_COMMIT_LEN]; /* the provider's signed execution commitment */
};

OCTO_MUST_USE int octo_taskwire_result_encode(struct octo_buf *out,
                                              const struct octo_taskwire_result *res);
OCTO_MUST_USE int octo_taskwire_result_decode(const uint8_t *body, size_t len,
                                              struct octo_taskwire_result *out);

struct octo_taskwire_error {
    char code[OCTO_TASKWIRE_CODE_MAX];
    char message[OCTO_TASKWIRE_MESSAGE_MAX];
    bool retry;
};

OCTO_MUST_USE int octo_taskwire_error_encode(struct octo_buf *out,
                                             const struct octo_taskwire_error *e);
OCTO_MUST_USE int octo_taskwire_error_decode(const uint8_t *body, size_t len,
                                             struct octo_taskwire_error *out);

/* The prompt tokens a sealed task is charged for, from its TASK frame body's size. */
uint32_t octo_taskwire_sealed_prompt_tokens(size_t task_len);

/* "chat" / "completion". */
const char *octo_taskwire_task_kind_name(enum octo_taskwire_task_kind k);

#endif
