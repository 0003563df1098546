/*
 * attest_nitro.c — verifier for AWS Nitro Enclaves attestation documents (EXECUTION.md §6).
 *
 * Evidence = the document as /dev/nsm returns it: a COSE_Sign1 (RFC 9052), untagged or wrapped
 * in CBOR tag 18 in its one-byte form 0xd2 (stripped before decoding: libcbor 0.8.0 refuses
 * tags 6..20 in that form; any other tag is rejected):
 *   [ protected: bstr = a1 01 38 22 ({1: -35}, ES384; other encodings are rejected),
 *     unprotected: map (ignored: it is not signed),
 *     payload: bstr = CBOR map (below),
 *     signature: bstr(96) = r || s, big-endian, 48 bytes each ]
 * Payload map, text keys, each at most once, no others (AWS's syntax rules):
 *   module_id text (non-empty), digest text "SHA384", timestamp uint (ms, > 0),
 *   pcrs {uint 0..31: bstr(48)} (1..32 entries, PCR0 required), certificate bstr (DER,
 *   1..1024), cabundle [bstr (DER, 1..1024)] (root first, 1..NITRO_BUNDLE_MAX),
 *   optional public_key bstr(1..1024) / null, user_data bstr(0..512) / null,
 *   nonce bstr(0..512) / null.
 *
 * Verification (each failure has its own reason string):
 *   1. syntax: the CBOR is first walked by a bounded scanner (definite lengths only, every
 *      length within the remaining bytes, nesting <= NITRO_CBOR_DEPTH_MAX), so libcbor's
 *      allocations are bounded by the input size; then decoded with libcbor (cbor_load must
 *      consume every byte) and checked against the rules above;
 *   2. chain: certificate -> cabundle (as untrusted candidates) -> an OCTO_ANCHOR_X509_DER
 *      anchor of type OCTO_EV_NITRO_COSE (the AWS Nitro root G1 in production), all valid at
 *      now_s (the bundle's root is only a candidate: trust comes from the anchors alone);
 *   3. ES384 with the certificate's P-384 key over
 *      Sig_structure = ["Signature1", protected, h'', payload] (fed to the digest piecewise);
 *   4. nonce present and == expected_rd (64 bytes); PCR0 == anchors->ref_measurement (48,
 *      required); a debug enclave (PCR0 all zero, as AWS documents) is rejected unless
 *      anchors->allow_debug.
 * tcb_level is 0 (Nitro has no TCB version in the document). The timestamp is not compared
 * with now_s: freshness comes from the nonce.
 *
 * The certificate-chain check and the ECDSA verification are shared with the SNP and TDX
 * verifiers (attest_x509.c).
 *
 * Memory: libcbor and OpenSSL objects only, all freed before return; no octo_malloc.
 */
#include "base/assert.h"
#include "base/mem.h"
#include "exec/attest.h"
#include "exec/attest_x509.h"

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#define NITRO_BUNDLE_MAX 8 /* certificates in cabundle */

#define NITRO_CBOR_DEPTH_MAX 8u
#define NITRO_TAG18_BYTE 0xd2u /* major type 6, tag 18 (COSE_Sign1) */
#define NITRO_SIG_LEN 96u
#define NITRO_PCR_LEN 48u
#define NITRO_PCRS_MAX 32u
#define NITRO_CERT_MAX 1024u
#define NITRO_KEY_MAX 1024u
#define NITRO_DATA_MAX 512u

_Static_assert(NITRO_PCR_LEN <= OCTO_ATT_MEASUREMENT_MAX, "PCR0 fits the result");

static const uint8_t protected_es384[] = {0xa1, 0x01, 0x38, 0x22};

/* The parsed document: borrowed views into the libcbor items plus the certificates. */
struct nitro_ev {
    cbor_item_t *doc;     /* the whole document */
    cbor_item_t *payload; /* the decoded payload map */
    const uint8_t *protected_hdr;
    size_t protected_len;
    const uint8_t *payload_bytes;
    size_t payload_len;
    const uint8_t *sig;
    const uint8_t *pcr0;
    const uint8_t *nonce; /* NULL when absent or null */
    size_t nonce_len;
    X509 *leaf;
    STACK_OF(X509) * bundle;
};

static void nitro_ev_deinit(struct nitro_ev *e)
{
    if (e->doc != NULL)
        cbor_decref(&e->doc);
    if (e->payload != NULL)
        cbor_decref(&e->payload);
    X509_free(e->leaf);
    sk_X509_pop_free(e->bundle, X509_free);
    memset(e, 0, sizeof(*e));
}

/* ---- bounded CBOR scan ------------------------------------------------------------------ */

/* Decodes an item head: major type, argument, head length. false when malformed (truncated,
 * reserved additional info 28..30, or an indefinite length, which AWS never produces). */
static bool cbor_head(const uint8_t *p, size_t len, unsigned *major, uint64_t *arg, size_t *hlen)
{
    if (len < 1)
        return false;
    unsigned ai = p[0] & 31u;
    *major = p[0] >> 5;
    if (ai < 24) {
        *arg = ai;
        *hlen = 1;
        return true;
    }
    if (ai > 27)
        return false;
    size_t n = (size_t)1 << (ai - 24);
    if (len - 1 < n)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[1 + i];
    *arg = v;
    *hlen = 1 + n;
    return true;
}

/* Bytes taken by one well-formed item at p[0..len), or 0 when it is malformed, deeper than
 * NITRO_CBOR_DEPTH_MAX, or claims more elements or bytes than remain. */
static size_t cbor_scan(const uint8_t *p, size_t len, unsigned depth)
{
    unsigned major;
    uint64_t arg;
    size_t at;
    if (depth > NITRO_CBOR_DEPTH_MAX || !cbor_head(p, len, &major, &arg, &at))
        return 0;
    switch (major) {
    case 2: /* byte string */
    case 3: /* text string */
        return arg <= len - at ? at + (size_t)arg : 0;
    case 4: /* array */
    case 5: /* map: every element takes at least one byte */
        if (arg > len - at)
            return 0;
        for (uint64_t i = 0; i < (major == 5 ? arg * 2 : arg); i++) {
            size_t n = cbor_scan(p + at, len - at, depth + 1);
            if (n == 0)
                return 0;
            at += n;
        }
        return at;
    case 6: { /* tag */
        size_t n = cbor_scan(p + at, len - at, depth + 1);
        return n == 0 ? 0 : at + n;
    }
    default: /* integers, simple values, floats */
        return at;
    }
}

/* Decodes exactly p[0..len) as one CBOR item after the bounded scan; NULL when malformed. */
static cbor_item_t *cbor_decode_all(const uint8_t *p, size_t len)
{
    if (len == 0 || cbor_scan(p, len, 0) != len)
        return NULL;
    struct cbor_load_result res;
    cbor_item_t *it = cbor_load(p, len, &res);
    if (it != NULL && (res.error.code != CBOR_ERR_NONE || res.read != len))
        cbor_decref(&it);
    return it;
}

/* ---- payload rules ---------------------------------------------------------------------- */

static bool is_bstr(const cbor_item_t *v, size_t min, size_t max)
{
    return cbor_isa_bytestring(v) && cbor_bytestring_is_definite(v) &&
           cbor_bytestring_length(v) >= min && cbor_bytestring_length(v) <= max;
}

static bool text_is(const cbor_item_t *v, const char *s)
{
    size_t n = strlen(s);
    return cbor_isa_string(v) && cbor_string_is_definite(v) && cbor_string_length(v) == n &&
           memcmp(cbor_string_handle(v), s, n) == 0;
}

/* pcrs: {0..31: bstr(48)}; records PCR0. */
static bool parse_pcrs(struct nitro_ev *e, const cbor_item_t *v)
{
    if (!cbor_isa_map(v) || !cbor_map_is_definite(v))
        return false;
    size_t n = cbor_map_size(v);
    if (n == 0 || n > NITRO_PCRS_MAX)
        return false;
    uint32_t seen = 0;
    struct cbor_pair *pairs = cbor_map_handle(v);
    for (size_t i = 0; i < n; i++) {
        if (!cbor_isa_uint(pairs[i].key) || !is_bstr(pairs[i].value, NITRO_PCR_LEN, NITRO_PCR_LEN))
            return false;
        uint64_t idx = cbor_get_int(pairs[i].key);
        if (idx >= NITRO_PCRS_MAX || (seen & (UINT32_C(1) << idx)) != 0)
            return false;
        seen |= UINT32_C(1) << idx;
        if (idx == 0)
            e->pcr0 = cbor_bytestring_handle(pairs[i].value);
    }
    return e->pcr0 != NULL;
}

/* cabundle: [bstr DER] root first; every certificate becomes an untrusted candidate. */
static int parse_bundle(struct nitro_ev *e, const cbor_item_t *v)
{
    if (!cbor_isa_array(v) || !cbor_array_is_definite(v))
        return OCTO_EMALFORMED;
    size_t n = cbor_array_size(v);
    if (n == 0 || n > NITRO_BUNDLE_MAX)
        return OCTO_EMALFORMED;
    cbor_item_t **items = cbor_array_handle(v);
    for (size_t i = 0; i < n; i++) {
        if (!is_bstr(items[i], 1, NITRO_CERT_MAX))
            return OCTO_EMALFORMED;
        X509 *c =
            octo__att_der_cert(cbor_bytestring_handle(items[i]), cbor_bytestring_length(items[i]));
        if (c == NULL)
            return OCTO_EMALFORMED;
        if (sk_X509_push(e->bundle, c) <= 0) {
            X509_free(c);
            return OCTO_ENOMEM;
        }
    }
    return 0;
}

enum nitro_field {
    F_MODULE_ID,
    F_DIGEST,
    F_TIMESTAMP,
    F_PCRS,
    F_CERTIFICATE,
    F_CABUNDLE,
    F_PUBLIC_KEY,
    F_USER_DATA,
    F_NONCE,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "module_id", "digest",     "timestamp", "pcrs",  "certificate",
    "cabundle",  "public_key", "user_data", "nonce",
};

#define REQUIRED_FIELDS                                                                            \
    ((1u << F_MODULE_ID) | (1u << F_DIGEST) | (1u << F_TIMESTAMP) | (1u << F_PCRS) |               \
     (1u << F_CERTIFICATE) | (1u << F_CABUNDLE))

/* Checks one payload field's value; 0, OCTO_EMALFORMED or OCTO_ENOMEM. */
static int parse_field(struct nitro_ev *e, enum nitro_field f, const cbor_item_t *v)
{
    bool null = cbor_is_null(v);
    switch (f) {
    case F_MODULE_ID:
        return cbor_isa_string(v) && cbor_string_is_definite(v) && cbor_string_length(v) > 0
                   ? 0
                   : OCTO_EMALFORMED;
    case F_DIGEST:
        return text_is(v, "SHA384") ? 0 : OCTO_EMALFORMED;
    case F_TIMESTAMP:
        return cbor_isa_uint(v) && cbor_get_int(v) > 0 ? 0 : OCTO_EMALFORMED;
    case F_PCRS:
        return parse_pcrs(e, v) ? 0 : OCTO_EMALFORMED;
    case F_CERTIFICATE:
        if (!is_bstr(v, 1, NITRO_CERT_MAX))
            return OCTO_EMALFORMED;
        e->leaf = octo__att_der_cert(cbor_bytestring_handle(v), cbor_bytestring_length(v));
        return e->leaf != NULL ? 0 : OCTO_EMALFORMED;
    case F_CABUNDLE:
        return parse_bundle(e, v);
    case F_PUBLIC_KEY:
        return null || is_bstr(v, 1, NITRO_KEY_MAX) ? 0 : OCTO_EMALFORMED;
    case F_USER_DATA:
        return null || is_bstr(v, 0, NITRO_DATA_MAX) ? 0 : OCTO_EMALFORMED;
    case F_NONCE:
        if (null)
            return 0;
        if (!is_bstr(v, 0, NITRO_DATA_MAX))
            return OCTO_EMALFORMED;
        e->nonce = cbor_bytestring_handle(v);
        e->nonce_len = cbor_bytestring_length(v);
        return 0;
    case F_COUNT:
        break;
    }
    OCTO_UNREACHABLE();
}

/* Applies the payload rules to e->payload. */
static int parse_payload(struct nitro_ev *e, struct octo_att_result *out)
{
    const cbor_item_t *m = e->payload;
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
        return octo_att_reject(out, OCTO_EMALFORMED, "payload is not a map");
    size_t n = cbor_map_size(m);
    struct cbor_pair *pairs = cbor_map_handle(m);
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned f = 0;
        while (f < F_COUNT && !text_is(pairs[i].key, field_names[f]))
            f++;
        if (f == F_COUNT)
            return octo_att_reject(out, OCTO_EMALFORMED, "payload: unknown or non-text key");
        if ((seen & (1u << f)) != 0)
            return octo_att_reject(out, OCTO_EMALFORMED, "payload: duplicate key");
        seen |= 1u << f;
        int rc = parse_field(e, (enum nitro_field)f, pairs[i].value);
        if (rc < 0) {
            char reason[OCTO_ATT_REASON_MAX];
            snprintf(reason, sizeof(reason), "payload: invalid %s", field_names[f]);
            return octo_att_reject(out, rc, rc == OCTO_ENOMEM ? "out of memory" : reason);
        }
    }
    if ((seen & REQUIRED_FIELDS) != REQUIRED_FIELDS)
        return octo_att_reject(out, OCTO_EMALFORMED, "payload: a required field is missing");
    return 0;
}

/* Step 1: the COSE_Sign1 envelope, then the payload. */
static int nitro_parse(struct nitro_ev *e, const uint8_t *ev, size_t len,
                       struct octo_att_result *out)
{
    /* Tag 18 is stripped here: libcbor 0.8.0 rejects tags 6..20 in the one-byte form. */
    if (len > 0 && ev[0] == NITRO_TAG18_BYTE) {
        ev++;
        len--;
    } else if (len > 0 && ev[0] >> 5 == 6) {
        return octo_att_reject(out, OCTO_EMALFORMED, "CBOR tag is not COSE_Sign1 (18)");
    }
    e->doc = cbor_decode_all(ev, len);
    if (e->doc == NULL)
        return octo_att_reject(out, OCTO_EMALFORMED, "truncated or malformed CBOR");
    const cbor_item_t *arr = e->doc;
    if (!cbor_isa_array(arr) || cbor_array_size(arr) != 4)
        return octo_att_reject(out, OCTO_EMALFORMED, "not a COSE_Sign1 array of 4");
    cbor_item_t **items = cbor_array_handle(arr);
    if (!is_bstr(items[0], sizeof(protected_es384), sizeof(protected_es384)) ||
        memcmp(cbor_bytestring_handle(items[0]), protected_es384, sizeof(protected_es384)) != 0)
        return octo_att_reject(out, OCTO_EUNSUPPORTED, "protected header is not {1: -35} (ES384)");
    if (!cbor_isa_map(items[1]))
        return octo_att_reject(out, OCTO_EMALFORMED, "unprotected header is not a map");
    if (!is_bstr(items[2], 1, OCTO_ATT_EVIDENCE_MAX))
        return octo_att_reject(out, OCTO_EMALFORMED, "payload is not a byte string");
    if (!is_bstr(items[3], NITRO_SIG_LEN, NITRO_SIG_LEN))
        return octo_att_reject(out, OCTO_EMALFORMED, "signature is not 96 bytes");
    e->protected_hdr = cbor_bytestring_handle(items[0]);
    e->protected_len = cbor_bytestring_length(items[0]);
    e->payload_bytes = cbor_bytestring_handle(items[2]);
    e->payload_len = cbor_bytestring_length(items[2]);
    e->sig = cbor_bytestring_handle(items[3]);
    e->payload = cbor_decode_all(e->payload_bytes, e->payload_len);
    if (e->payload == NULL)
        return octo_att_reject(out, OCTO_EMALFORMED, "payload is not one CBOR item");
    e->bundle = sk_X509_new_null();
    if (e->bundle == NULL)
        return octo_att_reject(out, OCTO_ENOMEM, "out of memory");
    return parse_payload(e, out);
}

/* ---- chain and signature ---------------------------------------------------------------- */

/* The chain check of step 2 (attest_x509.c) with the Nitro anchors and reasons. */
static const struct octo__att_chain_spec nitro_chain = {
    .type = OCTO_EV_NITRO_COSE,
    .anchor_not_der = "Nitro trust anchor is not a DER certificate",
    .no_anchor = "no Nitro trust anchor (AWS Nitro root)",
};

/* A CBOR byte-string head for n bytes into h (up to 9 bytes); returns its length. */
static size_t bstr_head(uint8_t h[9], size_t n)
{
    if (n < 24) {
        h[0] = (uint8_t)(0x40 | n);
        return 1;
    }
    size_t bytes = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffu ? 4 : 8;
    h[0] = (uint8_t)(0x58 + (bytes == 1 ? 0 : bytes == 2 ? 1 : bytes == 4 ? 2 : 3));
    for (size_t i = 0; i < bytes; i++)
        h[1 + i] = (uint8_t)((uint64_t)n >> (8 * (bytes - 1 - i)));
    return 1 + bytes;
}

/* Step 3: ES384 with the leaf certificate's key over
 * Sig_structure = ["Signature1", protected, h'', payload], given to the digest in pieces. */
static int cose_signature(const struct nitro_ev *e, struct octo_att_result *out)
{
    static const uint8_t prefix[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1'};
    static const uint8_t empty_bstr[] = {0x40};
    EVP_PKEY *key = X509_get0_pubkey(e->leaf);
    if (!octo__att_ec_key_is(key, OCTO__ATT_P384))
        return octo_att_reject(out, OCTO_EBADSIG, "certificate key is not ECDSA P-384");
    uint8_t protected_head[9], payload_head[9];
    const struct octo__att_span sig_structure[] = {
        {prefix, sizeof(prefix)},
        {protected_head, bstr_head(protected_head, e->protected_len)},
        {e->protected_hdr, e->protected_len},
        {empty_bstr, sizeof(empty_bstr)},
        {payload_head, bstr_head(payload_head, e->payload_len)},
        {e->payload_bytes, e->payload_len},
    };
    const struct octo__att_ecdsa_sig sig = {
        .r = e->sig,
        .s = e->sig + NITRO_SIG_LEN / 2,
        .len = NITRO_SIG_LEN / 2,
        .little_endian = false,
    };
    int rc = octo__att_ecdsa_verify(key, OCTO__ATT_P384, &sig, sig_structure,
                                    OCTO_ARRAY_LEN(sig_structure));
    return octo__att_sig_reject(rc, "COSE signature does not verify with the certificate", out);
}

/* Step 4: the binding and the policy. */
static int doc_policy(const struct nitro_ev *e, const uint8_t *expected_rd,
                      const struct octo_trust_anchors *anchors, struct octo_att_result *out)
{
    static const uint8_t zero[NITRO_PCR_LEN];
    out->debug = memcmp(e->pcr0, zero, sizeof(zero)) == 0;
    if (e->nonce == NULL)
        return octo_att_reject(out, OCTO_EPERM, "nonce missing");
    if (e->nonce_len != OCTO_ATT_RD_LEN || !octo_ct_equal(e->nonce, expected_rd, OCTO_ATT_RD_LEN))
        return octo_att_reject(out, OCTO_EPERM, "nonce differs from the expected binding");
    if (out->debug && !anchors->allow_debug)
        return octo_att_reject(out, OCTO_EPERM, "policy: debug enclave (PCR0 all zero)");
    if (!octo_ct_equal(e->pcr0, anchors->ref_measurement, NITRO_PCR_LEN))
        return octo_att_reject(out, OCTO_EPERM, "PCR0 differs from the reference value");
    return 0;
}

/* Verifies a Nitro attestation document (format and steps in the top comment). Parameters
 * and errors as octo_att_verify_fn in attest.h: OCTO_EINVAL (NULL argument, no Nitro anchor,
 * reference PCR0 not 48 bytes), OCTO_ETOOBIG, OCTO_EMALFORMED, OCTO_EUNSUPPORTED (protected
 * header other than ES384), OCTO_EBADSIG (chain, COSE signature), OCTO_EPERM (validity at
 * now_s, nonce, debug, PCR0), OCTO_ENOMEM / OCTO_ECRYPTO. */
int octo_att_nitro_verify(const uint8_t *ev, size_t len, const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                          const struct octo_trust_anchors *anchors, int64_t now_s,
                          struct octo_att_result *out)
{
    int rc = octo_att_check_args(OCTO_EV_NITRO_COSE, ev, len, expected_rd, anchors, out);
    if (rc < 0)
        return rc;
    octo_att_set_platform(out, "AWS Nitro Enclaves");
    struct nitro_ev e = {0};
    const struct octo_trust_anchor *matched = NULL;
    rc = nitro_parse(&e, ev, len, out);
    if (rc < 0)
        goto done;
    if (anchors->ref_measurement_len != NITRO_PCR_LEN) {
        rc = octo_att_reject(out, OCTO_EINVAL, "reference PCR0 (48 bytes) missing");
        goto done;
    }
    rc = octo__att_chain_verify(&nitro_chain, e.leaf, e.bundle, anchors, now_s, &matched, out);
    if (rc < 0)
        goto done;
    rc = cose_signature(&e, out);
    if (rc < 0)
        goto done;
    rc = doc_policy(&e, expected_rd, anchors, out);
    if (rc < 0)
        goto done;
    octo__att_accept(out, matched, e.pcr0, NITRO_PCR_LEN, e.nonce);
done:
    nitro_ev_deinit(&e);
    return rc;
}
