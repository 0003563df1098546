/*
 * attest.c — the attestation plug-in registry and the helpers every verifier shares: argument
 * checks, failure reasons, the report_data binding, the relying party's class rule and the
 * attester selection (see attest.h for the contracts and the policy they implement).
 *
 * The verifier table is static: every verifier of this build is listed once, by type. The
 * class rule lives here and only here, so the scheduler and every test ask the same function.
 */
#include "exec/attest.h"

#include "base/assert.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[OCTO_EV_TYPES] = {
    [OCTO_EV_SOFTWARE_UNVERIFIED] = OCTO_ATT_SOFT_NAME,
    [OCTO_EV_TPM2_QUOTE] = "tpm2-quote",
    [OCTO_EV_SEV_SNP_REPORT] = "sev-snp-report",
    [OCTO_EV_TDX_QUOTE] = "tdx-quote",
    [OCTO_EV_NITRO_COSE] = "nitro-cose",
};

static const struct octo_verifier_ops verifiers[OCTO_EV_TYPES] = {
    [OCTO_EV_SOFTWARE_UNVERIFIED] = {OCTO_ATT_SOFT_NAME, OCTO_EV_SOFTWARE_UNVERIFIED,
                                     octo_att_soft_verify},
    [OCTO_EV_TPM2_QUOTE] = {"tpm2-quote", OCTO_EV_TPM2_QUOTE, octo_att_tpm_verify},
    [OCTO_EV_SEV_SNP_REPORT] = {"sev-snp-report", OCTO_EV_SEV_SNP_REPORT, octo_att_snp_verify},
    [OCTO_EV_TDX_QUOTE] = {"tdx-quote", OCTO_EV_TDX_QUOTE, octo_att_tdx_verify},
    [OCTO_EV_NITRO_COSE] = {"nitro-cose", OCTO_EV_NITRO_COSE, octo_att_nitro_verify},
};

static bool type_valid(enum octo_ev_type t)
{
    return (unsigned)t < OCTO_EV_TYPES;
}

const char *octo_att_type_name(enum octo_ev_type t)
{
    return type_valid(t) ? type_names[t] : "?";
}

bool octo_att_type_is_tee(enum octo_ev_type t)
{
    return t == OCTO_EV_SEV_SNP_REPORT || t == OCTO_EV_TDX_QUOTE || t == OCTO_EV_NITRO_COSE;
}

void octo_att_result_init(struct octo_att_result *out, enum octo_ev_type type)
{
    OCTO_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    out->type = type;
}

int octo_att_reject(struct octo_att_result *out, int err, const char *reason)
{
    OCTO_ASSERT(err < 0);
    if (out == NULL)
        return err;
    out->verified = false;
    out->hardware_rooted = false;
    out->test_anchor = false;
    memset(out->measurement, 0, sizeof(out->measurement));
    out->measurement_len = 0;
    memset(out->report_data, 0, sizeof(out->report_data));
    snprintf(out->reason, sizeof(out->reason), "%s", reason != NULL ? reason : "rejected");
    return err;
}

int octo_att_check_args(enum octo_ev_type type, const uint8_t *ev, size_t len,
                        const uint8_t *expected_rd, const struct octo_trust_anchors *anchors,
                        struct octo_att_result *out)
{
    if (out == NULL)
        return OCTO_EINVAL;
    octo_att_result_init(out, type);
    if (ev == NULL || expected_rd == NULL || anchors == NULL)
        return octo_att_reject(out, OCTO_EINVAL, "missing argument");
    if (len > OCTO_ATT_EVIDENCE_MAX)
        return octo_att_reject(out, OCTO_ETOOBIG, "evidence exceeds OCTO_ATT_EVIDENCE_MAX");
    if (anchors->count > OCTO_ATT_ANCHORS_MAX)
        return octo_att_reject(out, OCTO_EINVAL, "too many trust anchors");
    if (anchors->count > 0 && anchors->items == NULL)
        return octo_att_reject(out, OCTO_EINVAL, "anchor list is NULL");
    for (size_t i = 0; i < anchors->count; i++) {
        const struct octo_trust_anchor *a = &anchors->items[i];
        if (a->data == NULL || a->len == 0 || a->len > OCTO_ATT_ANCHOR_MAX)
            return octo_att_reject(out, OCTO_EINVAL, "trust anchor empty or too large");
    }
    if (anchors->ref_measurement_len > OCTO_ATT_REF_MAX || anchors->ref_pcrs_len > OCTO_ATT_REF_MAX)
        return octo_att_reject(out, OCTO_EINVAL, "reference value too large");
    if ((anchors->ref_measurement == NULL && anchors->ref_measurement_len > 0) ||
        (anchors->ref_pcrs == NULL && anchors->ref_pcrs_len > 0))
        return octo_att_reject(out, OCTO_EINVAL, "reference value is NULL");
    return 0;
}

void octo_att_set_platform(struct octo_att_result *out, const char *label)
{
    OCTO_ASSERT(out != NULL);
    snprintf(out->platform, sizeof(out->platform), "%s", label != NULL ? label : "");
}

static void put_u32be(uint8_t b[4], size_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static void binding_field(crypto_hash_sha512_state *st, const uint8_t *p, size_t len)
{
    uint8_t lenb[4];
    put_u32be(lenb, len);
    crypto_hash_sha512_update(st, lenb, sizeof(lenb));
    if (len > 0)
        crypto_hash_sha512_update(st, p, len);
}

int octo_att_binding(const uint8_t *nonce, size_t nonce_len, const uint8_t *pubkey,
                     size_t pubkey_len, const uint8_t *job_id, size_t job_id_len,
                     const uint8_t *input_hash, size_t input_hash_len, uint8_t out[OCTO_ATT_RD_LEN])
{
    static const char domain[] = "octo-att-binding-v1";
    if (out == NULL || (nonce == NULL && nonce_len > 0) || (pubkey == NULL && pubkey_len > 0) ||
        (job_id == NULL && job_id_len > 0) || (input_hash == NULL && input_hash_len > 0))
        return OCTO_EINVAL;
    if (nonce_len > OCTO_ATT_BINDING_FIELD_MAX || pubkey_len > OCTO_ATT_BINDING_FIELD_MAX ||
        job_id_len > OCTO_ATT_BINDING_FIELD_MAX || input_hash_len > OCTO_ATT_BINDING_FIELD_MAX)
        return OCTO_ETOOBIG;
    _Static_assert(crypto_hash_sha512_BYTES == OCTO_ATT_RD_LEN, "binding is a SHA-512");
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, (const uint8_t *)domain, sizeof(domain) - 1);
    binding_field(&st, nonce, nonce_len);
    binding_field(&st, pubkey, pubkey_len);
    binding_field(&st, job_id, job_id_len);
    binding_field(&st, input_hash, input_hash_len);
    crypto_hash_sha512_final(&st, out);
    sodium_memzero(&st, sizeof(st));
    return 0;
}

/* Off in the node: results verified against TEST ONLY anchors never carry PRIVATE or
 * CONFIDENTIAL data. Only test programs turn it on (octo_att_allow_test_anchors). */
static bool g_test_anchors_ok;

void octo_att_allow_test_anchors(bool allow)
{
    g_test_anchors_ok = allow;
}

bool octo_att_satisfies(const struct octo_att_result *r, enum octo_att_class cls)
{
    if (r == NULL || !r->verified || !type_valid(r->type))
        return false;
    switch (cls) {
    case OCTO_ATT_CLASS_PUBLIC:
    case OCTO_ATT_CLASS_SHARED:
        return true;
    case OCTO_ATT_CLASS_CONFIDENTIAL:
    case OCTO_ATT_CLASS_PRIVATE:
        /* A TEE only: a TPM quote proves what booted, not that the host cannot read memory. */
        return r->hardware_rooted && !r->debug && octo_att_type_is_tee(r->type) &&
               (!r->test_anchor || g_test_anchors_ok);
    }
    return false;
}

const struct octo_verifier_ops *octo_att_verifier(enum octo_ev_type t)
{
    if (!type_valid(t) || verifiers[t].verify == NULL)
        return NULL;
    OCTO_ASSERT(verifiers[t].type == t);
    return &verifiers[t];
}

int octo_att_verify(enum octo_ev_type t, const uint8_t *ev, size_t len,
                    const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                    const struct octo_trust_anchors *anchors, int64_t now_s,
                    struct octo_att_result *out)
{
    const struct octo_verifier_ops *v = octo_att_verifier(t);
    if (v == NULL) {
        if (out == NULL)
            return OCTO_EINVAL;
        octo_att_result_init(out, t);
        return octo_att_reject(out, OCTO_EUNSUPPORTED, "no verifier for this evidence type");
    }
    return v->verify(ev, len, expected_rd, anchors, now_s, out);
}

/* Whether attester type t may be used for class cls (before probing). */
static bool select_eligible(enum octo_ev_type t, bool allow_software, enum octo_att_class cls)
{
    bool tee_needed = cls == OCTO_ATT_CLASS_PRIVATE || cls == OCTO_ATT_CLASS_CONFIDENTIAL;
    if (!type_valid(t))
        return false;
    if (t == OCTO_EV_SOFTWARE_UNVERIFIED)
        return allow_software && !tee_needed;
    if (tee_needed)
        return octo_att_type_is_tee(t);
    return true;
}

int octo_att_select(const struct octo_attester *list, size_t n, bool allow_software,
                    enum octo_att_class cls, const struct octo_attester **out)
{
    if (out == NULL)
        return OCTO_EINVAL;
    *out = NULL;
    if (list == NULL && n > 0)
        return OCTO_EINVAL;
    if ((unsigned)cls > OCTO_ATT_CLASS_PRIVATE)
        return OCTO_EINVAL;
    /* Hardware first, in list order; the software attester only in a second pass, so that a
     * hardware attester listed after it still wins. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const struct octo_attester *a = &list[i];
            if (a->ops == NULL || a->ops->probe == NULL || a->ops->collect == NULL)
                return OCTO_EINVAL;
            bool soft = a->ops->type == OCTO_EV_SOFTWARE_UNVERIFIED;
            if (soft != (pass == 1))
                continue;
            if (!select_eligible(a->ops->type, allow_software, cls))
                continue;
            if (a->ops->probe(a->ctx) == 0) {
                *out = a;
                return 0;
            }
        }
    }
    return OCTO_ENOTFOUND;
}
