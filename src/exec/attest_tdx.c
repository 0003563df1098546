/*
 * attest_tdx.c — verifier for Intel TDX quotes, version 4 (EXECUTION.md §6).
 *
 * Evidence = the quote as the Quoting Enclave returns it (integers little-endian):
 *   header (48)      0 u16 version (4)   2 u16 att_key_type (2 = ECDSA P-256)
 *                    4 u32 tee_type (0x81 = TDX)   8 u16 qe_svn  10 u16 pce_svn
 *                    12 qe_vendor_id[16]  28 user_data[20]
 *   TD report (584)  48+0 tee_tcb_svn[16]  +16 mrseam[48]  +64 mrsignerseam[48]
 *                    +112 seam_attributes[8]  +120 td_attributes[8] (bit 0 = DEBUG)
 *                    +128 xfam[8]  +136 mrtd[48]  +184 mrconfigid  +232 mrowner
 *                    +280 mrownerconfig  +328 rtmr0..3 [4 x 48]  +520 report_data[64]
 *   632 u32 sig_len; then exactly sig_len bytes of signature data:
 *     quote signature r||s (64, big-endian), attestation key x||y (64),
 *     u16 cert type (6) + u32 size + { QE report body (384), QE report signature r||s (64),
 *       u16 auth size + QE auth data, u16 cert type (5) + u32 size + PCK chain (PEM:
 *       leaf first, then intermediates/root) }, each size filling its container exactly.
 *   Nothing may follow.
 *
 * Verification (each failure has its own reason string):
 *   1. structure (above); the PEM chain holds 1..TDX_CHAIN_MAX certificates;
 *   2. PCK chain to an OCTO_ANCHOR_X509_DER anchor of type OCTO_EV_TDX_QUOTE (the Intel SGX
 *      Root CA in production), all certificates valid at now_s;
 *   3. QE report signature (P-256 / SHA-256) with the PCK leaf key over the 384-byte QE report;
 *   4. the QE's identity: quote header qe_vendor_id = Intel's, QE report MRSIGNER = Intel's
 *      quoting-enclave signer, ISVPRODID = 2 (TD QE), DEBUG attribute clear (the minimum
 *      QE ISVSVN comes with PCS's QE Identity collateral: not checked, see below);
 *      QE report_data == SHA-256(attestation key || QE auth data) || 32 zero bytes;
 *   5. quote signature (P-256 / SHA-256) with the attestation key over header + TD report;
 *   6. report_data == expected_rd; mrtd == anchors->ref_measurement (48 bytes, required);
 *      td_attributes DEBUG clear unless anchors->allow_debug; TCB summary >= min_tcb_level
 *      component-wise.
 * tcb_level = tee_tcb_svn[0] | [1] << 8 | [2] << 16 | [3] << 24 (TDX module SVN bytes).
 * Out of scope (documented gap): the TCB status from Intel PCS collateral (TCB Info, QE
 * Identity, CRLs, the PCK certificate's SGX extensions) — that needs collateral fetched from
 * PCS and is a separate module; rtmr values are reported nowhere yet.
 *
 * The certificate-chain check, the ECDSA verification and the TCB comparison are shared with
 * the SNP and Nitro verifiers (attest_x509.c).
 *
 * Memory: OpenSSL objects only, all freed before return; no octo_malloc.
 */
#include "base/assert.h"
#include "base/mem.h"
#include "exec/attest.h"
#include "exec/attest_x509.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#define TDX_CHAIN_MAX 4 /* certificates in the PCK chain */

#define TDX_HEADER_LEN 48u
#define TDX_BODY_LEN 584u
#define TDX_SIGNED_LEN (TDX_HEADER_LEN + TDX_BODY_LEN) /* 632 */
#define TDX_VERSION 4u
#define TDX_ATT_KEY_ECDSA_P256 2u
#define TDX_TEE_TYPE 0x81u
#define TDX_OFF_TCB_SVN (TDX_HEADER_LEN + 0u)
#define TDX_OFF_TD_ATTRIBUTES (TDX_HEADER_LEN + 120u)
#define TDX_OFF_MRTD (TDX_HEADER_LEN + 136u)
#define TDX_OFF_REPORT_DATA (TDX_HEADER_LEN + 520u)
#define TDX_MRTD_LEN 48u
#define TDX_TD_DEBUG 0x01u /* td_attributes byte 0 bit 0 */
#define TDX_SIG_LEN 64u
#define TDX_KEY_LEN 64u
#define TDX_QE_REPORT_LEN 384u
#define TDX_QE_OFF_REPORT_DATA 320u
#define TDX_CERT_QE_REPORT 6u
/* The Quoting Enclave's identity, checked in its SGX report body: without it, any enclave the
 * platform certifies (PROVISIONKEY is granted by the host operator under flexible launch
 * control) could pose as the QE and sign TD quotes of its choosing. */
#define TDX_OFF_QE_VENDOR_ID 12u
#define TDX_QE_OFF_ATTRIBUTES 48u /* u64 flags, bit 1 = DEBUG */
#define TDX_QE_OFF_MRSIGNER 128u
#define TDX_QE_OFF_ISVPRODID 256u
#define TDX_QE_ISVPRODID 2u /* the TD Quoting Enclave */
#define TDX_QE_DEBUG 0x02u
#define TDX_CERT_PCK_CHAIN 5u

_Static_assert(TDX_OFF_REPORT_DATA + OCTO_ATT_RD_LEN == TDX_SIGNED_LEN, "TD report layout");
_Static_assert(TDX_QE_OFF_REPORT_DATA + 64u == TDX_QE_REPORT_LEN, "QE report layout");

/* Borrowed views into the quote plus the parsed certificates. */
struct tdx_ev {
    const uint8_t *quote;   /* TDX_SIGNED_LEN bytes: header + TD report */
    const uint8_t *sig;     /* quote signature r||s */
    const uint8_t *att_key; /* x||y */
    const uint8_t *qe_report;
    const uint8_t *qe_sig;
    const uint8_t *auth;
    size_t auth_len;
    X509 *pck;
    STACK_OF(X509) * chain; /* the certificates after the leaf */
};

/* A bounds-checked reader over the signature data. */
struct rd {
    const uint8_t *p;
    size_t len;
    bool bad;
};

static const uint8_t *rd_take(struct rd *r, size_t n)
{
    if (r->bad || n > r->len) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->len -= n;
    return p;
}

static uint32_t rd_le(struct rd *r, size_t n)
{
    const uint8_t *p = rd_take(r, n);
    uint32_t v = 0;
    for (size_t i = 0; p != NULL && i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint32_t get_le(const uint8_t *p, size_t n)
{
    struct rd r = {p, n, false};
    return rd_le(&r, n);
}

static void tdx_ev_deinit(struct tdx_ev *e)
{
    X509_free(e->pck);
    sk_X509_pop_free(e->chain, X509_free);
    e->pck = NULL;
    e->chain = NULL;
}

/* Parses the PEM chain: leaf into e->pck, the rest into e->chain. */
static int parse_pem_chain(struct tdx_ev *e, const uint8_t *pem, size_t len,
                           struct octo_att_result *out)
{
    OCTO_ASSERT(len <= OCTO_ATT_EVIDENCE_MAX);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    e->chain = sk_X509_new_null();
    int rc = 0;
    if (bio == NULL || e->chain == NULL) {
        rc = octo_att_reject(out, OCTO_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t n = 0;; n++) {
        X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (c == NULL)
            break;
        if (n >= TDX_CHAIN_MAX) {
            X509_free(c);
            rc = octo_att_reject(out, OCTO_EMALFORMED, "PCK chain: too many certificates");
            goto done;
        }
        if (n == 0) {
            e->pck = c;
        } else if (sk_X509_push(e->chain, c) <= 0) {
            X509_free(c);
            rc = octo_att_reject(out, OCTO_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (e->pck == NULL)
        rc = octo_att_reject(out, OCTO_EMALFORMED, "PCK chain: no PEM certificate");
done:
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

/* Step 1: the structure. */
static int tdx_parse(struct tdx_ev *e, const uint8_t *ev, size_t len, struct octo_att_result *out)
{
    if (len < TDX_SIGNED_LEN + 4u)
        return octo_att_reject(out, OCTO_EMALFORMED, "truncated: shorter than a TDX quote");
    if (get_le(ev, 2) != TDX_VERSION)
        return octo_att_reject(out, OCTO_EMALFORMED, "not a version 4 quote");
    if (get_le(ev + 2, 2) != TDX_ATT_KEY_ECDSA_P256)
        return octo_att_reject(out, OCTO_EUNSUPPORTED, "attestation key type not ECDSA P-256");
    if (get_le(ev + 4, 4) != TDX_TEE_TYPE)
        return octo_att_reject(out, OCTO_EMALFORMED, "tee_type is not TDX");
    e->quote = ev;
    size_t sig_len = get_le(ev + TDX_SIGNED_LEN, 4);
    if (sig_len != len - TDX_SIGNED_LEN - 4u)
        return octo_att_reject(out, OCTO_EMALFORMED, "truncated or trailing bytes: sig_len");
    struct rd r = {ev + TDX_SIGNED_LEN + 4u, sig_len, false};
    e->sig = rd_take(&r, TDX_SIG_LEN);
    e->att_key = rd_take(&r, TDX_KEY_LEN);
    uint32_t type = rd_le(&r, 2), size = rd_le(&r, 4);
    if (r.bad || type != TDX_CERT_QE_REPORT || size != r.len)
        return octo_att_reject(out, OCTO_EMALFORMED, "certification data is not type 6");
    e->qe_report = rd_take(&r, TDX_QE_REPORT_LEN);
    e->qe_sig = rd_take(&r, TDX_SIG_LEN);
    e->auth_len = rd_le(&r, 2);
    e->auth = rd_take(&r, e->auth_len);
    type = rd_le(&r, 2);
    size = rd_le(&r, 4);
    if (r.bad || type != TDX_CERT_PCK_CHAIN || size != r.len || size == 0)
        return octo_att_reject(out, OCTO_EMALFORMED, "QE certification data is not a type 5 chain");
    return parse_pem_chain(e, r.p, r.len, out);
}

/* The chain check of step 2 (attest_x509.c) with the TDX anchors and reasons. */
static const struct octo__att_chain_spec tdx_chain = {
    .type = OCTO_EV_TDX_QUOTE,
    .anchor_not_der = "TDX trust anchor is not a DER certificate",
    .no_anchor = "no TDX trust anchor (SGX root CA)",
};

/* ECDSA P-256 / SHA-256 over msg with a raw big-endian r||s signature: 0, OCTO_EBADSIG (also
 * when key is not a P-256 key), or OCTO_ENOMEM / OCTO_ECRYPTO. */
static int ecdsa_p256_verify(EVP_PKEY *key, const uint8_t *msg, size_t msg_len,
                             const uint8_t rs[TDX_SIG_LEN])
{
    const struct octo__att_ecdsa_sig sig = {
        .r = rs,
        .s = rs + TDX_SIG_LEN / 2,
        .len = TDX_SIG_LEN / 2,
        .little_endian = false,
    };
    const struct octo__att_span m = {msg, msg_len};
    return octo__att_ecdsa_verify(key, OCTO__ATT_P256, &sig, &m, 1);
}

/* The attestation key x||y as a P-256 EVP_PKEY, or NULL (not on the curve, or no memory). */
static EVP_PKEY *att_key_pkey(const uint8_t xy[TDX_KEY_LEN])
{
    static char group[] = "prime256v1";
    uint8_t point[1 + TDX_KEY_LEN];
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, xy, TDX_KEY_LEN);
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
        OSSL_PARAM_construct_end(),
    };
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return key;
}

/* Intel's QE vendor id (quote header) and the MRSIGNER of Intel's Quoting Enclaves. */
static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                               0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
static const uint8_t intel_qe_mrsigner[32] = {
    0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
    0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};

/* The QE that signed is Intel's TD Quoting Enclave, not in debug mode. */
static int qe_identity(const struct tdx_ev *e, struct octo_att_result *out)
{
    if (memcmp(e->quote + TDX_OFF_QE_VENDOR_ID, intel_qe_vendor_id, sizeof(intel_qe_vendor_id)) !=
        0)
        return octo_att_reject(out, OCTO_EPERM, "QE vendor id is not Intel's");
    if (memcmp(e->qe_report + TDX_QE_OFF_MRSIGNER, intel_qe_mrsigner, sizeof(intel_qe_mrsigner)) !=
        0)
        return octo_att_reject(out, OCTO_EPERM, "QE MRSIGNER is not Intel's quoting enclave");
    uint16_t prod = (uint16_t)(e->qe_report[TDX_QE_OFF_ISVPRODID] |
                               e->qe_report[TDX_QE_OFF_ISVPRODID + 1] << 8);
    if (prod != TDX_QE_ISVPRODID)
        return octo_att_reject(out, OCTO_EPERM, "QE ISVPRODID is not the TD quoting enclave");
    if (e->qe_report[TDX_QE_OFF_ATTRIBUTES] & TDX_QE_DEBUG)
        return octo_att_reject(out, OCTO_EPERM, "QE runs in debug mode");
    return 0;
}

/* Steps 3 to 5: the QE report (PCK), its binding to the attestation key, the quote. */
static int quote_signatures(const struct tdx_ev *e, struct octo_att_result *out)
{
    int rc =
        ecdsa_p256_verify(X509_get0_pubkey(e->pck), e->qe_report, TDX_QE_REPORT_LEN, e->qe_sig);
    rc = octo__att_sig_reject(rc, "QE report signature does not verify with the PCK key", out);
    if (rc == 0)
        rc = qe_identity(e, out);
    if (rc < 0)
        return rc;
    uint8_t want[64] = {0};
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    bool ok = h != NULL && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(h, e->att_key, TDX_KEY_LEN) == 1 &&
              EVP_DigestUpdate(h, e->auth, e->auth_len) == 1 &&
              EVP_DigestFinal_ex(h, want, NULL) == 1;
    EVP_MD_CTX_free(h);
    if (!ok)
        return octo_att_reject(out, OCTO_ECRYPTO, "SHA-256 failed");
    if (!octo_ct_equal(e->qe_report + TDX_QE_OFF_REPORT_DATA, want, sizeof(want)))
        return octo_att_reject(out, OCTO_EBADSIG,
                               "QE report_data does not bind the attestation key");
    EVP_PKEY *ak = att_key_pkey(e->att_key);
    if (ak == NULL)
        return octo_att_reject(out, OCTO_EBADSIG, "attestation key is not a P-256 point");
    rc = ecdsa_p256_verify(ak, e->quote, TDX_SIGNED_LEN, e->sig);
    EVP_PKEY_free(ak);
    return octo__att_sig_reject(rc, "quote signature does not verify with the attestation key",
                                out);
}

/* Step 6: the binding and the policy. */
static int quote_policy(const uint8_t *q, const uint8_t *expected_rd,
                        const struct octo_trust_anchors *anchors, struct octo_att_result *out)
{
    out->debug = (q[TDX_OFF_TD_ATTRIBUTES] & TDX_TD_DEBUG) != 0;
    out->tcb_level = get_le(q + TDX_OFF_TCB_SVN, 4);
    if (!octo_ct_equal(q + TDX_OFF_REPORT_DATA, expected_rd, OCTO_ATT_RD_LEN))
        return octo_att_reject(out, OCTO_EPERM, "report_data differs from the expected binding");
    if (!octo_ct_equal(q + TDX_OFF_MRTD, anchors->ref_measurement, TDX_MRTD_LEN))
        return octo_att_reject(out, OCTO_EPERM, "MRTD differs from the reference value");
    if (out->debug && !anchors->allow_debug)
        return octo_att_reject(out, OCTO_EPERM, "policy: TD debug attribute is set");
    if (!octo__att_tcb_at_least(out->tcb_level, anchors->min_tcb_level))
        return octo_att_reject(out, OCTO_EPERM, "policy: TEE TCB SVN below the minimum");
    return 0;
}

/* Verifies a TDX quote v4 (format and steps in the top comment). Parameters and errors as
 * octo_att_verify_fn in attest.h: OCTO_EINVAL (NULL argument, no TDX anchor, reference MRTD
 * not 48 bytes), OCTO_ETOOBIG, OCTO_EMALFORMED, OCTO_EUNSUPPORTED (attestation key type),
 * OCTO_EBADSIG (PCK chain, QE report, key binding, quote signature), OCTO_EPERM (validity at
 * now_s, binding, MRTD, debug, TCB), OCTO_ENOMEM / OCTO_ECRYPTO. TCB status from PCS
 * collateral is not evaluated (see the top comment). */
int octo_att_tdx_verify(const uint8_t *ev, size_t len, const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                        const struct octo_trust_anchors *anchors, int64_t now_s,
                        struct octo_att_result *out)
{
    int rc = octo_att_check_args(OCTO_EV_TDX_QUOTE, ev, len, expected_rd, anchors, out);
    if (rc < 0)
        return rc;
    octo_att_set_platform(out, "Intel TDX");
    struct tdx_ev e = {0};
    const struct octo_trust_anchor *matched = NULL;
    rc = tdx_parse(&e, ev, len, out);
    if (rc < 0)
        goto done;
    if (anchors->ref_measurement_len != TDX_MRTD_LEN) {
        rc = octo_att_reject(out, OCTO_EINVAL, "reference MRTD (48 bytes) missing");
        goto done;
    }
    rc = octo__att_chain_verify(&tdx_chain, e.pck, e.chain, anchors, now_s, &matched, out);
    if (rc < 0)
        goto done;
    rc = quote_signatures(&e, out);
    if (rc < 0)
        goto done;
    rc = quote_policy(e.quote, expected_rd, anchors, out);
    if (rc < 0)
        goto done;
    octo__att_accept(out, matched, e.quote + TDX_OFF_MRTD, TDX_MRTD_LEN,
                     e.quote + TDX_OFF_REPORT_DATA);
done:
    tdx_ev_deinit(&e);
    return rc;
}
