/*
 * attest_snp.c — verifier for AMD SEV-SNP attestation reports (EXECUTION.md §6).
 *
 * Evidence = the 1184-byte (0x4A0) report exactly as the PSP returns it, followed by the
 * certificate table of the extended report (SNP_GET_EXT_REPORT certs buffer, or configfs-tsm
 * auxblob). Report fields used (little-endian):
 *   0x000 u32 version (2..5)          0x008 u64 policy (bit 19 = DEBUG)
 *   0x030 u32 vmpl                    0x034 u32 signature_algo (1 = ECDSA P-384 / SHA-384)
 *   0x050 report_data[64]             0x090 measurement[48]
 *   0x180 u64 reported_tcb            0x1A0 chip_id[64]
 *   0x2A0 signature: r[72], s[72] little-endian, zero-extended; it covers 0x000..0x29F.
 * Certificate table: entries {guid[16] (RFC 4122 byte order), u32 offset, u32 length}, offsets
 * relative to the table start, ended by an all-zero entry; the VCEK entry
 * (63da758d-e664-4564-adc5-f4b93be8accd) is required, the ASK (4ab7b379-...) and ARK
 * (c0b406a4-...) entries optional; unknown GUIDs (CRLs...) are ignored. Each certificate is
 * DER and fills its entry's length exactly.
 *
 * Verification, in this order (every failure has its own reason string):
 *   1. structure: length, version, algorithm, table bounds, certificates parse;
 *   2. chain VCEK -> ASK -> ARK, where the ARK must be one of the OCTO_ANCHOR_X509_DER anchors
 *      of type OCTO_EV_SEV_SNP_REPORT (self-signed, pinned), all certificates valid at now_s
 *      (ASK/ARK from the table are only candidates: trust comes from the anchors alone);
 *   2b. the VCEK belongs to this chip at this TCB: its hwID extension (1.3.6.1.4.1.3704.1.4,
 *      raw 64 bytes) equals chip_id and its blSPL/teeSPL/snpSPL/ucodeSPL extensions
 *      (...3704.1.3.{1,2,3,8}, DER INTEGERs) equal the components of reported_tcb;
 *   3. the report signature with the VCEK's P-384 key over bytes 0x000..0x29F;
 *   4. report_data == expected_rd; measurement == anchors->ref_measurement (48 bytes,
 *      required); debug bit clear unless anchors->allow_debug; vmpl == anchors->snp_vmpl;
 *      reported TCB >= anchors->min_tcb_level component-wise.
 * TCB summary (result tcb_level and min_tcb_level), Milan/Genoa layout of the u64 TCB_VERSION:
 *   boot_loader (byte 0) | tee (byte 1) << 8 | snp (byte 6) << 16 | microcode (byte 7) << 24.
 * Not checked here (documented gaps): CRLs from AMD KDS, VLEK-signed reports (signing key
 * selection bits), the Turin TCB layout. Fetching the VCEK is the attester's job; this file
 * is pure (no network, no clock: time is now_s).
 *
 * The certificate-chain check, the ECDSA verification and the TCB comparison are shared with
 * the TDX and Nitro verifiers (attest_x509.c).
 *
 * Memory: OpenSSL objects only, all freed before return; no octo_malloc.
 */
#include "base/assert.h"
#include "base/mem.h"
#include "exec/attest.h"
#include "exec/attest_x509.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

#define SNP_REPORT_LEN 0x4A0u
#define SNP_OFF_VERSION 0x000u
#define SNP_OFF_POLICY 0x008u
#define SNP_OFF_VMPL 0x030u
#define SNP_OFF_SIG_ALGO 0x034u
#define SNP_OFF_REPORT_DATA 0x050u
#define SNP_OFF_MEASUREMENT 0x090u
#define SNP_OFF_REPORTED_TCB 0x180u
#define SNP_OFF_SIG 0x2A0u
#define SNP_SIG_COMPONENT 72u
#define SNP_MEASUREMENT_LEN 48u
#define SNP_VERSION_MIN 2u
#define SNP_VERSION_MAX 5u
#define SNP_SIG_ALGO_ECDSA_P384 1u
#define SNP_POLICY_DEBUG (UINT64_C(1) << 19)
#define SNP_TABLE_ENTRY_LEN 24u
#define SNP_TABLE_ENTRIES_MAX 16u /* entries before the terminator */

_Static_assert(SNP_OFF_SIG + 2 * SNP_SIG_COMPONENT <= SNP_REPORT_LEN, "signature inside report");
_Static_assert(SNP_MEASUREMENT_LEN <= OCTO_ATT_MEASUREMENT_MAX, "measurement fits the result");

/* AMD's VCEK extensions (VCEK certificate and KDS interface specification): hwID holds the
 * 64-byte chip_id as the raw extnValue; each SPL is a DER INTEGER. */
#define AMD_OID_HWID "1.3.6.1.4.1.3704.1.4"
#define SNP_CHIP_ID_LEN 64u
#define SNP_OFF_CHIP_ID 0x1A0u

static const struct {
    const char *oid;
    unsigned shift; /* the component's bit offset in the u64 TCB_VERSION (Milan/Genoa) */
} amd_spl[] = {
    {"1.3.6.1.4.1.3704.1.3.1", 0},  /* blSPL: boot loader */
    {"1.3.6.1.4.1.3704.1.3.2", 8},  /* teeSPL */
    {"1.3.6.1.4.1.3704.1.3.3", 48}, /* snpSPL */
    {"1.3.6.1.4.1.3704.1.3.8", 56}, /* ucodeSPL */
};

static const uint8_t guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

/* The parsed evidence: borrowed views into the input plus the certificates found. */
struct snp_ev {
    const uint8_t *report; /* SNP_REPORT_LEN bytes */
    X509 *vcek;
    STACK_OF(X509) * extra; /* ASK / ARK candidates from the table */
};

static uint32_t get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64le(const uint8_t *p)
{
    return (uint64_t)get_u32le(p) | (uint64_t)get_u32le(p + 4) << 32;
}

static void snp_ev_deinit(struct snp_ev *e)
{
    X509_free(e->vcek);
    sk_X509_pop_free(e->extra, X509_free);
    e->vcek = NULL;
    e->extra = NULL;
}

/* Walks the certificate table tab[0..len). 0 or OCTO_EMALFORMED / OCTO_ENOMEM with a reason. */
static int parse_table(struct snp_ev *e, const uint8_t *tab, size_t len,
                       struct octo_att_result *out)
{
    static const uint8_t zero[SNP_TABLE_ENTRY_LEN];
    for (size_t i = 0;; i++) {
        size_t at = i * SNP_TABLE_ENTRY_LEN;
        if (i > SNP_TABLE_ENTRIES_MAX || len - at < SNP_TABLE_ENTRY_LEN)
            return octo_att_reject(out, OCTO_EMALFORMED, "certificate table: no terminator");
        const uint8_t *ent = tab + at;
        if (memcmp(ent, zero, sizeof(zero)) == 0)
            return 0;
        size_t off = get_u32le(ent + 16), clen = get_u32le(ent + 20);
        if (off > len || clen > len - off)
            return octo_att_reject(out, OCTO_EMALFORMED, "certificate table: entry out of bounds");
        bool is_vcek = memcmp(ent, guid_vcek, 16) == 0;
        if (!is_vcek && memcmp(ent, guid_ask, 16) != 0 && memcmp(ent, guid_ark, 16) != 0)
            continue; /* CRL or vendor entry: not used here */
        X509 *c = octo__att_der_cert(tab + off, clen);
        if (c == NULL)
            return octo_att_reject(out, OCTO_EMALFORMED, "certificate table: bad DER certificate");
        if (is_vcek) {
            if (e->vcek != NULL) {
                X509_free(c);
                return octo_att_reject(out, OCTO_EMALFORMED, "certificate table: two VCEKs");
            }
            e->vcek = c;
        } else if (sk_X509_push(e->extra, c) <= 0) {
            X509_free(c);
            return octo_att_reject(out, OCTO_ENOMEM, "out of memory");
        }
    }
}

/* Structure checks and certificate parsing (step 1). */
static int snp_parse(struct snp_ev *e, const uint8_t *ev, size_t len, struct octo_att_result *out)
{
    if (len < SNP_REPORT_LEN)
        return octo_att_reject(out, OCTO_EMALFORMED, "truncated: shorter than an SNP report");
    e->report = ev;
    uint32_t version = get_u32le(ev + SNP_OFF_VERSION);
    if (version < SNP_VERSION_MIN || version > SNP_VERSION_MAX)
        return octo_att_reject(out, OCTO_EMALFORMED, "unknown SNP report version");
    if (get_u32le(ev + SNP_OFF_SIG_ALGO) != SNP_SIG_ALGO_ECDSA_P384)
        return octo_att_reject(out, OCTO_EUNSUPPORTED, "SNP signature algorithm not ECDSA P-384");
    e->extra = sk_X509_new_null();
    if (e->extra == NULL)
        return octo_att_reject(out, OCTO_ENOMEM, "out of memory");
    int rc = parse_table(e, ev + SNP_REPORT_LEN, len - SNP_REPORT_LEN, out);
    if (rc < 0)
        return rc;
    if (e->vcek == NULL)
        return octo_att_reject(out, OCTO_EMALFORMED, "certificate table: no VCEK");
    return 0;
}

/* The chain check of step 2 (attest_x509.c) with the SNP anchors and reasons. */
static const struct octo__att_chain_spec snp_chain = {
    .type = OCTO_EV_SEV_SNP_REPORT,
    .anchor_not_der = "SNP trust anchor is not a DER certificate",
    .no_anchor = "no SNP trust anchor (ARK)",
};

/* The extnValue of the certificate's single extension with this OID; NULL when absent or
 * present more than once. Borrowed from c. */
static const ASN1_OCTET_STRING *ext_value(X509 *c, const char *oid)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    if (obj == NULL)
        return NULL;
    int idx = X509_get_ext_by_OBJ(c, obj, -1);
    int again = idx >= 0 ? X509_get_ext_by_OBJ(c, obj, idx) : -1;
    ASN1_OBJECT_free(obj);
    if (idx < 0 || again >= 0)
        return NULL;
    return X509_EXTENSION_get_data(X509_get_ext(c, idx));
}

/* Whether a DER INTEGER extnValue equals want exactly. */
static bool spl_equals(const ASN1_OCTET_STRING *v, unsigned want)
{
    const unsigned char *p = ASN1_STRING_get0_data(v);
    int len = ASN1_STRING_length(v);
    ASN1_INTEGER *i = d2i_ASN1_INTEGER(NULL, &p, len);
    int64_t got = -1;
    bool ok =
        i != NULL && p == ASN1_STRING_get0_data(v) + len && ASN1_INTEGER_get_int64(&got, i) == 1;
    ASN1_INTEGER_free(i);
    return ok && got == (int64_t)want;
}

/* Step 2b: the VCEK is the key of this chip at this TCB: its hwID equals chip_id and its SPL
 * extensions equal the reported TCB (a VCEK of an older, perhaps compromised, TCB must not
 * vouch for a report claiming a newer one). */
static int vcek_binding(const struct snp_ev *e, struct octo_att_result *out)
{
    const ASN1_OCTET_STRING *hwid = ext_value(e->vcek, AMD_OID_HWID);
    if (hwid == NULL || ASN1_STRING_length(hwid) != (int)SNP_CHIP_ID_LEN ||
        memcmp(ASN1_STRING_get0_data(hwid), e->report + SNP_OFF_CHIP_ID, SNP_CHIP_ID_LEN) != 0) {
        ERR_clear_error();
        return octo_att_reject(out, OCTO_EBADSIG, "VCEK hwID differs from the report's chip_id");
    }
    uint64_t tcb = get_u64le(e->report + SNP_OFF_REPORTED_TCB);
    for (size_t i = 0; i < OCTO_ARRAY_LEN(amd_spl); i++) {
        const ASN1_OCTET_STRING *v = ext_value(e->vcek, amd_spl[i].oid);
        if (v == NULL || !spl_equals(v, (unsigned)(tcb >> amd_spl[i].shift) & 0xffu)) {
            ERR_clear_error();
            return octo_att_reject(out, OCTO_EBADSIG, "VCEK TCB differs from the reported TCB");
        }
    }
    return 0;
}

/* Step 3: ECDSA P-384 / SHA-384 over the signed part of the report with the VCEK key; r and s
 * are little-endian and zero-extended to SNP_SIG_COMPONENT bytes. */
static int report_signature(const struct snp_ev *e, struct octo_att_result *out)
{
    EVP_PKEY *key = X509_get0_pubkey(e->vcek);
    if (!octo__att_ec_key_is(key, OCTO__ATT_P384))
        return octo_att_reject(out, OCTO_EBADSIG, "VCEK key is not ECDSA P-384");
    const struct octo__att_ecdsa_sig sig = {
        .r = e->report + SNP_OFF_SIG,
        .s = e->report + SNP_OFF_SIG + SNP_SIG_COMPONENT,
        .len = SNP_SIG_COMPONENT,
        .little_endian = true,
    };
    const struct octo__att_span signed_part = {e->report, SNP_OFF_SIG};
    int rc = octo__att_ecdsa_verify(key, OCTO__ATT_P384, &sig, &signed_part, 1);
    return octo__att_sig_reject(rc, "report signature does not verify with the VCEK", out);
}

/* The TCB summary of a u64 TCB_VERSION (see the top comment). */
static uint32_t tcb_summary(uint64_t tcb)
{
    return (uint32_t)(tcb & 0xff) | (uint32_t)((tcb >> 8) & 0xff) << 8 |
           (uint32_t)((tcb >> 48) & 0xff) << 16 | (uint32_t)((tcb >> 56) & 0xff) << 24;
}

/* Step 4: the binding and the policy. */
static int report_policy(const uint8_t *rep, const uint8_t *expected_rd,
                         const struct octo_trust_anchors *anchors, struct octo_att_result *out)
{
    out->debug = (get_u64le(rep + SNP_OFF_POLICY) & SNP_POLICY_DEBUG) != 0;
    out->tcb_level = tcb_summary(get_u64le(rep + SNP_OFF_REPORTED_TCB));
    if (!octo_ct_equal(rep + SNP_OFF_REPORT_DATA, expected_rd, OCTO_ATT_RD_LEN))
        return octo_att_reject(out, OCTO_EPERM, "report_data differs from the expected binding");
    if (!octo_ct_equal(rep + SNP_OFF_MEASUREMENT, anchors->ref_measurement, SNP_MEASUREMENT_LEN))
        return octo_att_reject(out, OCTO_EPERM, "measurement differs from the reference value");
    if (out->debug && !anchors->allow_debug)
        return octo_att_reject(out, OCTO_EPERM, "policy: guest debugging is enabled");
    if (get_u32le(rep + SNP_OFF_VMPL) != anchors->snp_vmpl)
        return octo_att_reject(out, OCTO_EPERM, "policy: unexpected VMPL");
    if (!octo__att_tcb_at_least(out->tcb_level, anchors->min_tcb_level))
        return octo_att_reject(out, OCTO_EPERM, "policy: reported TCB below the minimum");
    return 0;
}

/* Verifies an SEV-SNP report plus certificate table (format and steps in the top comment).
 * Parameters and errors as octo_att_verify_fn in attest.h: OCTO_EINVAL (NULL argument, no
 * ARK anchor, reference measurement not 48 bytes), OCTO_ETOOBIG, OCTO_EMALFORMED,
 * OCTO_EUNSUPPORTED (signature algorithm), OCTO_EBADSIG (chain or report signature),
 * OCTO_EPERM (certificate validity at now_s, binding, measurement, debug, VMPL, TCB),
 * OCTO_ENOMEM / OCTO_ECRYPTO. On success out holds the result, hardware_rooted unless the
 * matching anchor is marked software. */
int octo_att_snp_verify(const uint8_t *ev, size_t len, const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                        const struct octo_trust_anchors *anchors, int64_t now_s,
                        struct octo_att_result *out)
{
    int rc = octo_att_check_args(OCTO_EV_SEV_SNP_REPORT, ev, len, expected_rd, anchors, out);
    if (rc < 0)
        return rc;
    octo_att_set_platform(out, "AMD SEV-SNP");
    struct snp_ev e = {0};
    const struct octo_trust_anchor *matched = NULL;
    rc = snp_parse(&e, ev, len, out);
    if (rc < 0)
        goto done;
    if (anchors->ref_measurement_len != SNP_MEASUREMENT_LEN) {
        rc = octo_att_reject(out, OCTO_EINVAL, "reference measurement (48 bytes) missing");
        goto done;
    }
    rc = octo__att_chain_verify(&snp_chain, e.vcek, e.extra, anchors, now_s, &matched, out);
    if (rc < 0)
        goto done;
    rc = vcek_binding(&e, out);
    if (rc < 0)
        goto done;
    rc = report_signature(&e, out);
    if (rc < 0)
        goto done;
    rc = report_policy(e.report, expected_rd, anchors, out);
    if (rc < 0)
        goto done;
    octo__att_accept(out, matched, e.report + SNP_OFF_MEASUREMENT, SNP_MEASUREMENT_LEN,
                     e.report + SNP_OFF_REPORT_DATA);
done:
    snp_ev_deinit(&e);
    return rc;
}
