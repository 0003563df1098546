/*
 * test_attest_tee.c — the SEV-SNP, TDX and Nitro verifiers (exec/attest_{snp,tdx,nitro}.c) on
 * synthetic evidence.
 *
 * A TEST ONLY certificate authority is generated here with OpenSSL at every run (root ->
 * intermediate -> leaf, plus an unrelated "other" root): it stands in for AMD's ARK -> ASK ->
 * VCEK, Intel's SGX root -> PCK CA -> PCK, and AWS's Nitro root -> intermediate -> enclave
 * certificate. Evidence in each format is built byte by byte from the published layouts
 * (EXECUTION.md §6) and signed with those keys. For each verifier: good, bad signature, wrong
 * report_data/nonce, debug policy, wrong measurement, expired certificate (now after the
 * leaf's notAfter), untrusted root, truncated and oversized evidence are each rejected, and
 * the reasons are pairwise distinct; plus format-specific structure and policy cases.
 *
 * With OCTO_TEE_SEED_DIR set, the good evidence of each format is also written there as a
 * fuzz seed (selector byte + evidence, the input format of fuzz/fuzz_attest.c).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "exec/attest.h"
#include "test.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z: "now" of the good cases */
#define DAY INT64_C(86400)
#define LEAF_DAYS 90 /* the leaf expires at T0 + 90 days; CAs live 5 years */
#define NOW_EXPIRED (T0 + 120 * DAY)
#define EV_CAP 16384u
#define DER_CAP 2048u

/* ---- the test CA -------------------------------------------------------------------------- */

struct der {
    uint8_t b[DER_CAP];
    size_t len;
};

struct tca {
    EVP_PKEY *root_key, *int_key, *leaf_key, *other_key;
    X509 *root, *inter, *leaf, *other;
    struct der root_der, int_der, leaf_der, other_der;
};

static struct tca ca384; /* SNP and Nitro: P-384 */
static struct tca ca256; /* TDX: P-256 */

static void der_of(X509 *x, struct der *d)
{
    int n = i2d_X509(x, NULL);
    OCTO_ASSERT(n > 0 && (size_t)n <= sizeof(d->b));
    unsigned char *p = d->b;
    OCTO_ASSERT(i2d_X509(x, &p) == n);
    d->len = (size_t)n;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    OCTO_ASSERT(ext != NULL);
    OCTO_ASSERT(X509_add_ext(x, ext, -1) == 1);
    X509_EXTENSION_free(ext);
}

#define SNP_CHIP_BYTE 0xc1 /* chip_id = 64 x this byte */
#define SNP_TCB_BL 3
#define SNP_TCB_SNP 8
#define SNP_TCB_UCODE 115

/* A non-critical extension with a raw extnValue. */
static void add_raw_ext(X509 *x, const char *oid, const uint8_t *v, size_t n)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    OCTO_ASSERT(obj != NULL && os != NULL);
    OCTO_ASSERT(ASN1_OCTET_STRING_set(os, v, (int)n) == 1);
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    OCTO_ASSERT(ext != NULL);
    OCTO_ASSERT(X509_add_ext(x, ext, -1) == 1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
}

/* AMD's VCEK extensions: hwID (raw chip_id) and the SPLs (DER INTEGERs, values < 128). */
static void add_amd_exts(X509 *x)
{
    uint8_t chip[64];
    memset(chip, SNP_CHIP_BYTE, sizeof(chip));
    add_raw_ext(x, "1.3.6.1.4.1.3704.1.4", chip, sizeof(chip));
    static const struct {
        const char *oid;
        uint8_t v;
    } spl[] = {{"1.3.6.1.4.1.3704.1.3.1", SNP_TCB_BL},
               {"1.3.6.1.4.1.3704.1.3.2", 0},
               {"1.3.6.1.4.1.3704.1.3.3", SNP_TCB_SNP},
               {"1.3.6.1.4.1.3704.1.3.8", SNP_TCB_UCODE}};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(spl); i++) {
        uint8_t der[3] = {0x02, 0x01, spl[i].v};
        add_raw_ext(x, spl[i].oid, der, sizeof(der));
    }
}

/* A certificate for key, issued by issuer/issuer_key (self-signed when issuer is NULL). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       int64_t not_before, int64_t not_after, bool ca, long serial)
{
    X509 *x = X509_new();
    OCTO_ASSERT(x != NULL);
    OCTO_ASSERT(X509_set_version(x, 2) == 1);
    OCTO_ASSERT(ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1);
    OCTO_ASSERT(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) != NULL);
    OCTO_ASSERT(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) != NULL);
    X509_NAME *name = X509_get_subject_name(x);
    OCTO_ASSERT(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                           -1, 0) == 1);
    OCTO_ASSERT(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) ==
                1);
    OCTO_ASSERT(X509_set_pubkey(x, key) == 1);
    X509 *iss = issuer != NULL ? issuer : x;
    add_ext(x, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, iss, NID_key_usage,
            ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (issuer != NULL)
        add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (!ca)
        add_amd_exts(x); /* harmless (non-critical) for the TDX and Nitro leaves */
    OCTO_ASSERT(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha384()) > 0);
    return x;
}

static void tca_init(struct tca *c, const char *curve)
{
    c->root_key = EVP_EC_gen(curve);
    c->int_key = EVP_EC_gen(curve);
    c->leaf_key = EVP_EC_gen(curve);
    c->other_key = EVP_EC_gen(curve);
    OCTO_ASSERT(c->root_key && c->int_key && c->leaf_key && c->other_key);
    int64_t nb = T0 - 365 * DAY, na = T0 + 5 * 365 * DAY;
    c->root = make_cert("TEST ONLY root", c->root_key, NULL, NULL, nb, na, true, 1);
    c->inter =
        make_cert("TEST ONLY intermediate", c->int_key, c->root, c->root_key, nb, na, true, 2);
    c->leaf = make_cert("TEST ONLY leaf", c->leaf_key, c->inter, c->int_key, T0 - 30 * DAY,
                        T0 + LEAF_DAYS * DAY, false, 3);
    c->other = make_cert("TEST ONLY other root", c->other_key, NULL, NULL, nb, na, true, 4);
    der_of(c->root, &c->root_der);
    der_of(c->inter, &c->int_der);
    der_of(c->leaf, &c->leaf_der);
    der_of(c->other, &c->other_der);
}

static void tca_deinit(struct tca *c)
{
    X509_free(c->root);
    X509_free(c->inter);
    X509_free(c->leaf);
    X509_free(c->other);
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->int_key);
    EVP_PKEY_free(c->leaf_key);
    EVP_PKEY_free(c->other_key);
}

/* ECDSA signature as raw r, s of n bytes each (big- or little-endian). */
static void sign_raw(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *r,
                     uint8_t *s, size_t n, bool little)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[256];
    size_t der_len = sizeof(der);
    OCTO_ASSERT(ctx != NULL);
    OCTO_ASSERT(EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1);
    OCTO_ASSERT(EVP_DigestSign(ctx, der, &der_len, msg, len) == 1);
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    OCTO_ASSERT(sig != NULL);
    const BIGNUM *br = ECDSA_SIG_get0_r(sig), *bs = ECDSA_SIG_get0_s(sig);
    if (little) {
        OCTO_ASSERT(BN_bn2lebinpad(br, r, (int)n) == (int)n);
        OCTO_ASSERT(BN_bn2lebinpad(bs, s, (int)n) == (int)n);
    } else {
        OCTO_ASSERT(BN_bn2binpad(br, r, (int)n) == (int)n);
        OCTO_ASSERT(BN_bn2binpad(bs, s, (int)n) == (int)n);
    }
    ECDSA_SIG_free(sig);
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t rd_good[OCTO_ATT_RD_LEN];
static uint8_t meas_good[48];
static uint8_t meas_other[48];

static struct octo_trust_anchor anchor_items[2];

/* Anchors for type with the given root, the good reference measurement, VMPL 0, no minimum. */
static struct octo_trust_anchors anchors_for(enum octo_ev_type type, const struct der *root)
{
    anchor_items[0] = (struct octo_trust_anchor){
        .type = type,
        .kind = OCTO_ANCHOR_X509_DER,
        .data = root->b,
        .len = root->len,
        .label = "TEST ONLY: test CA",
        .test_only = true,
    };
    return (struct octo_trust_anchors){
        .items = anchor_items,
        .count = 1,
        .ref_measurement = meas_good,
        .ref_measurement_len = sizeof(meas_good),
    };
}

/* ---- SEV-SNP evidence ----------------------------------------------------------------------- */

struct snp_params {
    uint64_t policy;
    uint32_t vmpl;
    uint64_t tcb;
    const uint8_t *rd;
    const uint8_t *meas;
    bool with_ask;
    uint8_t chip;
};

static const uint8_t snp_guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t snp_guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                         0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t snp_guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                         0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

static struct snp_params snp_defaults(void)
{
    /* TCB: boot_loader 3, tee 0, snp 8, microcode 115 (Milan layout). */
    return (struct snp_params){.policy = 0x30000,
                               .vmpl = 0,
                               .tcb = (uint64_t)SNP_TCB_BL | (uint64_t)SNP_TCB_SNP << 48 |
                                      (uint64_t)SNP_TCB_UCODE << 56,
                               .chip = SNP_CHIP_BYTE,
                               .rd = rd_good,
                               .meas = meas_good,
                               .with_ask = true};
}

static size_t snp_build(uint8_t *ev, const struct snp_params *p)
{
    memset(ev, 0, EV_CAP);
    put_le(ev + 0x000, 2, 4);
    put_le(ev + 0x008, p->policy, 8);
    put_le(ev + 0x030, p->vmpl, 4);
    put_le(ev + 0x034, 1, 4);
    put_le(ev + 0x038, p->tcb, 8);
    memcpy(ev + 0x050, p->rd, 64);
    memcpy(ev + 0x090, p->meas, 48);
    put_le(ev + 0x180, p->tcb, 8);
    memset(ev + 0x1A0, p->chip, 64); /* chip_id */
    sign_raw(ca384.leaf_key, EVP_sha384(), ev, 0x2A0, ev + 0x2A0, ev + 0x2A0 + 72, 72, true);
    /* Certificate table: VCEK, [ASK, ARK], terminator, then the DER blobs. */
    uint8_t *tab = ev + 0x4A0;
    const struct der *certs[3] = {&ca384.leaf_der, &ca384.int_der, &ca384.root_der};
    const uint8_t *guids[3] = {snp_guid_vcek, snp_guid_ask, snp_guid_ark};
    size_t n = p->with_ask ? 3 : 1;
    size_t off = (n + 1) * 24;
    for (size_t i = 0; i < n; i++) {
        memcpy(tab + i * 24, guids[i], 16);
        put_le(tab + i * 24 + 16, off, 4);
        put_le(tab + i * 24 + 20, certs[i]->len, 4);
        memcpy(tab + off, certs[i]->b, certs[i]->len);
        off += certs[i]->len;
    }
    OCTO_ASSERT(0x4A0 + off <= EV_CAP);
    return 0x4A0 + off;
}

/* ---- TDX evidence ------------------------------------------------------------------------- */

struct tdx_params {
    const uint8_t *rd;
    const uint8_t *mrtd;
    bool debug;
    bool bad_binding; /* QE report_data not bound to the attestation key */
    bool foreign_qe;  /* a certified enclave that is not Intel's QE signs the quote */
};

static size_t pem_chain(uint8_t *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    OCTO_ASSERT(b != NULL);
    OCTO_ASSERT(PEM_write_bio_X509(b, ca256.leaf) == 1);
    OCTO_ASSERT(PEM_write_bio_X509(b, ca256.inter) == 1);
    OCTO_ASSERT(PEM_write_bio_X509(b, ca256.root) == 1);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    OCTO_ASSERT(n > 0 && (size_t)n < cap);
    memcpy(out, data, (size_t)n);
    out[n] = 0; /* DCAP chains carry a trailing NUL */
    BIO_free(b);
    return (size_t)n + 1;
}

static size_t tdx_build(uint8_t *ev, const struct tdx_params *p)
{
    static EVP_PKEY *att_key;
    if (att_key == NULL)
        att_key = EVP_EC_gen("P-256");
    OCTO_ASSERT(att_key != NULL);
    memset(ev, 0, EV_CAP);
    put_le(ev + 0, 4, 2);
    put_le(ev + 2, 2, 2);
    put_le(ev + 4, 0x81, 4);
    static const uint8_t vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                       0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    memcpy(ev + 12, vendor, sizeof(vendor)); /* Intel's QE vendor id */
    uint8_t *body = ev + 48;
    body[0] = 5;                  /* tee_tcb_svn */
    body[120] = p->debug ? 1 : 0; /* td_attributes */
    memcpy(body + 136, p->mrtd, 48);
    memcpy(body + 520, p->rd, 64);
    uint8_t *sd = ev + 632 + 4, *q = sd;
    sign_raw(att_key, EVP_sha256(), ev, 632, q, q + 32, 32, false);
    q += 64;
    uint8_t pub[65];
    size_t pub_len = 0;
    OCTO_ASSERT(EVP_PKEY_get_octet_string_param(att_key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
                                                &pub_len) == 1 &&
                pub_len == 65);
    memcpy(q, pub + 1, 64);
    q += 64;
    uint8_t *cert6 = q;
    q += 6;
    uint8_t *qe = q;
    q += 384;
    uint8_t *qe_sig = q;
    q += 64;
    static const uint8_t auth[] = "test auth data";
    put_le(q, sizeof(auth), 2);
    memcpy(q + 2, auth, sizeof(auth));
    q += 2 + sizeof(auth);
    /* QE report: report_data = SHA-256(att_key || auth) || zeros. */
    uint8_t h[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    OCTO_ASSERT(md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
    OCTO_ASSERT(EVP_DigestUpdate(md, pub + 1, 64) == 1);
    OCTO_ASSERT(EVP_DigestUpdate(md, auth, sizeof(auth)) == 1);
    OCTO_ASSERT(EVP_DigestFinal_ex(md, h, NULL) == 1);
    EVP_MD_CTX_free(md);
    memcpy(qe + 320, h, 32);
    if (p->bad_binding)
        qe[320] ^= 1;
    /* the QE's identity: Intel's quoting-enclave MRSIGNER and ISVPRODID 2 */
    static const uint8_t mrsigner[32] = {0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e,
                                         0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
                                         0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b,
                                         0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};
    memcpy(qe + 128, mrsigner, sizeof(mrsigner));
    if (p->foreign_qe)
        qe[128] ^= 0xff;
    put_le(qe + 256, 2, 2);
    sign_raw(ca256.leaf_key, EVP_sha256(), qe, 384, qe_sig, qe_sig + 32, 32, false);
    size_t pem_len = pem_chain(q + 6, EV_CAP - (size_t)(q + 6 - ev));
    put_le(q, 5, 2);
    put_le(q + 2, pem_len, 4);
    q += 6 + pem_len;
    put_le(cert6, 6, 2);
    put_le(cert6 + 2, (uint64_t)(q - cert6 - 6), 4);
    put_le(ev + 632, (uint64_t)(q - sd), 4);
    return (size_t)(q - ev);
}

/* ---- Nitro evidence: a small CBOR writer -------------------------------------------------- */

struct cw {
    uint8_t *p;
    size_t len, cap;
};

static void cw_head(struct cw *w, unsigned major, uint64_t arg)
{
    OCTO_ASSERT(w->len + 9 <= w->cap);
    uint8_t *o = w->p + w->len;
    if (arg < 24) {
        o[0] = (uint8_t)(major << 5 | arg);
        w->len += 1;
        return;
    }
    size_t n = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffffu ? 4 : 8;
    o[0] = (uint8_t)(major << 5 | (n == 1 ? 24u : n == 2 ? 25u : n == 4 ? 26u : 27u));
    for (size_t i = 0; i < n; i++)
        o[1 + i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
    w->len += 1 + n;
}

static void cw_bytes(struct cw *w, unsigned major, const void *b, size_t n)
{
    cw_head(w, major, n);
    OCTO_ASSERT(w->len + n <= w->cap);
    memcpy(w->p + w->len, b, n);
    w->len += n;
}

static void cw_text(struct cw *w, const char *s)
{
    cw_bytes(w, 3, s, strlen(s));
}

struct nitro_params {
    const uint8_t *nonce; /* NULL: no nonce field */
    size_t nonce_len;
    const uint8_t *pcr0;
    bool tagged;
    bool extra_key; /* an unknown payload key */
    bool ask_leaf_expired_root_other;
};

static size_t nitro_payload(uint8_t *buf, size_t cap, const struct nitro_params *p)
{
    struct cw w = {buf, 0, cap};
    static const uint8_t zero48[48];
    cw_head(&w, 5, 8 + (p->nonce != NULL) + p->extra_key);
    cw_text(&w, "module_id");
    cw_text(&w, "i-0123456789abcdef0-enc0123456789abcdef");
    cw_text(&w, "digest");
    cw_text(&w, "SHA384");
    cw_text(&w, "timestamp");
    cw_head(&w, 0, (uint64_t)T0 * 1000);
    cw_text(&w, "pcrs");
    cw_head(&w, 5, 3);
    for (unsigned i = 0; i < 3; i++) {
        cw_head(&w, 0, i);
        cw_bytes(&w, 2, i == 0 ? p->pcr0 : zero48, 48);
    }
    cw_text(&w, "certificate");
    cw_bytes(&w, 2, ca384.leaf_der.b, ca384.leaf_der.len);
    cw_text(&w, "cabundle");
    cw_head(&w, 4, 2);
    cw_bytes(&w, 2, ca384.root_der.b, ca384.root_der.len);
    cw_bytes(&w, 2, ca384.int_der.b, ca384.int_der.len);
    cw_text(&w, "public_key");
    cw_head(&w, 7, 22); /* null */
    cw_text(&w, "user_data");
    cw_bytes(&w, 2, "u", 1);
    if (p->nonce != NULL) {
        cw_text(&w, "nonce");
        cw_bytes(&w, 2, p->nonce, p->nonce_len);
    }
    if (p->extra_key) {
        cw_text(&w, "surprise");
        cw_head(&w, 0, 1);
    }
    return w.len;
}

static size_t nitro_build(uint8_t *ev, const struct nitro_params *p)
{
    static const uint8_t prot[] = {0xa1, 0x01, 0x38, 0x22};
    static uint8_t payload[EV_CAP], sig_struct[EV_CAP];
    size_t pl = nitro_payload(payload, sizeof(payload), p);
    struct cw s = {sig_struct, 0, sizeof(sig_struct)};
    cw_head(&s, 4, 4);
    cw_text(&s, "Signature1");
    cw_bytes(&s, 2, prot, sizeof(prot));
    cw_bytes(&s, 2, "", 0);
    cw_bytes(&s, 2, payload, pl);
    uint8_t sig[96];
    sign_raw(ca384.leaf_key, EVP_sha384(), sig_struct, s.len, sig, sig + 48, 48, false);
    struct cw w = {ev, 0, EV_CAP};
    if (p->tagged)
        cw_head(&w, 6, 18);
    cw_head(&w, 4, 4);
    cw_bytes(&w, 2, prot, sizeof(prot));
    cw_head(&w, 5, 0);
    cw_bytes(&w, 2, payload, pl);
    cw_bytes(&w, 2, sig, sizeof(sig));
    return w.len;
}

static struct nitro_params nitro_defaults(void)
{
    return (struct nitro_params){
        .nonce = rd_good, .nonce_len = sizeof(rd_good), .pcr0 = meas_good, .tagged = true};
}

/* ---- the common cases --------------------------------------------------------------------- */

typedef int (*verify_fn)(const uint8_t *, size_t, const uint8_t *,
                         const struct octo_trust_anchors *, int64_t, struct octo_att_result *);

static uint8_t ev_buf[EV_CAP];
static char reasons[16][OCTO_ATT_REASON_MAX];
static size_t nreasons;

/* Runs verify, checks the code, records the reason (which must be new). */
#define REJECT(fn, ev, len, rd, anchors, now, code)                                                \
    do {                                                                                           \
        struct octo_att_result r_;                                                                 \
        CHECK_ERR(fn((ev), (len), (rd), (anchors), (now), &r_), code);                             \
        CHECK(r_.reason[0] != '\0');                                                               \
        CHECK(!r_.hardware_rooted);                                                                \
        for (size_t i_ = 0; i_ < nreasons; i_++)                                                   \
            if (strcmp(reasons[i_], r_.reason) == 0) {                                             \
                octo_test_fail_at(__FILE__, __LINE__, "reason not distinct: %s", r_.reason);       \
                return;                                                                            \
            }                                                                                      \
        OCTO_ASSERT(nreasons < OCTO_ARRAY_LEN(reasons));                                           \
        snprintf(reasons[nreasons++], OCTO_ATT_REASON_MAX, "%s", r_.reason);                       \
    } while (0)

/* Truncated and oversized evidence, and a few generic argument errors. */
static void common_limits(verify_fn fn, const uint8_t *ev, size_t len,
                          const struct octo_trust_anchors *a)
{
    REJECT(fn, ev, len / 2, rd_good, a, T0, OCTO_EMALFORMED);
    uint8_t *big = octo_calloc(1, OCTO_ATT_EVIDENCE_MAX + 1);
    OCTO_ASSERT(big != NULL);
    memcpy(big, ev, len);
    struct octo_att_result r;
    int rc = fn(big, OCTO_ATT_EVIDENCE_MAX + 1, rd_good, a, T0, &r);
    octo_free(big);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    CHECK(r.reason[0] != '\0');
    CHECK_ERR(fn(NULL, len, rd_good, a, T0, &r), OCTO_EINVAL);
    CHECK_ERR(fn(ev, len, NULL, a, T0, &r), OCTO_EINVAL);
    CHECK_ERR(fn(ev, len, rd_good, NULL, T0, &r), OCTO_EINVAL);
    CHECK_ERR(fn(ev, len, rd_good, a, T0, NULL), OCTO_EINVAL);
    /* No anchor of the right type, and no reference measurement: fail closed. */
    struct octo_trust_anchors none = *a;
    none.count = 0;
    CHECK_ERR(fn(ev, len, rd_good, &none, T0, &r), OCTO_EINVAL);
    struct octo_trust_anchors noref = *a;
    noref.ref_measurement = NULL;
    noref.ref_measurement_len = 0;
    CHECK_ERR(fn(ev, len, rd_good, &noref, T0, &r), OCTO_EINVAL);
    /* A garbage anchor. */
    struct octo_trust_anchor junk = a->items[0];
    junk.data = (const uint8_t *)"junk";
    junk.len = 4;
    struct octo_trust_anchors bad = *a;
    bad.items = &junk;
    CHECK_ERR(fn(ev, len, rd_good, &bad, T0, &r), OCTO_EINVAL);
    /* Every truncation is rejected (never accepted, never a crash). */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 8)
        CHECK(fn(ev, cut, rd_good, a, T0, &r) < 0);
}

/* Good result, then the anchor-related cases shared by every format. */
static void common_good(verify_fn fn, enum octo_ev_type type, const uint8_t *ev, size_t len,
                        const struct tca *ca, const char *platform)
{
    struct octo_trust_anchors a = anchors_for(type, &ca->root_der);
    struct octo_att_result r;
    int rc = fn(ev, len, rd_good, &a, T0, &r);
    if (rc < 0)
        fprintf(stderr, "reason: %s\n", r.reason);
    CHECK_OK(rc);
    CHECK_EQ_INT(r.type, type);
    CHECK(r.hardware_rooted);
    CHECK(r.test_anchor);
    CHECK(!r.debug);
    CHECK_STR(r.platform, platform);
    CHECK_STR(r.reason, "");
    CHECK_EQ_U64(r.measurement_len, 48);
    CHECK_MEM(r.measurement, meas_good, 48);
    CHECK_MEM(r.report_data, rd_good, 64);
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_CONFIDENTIAL));
    CHECK_OK(octo_att_verify(type, ev, len, rd_good, &a, T0, &r));
    /* The right root among others; an anchor meant for another verifier is ignored. */
    struct octo_trust_anchor items[3] = {
        {.type = type,
         .kind = OCTO_ANCHOR_X509_DER,
         .data = ca->other_der.b,
         .len = ca->other_der.len,
         .label = "TEST ONLY: other"},
        {.type = OCTO_EV_TPM2_QUOTE,
         .kind = OCTO_ANCHOR_X509_DER,
         .data = ca->root_der.b,
         .len = ca->root_der.len,
         .label = "TEST ONLY: wrong type"},
        {.type = type,
         .kind = OCTO_ANCHOR_X509_DER,
         .data = ca->root_der.b,
         .len = ca->root_der.len,
         .label = "TEST ONLY: root",
         .software = true},
    };
    a.items = items;
    a.count = 3;
    CHECK_OK(fn(ev, len, rd_good, &a, T0, &r));
    CHECK(!r.hardware_rooted); /* the matching anchor is marked software */
    CHECK(!r.test_anchor);
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    a.count = 2; /* only the other root and a wrong-type anchor */
    CHECK_ERR(fn(ev, len, rd_good, &a, T0, &r), OCTO_EBADSIG);
    /* Valid window: before the leaf's notBefore is also rejected. */
    a = anchors_for(type, &ca->root_der);
    CHECK_ERR(fn(ev, len, rd_good, &a, T0 - 31 * DAY, &r), OCTO_EPERM);
}

/* ---- SEV-SNP ------------------------------------------------------------------------------ */

static void test_snp(void)
{
    nreasons = 0;
    struct snp_params p = snp_defaults();
    size_t len = snp_build(ev_buf, &p);
    common_good(octo_att_snp_verify, OCTO_EV_SEV_SNP_REPORT, ev_buf, len, &ca384, "AMD SEV-SNP");
    if (octo_test_failed)
        return;
    struct octo_trust_anchors a = anchors_for(OCTO_EV_SEV_SNP_REPORT, &ca384.root_der);
    struct octo_att_result r;
    CHECK_OK(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r));
    CHECK_EQ_U64(r.tcb_level, 3u | 8u << 16 | 115u << 24);
    uint8_t rd_bad[64];
    memcpy(rd_bad, rd_good, 64);
    rd_bad[63] ^= 1;
    /* bad signature */
    ev_buf[0x2A0 + 5] ^= 1;
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, T0, OCTO_EBADSIG);
    ev_buf[0x2A0 + 5] ^= 1;
    /* a signed byte changed after signing */
    ev_buf[0x090] ^= 1;
    CHECK_ERR(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EBADSIG);
    ev_buf[0x090] ^= 1;
    REJECT(octo_att_snp_verify, ev_buf, len, rd_bad, &a, T0, OCTO_EPERM);           /* wrong rd */
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, NOW_EXPIRED, OCTO_EPERM); /* expired */
    a.ref_measurement = meas_other;
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM); /* measurement */
    a.ref_measurement = meas_good;
    struct octo_trust_anchors other = anchors_for(OCTO_EV_SEV_SNP_REPORT, &ca384.other_der);
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &other, T0, OCTO_EBADSIG); /* untrusted */
    a = anchors_for(OCTO_EV_SEV_SNP_REPORT, &ca384.root_der);
    common_limits(octo_att_snp_verify, ev_buf, len, &a);
    if (octo_test_failed)
        return;
    /* debug policy */
    p.policy |= UINT64_C(1) << 19;
    len = snp_build(ev_buf, &p);
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.allow_debug = true;
    CHECK_OK(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r));
    CHECK(r.debug);
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_SHARED));
    a.allow_debug = false;
    /* VMPL and TCB policy */
    p = snp_defaults();
    p.vmpl = 1;
    len = snp_build(ev_buf, &p);
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.snp_vmpl = 1;
    CHECK_OK(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r));
    a.snp_vmpl = 0;
    p = snp_defaults();
    len = snp_build(ev_buf, &p);
    a.min_tcb_level = 3u | 9u << 16; /* snp 9 > 8 */
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.min_tcb_level = 3u | 8u << 16 | 115u << 24;
    CHECK_OK(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r));
    a.min_tcb_level = 0;
    /* The VCEK must be this chip's key at this TCB. */
    p.chip = 0xc2;
    len = snp_build(ev_buf, &p);
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, T0, OCTO_EBADSIG);
    p = snp_defaults();
    p.tcb += UINT64_C(1) << 48; /* claims snp 9, the VCEK says 8 */
    len = snp_build(ev_buf, &p);
    REJECT(octo_att_snp_verify, ev_buf, len, rd_good, &a, T0, OCTO_EBADSIG);
    p = snp_defaults();
    len = snp_build(ev_buf, &p);
    CHECK(nreasons == 11);
    /* structure: version, algorithm, table without ASK (chain cannot be built), bad table. */
    put_le(ev_buf, 9, 4);
    CHECK_ERR(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    put_le(ev_buf, 2, 4);
    put_le(ev_buf + 0x34, 2, 4);
    CHECK_ERR(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EUNSUPPORTED);
    put_le(ev_buf + 0x34, 1, 4);
    put_le(ev_buf + 0x4A0 + 20, 1u << 30, 4); /* VCEK length out of bounds */
    CHECK_ERR(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    CHECK_ERR(octo_att_snp_verify(ev_buf, 0x4A0, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    p.with_ask = false;
    len = snp_build(ev_buf, &p);
    CHECK_ERR(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EBADSIG);
    memset(ev_buf + 0x4A0, 0, 16); /* VCEK GUID gone: an unknown entry is skipped */
    CHECK_ERR(octo_att_snp_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    CHECK_STR(r.reason, "certificate table: no VCEK");
}

/* ---- TDX ---------------------------------------------------------------------------------- */

static void test_tdx(void)
{
    nreasons = 0;
    struct tdx_params p = {.rd = rd_good, .mrtd = meas_good};
    size_t len = tdx_build(ev_buf, &p);
    common_good(octo_att_tdx_verify, OCTO_EV_TDX_QUOTE, ev_buf, len, &ca256, "Intel TDX");
    if (octo_test_failed)
        return;
    struct octo_trust_anchors a = anchors_for(OCTO_EV_TDX_QUOTE, &ca256.root_der);
    struct octo_att_result r;
    CHECK_OK(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r));
    CHECK_EQ_U64(r.tcb_level, 5);
    uint8_t rd_bad[64];
    memcpy(rd_bad, rd_good, 64);
    rd_bad[0] ^= 0x80;
    ev_buf[636 + 3] ^= 1; /* quote signature */
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, T0, OCTO_EBADSIG);
    ev_buf[636 + 3] ^= 1;
    ev_buf[636 + 128 + 6 + 384 + 7] ^= 1; /* QE report signature */
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, T0, OCTO_EBADSIG);
    ev_buf[636 + 128 + 6 + 384 + 7] ^= 1;
    ev_buf[48 + 200] ^= 1; /* mrconfigid: signed by the attestation key */
    CHECK_ERR(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EBADSIG);
    ev_buf[48 + 200] ^= 1;
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_bad, &a, T0, OCTO_EPERM);
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, NOW_EXPIRED, OCTO_EPERM);
    a.ref_measurement = meas_other;
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.ref_measurement = meas_good;
    struct octo_trust_anchors other = anchors_for(OCTO_EV_TDX_QUOTE, &ca256.other_der);
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &other, T0, OCTO_EBADSIG);
    a = anchors_for(OCTO_EV_TDX_QUOTE, &ca256.root_der);
    common_limits(octo_att_tdx_verify, ev_buf, len, &a);
    if (octo_test_failed)
        return;
    a.min_tcb_level = 6;
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.min_tcb_level = 0;
    /* trailing byte, wrong version, wrong key type, wrong cert data type */
    CHECK_ERR(octo_att_tdx_verify(ev_buf, len + 1, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    ev_buf[0] = 5;
    CHECK_ERR(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    ev_buf[0] = 4;
    ev_buf[2] = 3;
    CHECK_ERR(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EUNSUPPORTED);
    ev_buf[2] = 2;
    ev_buf[636 + 128] = 7;
    CHECK_ERR(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    ev_buf[636 + 128] = 6;
    CHECK_OK(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r));
    /* debug policy */
    p.debug = true;
    len = tdx_build(ev_buf, &p);
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.allow_debug = true;
    CHECK_OK(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r));
    CHECK(r.debug);
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_CONFIDENTIAL));
    a.allow_debug = false;
    /* QE report not bound to the attestation key */
    p.debug = false;
    p.bad_binding = true;
    len = tdx_build(ev_buf, &p);
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, T0, OCTO_EBADSIG);
    /* a certified enclave that is not Intel's QE (the host operator's own) */
    p.bad_binding = false;
    p.foreign_qe = true;
    len = tdx_build(ev_buf, &p);
    REJECT(octo_att_tdx_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    CHECK(nreasons == 11);
}

/* ---- Nitro -------------------------------------------------------------------------------- */

static void test_nitro(void)
{
    nreasons = 0;
    struct nitro_params p = nitro_defaults();
    size_t len = nitro_build(ev_buf, &p);
    common_good(octo_att_nitro_verify, OCTO_EV_NITRO_COSE, ev_buf, len, &ca384,
                "AWS Nitro Enclaves");
    if (octo_test_failed)
        return;
    struct octo_trust_anchors a = anchors_for(OCTO_EV_NITRO_COSE, &ca384.root_der);
    struct octo_att_result r;
    CHECK_OK(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r));
    CHECK_EQ_U64(r.tcb_level, 0);
    uint8_t rd_bad[64];
    memcpy(rd_bad, rd_good, 64);
    rd_bad[10] ^= 4;
    ev_buf[len - 1] ^= 1; /* last byte of the signature */
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_good, &a, T0, OCTO_EBADSIG);
    ev_buf[len - 1] ^= 1;
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_bad, &a, T0, OCTO_EPERM);
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_good, &a, NOW_EXPIRED, OCTO_EPERM);
    a.ref_measurement = meas_other;
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.ref_measurement = meas_good;
    struct octo_trust_anchors other = anchors_for(OCTO_EV_NITRO_COSE, &ca384.other_der);
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_good, &other, T0, OCTO_EBADSIG);
    a = anchors_for(OCTO_EV_NITRO_COSE, &ca384.root_der);
    common_limits(octo_att_nitro_verify, ev_buf, len, &a);
    if (octo_test_failed)
        return;
    CHECK_ERR(octo_att_nitro_verify(ev_buf, len + 1, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    /* debug enclave: PCR0 all zero */
    static const uint8_t zero48[48];
    p.pcr0 = zero48;
    len = nitro_build(ev_buf, &p);
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    a.allow_debug = true;
    a.ref_measurement = zero48;
    CHECK_OK(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r));
    CHECK(r.debug);
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    a = anchors_for(OCTO_EV_NITRO_COSE, &ca384.root_der);
    /* nonce absent, nonce of another length */
    p = nitro_defaults();
    p.nonce = NULL;
    len = nitro_build(ev_buf, &p);
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_good, &a, T0, OCTO_EPERM);
    p.nonce = rd_good;
    p.nonce_len = 32;
    len = nitro_build(ev_buf, &p);
    CHECK_ERR(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EPERM);
    /* untagged documents are accepted; unknown payload keys are not */
    p = nitro_defaults();
    p.tagged = false;
    len = nitro_build(ev_buf, &p);
    CHECK_OK(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r));
    p.extra_key = true;
    len = nitro_build(ev_buf, &p);
    REJECT(octo_att_nitro_verify, ev_buf, len, rd_good, &a, T0, OCTO_EMALFORMED);
    /* another tag; indefinite-length array; ES256 protected header */
    p = nitro_defaults();
    len = nitro_build(ev_buf, &p);
    ev_buf[0] = 0xd1; /* tag 17 */
    CHECK_ERR(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    ev_buf[0] = 0xd2;
    ev_buf[1] = 0x9f;
    CHECK_ERR(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    ev_buf[1] = 0x84;
    ev_buf[6] = 0x26; /* -7 */
    CHECK_ERR(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EUNSUPPORTED);
    ev_buf[6] = 0x22;
    CHECK_OK(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r));
    /* An array claiming 2^32 elements must not allocate for them. */
    static const uint8_t huge[] = {0x9a, 0xff, 0xff, 0xff, 0xff, 0x00};
    CHECK_ERR(octo_att_nitro_verify(huge, sizeof(huge), rd_good, &a, T0, &r), OCTO_EMALFORMED);
    /* Deep nesting is refused by the scanner. */
    uint8_t deep[64];
    memset(deep, 0x81, sizeof(deep));
    deep[sizeof(deep) - 1] = 0x00;
    CHECK_ERR(octo_att_nitro_verify(deep, sizeof(deep), rd_good, &a, T0, &r), OCTO_EMALFORMED);
    CHECK(nreasons == 9);
}

/* Dispatch through the registry and the software-vs-TEE rule for a type mix-up. */
static void test_registry(void)
{
    CHECK(octo_att_verifier(OCTO_EV_SEV_SNP_REPORT)->verify == octo_att_snp_verify);
    CHECK(octo_att_verifier(OCTO_EV_TDX_QUOTE)->verify == octo_att_tdx_verify);
    CHECK(octo_att_verifier(OCTO_EV_NITRO_COSE)->verify == octo_att_nitro_verify);
    /* SNP evidence fed to the Nitro verifier (and the other way round) is malformed. */
    struct snp_params p = snp_defaults();
    size_t len = snp_build(ev_buf, &p);
    struct octo_trust_anchors a = anchors_for(OCTO_EV_NITRO_COSE, &ca384.root_der);
    struct octo_att_result r;
    CHECK_ERR(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    CHECK_ERR(octo_att_tdx_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EMALFORMED);
    /* An SNP anchor does not let the Nitro verifier trust the same root. */
    len = nitro_build(ev_buf,
                      &(struct nitro_params){
                          .nonce = rd_good, .nonce_len = 64, .pcr0 = meas_good, .tagged = true});
    a = anchors_for(OCTO_EV_SEV_SNP_REPORT, &ca384.root_der);
    CHECK_ERR(octo_att_nitro_verify(ev_buf, len, rd_good, &a, T0, &r), OCTO_EINVAL);
}

/* Writes a fuzz seed in fuzz/fuzz_attest.c's input format: flags, [u16be len + anchor DER],
 * evidence. */
static void write_seed(const char *dir, const char *name, uint8_t flags, const struct der *root,
                       const uint8_t *ev, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    OCTO_ASSERT(f != NULL);
    if (root != NULL)
        flags |= 4;
    OCTO_ASSERT(fwrite(&flags, 1, 1, f) == 1);
    if (root != NULL) {
        uint8_t l[2] = {(uint8_t)(root->len >> 8), (uint8_t)root->len};
        OCTO_ASSERT(fwrite(l, 1, 2, f) == 2);
        OCTO_ASSERT(fwrite(root->b, 1, root->len, f) == root->len);
    }
    OCTO_ASSERT(fwrite(ev, 1, len, f) == len);
    OCTO_ASSERT(fclose(f) == 0);
}

static void write_seeds(void)
{
    const char *dir = getenv("OCTO_TEE_SEED_DIR");
    if (dir == NULL)
        return;
    struct snp_params sp = snp_defaults();
    size_t len = snp_build(ev_buf, &sp);
    write_seed(dir, "snp-good", 0, &ca384.root_der, ev_buf, len);
    write_seed(dir, "snp-no-anchor", 0, NULL, ev_buf, len);
    sp.policy |= UINT64_C(1) << 19;
    len = snp_build(ev_buf, &sp);
    write_seed(dir, "snp-debug", 8, &ca384.root_der, ev_buf, len);
    struct tdx_params tp = {.rd = rd_good, .mrtd = meas_good};
    len = tdx_build(ev_buf, &tp);
    write_seed(dir, "tdx-good", 1, &ca256.root_der, ev_buf, len);
    write_seed(dir, "tdx-no-anchor", 1, NULL, ev_buf, len);
    tp.debug = true;
    len = tdx_build(ev_buf, &tp);
    write_seed(dir, "tdx-debug", 1 | 8, &ca256.root_der, ev_buf, len);
    struct nitro_params np = nitro_defaults();
    len = nitro_build(ev_buf, &np);
    write_seed(dir, "nitro-good", 2, &ca384.root_der, ev_buf, len);
    write_seed(dir, "nitro-no-anchor", 2, NULL, ev_buf, len);
    np.tagged = false;
    np.nonce = NULL;
    len = nitro_build(ev_buf, &np);
    write_seed(dir, "nitro-untagged-no-nonce", 2, &ca384.root_der, ev_buf, len);
}

int main(void)
{
    octo_att_allow_test_anchors(true); /* the TEST ONLY CA built here stands in for vendors */
    for (size_t i = 0; i < sizeof(rd_good); i++)
        rd_good[i] = (uint8_t)(0xA0 + i);
    for (size_t i = 0; i < sizeof(meas_good); i++) {
        meas_good[i] = (uint8_t)(0x11 * (i % 15 + 1));
        meas_other[i] = (uint8_t)(meas_good[i] ^ 0x5a);
    }
    tca_init(&ca384, "P-384");
    tca_init(&ca256, "P-256");
    OCTO_RUN(test_snp);
    OCTO_RUN(test_tdx);
    OCTO_RUN(test_nitro);
    OCTO_RUN(test_registry);
    write_seeds();
    tca_deinit(&ca384);
    tca_deinit(&ca256);
    return octo_test_finish();
}
