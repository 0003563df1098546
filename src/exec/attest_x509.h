/*
 * attest_x509.h — certificate and ECDSA helpers shared by the TEE verifiers (internal to
 * octo_exec: attest_snp.c, attest_tdx.c, attest_nitro.c).
 *
 * The three TEE formats differ in their envelopes but end the same way: a leaf certificate
 * (VCEK, PCK, Nitro leaf) with some untrusted intermediates must chain to one of the caller's
 * pinned OCTO_ANCHOR_X509_DER anchors of the verifier's evidence type, valid at now_s, and a
 * raw ECDSA r||s signature (fixed-width components, big-endian, or little-endian for SNP) must
 * verify with a P-256 or P-384 key over some bytes. This file holds that logic once:
 *   - octo__att_der_cert: one DER certificate that fills its bytes exactly;
 *   - octo__att_chain_verify: the chain check; the verifier names its anchor type and the
 *     reasons for its own anchor errors, so each keeps its reason strings;
 *   - octo__att_ecdsa_verify / octo__att_sig_reject: raw signature to DER, digest (SHA-256
 *     with P-256, SHA-384 with P-384) over a message given in pieces, verify, and the
 *     reason for a failure;
 *   - octo__att_tcb_at_least, octo__att_accept: the byte-wise TCB comparison and the success
 *     fields every verifier fills.
 * Like the verifiers, these functions are pure (no clock, no network) and leave OpenSSL's
 * thread error queue empty when they fail inside OpenSSL (except octo__att_der_cert, whose
 * callers clear it).
 *
 * Memory: OpenSSL objects only. octo__att_der_cert returns an X509 the caller frees with
 * X509_free; every other function frees what it creates before returning; no octo_malloc.
 */
#ifndef OCTO_EXEC_ATTEST_X509_H
#define OCTO_EXEC_ATTEST_X509_H

#include "base/err.h"
#include "exec/attest.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a verifier tells octo__att_chain_verify: which anchors count, and its reasons. */
struct octo__att_chain_spec {
    enum octo_ev_type type;     /* anchors of this type and kind OCTO_ANCHOR_X509_DER are roots */
    const char *anchor_not_der; /* reason when such an anchor is not one DER certificate */
    const char *no_anchor;      /* reason when there is no such anchor */
};

/* The curves of the TEE signatures; the value is the key size in bits. */
enum octo__att_curve {
    OCTO__ATT_P256 = 256, /* verified with SHA-256 */
    OCTO__ATT_P384 = 384, /* verified with SHA-384 */
};

/* A raw ECDSA signature: r and s as unsigned integers of len bytes each. */
struct octo__att_ecdsa_sig {
    const uint8_t *r;
    const uint8_t *s;
    size_t len;         /* bytes per component, 1..OCTO__ATT_ECDSA_COMPONENT_MAX */
    bool little_endian; /* SNP: little-endian, zero-extended; TDX, COSE: big-endian */
};
#define OCTO__ATT_ECDSA_COMPONENT_MAX 72u

/* One piece of a signed message; the pieces are digested in order. */
struct octo__att_span {
    const uint8_t *p;
    size_t len;
};

/* Parses one DER certificate that fills exactly p[0..len). Returns it (the caller frees it
 * with X509_free), or NULL when len is 0 or above OCTO_ATT_EVIDENCE_MAX, the bytes are not a
 * certificate, or bytes follow it. May leave entries in OpenSSL's error queue on failure. */
X509 *octo__att_der_cert(const uint8_t *p, size_t len);

/* Verifies leaf, with the untrusted candidates (may be NULL or empty), up to one of the
 * anchors of spec->type and kind OCTO_ANCHOR_X509_DER, every certificate valid at now_s.
 * anchors->count <= OCTO_ATT_ANCHORS_MAX (asserted; octo_att_check_args checks it). On
 * success returns 0 and sets *matched to the anchor that ends the chain. On failure sets
 * out->reason (octo_att_reject) and returns: OCTO_EINVAL (an anchor of the type does not parse:
 * spec->anchor_not_der; none exists: spec->no_anchor), OCTO_EBADSIG ("certificate chain:
 * <OpenSSL reason>": broken chain, untrusted root), OCTO_EPERM ("certificate not valid at
 * now: <OpenSSL reason>": expired or not yet valid), OCTO_ENOMEM, OCTO_ECRYPTO. */
OCTO_MUST_USE int octo__att_chain_verify(const struct octo__att_chain_spec *spec, X509 *leaf,
                                         STACK_OF(X509) * untrusted,
                                         const struct octo_trust_anchors *anchors, int64_t now_s,
                                         const struct octo_trust_anchor **matched,
                                         struct octo_att_result *out);

/* Whether key is an EC key of the curve's size (false for NULL). */
bool octo__att_ec_key_is(const EVP_PKEY *key, enum octo__att_curve curve);

/* Verifies the raw ECDSA signature sig with key over the concatenation of msg[0..nmsg)
 * (SHA-256 for P-256, SHA-384 for P-384). Returns 0 when it verifies; OCTO_EBADSIG when it
 * does not or when key is not an EC key of the curve's size (or NULL); OCTO_ENOMEM /
 * OCTO_ECRYPTO on library failures. Does not touch any result: see octo__att_sig_reject. */
OCTO_MUST_USE int octo__att_ecdsa_verify(EVP_PKEY *key, enum octo__att_curve curve,
                                         const struct octo__att_ecdsa_sig *sig,
                                         const struct octo__att_span *msg, size_t nmsg);

/* Turns an octo__att_ecdsa_verify result into the verifier's answer: 0 stays 0; OCTO_EBADSIG
 * is rejected with bad_sig_reason; any other negative code with "signature check failed
 * (library)". Returns rc. */
OCTO_MUST_USE int octo__att_sig_reject(int rc, const char *bad_sig_reason,
                                       struct octo_att_result *out);

/* Whether every byte component of the TCB summary have is >= the same byte of min. */
bool octo__att_tcb_at_least(uint32_t have, uint32_t min);

/* Records a success in out: hardware_rooted unless the matching anchor is software,
 * test_anchor from it, the measurement (len <= OCTO_ATT_MEASUREMENT_MAX, asserted) and the
 * OCTO_ATT_RD_LEN bytes of report_data the evidence carried. */
void octo__att_accept(struct octo_att_result *out, const struct octo_trust_anchor *matched,
                      const uint8_t *measurement, size_t len, const uint8_t *report_data);

#endif
