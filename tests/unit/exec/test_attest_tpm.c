/*
 * test_attest_tpm.c — TPM 2.0 quotes end to end against Debian's swtpm: this test starts
 * `swtpm socket --tpm2` on two free loopback ports (server P, control P+1) with a fresh state
 * directory, drives the attester through the libtss2 swtpm TCTI, and checks the pure verifier:
 * fresh nonce accepted; wrong nonce, wrong PCR reference, flipped signature byte, flipped
 * attest byte, wrong magic/type, untrusted or unacceptable AK, truncated, trailing and
 * oversized evidence all rejected. PCR 16 is recomputed here from the workload hash.
 *
 * swtpm is stopped and its directory removed at exit (atexit), and it gets
 * PR_SET_PDEATHSIG so that it dies with the test even on a crash. A missing swtpm or a TCTI
 * that cannot be loaded FAILS the test (CI installs swtpm): never skipped.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "exec/attest.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t swtpm_pid = -1;
static char swtpm_dir[512];
static char tcti[128];
static int swtpm_ok;

static void swtpm_stop(void)
{
    if (swtpm_pid > 0) {
        kill(swtpm_pid, SIGTERM);
        int st;
        waitpid(swtpm_pid, &st, 0);
        swtpm_pid = -1;
    }
    if (swtpm_dir[0] != '\0') {
        octo_test_rmtree(swtpm_dir);
        swtpm_dir[0] = '\0';
    }
}

/* Binds 127.0.0.1:port (0 = any); returns the socket or -1, *bound = the port. */
static int bind_port(uint16_t port, uint16_t *bound)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    socklen_t al = sizeof(a);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &al) != 0) {
        close(s);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return s;
}

/* A port P such that P and P+1 are both free on loopback (0 on failure). */
static uint16_t free_port_pair(void)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        uint16_t p = 0, q = 0;
        int s1 = bind_port(0, &p);
        if (s1 < 0)
            continue;
        if (p == 65535) {
            close(s1);
            continue;
        }
        int s2 = bind_port((uint16_t)(p + 1), &q);
        close(s1);
        if (s2 >= 0) {
            close(s2);
            return p;
        }
    }
    return 0;
}

static bool port_accepts(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return false;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(s);
    return ok;
}

static void test_swtpm_start(void)
{
    uint16_t port = free_port_pair();
    CHECK(port != 0);
    snprintf(swtpm_dir, sizeof(swtpm_dir), "%s", octo_test_tmpdir("swtpm"));
    char server[64], ctrl[64], state[600];
    snprintf(server, sizeof(server), "type=tcp,port=%u,bindaddr=127.0.0.1", port);
    snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%u,bindaddr=127.0.0.1", port + 1u);
    snprintf(state, sizeof(state), "dir=%s", swtpm_dir);
    atexit(swtpm_stop);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        static char a0[] = "swtpm", a1[] = "socket", a2[] = "--tpm2", a3[] = "--server",
                    a5[] = "--ctrl", a7[] = "--tpmstate", a9[] = "--flags",
                    a10[] = "not-need-init,startup-clear";
        char *argv[] = {a0, a1, a2, a3, server, a5, ctrl, a7, state, a9, a10, NULL};
        execvp("swtpm", argv);
        _exit(127);
    }
    swtpm_pid = pid;
    /* Wait (up to 10 s) until the server port accepts connections. */
    bool up = false;
    for (int i = 0; i < 200 && !up; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            swtpm_pid = -1;
            octo_test_fail_at(__FILE__, __LINE__, "swtpm exited (status %d): is it installed?", st);
            return;
        }
        up = port_accepts(port);
        if (!up) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK(up);
    snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%u", port);
    swtpm_ok = 1;
}

/* ---- fixture ---------------------------------------------------------------------------- */

static const uint8_t workload[32] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};

struct tpm_fixture {
    struct octo_att_tpm tpm;
    uint8_t ak_pub[OCTO_ATT_TPM_PUBLIC_MAX];
    size_t ak_pub_len;
    uint8_t pcrs[64];
    uint8_t rd[OCTO_ATT_RD_LEN];
    struct octo_trust_anchor anchor;
    struct octo_trust_anchors anchors;
    uint8_t *ev;
    size_t ev_len;
};

/* Enrols the AK, collects one quote over a fresh nonce, reads the PCRs it covers. */
static int tpm_setup(struct tpm_fixture *f)
{
    memset(f, 0, sizeof(*f));
    if (!swtpm_ok)
        return OCTO_ESTATE;
    int rc = octo_att_tpm_init(&f->tpm, tcti, workload);
    if (rc < 0)
        return rc;
    rc = octo_att_tpm_ak_public(&f->tpm, f->ak_pub, sizeof(f->ak_pub));
    if (rc < 0)
        return rc;
    f->ak_pub_len = (size_t)rc;
    uint8_t nonce[32];
    randombytes_buf(nonce, sizeof(nonce));
    rc = octo_att_binding(nonce, sizeof(nonce), (const uint8_t *)"chan-key", 8,
                          (const uint8_t *)"job-7", 5, NULL, 0, f->rd);
    if (rc < 0)
        return rc;
    rc = octo_att_tpm_ops.collect(&f->tpm, f->rd, &f->ev, &f->ev_len);
    if (rc < 0)
        return rc;
    rc = octo_att_tpm_read_pcrs(&f->tpm, f->pcrs, sizeof(f->pcrs));
    if (rc < 0)
        return rc;
    if (rc != 64)
        return OCTO_EIO;
    f->anchor = (struct octo_trust_anchor){.type = OCTO_EV_TPM2_QUOTE,
                                           .kind = OCTO_ANCHOR_TPM2B_PUBLIC,
                                           .data = f->ak_pub,
                                           .len = f->ak_pub_len,
                                           .label = "swtpm (software)",
                                           .test_only = true,
                                           .software = true};
    f->anchors.items = &f->anchor;
    f->anchors.count = 1;
    f->anchors.ref_pcrs = f->pcrs;
    f->anchors.ref_pcrs_len = sizeof(f->pcrs);
    return 0;
}

static void tpm_teardown(struct tpm_fixture *f)
{
    octo_free(f->ev);
    octo_att_tpm_deinit(&f->tpm);
}

/* Offsets of the container parts (see attest_tpm.c). */
static size_t part_len(const uint8_t *ev, size_t off)
{
    return ((size_t)ev[off] << 8) | ev[off + 1];
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_init_errors(void)
{
    struct octo_att_tpm t;
    char long_tcti[OCTO_ATT_TPM_TCTI_MAX + 1];
    memset(long_tcti, 'a', sizeof(long_tcti) - 1);
    long_tcti[sizeof(long_tcti) - 1] = '\0';
    CHECK_ERR(octo_att_tpm_init(&t, long_tcti, NULL), OCTO_ETOOBIG);
    CHECK_OK(octo_att_tpm_init(&t, NULL, NULL));
    CHECK(!t.extend_workload);
    CHECK_STR(octo_att_tpm_ops.name, "tpm2");
    CHECK_EQ_INT(octo_att_tpm_ops.type, OCTO_EV_TPM2_QUOTE);
    uint8_t buf[8];
    CHECK_ERR(octo_att_tpm_ak_public(NULL, buf, sizeof(buf)), OCTO_EINVAL);
    CHECK_ERR(octo_att_tpm_read_pcrs(&t, buf, sizeof(buf)), OCTO_ENOSPACE);
    CHECK_ERR(octo_att_tpm_ops.probe(NULL), OCTO_EINVAL);
    /* Nothing listens on a fresh free port: the probe fails (no silent success). */
    uint16_t p = free_port_pair();
    CHECK(p != 0);
    char conf[96];
    snprintf(conf, sizeof(conf), "swtpm:host=127.0.0.1,port=%u", p);
    CHECK_OK(octo_att_tpm_init(&t, conf, NULL));
    CHECK(octo_att_tpm_ops.probe(&t) < 0);
    uint8_t rd[OCTO_ATT_RD_LEN] = {0};
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    CHECK(octo_att_tpm_ops.collect(&t, rd, &ev, &ev_len) < 0);
    CHECK(ev == NULL);
    CHECK_ERR(octo_att_tpm_ops.collect(&t, NULL, &ev, &ev_len), OCTO_EINVAL);
    octo_att_tpm_deinit(&t);
}

static void test_probe_and_ak(void)
{
    CHECK(swtpm_ok);
    struct octo_att_tpm t;
    CHECK_OK(octo_att_tpm_init(&t, tcti, NULL));
    CHECK_OK(octo_att_tpm_ops.probe(&t));
    /* The AK is a primary key: the same public area every time. */
    uint8_t a[OCTO_ATT_TPM_PUBLIC_MAX], b[OCTO_ATT_TPM_PUBLIC_MAX];
    int na = octo_att_tpm_ak_public(&t, a, sizeof(a));
    int nb = octo_att_tpm_ak_public(&t, b, sizeof(b));
    CHECK_OK(na);
    CHECK_EQ_INT(na, nb);
    CHECK_MEM(a, b, (size_t)na);
    CHECK(na > 64);
    CHECK_ERR(octo_att_tpm_ak_public(&t, a, 10), OCTO_ENOSPACE);
    octo_att_tpm_deinit(&t);
}

static void test_pcr16_extend(void)
{
    CHECK(swtpm_ok);
    struct octo_att_tpm t;
    CHECK_OK(octo_att_tpm_init(&t, tcti, workload));
    uint8_t before[64], after[64];
    CHECK_EQ_INT(octo_att_tpm_read_pcrs(&t, before, sizeof(before)), 64);
    uint8_t rd[OCTO_ATT_RD_LEN] = {7};
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    CHECK_OK(octo_att_tpm_ops.collect(&t, rd, &ev, &ev_len));
    octo_free(ev);
    CHECK_EQ_INT(octo_att_tpm_read_pcrs(&t, after, sizeof(after)), 64);
    /* PCR 0 unchanged; PCR 16 = SHA-256(old || workload). */
    CHECK_MEM(after, before, 32);
    uint8_t cat[64], want[32];
    memcpy(cat, before + 32, 32);
    memcpy(cat + 32, workload, 32);
    octo_sha256(cat, sizeof(cat), want);
    CHECK_MEM(after + 32, want, 32);
    octo_att_tpm_deinit(&t);
}

static void test_quote_fresh_nonce_ok(void)
{
    struct tpm_fixture f;
    CHECK_OK(tpm_setup(&f));
    struct octo_att_result r;
    int rc = octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r);
    if (rc < 0)
        fprintf(stderr, "reason: %s\n", r.reason);
    CHECK_OK(rc);
    CHECK_EQ_INT(r.type, OCTO_EV_TPM2_QUOTE);
    CHECK(!r.hardware_rooted); /* swtpm is software */
    CHECK(r.test_anchor);
    CHECK(!r.debug);
    CHECK_STR(r.platform, "swtpm (software)");
    uint8_t digest[32];
    octo_sha256(f.pcrs, sizeof(f.pcrs), digest);
    CHECK_EQ_U64(r.measurement_len, 32);
    CHECK_MEM(r.measurement, digest, 32);
    CHECK_MEM(r.report_data, f.rd, OCTO_ATT_RD_LEN);
    /* Through the dispatcher. */
    CHECK_OK(octo_att_verify(OCTO_EV_TPM2_QUOTE, f.ev, f.ev_len, f.rd, &f.anchors, 0, &r));
    /* A TPM (even a real one) is not a TEE. */
    CHECK(octo_att_satisfies(&r, OCTO_ATT_CLASS_SHARED));
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
    r.hardware_rooted = true;
    CHECK(!octo_att_satisfies(&r, OCTO_ATT_CLASS_CONFIDENTIAL));
    /* A hardware anchor (same key, not marked software) gives hardware_rooted. */
    f.anchor.software = false;
    CHECK_OK(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r));
    CHECK(r.hardware_rooted);
    tpm_teardown(&f);
}

static void test_quote_wrong_nonce(void)
{
    struct tpm_fixture f;
    CHECK_OK(tpm_setup(&f));
    struct octo_att_result r;
    uint8_t rd[OCTO_ATT_RD_LEN];
    for (size_t i = 0; i < OCTO_ATT_RD_LEN; i += 21) {
        memcpy(rd, f.rd, sizeof(rd));
        rd[i] ^= 0x01;
        CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, rd, &f.anchors, 0, &r), OCTO_EPERM);
        CHECK(strstr(r.reason, "nonce") != NULL);
        CHECK(!r.hardware_rooted);
    }
    /* A second quote over another nonce does not verify against the first nonce either. */
    uint8_t rd2[OCTO_ATT_RD_LEN] = {1, 2, 3};
    uint8_t *ev2 = NULL;
    size_t ev2_len = 0;
    CHECK_OK(octo_att_tpm_ops.collect(&f.tpm, rd2, &ev2, &ev2_len));
    int rc = octo_att_tpm_verify(ev2, ev2_len, f.rd, &f.anchors, 0, &r);
    octo_free(ev2);
    CHECK(rc < 0); /* EPERM (nonce) — and PCR 16 moved on too */
    tpm_teardown(&f);
}

static void test_quote_wrong_pcrs(void)
{
    struct tpm_fixture f;
    CHECK_OK(tpm_setup(&f));
    struct octo_att_result r;
    uint8_t pcrs[64];
    for (size_t i = 0; i < 64; i += 31) {
        memcpy(pcrs, f.pcrs, sizeof(pcrs));
        pcrs[i] ^= 0x80;
        f.anchors.ref_pcrs = pcrs;
        CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EPERM);
        CHECK(strstr(r.reason, "pcrDigest") != NULL);
    }
    /* Missing or mis-sized reference values: refused, never "any PCRs". */
    f.anchors.ref_pcrs = NULL;
    f.anchors.ref_pcrs_len = 0;
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EINVAL);
    f.anchors.ref_pcrs = f.pcrs;
    f.anchors.ref_pcrs_len = 32;
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EINVAL);
    f.anchors.ref_pcrs_len = 64;
    CHECK_OK(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r));
    tpm_teardown(&f);
}

static void test_quote_tampered(void)
{
    struct tpm_fixture f;
    CHECK_OK(tpm_setup(&f));
    struct octo_att_result r;
    uint8_t *ev = octo_malloc(f.ev_len + 1);
    CHECK(ev != NULL);
    size_t a_off = 8 + 2, a_len = part_len(f.ev, 8);
    size_t s_off = a_off + a_len + 2, s_len = part_len(f.ev, a_off + a_len);
    size_t p_off = s_off + s_len + 2, p_len = part_len(f.ev, s_off + s_len);
    CHECK_EQ_U64(p_off + p_len, f.ev_len);
    CHECK_EQ_U64(p_len, f.ak_pub_len);

    /* Flipped signature bytes: r and s (TPMT_SIGNATURE = sigAlg, hash, r size, r, s size, s),
     * not the size fields (a malformed, not a bad, signature). */
    size_t r_len = part_len(f.ev, s_off + 4);
    CHECK_EQ_U64(s_len, 6 + r_len + 2 + part_len(f.ev, s_off + 6 + r_len));
    for (size_t i = 6; i < s_len; i++) {
        if (i == 6 + r_len || i == 6 + r_len + 1)
            continue;
        memcpy(ev, f.ev, f.ev_len);
        ev[s_off + i] ^= 0x01;
        int rc = octo_att_tpm_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r);
        CHECK_ERR(rc, OCTO_EBADSIG);
    }
    /* Flipped TPMS_ATTEST bytes past magic and type: the signature catches them. */
    for (size_t i = 6; i < a_len; i++) {
        memcpy(ev, f.ev, f.ev_len);
        ev[a_off + i] ^= 0x01;
        int rc = octo_att_tpm_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r);
        CHECK(rc < 0);
        CHECK(rc == OCTO_EBADSIG || rc == OCTO_EMALFORMED);
    }
    /* Magic and type. */
    memcpy(ev, f.ev, f.ev_len);
    ev[a_off] ^= 0x01;
    CHECK_ERR(octo_att_tpm_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    CHECK(strstr(r.reason, "magic") != NULL);
    memcpy(ev, f.ev, f.ev_len);
    ev[a_off + 5] = 0x17; /* 0x8017 = ATTEST_CERTIFY */
    CHECK_ERR(octo_att_tpm_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    CHECK(strstr(r.reason, "type") != NULL);
    /* Container header. */
    for (size_t i = 0; i < 8; i++) {
        memcpy(ev, f.ev, f.ev_len);
        ev[i] ^= 0x40;
        CHECK_ERR(octo_att_tpm_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    }
    octo_free(ev);
    tpm_teardown(&f);
}

static void test_quote_truncated_and_oversized(void)
{
    struct tpm_fixture f;
    CHECK_OK(tpm_setup(&f));
    struct octo_att_result r;
    for (size_t n = 0; n < f.ev_len; n++)
        CHECK_ERR(octo_att_tpm_verify(f.ev, n, f.rd, &f.anchors, 0, &r), OCTO_EMALFORMED);
    uint8_t *ev = octo_malloc(f.ev_len + 1);
    CHECK(ev != NULL);
    memcpy(ev, f.ev, f.ev_len);
    ev[f.ev_len] = 0;
    int rc = octo_att_tpm_verify(ev, f.ev_len + 1, f.rd, &f.anchors, 0, &r);
    octo_free(ev);
    CHECK_ERR(rc, OCTO_EMALFORMED);
    uint8_t *big = octo_calloc(1, OCTO_ATT_EVIDENCE_MAX + 1);
    CHECK(big != NULL);
    memcpy(big, f.ev, f.ev_len);
    rc = octo_att_tpm_verify(big, OCTO_ATT_EVIDENCE_MAX + 1, f.rd, &f.anchors, 0, &r);
    octo_free(big);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    CHECK_ERR(octo_att_tpm_verify(NULL, 1, f.rd, &f.anchors, 0, &r), OCTO_EINVAL);
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, NULL, &f.anchors, 0, &r), OCTO_EINVAL);
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, NULL, 0, &r), OCTO_EINVAL);
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, NULL), OCTO_EINVAL);
    tpm_teardown(&f);
}

static void test_quote_untrusted_ak(void)
{
    struct tpm_fixture f;
    CHECK_OK(tpm_setup(&f));
    struct octo_att_result r;
    /* No anchors; an anchor of the wrong kind or type; a different key. */
    struct octo_trust_anchors none = f.anchors;
    none.items = NULL;
    none.count = 0;
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &none, 0, &r), OCTO_EBADSIG);
    f.anchor.kind = OCTO_ANCHOR_SPKI_DER;
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EBADSIG);
    f.anchor.kind = OCTO_ANCHOR_TPM2B_PUBLIC;
    f.anchor.type = OCTO_EV_SEV_SNP_REPORT;
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EBADSIG);
    f.anchor.type = OCTO_EV_TPM2_QUOTE;
    uint8_t other[OCTO_ATT_TPM_PUBLIC_MAX];
    memcpy(other, f.ak_pub, f.ak_pub_len);
    other[f.ak_pub_len - 1] ^= 1; /* last byte of the y coordinate */
    f.anchor.data = other;
    CHECK_ERR(octo_att_tpm_verify(f.ev, f.ev_len, f.rd, &f.anchors, 0, &r), OCTO_EBADSIG);
    CHECK(strstr(r.reason, "anchor") != NULL);

    /* Evidence carrying a different AK point (and the anchor pinned to it): the signature no
     * longer verifies (or the point is off the curve). */
    uint8_t *ev = octo_malloc(f.ev_len);
    CHECK(ev != NULL);
    memcpy(ev, f.ev, f.ev_len);
    ev[f.ev_len - 1] ^= 1;
    int rc = octo_att_tpm_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r);
    CHECK_ERR(rc, OCTO_EBADSIG);
    /* An AK that is not acceptable (nameAlg SHA-1 instead of SHA-256), anchor pinned to it. */
    memcpy(ev, f.ev, f.ev_len);
    size_t p_off = f.ev_len - f.ak_pub_len;
    CHECK_EQ_INT(ev[p_off + 4], 0x00);
    CHECK_EQ_INT(ev[p_off + 5], 0x0b);
    ev[p_off + 5] = 0x04;
    f.anchor.data = ev + p_off;
    rc = octo_att_tpm_verify(ev, f.ev_len, f.rd, &f.anchors, 0, &r);
    octo_free(ev);
    CHECK_ERR(rc, OCTO_EUNSUPPORTED);
    tpm_teardown(&f);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_swtpm_start);
    OCTO_RUN(test_init_errors);
    OCTO_RUN(test_probe_and_ak);
    OCTO_RUN(test_pcr16_extend);
    OCTO_RUN(test_quote_fresh_nonce_ok);
    OCTO_RUN(test_quote_wrong_nonce);
    OCTO_RUN(test_quote_wrong_pcrs);
    OCTO_RUN(test_quote_tampered);
    OCTO_RUN(test_quote_truncated_and_oversized);
    OCTO_RUN(test_quote_untrusted_ak);
    int rc = octo_test_finish();
    swtpm_stop();
    return rc;
}
