/*
 * commit.h — the execution commitment: what a provider states, under its signature, about one
 * run of one task, and the orchestrator's countersignature once it has checked the statement
 * against what it saw and what the provider advertised. Pure: no allocation, no I/O.
 *
 * The ledger receipt (chain/tx.h) is what pays; the commitment is what the run was: which
 * weights and quantization produced the output, how the provider was isolated, which
 * attestation stands behind that claim, and the exact tokens. A client keeps it (GET
 * /api/v1/tasks/ID) and can check both signatures offline.
 *
 * Encoding (integers big-endian, lengths exact, OCTO_COMMIT_LEN bytes in all):
 *
 *   version u8 (1) | flags u8 (bit 0 sealed, bit 1 deterministic; the others zero) |
 *   task [16] | provider [32] (its Ed25519 key) | input [32] | output [32] |
 *   model_sha256 [32] | quant_len u8 (1..OCTO_COMMIT_QUANT_MAX) | quant [32] (zero-padded) |
 *   prompt_tokens u32 | completion_tokens u32 | isolation u8 (1..3, enum octo_isolation) |
 *   attestation [32] (SHA-256 of the advert's attestation reference; zero: none) |
 *   start_ms u64 | end_ms u64 (>= start_ms) | provider_sig [64] |
 *   orchestrator [32] | orchestrator_sig [64] (all zero until countersigned)
 *
 *   provider_sig      over "OCTO-COMMIT-v1" | the bytes before provider_sig
 *   orchestrator_sig  over "OCTO-COSIGN-v1" | the bytes before orchestrator (provider_sig
 *                     included) | orchestrator
 *
 * input and output: SHA-256 of the request body as the provider got it and of the text it
 * produced; for a sealed task, of the sealed TASK and RESULT frames (intel/taskwire.h).
 */
#ifndef OCTO_INTEL_COMMIT_H
#define OCTO_INTEL_COMMIT_H

#include "base/err.h"
#include "crypto/ident.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_COMMIT_VERSION 1
#define OCTO_COMMIT_QUANT_MAX 32   /* OCTO_ADVERT_QUANT_MAX */
#define OCTO_COMMIT_SIGNED_LEN 236 /* the bytes provider_sig covers */
#define OCTO_COMMIT_LEN (OCTO_COMMIT_SIGNED_LEN + 64 + 32 + 64)
#define OCTO_COMMIT_FLAG_SEALED 0x01u
#define OCTO_COMMIT_FLAG_DETERMINISTIC 0x02u

struct octo_commitment {
    uint8_t flags;
    uint8_t task[16];
    uint8_t provider[32];
    uint8_t input[32], output[32];
    uint8_t model_sha256[32];
    char quant[OCTO_COMMIT_QUANT_MAX + 1]; /* NUL-terminated */
    uint32_t prompt_tokens, completion_tokens;
    uint8_t isolation;
    uint8_t attestation[32];
    uint64_t start_ms, end_ms;
    uint8_t provider_sig[64];
    bool countersigned;
    uint8_t orchestrator[32];
    uint8_t orchestrator_sig[64];
};

/* Checks c's values, encodes them and signs them with id (the provider: c->provider is set
 * from its key). out holds OCTO_COMMIT_LEN bytes, not countersigned. OCTO_EINVAL for a value
 * out of range (empty or long quant, isolation, end before start, unknown flags). */
OCTO_MUST_USE int octo_commit_sign(struct octo_commitment *c, const struct octo_identity *id,
                                   uint8_t out[OCTO_COMMIT_LEN]);

/* Encodes c as it is, signatures included (a decoded commitment encodes to the same bytes).
 * OCTO_EINVAL as octo_commit_sign, or for a countersignature without its key. */
OCTO_MUST_USE int octo_commit_encode(const struct octo_commitment *c, uint8_t out[OCTO_COMMIT_LEN]);

/* Decodes exactly OCTO_COMMIT_LEN bytes (no signature checked). OCTO_EMALFORMED for anything
 * but the encoding above (version, flags, lengths, padding, ranges, a half-set countersign). */
OCTO_MUST_USE int octo_commit_decode(const uint8_t *in, size_t len, struct octo_commitment *out);

/* Verifies the provider's signature, and the orchestrator's when countersigned. 0 or
 * OCTO_EBADSIG (also for a key that is not a usable Ed25519 point), OCTO_EMALFORMED. */
OCTO_MUST_USE int octo_commit_verify(const uint8_t in[OCTO_COMMIT_LEN]);

/* Countersigns a provider-signed commitment in place with id (the orchestrator). */
void octo_commit_countersign(uint8_t io[OCTO_COMMIT_LEN], const struct octo_identity *id);

#endif
