/*
 * commit.c — the execution commitment's encoding and signatures (commit.h). The decoder takes
 * only the one encoding (a zero-padded quant, known flags and isolation, ordered times, a
 * countersignature either whole or absent), so a commitment has one byte form and its
 * signatures cannot be moved to another.
 */
#include "intel/commit.h"

#include "base/assert.h"
#include "base/endian.h"
#include "intel/advert.h"

#include <string.h>

static const char commit_tag[] = "OCTO-COMMIT-v1";
static const char cosign_tag[] = "OCTO-COSIGN-v1";

#define OFF_QUANT_LEN 146
#define OFF_PSIG OCTO_COMMIT_SIGNED_LEN
#define OFF_ORCH (OFF_PSIG + 64)
#define OFF_OSIG (OFF_ORCH + 32)
#define FLAGS_KNOWN (OCTO_COMMIT_FLAG_SEALED | OCTO_COMMIT_FLAG_DETERMINISTIC)

_Static_assert(OFF_OSIG + 64 == OCTO_COMMIT_LEN, "commitment layout");

/* Bytes of a NUL-terminated string in a buffer of cap bytes (cap when unterminated). */
static size_t bounded_len(const char *s, size_t cap)
{
    const char *nul = memchr(s, 0, cap);
    return nul != NULL ? (size_t)(nul - s) : cap;
}

static uint8_t *put(uint8_t *p, const void *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

static bool values_ok(const struct octo_commitment *c, size_t quant_len)
{
    return quant_len >= 1 && quant_len <= OCTO_COMMIT_QUANT_MAX && (c->flags & ~FLAGS_KNOWN) == 0 &&
           c->isolation >= OCTO_ISOLATION_PROCESS && c->isolation <= OCTO_ISOLATION_MAX &&
           c->end_ms >= c->start_ms;
}

static void encode(const struct octo_commitment *c, size_t quant_len, uint8_t out[OCTO_COMMIT_LEN])
{
    memset(out, 0, OCTO_COMMIT_LEN);
    uint8_t *p = out;
    *p++ = OCTO_COMMIT_VERSION;
    *p++ = c->flags;
    p = put(p, c->task, 16);
    p = put(p, c->provider, 32);
    p = put(p, c->input, 32);
    p = put(p, c->output, 32);
    p = put(p, c->model_sha256, 32);
    OCTO_ASSERT(p - out == OFF_QUANT_LEN);
    *p++ = (uint8_t)quant_len;
    memcpy(p, c->quant, quant_len);
    p += OCTO_COMMIT_QUANT_MAX;
    octo_store_be32(p, c->prompt_tokens);
    octo_store_be32(p + 4, c->completion_tokens);
    p += 8;
    *p++ = c->isolation;
    p = put(p, c->attestation, 32);
    octo_store_be64(p, c->start_ms);
    octo_store_be64(p + 8, c->end_ms);
    p += 16;
    OCTO_ASSERT(p - out == OFF_PSIG);
}

/* The message a signature covers: tag | body[0..len). */
static void sign_tagged(const struct octo_identity *id, const char *tag, const uint8_t *body,
                        size_t len, uint8_t sig[64])
{
    uint8_t msg[sizeof(cosign_tag) - 1 + OFF_OSIG];
    size_t tl = strlen(tag);
    OCTO_ASSERT(tl + len <= sizeof(msg));
    memcpy(msg, tag, tl);
    memcpy(msg + tl, body, len);
    octo_identity_sign(id, msg, tl + len, sig);
}

static int verify_tagged(const uint8_t key[32], const char *tag, const uint8_t *body, size_t len,
                         const uint8_t sig[64])
{
    uint8_t msg[sizeof(cosign_tag) - 1 + OFF_OSIG];
    size_t tl = strlen(tag);
    memcpy(msg, tag, tl);
    memcpy(msg + tl, body, len);
    struct octo_pubkey pk;
    memcpy(pk.bytes, key, 32);
    return octo_pubkey_verify(&pk, msg, tl + len, sig) == 0 ? 0 : OCTO_EBADSIG;
}

int octo_commit_sign(struct octo_commitment *c, const struct octo_identity *id,
                     uint8_t out[OCTO_COMMIT_LEN])
{
    size_t quant_len = bounded_len(c->quant, sizeof(c->quant));
    if (!values_ok(c, quant_len))
        return OCTO_EINVAL;
    memcpy(c->provider, id->pub.bytes, 32);
    c->countersigned = false;
    memset(c->orchestrator, 0, sizeof(c->orchestrator));
    memset(c->orchestrator_sig, 0, sizeof(c->orchestrator_sig));
    encode(c, quant_len, out);
    sign_tagged(id, commit_tag, out, OFF_PSIG, out + OFF_PSIG);
    memcpy(c->provider_sig, out + OFF_PSIG, 64);
    return 0;
}

int octo_commit_encode(const struct octo_commitment *c, uint8_t out[OCTO_COMMIT_LEN])
{
    size_t quant_len = bounded_len(c->quant, sizeof(c->quant));
    if (!values_ok(c, quant_len) ||
        (!c->countersigned &&
         !(octo_all_zero(c->orchestrator, 32) && octo_all_zero(c->orchestrator_sig, 64))) ||
        (c->countersigned && octo_all_zero(c->orchestrator, 32)))
        return OCTO_EINVAL;
    encode(c, quant_len, out);
    memcpy(out + OFF_PSIG, c->provider_sig, 64);
    if (c->countersigned) {
        memcpy(out + OFF_ORCH, c->orchestrator, 32);
        memcpy(out + OFF_OSIG, c->orchestrator_sig, 64);
    }
    return 0;
}

int octo_commit_decode(const uint8_t *in, size_t len, struct octo_commitment *out)
{
    memset(out, 0, sizeof(*out));
    if (len != OCTO_COMMIT_LEN || in[0] != OCTO_COMMIT_VERSION)
        return OCTO_EMALFORMED;
    const uint8_t *p = in + 2;
    out->flags = in[1];
    memcpy(out->task, p, 16);
    memcpy(out->provider, p + 16, 32);
    memcpy(out->input, p + 48, 32);
    memcpy(out->output, p + 80, 32);
    memcpy(out->model_sha256, p + 112, 32);
    p = in + OFF_QUANT_LEN;
    size_t quant_len = p[0];
    if (quant_len == 0 || quant_len > OCTO_COMMIT_QUANT_MAX ||
        !octo_all_zero(p + 1 + quant_len, OCTO_COMMIT_QUANT_MAX - quant_len) ||
        memchr(p + 1, 0, quant_len) != NULL)
        goto bad;
    memcpy(out->quant, p + 1, quant_len);
    p += 1 + OCTO_COMMIT_QUANT_MAX;
    out->prompt_tokens = octo_load_be32(p);
    out->completion_tokens = octo_load_be32(p + 4);
    out->isolation = p[8];
    memcpy(out->attestation, p + 9, 32);
    out->start_ms = octo_load_be64(p + 41);
    out->end_ms = octo_load_be64(p + 49);
    OCTO_ASSERT(p + 57 == in + OFF_PSIG);
    memcpy(out->provider_sig, in + OFF_PSIG, 64);
    memcpy(out->orchestrator, in + OFF_ORCH, 32);
    memcpy(out->orchestrator_sig, in + OFF_OSIG, 64);
    bool orch_zero = octo_all_zero(out->orchestrator, 32);
    bool osig_zero = octo_all_zero(out->orchestrator_sig, 64);
    if (!values_ok(out, quant_len) || orch_zero != osig_zero)
        goto bad;
    out->countersigned = !orch_zero;
    return 0;
bad:
    memset(out, 0, sizeof(*out));
    return OCTO_EMALFORMED;
}

int octo_commit_verify(const uint8_t in[OCTO_COMMIT_LEN])
{
    struct octo_commitment c;
    int rc = octo_commit_decode(in, OCTO_COMMIT_LEN, &c);
    if (rc != 0)
        return rc;
    rc = verify_tagged(c.provider, commit_tag, in, OFF_PSIG, in + OFF_PSIG);
    if (rc == 0 && c.countersigned)
        rc = verify_tagged(c.orchestrator, cosign_tag, in, OFF_OSIG, in + OFF_OSIG);
    return rc;
}

void octo_commit_countersign(uint8_t io[OCTO_COMMIT_LEN], const struct octo_identity *id)
{
    memcpy(io + OFF_ORCH, id->pub.bytes, 32);
    sign_tagged(id, cosign_tag, io, OFF_OSIG, io + OFF_OSIG);
}
