/*
 * attest_tpm.c — TPM 2.0 quotes: the attester (libtss2 ESAPI over a TCTI: "swtpm:...",
 * "mssim:..." or "device:/dev/tpmrm0") and the pure verifier (tss2-mu + OpenSSL).
 *
 * Attester, per collect():
 *   1. CreatePrimary in the endorsement hierarchy: the AK, an ECC NIST P-256 restricted
 *      signing key (ECDSA / SHA-256; fixedTPM, fixedParent, sensitiveDataOrigin,
 *      userWithAuth). A primary key is derived from the hierarchy seed and the template, so
 *      the same TPM gives the same AK every time: its public area is what a verifier pins
 *      (octo_att_tpm_ak_public = enrolment). "restricted" means it signs only structures the
 *      TPM itself produced (quotes), never an arbitrary digest that could mimic one.
 *   2. When a workload hash is set: PCR_Extend(16, sha256 workload hash).
 *   3. Quote(AK, qualifyingData = SHA-256(report_data), sha256:{0,16}). report_data is hashed
 *      because a TPM2B_DATA for a quote is bounded by a digest size and 32 bytes fit every
 *      TPM; the SHA-256 keeps the binding of all 64 bytes.
 *   4. FlushContext(AK) (swtpm has no resource manager: leaked objects fill its 3 slots).
 * Evidence container, version 1 (integers big-endian):
 *   0  4  magic "OTPM"   4 1 version (1)   5 3 reserved (0)
 *   8  2  A, then A bytes: TPMS_ATTEST as the TPM returned it (TPM2B_ATTEST contents)
 *      2  S, then S bytes: TPMT_SIGNATURE, tss2-mu marshalled
 *      2  P, then P bytes: the AK's TPM2B_PUBLIC, tss2-mu marshalled (size prefix included)
 *   nothing may follow.
 *
 * Verifier (pure), in order: container syntax and limits; TPMS_ATTEST magic 0xff544347 and
 * type 0x8018 (TPM2_ST_ATTEST_QUOTE); each part unmarshals exactly (no trailing bytes); the AK
 * public equals an OCTO_ANCHOR_TPM2B_PUBLIC anchor byte for byte and is an ECC P-256
 * restricted, fixedTPM signing key with ECDSA/SHA-256; the ECDSA signature over the TPMS_ATTEST
 * bytes with the AK (OpenSSL); qualifiedSigner is the AK's qualified name as a primary of the
 * endorsement hierarchy (nameAlg || SHA-256(u32be(TPM_RH_ENDORSEMENT) || Name)); extraData ==
 * SHA-256(expected report_data) — the freshness check; the PCR selection is exactly
 * sha256:{0,16}; pcrDigest == SHA-256(anchors->ref_pcrs), the expected PCR values (required).
 * The result's measurement is the pcrDigest. hardware_rooted is false for an anchor marked
 * `software` (swtpm), and a TPM result never satisfies PRIVATE/CONFIDENTIAL (attest.c).
 *
 * AK trust. Here the pinned AK public is the anchor ("swtpm (software)" in tests). A
 * production deployment would instead (a) read the EK certificate from NV (0x01c0000a for
 * ECC), chain it to the TPM vendor's CA, and (b) run credential activation: the verifier
 * MakeCredential()s a secret to the EK for the AK's Name, and only a TPM holding both the EK
 * and that AK can ActivateCredential() it — proving the AK lives in the same genuine TPM.
 * This file does neither: the AK pinned at enrolment is the trust root (an open item in the
 * issue-5 closing note), so a TPM quote proves freshness and PCRs of that enrolled AK only.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/mem.h"
#include "crypto/hash.h"
#include "exec/attest.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#define TPM_MAGIC "OTPM"
#define TPM_VERSION 1
#define TPM_HDR_LEN 8u
#define TPM_ATTEST_MAX 2048u /* TPMS_ATTEST bytes */
#define TPM_SIG_MAX 1024u    /* TPMT_SIGNATURE bytes */
#define TPM_PCR_COUNT 2u     /* popcount(OCTO_ATT_TPM_PCR_MASK) */
#define TPM_DEFAULT_TCTI "device:/dev/tpmrm0"
#define TPM_DEVICE "/dev/tpmrm0"

_Static_assert(OCTO_ATT_TPM_PUBLIC_MAX <= 0xffff, "u16 length prefix");
_Static_assert(TPM_ATTEST_MAX + TPM_SIG_MAX + OCTO_ATT_TPM_PUBLIC_MAX + 16 <= OCTO_ATT_EVIDENCE_MAX,
               "a TPM container fits the evidence limit");

/* ---- attester ---------------------------------------------------------------------------- */

int octo_att_tpm_init(struct octo_att_tpm *t, const char *tcti, const uint8_t *workload_hash)
{
    OCTO_ASSERT(t != NULL);
    memset(t, 0, sizeof(*t));
    if (tcti != NULL) {
        size_t n = strlen(tcti);
        if (n >= sizeof(t->tcti))
            return OCTO_ETOOBIG;
        memcpy(t->tcti, tcti, n + 1);
    }
    if (workload_hash != NULL) {
        memcpy(t->workload_hash, workload_hash, sizeof(t->workload_hash));
        t->extend_workload = true;
    }
    return 0;
}

void octo_att_tpm_deinit(struct octo_att_tpm *t)
{
    if (t != NULL)
        memset(t, 0, sizeof(*t));
}

/* An open ESAPI connection. */
struct tpm_conn {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
};

static const char *tpm_conf(const struct octo_att_tpm *t)
{
    return t->tcti[0] != '\0' ? t->tcti : TPM_DEFAULT_TCTI;
}

static bool tpm_is_simulator(const char *conf)
{
    return strncmp(conf, "swtpm", 5) == 0 || strncmp(conf, "mssim", 5) == 0;
}

static void tpm_close(struct tpm_conn *c)
{
    if (c->esys != NULL)
        Esys_Finalize(&c->esys);
    if (c->tcti != NULL)
        Tss2_TctiLdr_Finalize(&c->tcti);
    c->esys = NULL;
    c->tcti = NULL;
}

/* Loads the TCTI and starts ESAPI. OCTO_EIO when the TPM cannot be reached. A simulator gets
 * TPM2_Startup(CLEAR) (already started is fine). */
static int tpm_open(const struct octo_att_tpm *t, struct tpm_conn *c)
{
    memset(c, 0, sizeof(*c));
    const char *conf = tpm_conf(t);
    if (Tss2_TctiLdr_Initialize(conf, &c->tcti) != TSS2_RC_SUCCESS)
        return OCTO_EIO;
    if (Esys_Initialize(&c->esys, c->tcti, NULL) != TSS2_RC_SUCCESS) {
        tpm_close(c);
        return OCTO_EIO;
    }
    if (tpm_is_simulator(conf)) {
        TSS2_RC rc = Esys_Startup(c->esys, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS && (rc & 0xfffu) != TPM2_RC_INITIALIZE) {
            tpm_close(c);
            return OCTO_EIO;
        }
    }
    return 0;
}

/* The AK template (see the top comment). */
static void ak_template(TPM2B_PUBLIC *p)
{
    memset(p, 0, sizeof(*p));
    p->publicArea.type = TPM2_ALG_ECC;
    p->publicArea.nameAlg = TPM2_ALG_SHA256;
    p->publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                     TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    TPMS_ECC_PARMS *e = &p->publicArea.parameters.eccDetail;
    e->symmetric.algorithm = TPM2_ALG_NULL;
    e->scheme.scheme = TPM2_ALG_ECDSA;
    e->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    e->curveID = TPM2_ECC_NIST_P256;
    e->kdf.scheme = TPM2_ALG_NULL;
}

/* Creates (re-derives) the AK; *pub (optional) receives its public area (Esys_Free it). */
static int ak_create(struct tpm_conn *c, ESYS_TR *ak, TPM2B_PUBLIC **pub)
{
    TPM2B_SENSITIVE_CREATE sens;
    memset(&sens, 0, sizeof(sens));
    TPM2B_PUBLIC tmpl;
    ak_template(&tmpl);
    TPM2B_DATA outside;
    memset(&outside, 0, sizeof(outside));
    TPML_PCR_SELECTION creation_pcr;
    memset(&creation_pcr, 0, sizeof(creation_pcr));
    TPM2B_PUBLIC *out_pub = NULL;
    TPM2B_CREATION_DATA *cdata = NULL;
    TPM2B_DIGEST *chash = NULL;
    TPMT_TK_CREATION *ticket = NULL;
    TSS2_RC rc = Esys_CreatePrimary(c->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                    ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr, ak,
                                    &out_pub, &cdata, &chash, &ticket);
    Esys_Free(cdata);
    Esys_Free(chash);
    Esys_Free(ticket);
    if (rc != TSS2_RC_SUCCESS) {
        Esys_Free(out_pub);
        return OCTO_ECRYPTO;
    }
    if (pub != NULL)
        *pub = out_pub;
    else
        Esys_Free(out_pub);
    return 0;
}

static void pcr_selection(TPML_PCR_SELECTION *sel)
{
    memset(sel, 0, sizeof(*sel));
    sel->count = 1;
    sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel->pcrSelections[0].sizeofSelect = 3;
    for (unsigned i = 0; i < 24; i++) {
        if (OCTO_ATT_TPM_PCR_MASK & (UINT32_C(1) << i))
            sel->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
    }
}

static int tpm_probe(void *ctx)
{
    struct octo_att_tpm *t = ctx;
    if (t == NULL)
        return OCTO_EINVAL;
    if (t->tcti[0] == '\0' && access(TPM_DEVICE, R_OK | W_OK) != 0)
        return OCTO_ENOTFOUND;
    struct tpm_conn c;
    int rc = tpm_open(t, &c);
    if (rc < 0)
        return rc;
    TPM2B_DIGEST *rnd = NULL;
    TSS2_RC trc = Esys_GetRandom(c.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 8, &rnd);
    Esys_Free(rnd);
    tpm_close(&c);
    return trc == TSS2_RC_SUCCESS ? 0 : OCTO_EIO;
}

int octo_att_tpm_ak_public(struct octo_att_tpm *t, uint8_t *buf, size_t cap)
{
    if (t == NULL || buf == NULL)
        return OCTO_EINVAL;
    struct tpm_conn c;
    int rc = tpm_open(t, &c);
    if (rc < 0)
        return rc;
    ESYS_TR ak = ESYS_TR_NONE;
    TPM2B_PUBLIC *pub = NULL;
    rc = ak_create(&c, &ak, &pub);
    if (rc == 0) {
        size_t off = 0;
        if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, cap, &off) != TSS2_RC_SUCCESS)
            rc = OCTO_ENOSPACE;
        else
            rc = (int)off;
        OCTO_IGNORE((int)Esys_FlushContext(c.esys, ak));
    }
    Esys_Free(pub);
    tpm_close(&c);
    return rc;
}

int octo_att_tpm_read_pcrs(struct octo_att_tpm *t, uint8_t *out, size_t cap)
{
    if (t == NULL || out == NULL)
        return OCTO_EINVAL;
    if (cap < TPM_PCR_COUNT * OCTO_SHA256_LEN)
        return OCTO_ENOSPACE;
    struct tpm_conn c;
    int rc = tpm_open(t, &c);
    if (rc < 0)
        return rc;
    TPML_PCR_SELECTION sel;
    pcr_selection(&sel);
    UINT32 counter = 0;
    TPML_PCR_SELECTION *sel_out = NULL;
    TPML_DIGEST *vals = NULL;
    TSS2_RC trc = Esys_PCR_Read(c.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter,
                                &sel_out, &vals);
    rc = OCTO_ECRYPTO;
    if (trc == TSS2_RC_SUCCESS && vals != NULL && vals->count == TPM_PCR_COUNT && sel_out != NULL &&
        sel_out->count == 1 &&
        memcmp(sel_out->pcrSelections[0].pcrSelect, sel.pcrSelections[0].pcrSelect, 3) == 0) {
        rc = 0;
        for (uint32_t i = 0; i < vals->count; i++) {
            if (vals->digests[i].size != OCTO_SHA256_LEN) {
                rc = OCTO_ECRYPTO;
                break;
            }
            memcpy(out + i * OCTO_SHA256_LEN, vals->digests[i].buffer, OCTO_SHA256_LEN);
        }
        if (rc == 0)
            rc = (int)(TPM_PCR_COUNT * OCTO_SHA256_LEN);
    }
    Esys_Free(sel_out);
    Esys_Free(vals);
    tpm_close(&c);
    return rc;
}

static void put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Builds the evidence container from the quote parts. */
static int tpm_container(const TPM2B_ATTEST *quoted, const TPMT_SIGNATURE *sig,
                         const TPM2B_PUBLIC *pub, uint8_t **ev, size_t *ev_len)
{
    uint8_t sigb[TPM_SIG_MAX];
    uint8_t pubb[OCTO_ATT_TPM_PUBLIC_MAX];
    size_t sig_len = 0, pub_len = 0;
    if (quoted->size > TPM_ATTEST_MAX ||
        Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sigb, sizeof(sigb), &sig_len) != TSS2_RC_SUCCESS ||
        Tss2_MU_TPM2B_PUBLIC_Marshal(pub, pubb, sizeof(pubb), &pub_len) != TSS2_RC_SUCCESS)
        return OCTO_ECRYPTO;
    size_t total = TPM_HDR_LEN + 2 + quoted->size + 2 + sig_len + 2 + pub_len;
    uint8_t *b = octo_malloc(total);
    if (b == NULL)
        return OCTO_ENOMEM;
    memcpy(b, TPM_MAGIC, 4);
    b[4] = TPM_VERSION;
    b[5] = b[6] = b[7] = 0;
    size_t off = TPM_HDR_LEN;
    put_u16(b + off, quoted->size);
    memcpy(b + off + 2, quoted->attestationData, quoted->size);
    off += 2 + quoted->size;
    put_u16(b + off, sig_len);
    memcpy(b + off + 2, sigb, sig_len);
    off += 2 + sig_len;
    put_u16(b + off, pub_len);
    memcpy(b + off + 2, pubb, pub_len);
    off += 2 + pub_len;
    OCTO_ASSERT(off == total);
    *ev = b;
    *ev_len = total;
    return 0;
}

static int tpm_extend(struct tpm_conn *c, const uint8_t hash[OCTO_SHA256_LEN])
{
    TPML_DIGEST_VALUES d;
    memset(&d, 0, sizeof(d));
    d.count = 1;
    d.digests[0].hashAlg = TPM2_ALG_SHA256;
    memcpy(d.digests[0].digest.sha256, hash, OCTO_SHA256_LEN);
    TSS2_RC rc = Esys_PCR_Extend(c->esys, ESYS_TR_PCR0 + OCTO_ATT_TPM_PCR_WORKLOAD,
                                 ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d);
    return rc == TSS2_RC_SUCCESS ? 0 : OCTO_ECRYPTO;
}

static int tpm_collect(void *ctx, const uint8_t report_data[OCTO_ATT_RD_LEN], uint8_t **ev,
                       size_t *ev_len)
{
    struct octo_att_tpm *t = ctx;
    if (t == NULL || report_data == NULL || ev == NULL || ev_len == NULL)
        return OCTO_EINVAL;
    *ev = NULL;
    *ev_len = 0;
    struct tpm_conn c;
    int rc = tpm_open(t, &c);
    if (rc < 0)
        return rc;
    if (t->extend_workload) {
        rc = tpm_extend(&c, t->workload_hash);
        if (rc < 0)
            goto err_close;
    }
    ESYS_TR ak = ESYS_TR_NONE;
    TPM2B_PUBLIC *pub = NULL;
    rc = ak_create(&c, &ak, &pub);
    if (rc < 0)
        goto err_close;

    TPM2B_DATA qual;
    memset(&qual, 0, sizeof(qual));
    qual.size = OCTO_SHA256_LEN;
    octo_sha256(report_data, OCTO_ATT_RD_LEN, qual.buffer);
    TPMT_SIG_SCHEME scheme;
    memset(&scheme, 0, sizeof(scheme));
    scheme.scheme = TPM2_ALG_NULL; /* the AK's own scheme: ECDSA / SHA-256 */
    TPML_PCR_SELECTION sel;
    pcr_selection(&sel);
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *sig = NULL;
    TSS2_RC trc = Esys_Quote(c.esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qual,
                             &scheme, &sel, &quoted, &sig);
    OCTO_IGNORE((int)Esys_FlushContext(c.esys, ak));
    if (trc != TSS2_RC_SUCCESS)
        rc = OCTO_ECRYPTO;
    else
        rc = tpm_container(quoted, sig, pub, ev, ev_len);
    Esys_Free(quoted);
    Esys_Free(sig);
    Esys_Free(pub);
err_close:
    tpm_close(&c);
    return rc;
}

const struct octo_attester_ops octo_att_tpm_ops = {
    .name = "tpm2",
    .type = OCTO_EV_TPM2_QUOTE,
    .probe = tpm_probe,
    .collect = tpm_collect,
};

/* ---- verifier (pure) --------------------------------------------------------------------- */

struct tpm_parts {
    const uint8_t *attest, *sig, *pub;
    size_t attest_len, sig_len, pub_len;
};

/* Reads one u16-length-prefixed part at *off. */
static bool take_part(const uint8_t *ev, size_t len, size_t *off, size_t max, const uint8_t **p,
                      size_t *plen)
{
    if (len - *off < 2)
        return false;
    size_t n = ((size_t)ev[*off] << 8) | ev[*off + 1];
    *off += 2;
    if (n == 0 || n > max || len - *off < n)
        return false;
    *p = ev + *off;
    *plen = n;
    *off += n;
    return true;
}

static bool tpm_split(const uint8_t *ev, size_t len, struct tpm_parts *p)
{
    if (len < TPM_HDR_LEN || memcmp(ev, TPM_MAGIC, 4) != 0 || ev[4] != TPM_VERSION || ev[5] != 0 ||
        ev[6] != 0 || ev[7] != 0)
        return false;
    size_t off = TPM_HDR_LEN;
    return take_part(ev, len, &off, TPM_ATTEST_MAX, &p->attest, &p->attest_len) &&
           take_part(ev, len, &off, TPM_SIG_MAX, &p->sig, &p->sig_len) &&
           take_part(ev, len, &off, OCTO_ATT_TPM_PUBLIC_MAX, &p->pub, &p->pub_len) && off == len;
}

static const struct octo_trust_anchor *tpm_anchor(const struct octo_trust_anchors *a,
                                                  const uint8_t *pub, size_t pub_len)
{
    for (size_t i = 0; i < a->count; i++) {
        const struct octo_trust_anchor *t = &a->items[i];
        if (t->type == OCTO_EV_TPM2_QUOTE && t->kind == OCTO_ANCHOR_TPM2B_PUBLIC &&
            t->len == pub_len && memcmp(t->data, pub, pub_len) == 0)
            return t;
    }
    return NULL;
}

static bool ak_acceptable(const TPMT_PUBLIC *p)
{
    const TPMA_OBJECT need =
        TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    const TPMS_ECC_PARMS *e = &p->parameters.eccDetail;
    return p->type == TPM2_ALG_ECC && p->nameAlg == TPM2_ALG_SHA256 &&
           (p->objectAttributes & need) == need &&
           (p->objectAttributes & TPMA_OBJECT_DECRYPT) == 0 && e->curveID == TPM2_ECC_NIST_P256 &&
           e->scheme.scheme == TPM2_ALG_ECDSA &&
           e->scheme.details.ecdsa.hashAlg == TPM2_ALG_SHA256 && p->unique.ecc.x.size <= 32 &&
           p->unique.ecc.y.size <= 32;
}

/* Left-pads a big-endian integer of n <= 32 bytes into out[32]. */
static void pad32(uint8_t out[32], const uint8_t *in, size_t n)
{
    OCTO_ASSERT(n <= 32);
    memset(out, 0, 32);
    memcpy(out + 32 - n, in, n);
}

/* ECDSA P-256 / SHA-256 verification of msg with the AK point and (r, s). 0, OCTO_EBADSIG, or
 * OCTO_ECRYPTO / OCTO_ENOMEM on library failures. */
static int ecdsa_p256_verify(const TPMS_ECC_POINT *q, const TPMS_SIGNATURE_ECC *s,
                             const uint8_t *msg, size_t msg_len)
{
    if (s->signatureR.size == 0 || s->signatureR.size > 32 || s->signatureS.size == 0 ||
        s->signatureS.size > 32)
        return OCTO_EBADSIG;
    uint8_t point[65];
    point[0] = 0x04;
    pad32(point + 1, q->x.buffer, q->x.size);
    pad32(point + 33, q->y.buffer, q->y.size);

    int rc = OCTO_ECRYPTO;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *kctx = NULL;
    EVP_MD_CTX *mctx = NULL;
    ECDSA_SIG *esig = NULL;
    BIGNUM *r = NULL, *sv = NULL;
    unsigned char *der = NULL;
    OSSL_PARAM params[3];
    char group[] = "P-256";
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
    params[2] = OSSL_PARAM_construct_end();
    kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (kctx == NULL || EVP_PKEY_fromdata_init(kctx) != 1)
        goto out;
    if (EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        rc = OCTO_EBADSIG; /* not a point on the curve */
        goto out;
    }
    esig = ECDSA_SIG_new();
    r = BN_bin2bn(s->signatureR.buffer, s->signatureR.size, NULL);
    sv = BN_bin2bn(s->signatureS.buffer, s->signatureS.size, NULL);
    if (esig == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(esig, r, sv) != 1)
        goto out;
    r = sv = NULL; /* owned by esig now */
    int der_len = i2d_ECDSA_SIG(esig, &der);
    if (der_len <= 0)
        goto out;
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL || EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, pkey) != 1)
        goto out;
    rc = EVP_DigestVerify(mctx, der, (size_t)der_len, msg, msg_len) == 1 ? 0 : OCTO_EBADSIG;
out:
    OPENSSL_free(der);
    BN_free(r);
    BN_free(sv);
    ECDSA_SIG_free(esig);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(kctx);
    return rc;
}

/* The AK's qualified name as a primary of the endorsement hierarchy. tpmt_public: the
 * marshalled TPMT_PUBLIC. */
static void ak_qualified_name(const uint8_t *tpmt_public, size_t len, uint8_t out[34])
{
    uint8_t buf[4 + 34];
    buf[0] = (uint8_t)(TPM2_RH_ENDORSEMENT >> 24);
    buf[1] = (uint8_t)(TPM2_RH_ENDORSEMENT >> 16);
    buf[2] = (uint8_t)(TPM2_RH_ENDORSEMENT >> 8);
    buf[3] = (uint8_t)TPM2_RH_ENDORSEMENT;
    buf[4] = (uint8_t)(TPM2_ALG_SHA256 >> 8);
    buf[5] = (uint8_t)TPM2_ALG_SHA256;
    octo_sha256(tpmt_public, len, buf + 6); /* Name = nameAlg || H(TPMT_PUBLIC) */
    out[0] = buf[4];
    out[1] = buf[5];
    octo_sha256(buf, sizeof(buf), out + 2);
}

static bool selection_is_expected(const TPML_PCR_SELECTION *got)
{
    TPML_PCR_SELECTION want;
    pcr_selection(&want);
    if (got->count != 1 || got->pcrSelections[0].hash != TPM2_ALG_SHA256)
        return false;
    const TPMS_PCR_SELECTION *g = &got->pcrSelections[0];
    if (g->sizeofSelect < 3 || g->sizeofSelect > TPM2_PCR_SELECT_MAX)
        return false;
    for (unsigned i = 0; i < g->sizeofSelect; i++) {
        uint8_t w = i < 3 ? want.pcrSelections[0].pcrSelect[i] : 0;
        if (g->pcrSelect[i] != w)
            return false;
    }
    return true;
}

int octo_att_tpm_verify(const uint8_t *ev, size_t len, const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                        const struct octo_trust_anchors *anchors, int64_t now_s,
                        struct octo_att_result *out)
{
    (void)now_s; /* the TPM clock is not wall-clock time; freshness comes from extraData */
    int rc = octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, len, expected_rd, anchors, out);
    if (rc < 0)
        return rc;
    if (anchors->ref_pcrs == NULL)
        return octo_att_reject(out, OCTO_EINVAL, "no reference PCR values");
    if (anchors->ref_pcrs_len != TPM_PCR_COUNT * OCTO_SHA256_LEN)
        return octo_att_reject(out, OCTO_EINVAL, "reference PCR values: wrong length");

    struct tpm_parts p;
    if (!tpm_split(ev, len, &p))
        return octo_att_reject(out, OCTO_EMALFORMED, "TPM evidence container malformed");
    /* magic and type first (the union after them is parsed by type). */
    if (p.attest_len < 6)
        return octo_att_reject(out, OCTO_EMALFORMED, "TPMS_ATTEST truncated");
    uint32_t magic = ((uint32_t)p.attest[0] << 24) | ((uint32_t)p.attest[1] << 16) |
                     ((uint32_t)p.attest[2] << 8) | p.attest[3];
    uint16_t type = (uint16_t)(((unsigned)p.attest[4] << 8) | p.attest[5]);
    if (magic != TPM2_GENERATED_VALUE)
        return octo_att_reject(out, OCTO_EMALFORMED, "TPMS_ATTEST magic is not 0xff544347");
    if (type != TPM2_ST_ATTEST_QUOTE)
        return octo_att_reject(out, OCTO_EMALFORMED, "TPMS_ATTEST type is not a quote (0x8018)");
    TPMS_ATTEST att;
    TPMT_SIGNATURE sig;
    TPM2B_PUBLIC pub;
    memset(&att, 0, sizeof(att)); /* tss2-mu requires a zero TPM2B size on input */
    memset(&sig, 0, sizeof(sig));
    memset(&pub, 0, sizeof(pub));
    size_t off = 0;
    if (Tss2_MU_TPMS_ATTEST_Unmarshal(p.attest, p.attest_len, &off, &att) != TSS2_RC_SUCCESS ||
        off != p.attest_len)
        return octo_att_reject(out, OCTO_EMALFORMED, "TPMS_ATTEST malformed");
    off = 0;
    if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(p.sig, p.sig_len, &off, &sig) != TSS2_RC_SUCCESS ||
        off != p.sig_len)
        return octo_att_reject(out, OCTO_EMALFORMED, "TPMT_SIGNATURE malformed");
    off = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(p.pub, p.pub_len, &off, &pub) != TSS2_RC_SUCCESS ||
        off != p.pub_len || (size_t)pub.size + 2 != p.pub_len)
        return octo_att_reject(out, OCTO_EMALFORMED, "AK TPM2B_PUBLIC malformed");

    const struct octo_trust_anchor *anchor = tpm_anchor(anchors, p.pub, p.pub_len);
    if (anchor == NULL)
        return octo_att_reject(out, OCTO_EBADSIG, "AK public key is not a trusted anchor");
    if (!ak_acceptable(&pub.publicArea))
        return octo_att_reject(out, OCTO_EUNSUPPORTED,
                               "AK is not a restricted ECDSA P-256/SHA-256 signing key");
    OCTO_ASSERT(att.magic == TPM2_GENERATED_VALUE);
    OCTO_ASSERT(att.type == TPM2_ST_ATTEST_QUOTE);
    if (sig.sigAlg != TPM2_ALG_ECDSA || sig.signature.ecdsa.hash != TPM2_ALG_SHA256)
        return octo_att_reject(out, OCTO_EBADSIG, "quote signature is not ECDSA/SHA-256");
    rc =
        ecdsa_p256_verify(&pub.publicArea.unique.ecc, &sig.signature.ecdsa, p.attest, p.attest_len);
    if (rc < 0)
        return octo_att_reject(out, rc, "quote signature does not verify with the AK");

    uint8_t qn[34];
    ak_qualified_name(p.pub + 2, p.pub_len - 2, qn);
    if (att.qualifiedSigner.size != sizeof(qn) ||
        memcmp(att.qualifiedSigner.name, qn, sizeof(qn)) != 0)
        return octo_att_reject(out, OCTO_EBADSIG, "qualifiedSigner is not the AK");

    uint8_t want_extra[OCTO_SHA256_LEN];
    octo_sha256(expected_rd, OCTO_ATT_RD_LEN, want_extra);
    if (att.extraData.size != OCTO_SHA256_LEN ||
        !octo_ct_equal(att.extraData.buffer, want_extra, OCTO_SHA256_LEN))
        return octo_att_reject(out, OCTO_EPERM, "extraData does not match the expected nonce");

    const TPMS_QUOTE_INFO *q = &att.attested.quote;
    if (!selection_is_expected(&q->pcrSelect))
        return octo_att_reject(out, OCTO_EPERM, "quote PCR selection is not sha256:0,16");
    uint8_t want_digest[OCTO_SHA256_LEN];
    octo_sha256(anchors->ref_pcrs, anchors->ref_pcrs_len, want_digest);
    if (q->pcrDigest.size != OCTO_SHA256_LEN ||
        !octo_ct_equal(q->pcrDigest.buffer, want_digest, OCTO_SHA256_LEN))
        return octo_att_reject(out, OCTO_EPERM, "pcrDigest differs from the reference PCRs");

    out->verified = true;
    out->hardware_rooted = !anchor->software;
    out->debug = false;
    out->test_anchor = anchor->test_only;
    out->tcb_level = 0;
    octo_att_set_platform(out, anchor->label != NULL ? anchor->label : "tpm2");
    memcpy(out->measurement, q->pcrDigest.buffer, OCTO_SHA256_LEN);
    out->measurement_len = OCTO_SHA256_LEN;
    memcpy(out->report_data, expected_rd, OCTO_ATT_RD_LEN);
    return 0;
}
