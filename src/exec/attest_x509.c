/*
 * attest_x509.c — the certificate-chain check and ECDSA verification shared by the TEE
 * verifiers (attest_snp.c, attest_tdx.c, attest_nitro.c); contracts in attest_x509.h.
 *
 * Chain check: an X509_STORE holding only the verifier's pinned anchors (parsed here, one
 * X509 per anchor slot so that the chain's top can be matched back to its anchor), the leaf
 * and the untrusted candidates from the evidence, OpenSSL's path building at the fixed time
 * now_s. A candidate root in the evidence never becomes trusted: only the store's anchors do.
 * Expired / not-yet-valid certificates are a policy failure (OCTO_EPERM), every other path
 * error a signature failure (OCTO_EBADSIG).
 *
 * ECDSA: the formats carry r and s as fixed-width integers; they are converted to BIGNUMs
 * (big- or little-endian), encoded as a DER ECDSA-Sig-Value and checked with EVP_DigestVerify*
 * over the message pieces, so that a verifier need not assemble a signed structure in memory.
 *
 * Memory: OpenSSL objects only, freed before return (octo__att_der_cert's result belongs to
 * its caller); no octo_malloc.
 */
#include "exec/attest_x509.h"

#include "base/assert.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>

X509 *octo__att_der_cert(const uint8_t *p, size_t len)
{
    if (len == 0 || len > OCTO_ATT_EVIDENCE_MAX)
        return NULL;
    const unsigned char *q = p;
    X509 *c = d2i_X509(NULL, &q, (long)len);
    if (c != NULL && (size_t)(q - p) != len) {
        X509_free(c);
        c = NULL;
    }
    return c;
}

/* Parses the anchors of spec->type into roots[i] (same index as anchors->items[i]) and adds
 * them to store. 0, or OCTO_EINVAL with a reason (an anchor does not parse, or none). */
static int load_roots(const struct octo__att_chain_spec *spec,
                      const struct octo_trust_anchors *anchors, X509_STORE *store,
                      X509 *roots[OCTO_ATT_ANCHORS_MAX], struct octo_att_result *out)
{
    size_t nroots = 0;
    OCTO_ASSERT(anchors->count <= OCTO_ATT_ANCHORS_MAX);
    for (size_t i = 0; i < anchors->count; i++) {
        const struct octo_trust_anchor *a = &anchors->items[i];
        if (a->type != spec->type || a->kind != OCTO_ANCHOR_X509_DER)
            continue;
        roots[i] = octo__att_der_cert(a->data, a->len);
        if (roots[i] == NULL || X509_STORE_add_cert(store, roots[i]) != 1)
            return octo_att_reject(out, OCTO_EINVAL, spec->anchor_not_der);
        nroots++;
    }
    if (nroots == 0)
        return octo_att_reject(out, OCTO_EINVAL, spec->no_anchor);
    return 0;
}

/* Runs path building on an initialised ctx at now_s. 0, or OCTO_EPERM / OCTO_EBADSIG with
 * the OpenSSL reason. */
static int run_verify(X509_STORE_CTX *ctx, int64_t now_s, struct octo_att_result *out)
{
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)now_s);
    if (X509_verify_cert(ctx) == 1)
        return 0;
    int err = X509_STORE_CTX_get_error(ctx);
    char reason[OCTO_ATT_REASON_MAX];
    bool when = err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID;
    snprintf(reason, sizeof(reason), "%s: %s",
             when ? "certificate not valid at now" : "certificate chain",
             X509_verify_cert_error_string(err));
    return octo_att_reject(out, when ? OCTO_EPERM : OCTO_EBADSIG, reason);
}

int octo__att_chain_verify(const struct octo__att_chain_spec *spec, X509 *leaf,
                           STACK_OF(X509) * untrusted, const struct octo_trust_anchors *anchors,
                           int64_t now_s, const struct octo_trust_anchor **matched,
                           struct octo_att_result *out)
{
    OCTO_ASSERT(spec != NULL && leaf != NULL && anchors != NULL && matched != NULL);
    X509 *roots[OCTO_ATT_ANCHORS_MAX] = {0};
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = 0;
    *matched = NULL;
    if (store == NULL || ctx == NULL) {
        rc = octo_att_reject(out, OCTO_ENOMEM, "out of memory");
        goto done;
    }
    rc = load_roots(spec, anchors, store, roots, out);
    if (rc < 0)
        goto done;
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        rc = octo_att_reject(out, OCTO_ECRYPTO, "X509_STORE_CTX_init failed");
        goto done;
    }
    rc = run_verify(ctx, now_s, out);
    if (rc < 0)
        goto done;
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    X509 *top = sk_X509_value(chain, sk_X509_num(chain) - 1);
    for (size_t i = 0; i < anchors->count && *matched == NULL; i++)
        if (roots[i] != NULL && X509_cmp(roots[i], top) == 0)
            *matched = &anchors->items[i];
    if (OCTO_NEVER(*matched == NULL))
        rc = octo_att_reject(out, OCTO_EBADSIG, "certificate chain: anchor not found");
done:
    for (size_t i = 0; i < OCTO_ARRAY_LEN(roots); i++)
        X509_free(roots[i]);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

bool octo__att_ec_key_is(const EVP_PKEY *key, enum octo__att_curve curve)
{
    return key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_bits(key) == (int)curve;
}

/* One signature component as a BIGNUM, or NULL (no memory). */
static BIGNUM *sig_component(const uint8_t *p, size_t len, bool little_endian)
{
    return little_endian ? BN_lebin2bn(p, (int)len, NULL) : BN_bin2bn(p, (int)len, NULL);
}

/* The DER ECDSA-Sig-Value of sig into *der (OPENSSL_free) and *der_len; false when out of
 * memory. */
static bool sig_to_der(const struct octo__att_ecdsa_sig *sig, unsigned char **der, int *der_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = sig_component(sig->r, sig->len, sig->little_endian);
    BIGNUM *s = sig_component(sig->s, sig->len, sig->little_endian);
    *der_len = 0;
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
    } else {
        *der_len = i2d_ECDSA_SIG(es, der);
    }
    ECDSA_SIG_free(es);
    return *der_len > 0;
}

/* Feeds msg[0..nmsg) to a DigestVerify context. */
static bool feed_message(EVP_MD_CTX *md, const struct octo__att_span *msg, size_t nmsg)
{
    for (size_t i = 0; i < nmsg; i++)
        if (EVP_DigestVerifyUpdate(md, msg[i].p, msg[i].len) != 1)
            return false;
    return true;
}

int octo__att_ecdsa_verify(EVP_PKEY *key, enum octo__att_curve curve,
                           const struct octo__att_ecdsa_sig *sig, const struct octo__att_span *msg,
                           size_t nmsg)
{
    OCTO_ASSERT(sig != NULL && (msg != NULL || nmsg == 0));
    OCTO_ASSERT(sig->len > 0 && sig->len <= OCTO__ATT_ECDSA_COMPONENT_MAX);
    if (!octo__att_ec_key_is(key, curve))
        return OCTO_EBADSIG;
    int rc = OCTO_ENOMEM;
    unsigned char *der = NULL;
    int der_len = 0;
    EVP_MD_CTX *md = NULL;
    if (!sig_to_der(sig, &der, &der_len))
        goto done;
    md = EVP_MD_CTX_new();
    if (md == NULL)
        goto done;
    const EVP_MD *hash = curve == OCTO__ATT_P256 ? EVP_sha256() : EVP_sha384();
    if (EVP_DigestVerifyInit(md, NULL, hash, NULL, key) != 1 || !feed_message(md, msg, nmsg)) {
        rc = OCTO_ECRYPTO;
        goto done;
    }
    rc = EVP_DigestVerifyFinal(md, der, (size_t)der_len) == 1 ? 0 : OCTO_EBADSIG;
done:
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return rc;
}

int octo__att_sig_reject(int rc, const char *bad_sig_reason, struct octo_att_result *out)
{
    if (rc == OCTO_EBADSIG)
        return octo_att_reject(out, rc, bad_sig_reason);
    if (rc < 0)
        return octo_att_reject(out, rc, "signature check failed (library)");
    return rc;
}

bool octo__att_tcb_at_least(uint32_t have, uint32_t min)
{
    for (unsigned shift = 0; shift < 32; shift += 8)
        if (((have >> shift) & 0xff) < ((min >> shift) & 0xff))
            return false;
    return true;
}

void octo__att_accept(struct octo_att_result *out, const struct octo_trust_anchor *matched,
                      const uint8_t *measurement, size_t len, const uint8_t *report_data)
{
    OCTO_ASSERT(out != NULL && matched != NULL && measurement != NULL && report_data != NULL);
    OCTO_ASSERT(len <= OCTO_ATT_MEASUREMENT_MAX);
    out->verified = true;
    out->hardware_rooted = !matched->software;
    out->test_anchor = matched->test_only;
    memcpy(out->measurement, measurement, len);
    out->measurement_len = len;
    memcpy(out->report_data, report_data, OCTO_ATT_RD_LEN);
}
