/*
 * attest.h — remote attestation plug-ins: attesters (produce evidence on this node) and
 * verifiers (check another node's evidence), in the IETF RATS vocabulary (RFC 9334):
 * Attester -> Evidence -> Verifier (trust anchors = endorsements, reference values) ->
 * Attestation Result (struct octo_att_result) -> Relying Party (octo_att_satisfies, the
 * scheduler). Facts and formats: ../shared/design/EXECUTION.md §6 and §7.
 *
 * Evidence types:
 *   SOFTWARE_UNVERIFIED  attest_soft.c  "software-unverified": the node's Ed25519 identity signs
 *                        {binary hash, policy summary, report_data}. Accountability of the
 *                        operator's statement only; never hardware-rooted.
 *   TPM2_QUOTE           attest_tpm.c   TPM 2.0 TPM2_Quote (TPMS_ATTEST + TPMT_SIGNATURE + AK).
 *   SEV_SNP_REPORT       attest_snp.c   AMD SEV-SNP attestation report (1184 bytes) + VCEK chain.
 *   TDX_QUOTE            attest_tdx.c   Intel TDX quote v4 with PCK chain (cert data type 6/5).
 *   NITRO_COSE           attest_nitro.c AWS Nitro Enclaves attestation document (COSE_Sign1).
 *
 * Binding. Every format carries a caller-chosen field; we put report_data there, the 64-byte
 * output of octo_att_binding() = SHA-512 over the verifier's nonce, the node's ephemeral
 * channel key, the job id and the input hash. Each verifier compares the evidence's field
 * with expected_rd (never skipped: a verifier that does not check freshness accepts replays,
 * the Veraison bug). SNP/TDX carry the 64 bytes as report_data; Nitro as `nonce`; the TPM
 * as qualifyingData/extraData = SHA-256(report_data) (a TPM2B_DATA is limited to a digest
 * size, and 32 bytes suit every TPM; see attest_tpm.c).
 *
 * Verifiers are pure: evidence bytes, expected report_data, trust anchors (with reference
 * values) and the time `now_s` (Unix seconds, for certificate validity) in; a result out. No
 * network, no device, no clock. They return 0 or a negative OCTO_E* code and, on failure,
 * leave a short human-readable reason in out->reason (always NUL-terminated). Error codes:
 *   OCTO_EINVAL      a NULL argument, or an anchor/reference the verifier needs is missing
 *   OCTO_ETOOBIG     evidence longer than OCTO_ATT_EVIDENCE_MAX (checked first)
 *   OCTO_EMALFORMED  truncated or unparsable evidence, trailing bytes, wrong magic/type
 *   OCTO_EBADSIG     a signature or certificate chain does not verify, or no anchor matches
 *   OCTO_EPERM       policy: wrong report_data/nonce, wrong measurement, debug enabled,
 *                    TCB below the minimum, certificate not valid at now_s
 *   OCTO_EUNSUPPORTED an evidence type or algorithm this build does not verify
 *   OCTO_ECRYPTO / OCTO_ENOMEM  library failures
 * A verifier rejects (OCTO_EINVAL) when the reference value it needs is absent: hardware
 * formats never accept "any measurement" by default (fail closed).
 *
 * Trust anchors. Production anchors are compiled-in constants of each verifier file; tests
 * inject their own (a test CA generated in the test, the swtpm AK public) marked test_only and
 * labelled "TEST ONLY ...". An anchor marked `software` (swtpm) yields hardware_rooted=false.
 *
 * Relying party. octo_att_satisfies(): PUBLIC and SHARED accept any verified result,
 * including software-unverified. PRIVATE and CONFIDENTIAL need hardware_rooted && !debug && a
 * TEE type (SEV-SNP, TDX, Nitro). A TPM is NOT a TEE: it proves what booted and which
 * workload hash was extended into a PCR, but gives no runtime memory confidentiality from the
 * host operator, so a TPM quote alone never satisfies PRIVATE or CONFIDENTIAL.
 *
 * Selection. octo_att_select() picks the attester for this node from a list: the first
 * hardware attester whose probe() succeeds; the software attester only when the caller's
 * config explicitly allows it — never as a silent fallback when a hardware probe fails.
 *
 * Memory: results, anchors and ops tables are plain caller-owned structs; evidence returned by
 * collect() is octo_malloc'd and owned by the caller (octo_free).
 */
#ifndef OCTO_EXEC_ATTEST_H
#define OCTO_EXEC_ATTEST_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_ATT_RD_LEN 64                  /* report_data / binding length */
#define OCTO_ATT_EVIDENCE_MAX (64u * 1024u) /* any verifier rejects longer evidence */
#define OCTO_ATT_MEASUREMENT_MAX 64         /* result measurement bytes */
#define OCTO_ATT_PLATFORM_MAX 32            /* result platform label incl. NUL */
#define OCTO_ATT_REASON_MAX 128             /* failure reason incl. NUL */
#define OCTO_ATT_ANCHORS_MAX 16             /* anchors in one struct octo_trust_anchors */
#define OCTO_ATT_ANCHOR_MAX (16u * 1024u)   /* bytes of one anchor (DER cert, key, ...) */
#define OCTO_ATT_BINDING_FIELD_MAX 1024     /* each octo_att_binding input */
#define OCTO_ATT_REF_MAX 1024               /* reference value bytes (measurement, PCRs) */

enum octo_ev_type {
    OCTO_EV_SOFTWARE_UNVERIFIED = 0,
    OCTO_EV_TPM2_QUOTE = 1,
    OCTO_EV_SEV_SNP_REPORT = 2,
    OCTO_EV_TDX_QUOTE = 3,
    OCTO_EV_NITRO_COSE = 4,
};
#define OCTO_EV_TYPES 5

/* Data classes (ARCHITECTURE.md §5); values match enum octo_data_class (intel/router.h) and
 * enum octo_blob_class (exec/blob.h). */
enum octo_att_class {
    OCTO_ATT_CLASS_PUBLIC = 0,
    OCTO_ATT_CLASS_SHARED = 1,
    OCTO_ATT_CLASS_CONFIDENTIAL = 2,
    OCTO_ATT_CLASS_PRIVATE = 3,
};

/* Verifier output (an "Attestation Result"). */
struct octo_att_result {
    enum octo_ev_type type;
    bool verified;        /* set only by a verifier's success path; false after a rejection */
    bool hardware_rooted; /* verified against a hardware vendor's (or TPM) anchor */
    bool debug;           /* the TEE runs with debugging enabled (host can read it) */
    bool test_anchor;     /* the matching anchor was a TEST ONLY anchor */
    uint32_t tcb_level;   /* format-specific TCB / SVN summary (0 when none) */
    char platform[OCTO_ATT_PLATFORM_MAX];          /* e.g. "swtpm (software)", "AMD SEV-SNP" */
    uint8_t measurement[OCTO_ATT_MEASUREMENT_MAX]; /* SNP measurement, TDX MRTD, Nitro PCR0,
                                                      TPM pcrDigest, software: exe SHA-256 */
    size_t measurement_len;
    uint8_t report_data[OCTO_ATT_RD_LEN]; /* the binding the evidence carried (== expected) */
    char reason[OCTO_ATT_REASON_MAX];     /* why verification failed ("" on success) */
};

enum octo_anchor_kind {
    OCTO_ANCHOR_X509_DER = 0,     /* a root (or pinned intermediate) certificate, DER */
    OCTO_ANCHOR_SPKI_DER = 1,     /* a SubjectPublicKeyInfo public key, DER */
    OCTO_ANCHOR_TPM2B_PUBLIC = 2, /* a TPM AK public area, TPM2B_PUBLIC marshalled */
    OCTO_ANCHOR_ED25519 = 3,      /* a raw 32-byte Ed25519 public key (node identity) */
};

struct octo_trust_anchor {
    enum octo_ev_type type; /* the verifier it is meant for */
    enum octo_anchor_kind kind;
    const uint8_t *data; /* borrowed */
    size_t len;          /* <= OCTO_ATT_ANCHOR_MAX */
    const char *label;   /* "AMD ARK Milan", "TEST ONLY: test CA", "swtpm (software)" */
    bool test_only;      /* injected by a test; results carry test_anchor = true */
    bool software;       /* a software emulation (swtpm): results are not hardware-rooted */
};

/* What a verifier trusts and expects. Borrowed pointers; all optional fields may be zero. */
struct octo_trust_anchors {
    const struct octo_trust_anchor *items;
    size_t count; /* <= OCTO_ATT_ANCHORS_MAX */
    /* Reference values ("expected measurement"): SNP measurement (48), TDX MRTD (48), Nitro
     * PCR0 (48), software: exe SHA-256 (32, optional there). */
    const uint8_t *ref_measurement;
    size_t ref_measurement_len;
    /* TPM: the expected PCR values of the quoted selection (OCTO_ATT_TPM_PCR_MASK, SHA-256
     * bank), concatenated in ascending PCR index order; the verifier hashes them and compares
     * with the quote's pcrDigest. */
    const uint8_t *ref_pcrs;
    size_t ref_pcrs_len;
    uint32_t min_tcb_level; /* format-specific minimum (SNP reported_tcb summary, ...) */
    uint32_t snp_vmpl;      /* SNP: the expected VMPL */
    bool allow_debug;       /* accept debug TEEs (tests of the policy only; never in prod) */
};

/* A pure verifier. See the error table above. */
typedef int (*octo_att_verify_fn)(const uint8_t *ev, size_t len,
                                  const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                                  const struct octo_trust_anchors *anchors, int64_t now_s,
                                  struct octo_att_result *out);

struct octo_verifier_ops {
    const char *name;
    enum octo_ev_type type;
    octo_att_verify_fn verify;
};

/* An attester plug-in. ctx is the plug-in's own state (struct octo_att_tpm, octo_att_soft).
 * probe: 0 when the evidence source is usable on this node, OCTO_ENOTFOUND when absent, other
 *        negative codes on errors. Must not block for long.
 * collect: produces evidence bound to report_data into *ev (octo_malloc'd, caller frees with
 *        octo_free), *ev_len <= OCTO_ATT_EVIDENCE_MAX. */
struct octo_attester_ops {
    const char *name;
    enum octo_ev_type type;
    int (*probe)(void *ctx);
    int (*collect)(void *ctx, const uint8_t report_data[OCTO_ATT_RD_LEN], uint8_t **ev,
                   size_t *ev_len);
};

struct octo_attester {
    const struct octo_attester_ops *ops;
    void *ctx;
};

/* ---- shared helpers (attest.c) ---------------------------------------------------------- */

/* Name of an evidence type ("tpm2-quote", "software-unverified", ...); "?" when unknown. */
const char *octo_att_type_name(enum octo_ev_type t);

/* Whether the type is a TEE (runtime memory confidentiality): SNP, TDX, Nitro. */
bool octo_att_type_is_tee(enum octo_ev_type t);

/* Zeroes *out and sets out->type. Verifiers call it first. */
void octo_att_result_init(struct octo_att_result *out, enum octo_ev_type type);

/* Records a failure: writes reason (truncated to OCTO_ATT_REASON_MAX - 1) into out->reason,
 * clears the success fields (hardware_rooted, measurement, report_data) and returns err
 * (asserted negative). For use as `return octo_att_reject(out, OCTO_EPERM, "...");`. */
int octo_att_reject(struct octo_att_result *out, int err, const char *reason);

/* Common argument checks for a verifier: non-NULL ev/expected_rd/anchors/out (OCTO_EINVAL),
 * len <= OCTO_ATT_EVIDENCE_MAX (OCTO_ETOOBIG), anchors->count <= OCTO_ATT_ANCHORS_MAX and
 * each anchor's len <= OCTO_ATT_ANCHOR_MAX with data non-NULL (OCTO_EINVAL). Initialises
 * *out for `type` first (when out is non-NULL) and sets the reason on failure. */
OCTO_MUST_USE int octo_att_check_args(enum octo_ev_type type, const uint8_t *ev, size_t len,
                                      const uint8_t *expected_rd,
                                      const struct octo_trust_anchors *anchors,
                                      struct octo_att_result *out);

/* Copies a label into out->platform (truncated, NUL-terminated). */
void octo_att_set_platform(struct octo_att_result *out, const char *label);

/* The report_data binding: SHA-512 of
 *   "octo-att-binding-v1" || u32be(len) nonce || u32be(len) pubkey || u32be(len) job_id
 *   || u32be(len) input_hash
 * (length-prefixed so that no two different inputs give the same preimage). Any input may be
 * empty (len 0; the pointer may then be NULL). Errors: OCTO_EINVAL (NULL with len > 0),
 * OCTO_ETOOBIG (a field > OCTO_ATT_BINDING_FIELD_MAX). */
OCTO_MUST_USE int octo_att_binding(const uint8_t *nonce, size_t nonce_len, const uint8_t *pubkey,
                                   size_t pubkey_len, const uint8_t *job_id, size_t job_id_len,
                                   const uint8_t *input_hash, size_t input_hash_len,
                                   uint8_t out[OCTO_ATT_RD_LEN]);

/* Whether a verified result may serve data of class cls (see the top comment). A NULL result,
 * a result whose verification failed (verified false) and — unless test anchors were allowed
 * — a result verified against a TEST ONLY anchor satisfy nothing above SHARED. */
bool octo_att_satisfies(const struct octo_att_result *r, enum octo_att_class cls);

/* Lets results verified against TEST ONLY anchors satisfy PRIVATE/CONFIDENTIAL. For test
 * programs only: the node never calls it. Not thread-safe (set it before any verification). */
void octo_att_allow_test_anchors(bool allow);

/* The verifier for a type compiled into this build, or NULL. */
const struct octo_verifier_ops *octo_att_verifier(enum octo_ev_type t);

/* Dispatches to the type's verifier. OCTO_EUNSUPPORTED (with a reason) when there is none;
 * otherwise that verifier's result. */
OCTO_MUST_USE int octo_att_verify(enum octo_ev_type t, const uint8_t *ev, size_t len,
                                  const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                                  const struct octo_trust_anchors *anchors, int64_t now_s,
                                  struct octo_att_result *out);

/* Picks this node's attester for data class cls from list[0..n): the first attester whose
 * type can satisfy cls (a TEE for PRIVATE/CONFIDENTIAL; any hardware type otherwise) and whose
 * probe() returns 0, in list order. The software attester is considered only when
 * allow_software is true and only for PUBLIC/SHARED — a failing hardware probe never falls
 * back to it silently. Errors: OCTO_EINVAL (NULL arguments), OCTO_ENOTFOUND (no attester
 * qualifies); *out is then NULL. */
OCTO_MUST_USE int octo_att_select(const struct octo_attester *list, size_t n, bool allow_software,
                                  enum octo_att_class cls, const struct octo_attester **out);

/* ---- verifiers (one per file) ----------------------------------------------------------- */

/* attest_soft.c */
OCTO_MUST_USE int octo_att_soft_verify(const uint8_t *ev, size_t len,
                                       const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                                       const struct octo_trust_anchors *anchors, int64_t now_s,
                                       struct octo_att_result *out);
/* attest_tpm.c */
OCTO_MUST_USE int octo_att_tpm_verify(const uint8_t *ev, size_t len,
                                      const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                                      const struct octo_trust_anchors *anchors, int64_t now_s,
                                      struct octo_att_result *out);
/* attest_snp.c (engineer "tee") */
OCTO_MUST_USE int octo_att_snp_verify(const uint8_t *ev, size_t len,
                                      const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                                      const struct octo_trust_anchors *anchors, int64_t now_s,
                                      struct octo_att_result *out);
/* attest_tdx.c (engineer "tee") */
OCTO_MUST_USE int octo_att_tdx_verify(const uint8_t *ev, size_t len,
                                      const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                                      const struct octo_trust_anchors *anchors, int64_t now_s,
                                      struct octo_att_result *out);
/* attest_nitro.c (engineer "tee") */
OCTO_MUST_USE int octo_att_nitro_verify(const uint8_t *ev, size_t len,
                                        const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                                        const struct octo_trust_anchors *anchors, int64_t now_s,
                                        struct octo_att_result *out);

/* ---- software attester (attest_soft.c) -------------------------------------------------- */

#define OCTO_ATT_SOFT_NAME "software-unverified"
#define OCTO_ATT_SOFT_POLICY_MAX 1024 /* policy summary bytes */

struct octo_identity;

struct octo_att_soft {
    const struct octo_identity *id;            /* borrowed: the node's identity key */
    uint8_t exe_sha256[32];                    /* SHA-256 of /proc/self/exe, computed at init */
    char policy[OCTO_ATT_SOFT_POLICY_MAX + 1]; /* sandbox policy summary (text) */
    size_t policy_len;
};

/* Prepares the software attester: hashes /proc/self/exe (or exe_path when non-NULL) and
 * copies the policy summary. Errors: OCTO_EINVAL (NULL id/policy), OCTO_ETOOBIG (policy
 * longer than OCTO_ATT_SOFT_POLICY_MAX), OCTO_EIO (the binary cannot be read). */
OCTO_MUST_USE int octo_att_soft_init(struct octo_att_soft *s, const struct octo_identity *id,
                                     const char *policy, const char *exe_path);
void octo_att_soft_deinit(struct octo_att_soft *s);

extern const struct octo_attester_ops octo_att_soft_ops; /* ctx = struct octo_att_soft * */

/* ---- TPM 2.0 attester (attest_tpm.c) ---------------------------------------------------- */

#define OCTO_ATT_TPM_PCR_WORKLOAD 16 /* the debug PCR, resettable: the workload hash goes here */
#define OCTO_ATT_TPM_PCR_MASK ((UINT32_C(1) << 0) | (UINT32_C(1) << 16)) /* sha256:0,16 */
#define OCTO_ATT_TPM_TCTI_MAX 256
#define OCTO_ATT_TPM_PUBLIC_MAX 1024 /* TPM2B_PUBLIC marshalled */

struct octo_att_tpm {
    char tcti[OCTO_ATT_TPM_TCTI_MAX]; /* tss2 TCTI config, e.g. "swtpm:host=127.0.0.1,port=2321"
                                         or "device:/dev/tpmrm0"; "" = /dev/tpmrm0 */
    uint8_t workload_hash[32];        /* extended into PCR 16 by collect() when set */
    bool extend_workload;
};

/* Prepares the TPM attester (no device access yet). tcti may be NULL for "device:/dev/tpmrm0";
 * workload_hash may be NULL for "do not extend". Errors: OCTO_ETOOBIG (tcti too long). */
OCTO_MUST_USE int octo_att_tpm_init(struct octo_att_tpm *t, const char *tcti,
                                    const uint8_t *workload_hash);
void octo_att_tpm_deinit(struct octo_att_tpm *t);

/* The AK public area (TPM2B_PUBLIC marshalled) of this TPM's attestation key: enrolment, i.e.
 * what a verifier pins as its OCTO_ANCHOR_TPM2B_PUBLIC anchor. Errors: OCTO_ENOTFOUND /
 * OCTO_EIO (no TPM / TCTI), OCTO_ENOSPACE (cap too small), OCTO_ECRYPTO (a TPM command
 * failed). Returns the length written on success. */
OCTO_MUST_USE int octo_att_tpm_ak_public(struct octo_att_tpm *t, uint8_t *buf, size_t cap);

/* Reads the current SHA-256 values of the PCRs in OCTO_ATT_TPM_PCR_MASK, concatenated in
 * ascending index order, into out (cap >= 32 * popcount(mask)). Returns the length written.
 * Errors as octo_att_tpm_ak_public. */
OCTO_MUST_USE int octo_att_tpm_read_pcrs(struct octo_att_tpm *t, uint8_t *out, size_t cap);

extern const struct octo_attester_ops octo_att_tpm_ops; /* ctx = struct octo_att_tpm * */

#endif
