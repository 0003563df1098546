/*
 * test_attest.c — the attestation helpers (attest.c) and the software attester
 * (attest_soft.c): type names, the report_data binding (recomputed here from its documented
 * preimage), the relying party's class matrix, the shared argument checks, verifier dispatch,
 * attester selection (no silent fallback to software), and the software attester end to end
 * with every rejection path (untrusted key, bad signature, wrong report_data, wrong binary
 * hash, truncation, trailing bytes, bad magic, oversized input).
 */
#include "test.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "exec/attest.h"

#include <sodium.h>
#include <stdlib.h>

static const uint8_t seed_a[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t seed_b[32] = {9};

static void test_type_names(void)
{
    CHECK_STR(octo_att_type_name(OCTO_EV_SOFTWARE_UNVERIFIED), "software-unverified");
    CHECK_STR(octo_att_type_name(OCTO_EV_TPM2_QUOTE), "tpm2-quote");
    CHECK_STR(octo_att_type_name(OCTO_EV_SEV_SNP_REPORT), "sev-snp-report");
    CHECK_STR(octo_att_type_name(OCTO_EV_TDX_QUOTE), "tdx-quote");
    CHECK_STR(octo_att_type_name(OCTO_EV_NITRO_COSE), "nitro-cose");
    CHECK_STR(octo_att_type_name((enum octo_ev_type)99), "?");
    CHECK(!octo_att_type_is_tee(OCTO_EV_SOFTWARE_UNVERIFIED));
    CHECK(!octo_att_type_is_tee(OCTO_EV_TPM2_QUOTE)); /* a TPM is not a TEE */
    CHECK(octo_att_type_is_tee(OCTO_EV_SEV_SNP_REPORT));
    CHECK(octo_att_type_is_tee(OCTO_EV_TDX_QUOTE));
    CHECK(octo_att_type_is_tee(OCTO_EV_NITRO_COSE));
    for (int t = 0; t < OCTO_EV_TYPES; t++) {
        const struct octo_verifier_ops *v = octo_att_verifier((enum octo_ev_type)t);
        CHECK(v != NULL);
        CHECK_EQ_INT(v->type, t);
        CHECK_STR(v->name, octo_att_type_name((enum octo_ev_type)t));
    }
    CHECK(octo_att_verifier((enum octo_ev_type)OCTO_EV_TYPES) == NULL);
}

static void append_field(uint8_t *buf, size_t *off, const char *s)
{
    size_t n = strlen(s);
    buf[(*off)++] = (uint8_t)(n >> 24);
    buf[(*off)++] = (uint8_t)(n >> 16);
    buf[(*off)++] = (uint8_t)(n >> 8);
    buf[(*off)++] = (uint8_t)n;
    memcpy(buf + *off, s, n);
    *off += n;
}

static void test_binding(void)
{
    uint8_t rd[OCTO_ATT_RD_LEN], rd2[OCTO_ATT_RD_LEN], want[OCTO_ATT_RD_LEN];
    CHECK_OK(octo_att_binding((const uint8_t *)"nonce", 5, (const uint8_t *)"pk", 2,
                              (const uint8_t *)"job", 3, (const uint8_t *)"in", 2, rd));
    /* Recompute from the documented preimage. */
    uint8_t pre[256];
    size_t off = 0;
    memcpy(pre, "octo-att-binding-v1", 19);
    off = 19;
    append_field(pre, &off, "nonce");
    append_field(pre, &off, "pk");
    append_field(pre, &off, "job");
    append_field(pre, &off, "in");
    crypto_hash_sha512(want, pre, off);
    CHECK_MEM(rd, want, sizeof(want));
    /* Deterministic; the length prefixes separate ("ab","c") from ("a","bc"). */
    CHECK_OK(octo_att_binding((const uint8_t *)"nonce", 5, (const uint8_t *)"pk", 2,
                              (const uint8_t *)"job", 3, (const uint8_t *)"in", 2, rd2));
    CHECK_MEM(rd, rd2, sizeof(rd));
    CHECK_OK(
        octo_att_binding((const uint8_t *)"ab", 2, (const uint8_t *)"c", 1, NULL, 0, NULL, 0, rd));
    CHECK_OK(
        octo_att_binding((const uint8_t *)"a", 1, (const uint8_t *)"bc", 2, NULL, 0, NULL, 0, rd2));
    CHECK(memcmp(rd, rd2, sizeof(rd)) != 0);
    /* Empty inputs are fine; NULL with a length is not; limits are enforced. */
    CHECK_OK(octo_att_binding(NULL, 0, NULL, 0, NULL, 0, NULL, 0, rd));
    CHECK_ERR(octo_att_binding(NULL, 1, NULL, 0, NULL, 0, NULL, 0, rd), OCTO_EINVAL);
    CHECK_ERR(octo_att_binding(NULL, 0, NULL, 1, NULL, 0, NULL, 0, rd), OCTO_EINVAL);
    CHECK_ERR(octo_att_binding(NULL, 0, NULL, 0, NULL, 1, NULL, 0, rd), OCTO_EINVAL);
    CHECK_ERR(octo_att_binding(NULL, 0, NULL, 0, NULL, 0, NULL, 1, rd), OCTO_EINVAL);
    CHECK_ERR(octo_att_binding(NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL), OCTO_EINVAL);
    static uint8_t big[OCTO_ATT_BINDING_FIELD_MAX + 1];
    CHECK_OK(octo_att_binding(big, OCTO_ATT_BINDING_FIELD_MAX, NULL, 0, NULL, 0, NULL, 0, rd));
    CHECK_ERR(octo_att_binding(big, sizeof(big), NULL, 0, NULL, 0, NULL, 0, rd), OCTO_ETOOBIG);
    CHECK_ERR(octo_att_binding(NULL, 0, big, sizeof(big), NULL, 0, NULL, 0, rd), OCTO_ETOOBIG);
    CHECK_ERR(octo_att_binding(NULL, 0, NULL, 0, big, sizeof(big), NULL, 0, rd), OCTO_ETOOBIG);
    CHECK_ERR(octo_att_binding(NULL, 0, NULL, 0, NULL, 0, big, sizeof(big), rd), OCTO_ETOOBIG);
}

static void test_satisfies_matrix(void)
{
    struct octo_att_result r;
    CHECK(!octo_att_satisfies(NULL, OCTO_ATT_CLASS_PUBLIC));
    for (int t = 0; t < OCTO_EV_TYPES; t++) {
        for (int hw = 0; hw < 2; hw++) {
            for (int dbg = 0; dbg < 2; dbg++) {
                octo_att_result_init(&r, (enum octo_ev_type)t);
                r.verified = true;
                r.hardware_rooted = hw != 0;
                r.debug = dbg != 0;
                bool tee_ok = hw && !dbg && octo_att_type_is_tee((enum octo_ev_type)t);
                CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_PUBLIC));
                CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_SHARED));
                CHECK_EQ_INT(octo_att_satisfies(&r, OCTO_ATT_CLASS_CONFIDENTIAL), tee_ok);
                CHECK_EQ_INT(octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE), tee_ok);
                CHECK(!octo_att_satisfies(&r, (enum octo_att_class)7));
            }
        }
    }
    /* Even a (wrongly) hardware-rooted TPM or software result never gets PRIVATE. */
    octo_att_result_init(&r, OCTO_EV_TPM2_QUOTE);
    r.verified = true;
    r.hardware_rooted = true;
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    octo_att_result_init(&r, OCTO_EV_SOFTWARE_UNVERIFIED);
    r.verified = true;
    r.hardware_rooted = true;
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_CONFIDENTIAL));
    octo_att_result_init(&r, (enum octo_ev_type)42);
    r.verified = true;
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PUBLIC));
    /* a result whose verification failed satisfies nothing, not even PUBLIC */
    octo_att_result_init(&r, OCTO_EV_SEV_SNP_REPORT);
    r.verified = true;
    r.hardware_rooted = true;
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    CHECK_ERR(octo_att_reject(&r, OCTO_EBADSIG, "bad"), OCTO_EBADSIG);
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PUBLIC));
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    /* a TEST ONLY anchor never serves PRIVATE / CONFIDENTIAL unless a test allows it */
    octo_att_result_init(&r, OCTO_EV_TDX_QUOTE);
    r.verified = true;
    r.hardware_rooted = true;
    r.test_anchor = true;
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_SHARED));
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    octo_att_allow_test_anchors(true);
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    octo_att_allow_test_anchors(false);
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_CONFIDENTIAL));
}

static void test_check_args_and_reject(void)
{
    struct octo_att_result r;
    uint8_t ev[4] = {0}, rd[OCTO_ATT_RD_LEN] = {0};
    struct octo_trust_anchors a;
    memset(&a, 0, sizeof(a));
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, NULL), OCTO_EINVAL);
    CHECK_OK(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r));
    CHECK_EQ_INT(r.type, OCTO_EV_TPM2_QUOTE);
    CHECK_STR(r.reason, "");
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, NULL, 4, rd, &a, &r), OCTO_EINVAL);
    CHECK(r.reason[0] != '\0');
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, NULL, &a, &r), OCTO_EINVAL);
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, NULL, &r), OCTO_EINVAL);
    CHECK_OK(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, OCTO_ATT_EVIDENCE_MAX, rd, &a, &r));
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, OCTO_ATT_EVIDENCE_MAX + 1, rd, &a, &r),
              OCTO_ETOOBIG);
    a.count = 1;
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r), OCTO_EINVAL);
    struct octo_trust_anchor items[OCTO_ATT_ANCHORS_MAX + 1];
    memset(items, 0, sizeof(items));
    for (size_t i = 0; i < OCTO_ARRAY_LEN(items); i++) {
        items[i].data = ev;
        items[i].len = sizeof(ev);
    }
    a.items = items;
    a.count = OCTO_ATT_ANCHORS_MAX;
    CHECK_OK(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r));
    a.count = OCTO_ATT_ANCHORS_MAX + 1;
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r), OCTO_EINVAL);
    a.count = 1;
    items[0].len = OCTO_ATT_ANCHOR_MAX + 1;
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r), OCTO_EINVAL);
    items[0].len = 0;
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r), OCTO_EINVAL);
    items[0].len = 4;
    items[0].data = NULL;
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r), OCTO_EINVAL);
    items[0].data = ev;
    a.ref_pcrs_len = 32; /* a length without a pointer */
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r), OCTO_EINVAL);
    a.ref_pcrs_len = 0;
    a.ref_measurement = ev;
    a.ref_measurement_len = OCTO_ATT_REF_MAX + 1;
    CHECK_ERR(octo_att_check_args(OCTO_EV_TPM2_QUOTE, ev, 4, rd, &a, &r), OCTO_EINVAL);

    /* reject: reason recorded (truncated), success fields cleared. */
    octo_att_result_init(&r, OCTO_EV_TDX_QUOTE);
    r.hardware_rooted = true;
    r.measurement_len = 48;
    r.report_data[0] = 1;
    char long_reason[300];
    memset(long_reason, 'x', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    CHECK_ERR(octo_att_reject(&r, OCTO_EPERM, long_reason), OCTO_EPERM);
    CHECK(!r.hardware_rooted);
    CHECK_EQ_U64(r.measurement_len, 0);
    CHECK_EQ_INT(r.report_data[0], 0);
    CHECK_EQ_U64(strlen(r.reason), OCTO_ATT_REASON_MAX - 1);
    CHECK_ERR(octo_att_reject(NULL, OCTO_EIO, "x"), OCTO_EIO);
    octo_att_set_platform(&r, "a platform label that is definitely longer than 32 bytes");
    CHECK_EQ_U64(strlen(r.platform), OCTO_ATT_PLATFORM_MAX - 1);
}

static void test_verify_dispatch(void)
{
    struct octo_att_result r;
    uint8_t rd[OCTO_ATT_RD_LEN] = {0};
    struct octo_trust_anchors a;
    memset(&a, 0, sizeof(a));
    CHECK_ERR(octo_att_verify((enum octo_ev_type)17, rd, 1, rd, &a, 0, &r), OCTO_EUNSUPPORTED);
    CHECK(r.reason[0] != '\0');
    CHECK_ERR(octo_att_verify((enum octo_ev_type)17, rd, 1, rd, &a, 0, NULL), OCTO_EINVAL);
    /* Dispatch reaches the software verifier: garbage is malformed, not accepted. */
    CHECK_ERR(octo_att_verify(OCTO_EV_SOFTWARE_UNVERIFIED, rd, sizeof(rd), rd, &a, 0, &r),
              OCTO_EMALFORMED);
    CHECK_EQ_INT(r.type, OCTO_EV_SOFTWARE_UNVERIFIED);
}

static char tmp_dir[512];

/* Writes a file with the given content under a fresh temp dir (tmp_dir, removed with
 * rm_tmp); returns its path. */
static const char *write_tmp(const char *content, char *path, size_t cap)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "%s", octo_test_tmpdir("attest"));
    int n = snprintf(path, cap, "%s/exe", tmp_dir);
    if (n < 0 || (size_t)n >= cap)
        return NULL;
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return NULL;
    fputs(content, f);
    fclose(f);
    return path;
}

static void rm_tmp(void)
{
    if (tmp_dir[0] != '\0')
        octo_test_rmtree(tmp_dir);
    tmp_dir[0] = '\0';
}

struct soft_fixture {
    struct octo_identity id;
    struct octo_att_soft soft;
    uint8_t rd[OCTO_ATT_RD_LEN];
    struct octo_trust_anchor anchor;
    struct octo_trust_anchors anchors;
    uint8_t *ev;
    size_t ev_len;
};

static int soft_setup(struct soft_fixture *f, const char *policy)
{
    memset(f, 0, sizeof(*f));
    int rc = octo_identity_from_seed(&f->id, seed_a);
    if (rc < 0)
        return rc;
    char path[512];
    if (write_tmp("abc", path, sizeof(path)) == NULL)
        return OCTO_EIO;
    rc = octo_att_soft_init(&f->soft, &f->id, policy, path);
    rm_tmp();
    if (rc < 0)
        return rc;
    rc = octo_att_binding((const uint8_t *)"fresh nonce", 11, f->id.pub.bytes, 32,
                          (const uint8_t *)"job-1", 5, NULL, 0, f->rd);
    if (rc < 0)
        return rc;
    f->anchor = (struct octo_trust_anchor){.type = OCTO_EV_SOFTWARE_UNVERIFIED,
                                           .kind = OCTO_ANCHOR_ED25519,
                                           .data = f->id.pub.bytes,
                                           .len = OCTO_ED25519_PK_LEN,
                                           .label = "TEST ONLY: node key",
                                           .test_only = true};
    f->anchors.items = &f->anchor;
    f->anchors.count = 1;
    return octo_att_soft_ops.collect(&f->soft, f->rd, &f->ev, &f->ev_len);
}

static void soft_teardown(struct soft_fixture *f)
{
    octo_free(f->ev);
    octo_att_soft_deinit(&f->soft);
    octo_identity_deinit(&f->id);
}

/* SHA-256("abc") — FIPS 180-2 appendix B.1. */
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_soft_roundtrip(void)
{
    struct soft_fixture f;
    CHECK_OK(soft_setup(&f, "seccomp=default;net=none"));
    CHECK_STR(octo_att_soft_ops.name, "software-unverified");
    CHECK_EQ_INT(octo_att_soft_ops.type, OCTO_EV_SOFTWARE_UNVERIFIED);
    CHECK_OK(octo_att_soft_ops.probe(&f.soft));
    CHECK_HEX(f.soft.exe_sha256, 32, SHA256_ABC);
    CHECK_EQ_U64(f.ev_len, 136 + strlen("seccomp=default;net=none") + 64);

    struct octo_att_result r;
    CHECK_OK(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r));
    CHECK_EQ_INT(r.type, OCTO_EV_SOFTWARE_UNVERIFIED);
    CHECK(!r.hardware_rooted);
    CHECK(!r.debug);
    CHECK(r.test_anchor);
    CHECK_STR(r.platform, "software-unverified");
    CHECK_HEX(r.measurement, r.measurement_len, SHA256_ABC);
    CHECK_MEM(r.report_data, f.rd, OCTO_ATT_RD_LEN);
    CHECK_STR(r.reason, "");
    /* The class rule: SHARED/PUBLIC yes, PRIVATE/CONFIDENTIAL never. */
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_PUBLIC));
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_SHARED));
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_CONFIDENTIAL));
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    /* Through the dispatcher too; with a matching reference binary hash. */
    f.anchors.ref_measurement = f.soft.exe_sha256;
    f.anchors.ref_measurement_len = 32;
    CHECK_OK(octo_att_verify(OCTO_EV_SOFTWARE_UNVERIFIED, f.ev, f.ev_len, f.rd, &f.anchors, 0, &r));
    soft_teardown(&f);
}

static void test_soft_self_exe(void)
{
    struct octo_identity id;
    CHECK_OK(octo_identity_from_seed(&id, seed_a));
    struct octo_att_soft s;
    CHECK_OK(octo_att_soft_init(&s, &id, "", NULL)); /* /proc/self/exe */
    uint8_t zero[32] = {0};
    CHECK(memcmp(s.exe_sha256, zero, 32) != 0);
    octo_att_soft_deinit(&s);
    octo_identity_deinit(&id);
}

static void test_soft_init_errors(void)
{
    struct octo_identity id;
    CHECK_OK(octo_identity_from_seed(&id, seed_a));
    struct octo_att_soft s;
    CHECK_ERR(octo_att_soft_init(&s, NULL, "", NULL), OCTO_EINVAL);
    CHECK_ERR(octo_att_soft_init(&s, &id, NULL, NULL), OCTO_EINVAL);
    CHECK_ERR(octo_att_soft_init(&s, &id, "", "/nonexistent/octo-binary"), OCTO_EIO);
    char *policy = octo_malloc(OCTO_ATT_SOFT_POLICY_MAX + 2);
    CHECK(policy != NULL);
    memset(policy, 'p', OCTO_ATT_SOFT_POLICY_MAX + 1);
    policy[OCTO_ATT_SOFT_POLICY_MAX + 1] = '\0';
    int rc = octo_att_soft_init(&s, &id, policy, NULL);
    policy[OCTO_ATT_SOFT_POLICY_MAX] = '\0';
    int rc2 = octo_att_soft_init(&s, &id, policy, NULL);
    octo_free(policy);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    CHECK_OK(rc2);
    CHECK_EQ_U64(s.policy_len, OCTO_ATT_SOFT_POLICY_MAX);
    /* collect/probe argument checks */
    uint8_t rd[OCTO_ATT_RD_LEN] = {0};
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    CHECK_ERR(octo_att_soft_ops.collect(NULL, rd, &ev, &ev_len), OCTO_EINVAL);
    CHECK_ERR(octo_att_soft_ops.collect(&s, NULL, &ev, &ev_len), OCTO_EINVAL);
    CHECK_ERR(octo_att_soft_ops.probe(NULL), OCTO_ENOTFOUND);
    /* The longest policy still round-trips. */
    CHECK_OK(octo_att_soft_ops.collect(&s, rd, &ev, &ev_len));
    struct octo_trust_anchor an = {.type = OCTO_EV_SOFTWARE_UNVERIFIED,
                                   .kind = OCTO_ANCHOR_ED25519,
                                   .data = id.pub.bytes,
                                   .len = 32};
    struct octo_trust_anchors as = {.items = &an, .count = 1};
    struct octo_att_result r;
    rc = octo_att_soft_verify(ev, ev_len, rd, &as, 0, &r);
    octo_free(ev);
    CHECK_OK(rc);
    octo_att_soft_deinit(&s);
    octo_identity_deinit(&id);
}

static void test_soft_rejections(void)
{
    struct soft_fixture f;
    CHECK_OK(soft_setup(&f, "policy"));
    struct octo_att_result r;
    uint8_t *ev = octo_malloc(f.ev_len + 1);
    CHECK(ev != NULL);

    /* Wrong report_data (a replayed or foreign nonce). */
    uint8_t rd2[OCTO_ATT_RD_LEN];
    memcpy(rd2, f.rd, sizeof(rd2));
    rd2[63] ^= 1;
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, rd2, &f.anchors, 0, &r), OCTO_EPERM);
    CHECK(strstr(r.reason, "report_data") != NULL);
    CHECK(!octo_att_satisfies(NULL, OCTO_ATT_CLASS_PUBLIC));

    /* Untrusted node key: no anchors, or another key, or an anchor for another type. */
    struct octo_trust_anchors none;
    memset(&none, 0, sizeof(none));
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &none, 0, &r), OCTO_EBADSIG);
    struct octo_identity other;
    CHECK_OK(octo_identity_from_seed(&other, seed_b));
    struct octo_trust_anchor oa = f.anchor;
    oa.data = other.pub.bytes;
    struct octo_trust_anchors os = {.items = &oa, .count = 1};
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &os, 0, &r), OCTO_EBADSIG);
    oa = f.anchor;
    oa.type = OCTO_EV_TPM2_QUOTE;
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &os, 0, &r), OCTO_EBADSIG);
    octo_identity_deinit(&other);

    /* Any flipped byte of the signed body or the signature is rejected. */
    for (size_t i = 8; i < f.ev_len; i++) {
        memcpy(ev, f.ev, f.ev_len);
        ev[i] ^= 0x01;
        /* key bytes: no anchor matches; anything else: the signature fails */
        CHECK_ERR(octo_att_soft_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EBADSIG);
    }
    /* Header: magic, version, reserved, policy length. */
    for (size_t i = 0; i < 8; i++) {
        memcpy(ev, f.ev, f.ev_len);
        ev[i] ^= 0x80;
        CHECK_ERR(octo_att_soft_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    }
    /* Truncation at every length, and a trailing byte. */
    for (size_t n = 0; n < f.ev_len; n++)
        CHECK_ERR(octo_att_soft_verify(f.ev, n, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    memcpy(ev, f.ev, f.ev_len);
    ev[f.ev_len] = 0;
    CHECK_ERR(octo_att_soft_verify(ev, f.ev_len + 1, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    /* Policy length above the limit. */
    memcpy(ev, f.ev, f.ev_len);
    ev[6] = 0xff;
    ev[7] = 0xff;
    CHECK_ERR(octo_att_soft_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    octo_free(ev);

    /* Wrong reference binary hash, wrong reference length. */
    uint8_t ref[32] = {0};
    f.anchors.ref_measurement = ref;
    f.anchors.ref_measurement_len = 32;
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EPERM);
    f.anchors.ref_measurement = f.soft.exe_sha256;
    f.anchors.ref_measurement_len = 31;
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EPERM);
    f.anchors.ref_measurement = NULL;
    f.anchors.ref_measurement_len = 0;

    /* Oversized input is refused before parsing. */
    uint8_t *big = octo_calloc(1, OCTO_ATT_EVIDENCE_MAX + 1);
    CHECK(big != NULL);
    int rc = octo_att_soft_verify(big, OCTO_ATT_EVIDENCE_MAX + 1, f.rd, &f.anchors, 0, &r);
    octo_free(big);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    /* NULL arguments. */
    CHECK_ERR(octo_att_soft_verify(NULL, 10, f.rd, &f.anchors, 0, &r), OCTO_EINVAL);
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, NULL, &f.anchors, 0, &r), OCTO_EINVAL);
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, f.rd, NULL, 0, &r), OCTO_EINVAL);
    CHECK_ERR(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, NULL), OCTO_EINVAL);
    /* Still fine afterwards. */
    CHECK_OK(octo_att_soft_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r));
    soft_teardown(&f);
}

/* ---- selection ------------------------------------------------------------------------- */

struct fake {
    int probe_rc;
    int probes;
};

static int fake_probe(void *ctx)
{
    struct fake *f = ctx;
    f->probes++;
    return f->probe_rc;
}

static int fake_collect(void *ctx, const uint8_t rd[OCTO_ATT_RD_LEN], uint8_t **ev, size_t *len)
{
    (void)ctx;
    (void)rd;
    (void)ev;
    (void)len;
    return OCTO_EUNSUPPORTED;
}

static const struct octo_attester_ops fake_tpm = {"fake-tpm", OCTO_EV_TPM2_QUOTE, fake_probe,
                                                  fake_collect};
static const struct octo_attester_ops fake_snp = {"fake-snp", OCTO_EV_SEV_SNP_REPORT, fake_probe,
                                                  fake_collect};

static void test_select(void)
{
    struct octo_identity id;
    CHECK_OK(octo_identity_from_seed(&id, seed_a));
    struct octo_att_soft soft;
    char path[512];
    CHECK(write_tmp("bin", path, sizeof(path)) != NULL);
    int rc = octo_att_soft_init(&soft, &id, "p", path);
    rm_tmp();
    CHECK_OK(rc);
    struct fake tpm = {OCTO_ENOTFOUND, 0}, snp = {OCTO_EIO, 0};
    /* Software listed FIRST, hardware after it. */
    struct octo_attester list[] = {
        {&octo_att_soft_ops, &soft},
        {&fake_tpm, &tpm},
        {&fake_snp, &snp},
    };
    const struct octo_attester *sel = (const struct octo_attester *)1;

    /* Hardware probes fail and software is not allowed: no silent fallback. */
    for (int c = 0; c <= OCTO_ATT_CLASS_PRIVATE; c++) {
        CHECK_ERR(octo_att_select(list, 3, false, (enum octo_att_class)c, &sel), OCTO_ENOTFOUND);
        CHECK(sel == NULL);
    }
    CHECK(tpm.probes > 0);
    CHECK(snp.probes > 0);
    /* Explicitly allowed: software for PUBLIC/SHARED, still never for PRIVATE/CONFIDENTIAL
     * (a PRIVATE job is refused when software is the only attester). */
    CHECK_OK(octo_att_select(list, 3, true, OCTO_ATT_CLASS_SHARED, &sel));
    CHECK(sel == &list[0]);
    CHECK_OK(octo_att_select(list, 3, true, OCTO_ATT_CLASS_PUBLIC, &sel));
    CHECK(sel == &list[0]);
    CHECK_ERR(octo_att_select(list, 1, true, OCTO_ATT_CLASS_PRIVATE, &sel), OCTO_ENOTFOUND);
    CHECK_ERR(octo_att_select(list, 3, true, OCTO_ATT_CLASS_CONFIDENTIAL, &sel), OCTO_ENOTFOUND);

    /* A working TPM wins over software (even listed after it) for SHARED, but a TPM is not a
     * TEE: PRIVATE still finds nothing. */
    tpm.probe_rc = 0;
    CHECK_OK(octo_att_select(list, 3, true, OCTO_ATT_CLASS_SHARED, &sel));
    CHECK(sel == &list[1]);
    CHECK_ERR(octo_att_select(list, 3, true, OCTO_ATT_CLASS_PRIVATE, &sel), OCTO_ENOTFOUND);
    /* A working TEE serves PRIVATE; the TEE probe is consulted, the TPM skipped. */
    snp.probe_rc = 0;
    tpm.probes = 0;
    CHECK_OK(octo_att_select(list, 3, false, OCTO_ATT_CLASS_PRIVATE, &sel));
    CHECK(sel == &list[2]);
    CHECK_EQ_INT(tpm.probes, 0);
    CHECK_OK(octo_att_select(list, 3, false, OCTO_ATT_CLASS_SHARED, &sel));
    CHECK(sel == &list[1]); /* list order among hardware */

    /* Argument errors. */
    CHECK_ERR(octo_att_select(list, 3, false, OCTO_ATT_CLASS_SHARED, NULL), OCTO_EINVAL);
    CHECK_ERR(octo_att_select(NULL, 1, false, OCTO_ATT_CLASS_SHARED, &sel), OCTO_EINVAL);
    CHECK_ERR(octo_att_select(list, 3, false, (enum octo_att_class)9, &sel), OCTO_EINVAL);
    struct octo_attester bad[] = {{NULL, NULL}};
    CHECK_ERR(octo_att_select(bad, 1, false, OCTO_ATT_CLASS_SHARED, &sel), OCTO_EINVAL);
    CHECK_ERR(octo_att_select(NULL, 0, true, OCTO_ATT_CLASS_PUBLIC, &sel), OCTO_ENOTFOUND);
    octo_att_soft_deinit(&soft);
    octo_identity_deinit(&id);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_type_names);
    OCTO_RUN(test_binding);
    OCTO_RUN(test_satisfies_matrix);
    OCTO_RUN(test_check_args_and_reject);
    OCTO_RUN(test_verify_dispatch);
    OCTO_RUN(test_soft_roundtrip);
    OCTO_RUN(test_soft_self_exe);
    OCTO_RUN(test_soft_init_errors);
    OCTO_RUN(test_soft_rejections);
    OCTO_RUN(test_select);
    return octo_test_finish();
}
