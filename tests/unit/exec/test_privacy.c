/*
 * test_privacy.c — the Privacy Containers' class matrix (octo_privacy_admit) and the client's
 * side of the sealed exchange (exec/privacy.h) against a provider simulated in this file: no
 * sandbox, no fork. The test plays the provider and the worker with their own keys: it builds
 * KEY frame bodies as privacy.c's provider does (worker key || command digest || node key ||
 * node signature over the key message || evidence type || evidence), with evidence from the
 * real software attester bound to the client's nonce, the worker key, the task id and node key
 * || command digest; opens the client's TASK with the worker's key pair and the command's bind;
 * and builds RESULT frame bodies as the worker (result payload, result envelope boxed from the
 * worker's key pair to the reply key) and the provider (9-byte outcome, node signature) do.
 * Refused: a command other than the policy's pinned one, a tampered command digest, evidence
 * bound to another command, a result boxed by any key but the admitted worker's (the node's
 * forge), a result naming another worker, a result bound to another command.
 *
 * The key message is recomputed here from privacy.c's definition: SHA-256 over
 * "octo-worker-key-v1" || nonce (32) || task id (16) || class (1) || worker key (32) ||
 * command digest (32) || evidence type (1) || SHA-256(evidence). octo_privacy_serve itself is
 * exercised by the end-to-end canary test, not here; its frame I/O (octo_privacy_write_all,
 * octo_privacy_read_frame) is tested on socketpairs and pipes: timeouts against a peer that
 * never reads, a closed peer (no SIGPIPE), and a header announcing OCTO_ENV_MAX that is not
 * followed by a body (the buffer grows with the bytes that arrive, not with the length field).
 */
#define _GNU_SOURCE /* pipe2, sigtimedwait */
#include "base/alloc.h"
#include "base/assert.h"
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "crypto/seal.h"
#include "exec/attest.h"
#include "exec/envelope.h"
#include "exec/privacy.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WHY_MAX 256
#define OUT_MAX 4096u

static const enum octo_env_class all_classes[] = {OCTO_ENV_PUBLIC, OCTO_ENV_SHARED,
                                                  OCTO_ENV_CONFIDENTIAL, OCTO_ENV_PRIVATE};

/* ---- the class matrix ---- */

enum att_case {
    ATT_NONE,      /* no evidence */
    ATT_SOFT,      /* verified software-unverified result */
    ATT_TEE,       /* verified SEV-SNP result, hardware-rooted, not debug, production anchor */
    ATT_TEE_DEBUG, /* the same with debug enabled */
    ATT_TPM,       /* verified TPM quote: hardware-rooted but not a TEE */
    ATT_TEE_UNVER, /* a TEE result whose verification failed */
    ATT_TEE_TEST,  /* a TEE result verified against a TEST ONLY anchor */
    ATT_CASES
};

static const char *const att_names[ATT_CASES] = {
    "none", "soft", "tee", "tee-debug", "tpm", "tee-unverified", "tee-test-anchor"};

static void att_make(enum att_case c, struct octo_att_result *r)
{
    enum octo_ev_type t = c == ATT_SOFT  ? OCTO_EV_SOFTWARE_UNVERIFIED
                          : c == ATT_TPM ? OCTO_EV_TPM2_QUOTE
                                         : OCTO_EV_SEV_SNP_REPORT;
    octo_att_result_init(r, t);
    r->verified = c != ATT_TEE_UNVER;
    r->hardware_rooted = c != ATT_SOFT && c != ATT_TEE_UNVER;
    r->debug = c == ATT_TEE_DEBUG;
    r->test_anchor = c == ATT_TEE_TEST;
    if (c == ATT_TEE_UNVER)
        snprintf(r->reason, sizeof(r->reason), "signature does not verify");
}

/* The matrix of privacy.h, written out independently. */
static bool expected_admit(enum octo_env_class cls, enum att_case a, bool owner, bool in_acl,
                           bool test_anchors_ok)
{
    bool tee = a == ATT_TEE || (a == ATT_TEE_TEST && test_anchors_ok);
    switch (cls) {
    case OCTO_ENV_PUBLIC:
    case OCTO_ENV_SHARED:
        return true;
    case OCTO_ENV_PRIVATE:
        return tee || owner;
    case OCTO_ENV_CONFIDENTIAL:
        return tee && in_acl; /* the owner gets no exemption */
    }
    return false;
}

/* Runs the whole table once; returns the number of mismatches (printed). */
static int admit_table(bool test_anchors_ok)
{
    int bad = 0;
    for (size_t c = 0; c < 4; c++) {
        for (int a = 0; a < ATT_CASES; a++) {
            for (int o = 0; o < 2; o++) {
                for (int l = 0; l < 2; l++) {
                    struct octo_att_result r;
                    att_make((enum att_case)a, &r);
                    char why[WHY_MAX];
                    memset(why, 'x', sizeof(why));
                    int rc = octo_privacy_admit(all_classes[c], a == ATT_NONE ? NULL : &r, o == 1,
                                                l == 1, why, sizeof(why));
                    bool want = expected_admit(all_classes[c], (enum att_case)a, o == 1, l == 1,
                                               test_anchors_ok);
                    bool ok = want ? rc == 0 && why[0] == '\0'
                                   : rc == OCTO_EPERM && why[0] != '\0' &&
                                         memchr(why, 0, sizeof(why)) != NULL;
                    /* the same answer without a reason buffer */
                    ok = ok && octo_privacy_admit(all_classes[c], a == ATT_NONE ? NULL : &r, o == 1,
                                                  l == 1, NULL, 0) == rc;
                    if (!ok) {
                        fprintf(stderr, "admit %s att=%s owner=%d acl=%d: rc %d why \"%.64s\"\n",
                                octo_env_class_name(all_classes[c]), att_names[a], o, l, rc, why);
                        bad++;
                    }
                }
            }
        }
    }
    return bad;
}

static void test_admit_table(void)
{
    CHECK_EQ_INT(admit_table(false), 0);
    octo_att_allow_test_anchors(true);
    int bad = admit_table(true);
    octo_att_allow_test_anchors(false);
    CHECK_EQ_INT(bad, 0);
}

static void test_admit_reasons(void)
{
    struct octo_att_result soft, tee;
    att_make(ATT_SOFT, &soft);
    att_make(ATT_TEE, &tee);
    char why[WHY_MAX];
    /* the key cases, each with a reason naming its rule */
    CHECK_ERR(octo_privacy_admit(OCTO_ENV_PRIVATE, &soft, false, true, why, sizeof(why)),
              OCTO_EPERM);
    CHECK(strstr(why, "TEE") != NULL);
    CHECK_OK(octo_privacy_admit(OCTO_ENV_PRIVATE, &soft, true, false, why, sizeof(why)));
    CHECK_STR(why, "");
    CHECK_ERR(octo_privacy_admit(OCTO_ENV_CONFIDENTIAL, &soft, true, true, why, sizeof(why)),
              OCTO_EPERM);
    CHECK(strstr(why, "TEE") != NULL);
    CHECK_ERR(octo_privacy_admit(OCTO_ENV_CONFIDENTIAL, &tee, true, false, why, sizeof(why)),
              OCTO_EPERM);
    CHECK(strstr(why, "ACL") != NULL);
    CHECK_OK(octo_privacy_admit(OCTO_ENV_CONFIDENTIAL, &tee, false, true, why, sizeof(why)));
    /* other TEE types count; a TPM does not */
    tee.type = OCTO_EV_TDX_QUOTE;
    CHECK_OK(octo_privacy_admit(OCTO_ENV_PRIVATE, &tee, false, false, why, sizeof(why)));
    tee.type = OCTO_EV_NITRO_COSE;
    CHECK_OK(octo_privacy_admit(OCTO_ENV_CONFIDENTIAL, &tee, false, true, why, sizeof(why)));
    tee.type = OCTO_EV_TPM2_QUOTE;
    CHECK_ERR(octo_privacy_admit(OCTO_ENV_PRIVATE, &tee, false, false, why, sizeof(why)),
              OCTO_EPERM);
    /* an unknown class is refused with a reason */
    CHECK_ERR(octo_privacy_admit((enum octo_env_class)4, &tee, true, true, why, sizeof(why)),
              OCTO_EPERM);
    CHECK(why[0] != '\0');
    /* a small reason buffer is truncated and terminated */
    char small[8];
    memset(small, 'x', sizeof(small));
    CHECK_ERR(octo_privacy_admit(OCTO_ENV_PRIVATE, NULL, false, false, small, sizeof(small)),
              OCTO_EPERM);
    CHECK_EQ_U64(strlen(small), sizeof(small) - 1);
    CHECK_ERR(octo_privacy_admit(OCTO_ENV_PRIVATE, NULL, false, false, small, 0), OCTO_EPERM);
}

/* ---- the simulated provider ---- */

struct sim {
    struct octo_identity client, node, other;
    struct octo_seal_keypair worker;
    struct octo_att_soft soft; /* the node's software attester */
    struct octo_trust_anchor anchor;
    struct octo_trust_anchors anchors;
    struct octo_privacy_policy pol;
    struct octo_pubkey acl[2];
    /* what the provider learnt from HELLO */
    uint8_t nonce[OCTO_PRIVACY_NONCE_LEN];
    uint8_t task_id[OCTO_ENV_TASK_ID_LEN];
    uint8_t cls;
};

static struct sim g;

/* The command the simulated worker announces, and another one. */
static const char *const g_cmd[] = {"/usr/bin/wc", "-c", NULL};
static const char *const g_cmd_other[] = {"/bin/sh", "-c", "cat /etc/shadow", NULL};
static uint8_t g_cmd_digest[OCTO_ENV_BIND_LEN];
static uint8_t g_cmd_other_digest[OCTO_ENV_BIND_LEN];

static int sim_init(void)
{
    memset(&g, 0, sizeof(g));
    int rc = octo_identity_generate(&g.client);
    if (rc == 0)
        rc = octo_identity_generate(&g.node);
    if (rc == 0)
        rc = octo_identity_generate(&g.other);
    if (rc == 0)
        rc = octo_seal_keypair_generate(&g.worker);
    if (rc == 0)
        rc = octo_att_soft_init(&g.soft, &g.node, "test_privacy sandbox policy", NULL);
    g.anchor = (struct octo_trust_anchor){.type = OCTO_EV_SOFTWARE_UNVERIFIED,
                                          .kind = OCTO_ANCHOR_ED25519,
                                          .data = g.node.pub.bytes,
                                          .len = OCTO_ED25519_PK_LEN,
                                          .label = "TEST ONLY: the simulated node",
                                          .test_only = true};
    g.anchors.items = &g.anchor;
    g.anchors.count = 1;
    octo_env_command_digest(g_cmd, g_cmd_digest);
    octo_env_command_digest(g_cmd_other, g_cmd_other_digest);
    return rc;
}

static void sim_deinit(void)
{
    octo_att_soft_deinit(&g.soft);
    octo_identity_deinit(&g.client);
    octo_identity_deinit(&g.node);
    octo_identity_deinit(&g.other);
    octo_seal_keypair_deinit(&g.worker);
}

/* A policy trusting the node's software evidence, owning nothing, with the node on the ACL. */
static struct octo_privacy_policy policy_default(void)
{
    struct octo_privacy_policy pol;
    memset(&pol, 0, sizeof(pol));
    pol.anchors[OCTO_EV_SOFTWARE_UNVERIFIED] = &g.anchors;
    g.acl[0] = g.node.pub;
    g.acl[1] = g.other.pub;
    pol.acl = g.acl;
    pol.acl_count = 2;
    return pol;
}

/* The provider reads HELLO: type, length and fields. */
static int sim_hello(const struct octo_privacy_client *c)
{
    struct octo_buf f;
    octo_buf_init(&f, 256);
    int rc = octo_privacy_client_hello(c, &f);
    enum octo_frame_type type = OCTO_FRAME_ERROR;
    const uint8_t *b = NULL;
    size_t n = 0;
    long got =
        rc == 0 ? octo_frame_parse(f.data, f.len, OCTO_PRIVACY_HELLO_LEN, &type, &b, &n) : rc;
    if (got >= 0 &&
        ((size_t)got != f.len || type != OCTO_FRAME_HELLO || n != OCTO_PRIVACY_HELLO_LEN))
        got = OCTO_EPROTO;
    if (got >= 0) {
        memcpy(g.nonce, b, OCTO_PRIVACY_NONCE_LEN);
        memcpy(g.task_id, b + OCTO_PRIVACY_NONCE_LEN, OCTO_ENV_TASK_ID_LEN);
        g.cls = b[OCTO_PRIVACY_HELLO_LEN - 1];
    }
    octo_buf_deinit(&f);
    return got < 0 ? (int)got : 0;
}

/* privacy.c's key message, recomputed. */
static void key_message(const uint8_t *nonce, const uint8_t *task_id, uint8_t cls,
                        const uint8_t *worker, const uint8_t *command, uint8_t ev_type,
                        const uint8_t *ev, size_t ev_len, uint8_t out[OCTO_SHA256_LEN])
{
    static const char domain[] = "octo-worker-key-v1";
    uint8_t ev_hash[OCTO_SHA256_LEN];
    octo_sha256(ev, ev_len, ev_hash);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, domain, sizeof(domain) - 1);
    octo_sha256_update(&h, nonce, OCTO_PRIVACY_NONCE_LEN);
    octo_sha256_update(&h, task_id, OCTO_ENV_TASK_ID_LEN);
    octo_sha256_update(&h, &cls, 1);
    octo_sha256_update(&h, worker, 32);
    octo_sha256_update(&h, command, OCTO_ENV_BIND_LEN);
    octo_sha256_update(&h, &ev_type, 1);
    octo_sha256_update(&h, ev_hash, sizeof(ev_hash));
    octo_sha256_final(&h, out);
}

/* How to build a KEY. */
struct key_opts {
    bool no_evidence;                   /* EV_NONE */
    const uint8_t *bind_nonce;          /* evidence bound to this nonce instead of HELLO's */
    const struct octo_identity *signer; /* signs the key message (default: the node) */
    uint8_t ev_type_claimed;            /* nonzero: put this type byte (signed) instead */
    bool flip_sig;                      /* corrupt the signature */
    const uint8_t *command;             /* announce (and sign) this digest, not g_cmd's */
    const uint8_t *ev_command;          /* evidence bound to this digest instead */
    bool tamper_command;                /* change the digest after signing */
};

/* Builds a KEY frame body as the provider would, from what HELLO carried. */
static int sim_key(const struct key_opts *o, struct octo_buf *out)
{
    uint8_t ev_type = OCTO_PRIVACY_EV_NONE;
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    int rc = 0;
    const uint8_t *cmd = o->command != NULL ? o->command : g_cmd_digest;
    if (!o->no_evidence) {
        uint8_t rd[OCTO_ATT_RD_LEN], slot[32 + OCTO_ENV_BIND_LEN];
        memcpy(slot, g.node.pub.bytes, 32);
        memcpy(slot + 32, o->ev_command != NULL ? o->ev_command : cmd, OCTO_ENV_BIND_LEN);
        rc = octo_att_binding(o->bind_nonce != NULL ? o->bind_nonce : g.nonce,
                              OCTO_PRIVACY_NONCE_LEN, g.worker.pub.bytes, 32, g.task_id,
                              OCTO_ENV_TASK_ID_LEN, slot, sizeof(slot), rd);
        if (rc == 0)
            rc = octo_att_soft_ops.collect(&g.soft, rd, &ev, &ev_len);
        ev_type = OCTO_EV_SOFTWARE_UNVERIFIED;
    }
    if (o->ev_type_claimed != 0)
        ev_type = o->ev_type_claimed;
    uint8_t msg[OCTO_SHA256_LEN], sig[OCTO_ED25519_SIG_LEN];
    key_message(g.nonce, g.task_id, g.cls, g.worker.pub.bytes, cmd, ev_type, ev, ev_len, msg);
    octo_identity_sign(o->signer != NULL ? o->signer : &g.node, msg, sizeof(msg), sig);
    if (o->flip_sig)
        sig[10] ^= 0x20;
    octo_buf_reset(out);
    if (rc == 0)
        rc = octo_buf_append(out, g.worker.pub.bytes, 32);
    if (rc == 0)
        rc = octo_buf_append(out, cmd, OCTO_ENV_BIND_LEN);
    if (rc == 0 && o->tamper_command)
        out->data[32 + 7] ^= 0x01;
    if (rc == 0)
        rc = octo_buf_append(out, g.node.pub.bytes, 32);
    if (rc == 0)
        rc = octo_buf_append(out, sig, sizeof(sig));
    if (rc == 0)
        rc = octo_buf_append_byte(out, ev_type);
    if (rc == 0)
        rc = octo_buf_append(out, ev, ev_len);
    octo_free(ev);
    return rc;
}

/* Client init + HELLO + KEY (built with o) + on_key. Returns on_key's code (or a setup error
 * as 1000 + its code, which never equals an expected value). */
static int run_key(struct octo_privacy_client *c, enum octo_env_class cls,
                   const struct octo_privacy_policy *pol, const struct key_opts *o, char *why,
                   size_t why_size)
{
    struct octo_buf key;
    octo_buf_init(&key, OCTO_PRIVACY_KEY_MAX + 16);
    int rc = octo_privacy_client_init(c, &g.client, cls, NULL);
    if (rc == 0)
        rc = sim_hello(c);
    if (rc == 0)
        rc = sim_key(o, &key);
    if (rc != 0) {
        octo_buf_deinit(&key);
        return 1000 + rc;
    }
    rc = octo_privacy_client_on_key(c, pol, key.data, key.len, why, why_size);
    octo_buf_deinit(&key);
    return rc;
}

static void test_client_init_hello(void)
{
    struct octo_privacy_client c;
    uint8_t task[OCTO_ENV_TASK_ID_LEN];
    memset(task, 0x42, sizeof(task));
    CHECK_OK(octo_privacy_client_init(&c, &g.client, OCTO_ENV_CONFIDENTIAL, task));
    CHECK_OK(sim_hello(&c));
    CHECK_MEM(g.task_id, task, sizeof(task));
    CHECK_MEM(g.nonce, c.nonce, sizeof(c.nonce));
    CHECK_EQ_INT(g.cls, OCTO_ENV_CONFIDENTIAL);
    CHECK(!c.admitted);
    octo_privacy_client_deinit(&c);
    /* random task ids and nonces differ between clients */
    struct octo_privacy_client a, b;
    CHECK_OK(octo_privacy_client_init(&a, &g.client, OCTO_ENV_PUBLIC, NULL));
    CHECK_OK(octo_privacy_client_init(&b, &g.client, OCTO_ENV_PUBLIC, NULL));
    bool differ = memcmp(a.task_id, b.task_id, sizeof(a.task_id)) != 0 &&
                  memcmp(a.nonce, b.nonce, sizeof(a.nonce)) != 0 &&
                  memcmp(a.reply.pub.bytes, b.reply.pub.bytes, 32) != 0;
    octo_privacy_client_deinit(&a);
    octo_privacy_client_deinit(&b);
    CHECK(differ);
    CHECK_ERR(octo_privacy_client_init(&c, NULL, OCTO_ENV_PUBLIC, NULL), OCTO_EINVAL);
    CHECK_ERR(octo_privacy_client_init(&c, &g.client, (enum octo_env_class)4, NULL), OCTO_EINVAL);
    octo_privacy_client_deinit(&c);
    octo_privacy_client_deinit(NULL);
}

static void test_key_admission(void)
{
    struct octo_privacy_policy pol = policy_default();
    struct octo_privacy_client c;
    char why[WHY_MAX];
    struct key_opts o = {0};
    /* PUBLIC and SHARED: admitted, the software evidence verifies */
    for (size_t i = 0; i < 2; i++) {
        int rc = run_key(&c, all_classes[i], &pol, &o, why, sizeof(why));
        bool ok = c.admitted && c.att.verified && c.att.type == OCTO_EV_SOFTWARE_UNVERIFIED &&
                  !c.att.hardware_rooted && why[0] == '\0' &&
                  memcmp(c.worker.bytes, g.worker.pub.bytes, 32) == 0 &&
                  memcmp(c.command, g_cmd_digest, 32) == 0 &&
                  memcmp(c.node.bytes, g.node.pub.bytes, 32) == 0;
        octo_privacy_client_deinit(&c);
        CHECK_OK(rc);
        CHECK(ok);
    }
    /* PUBLIC without evidence: admitted, nothing verified */
    o.no_evidence = true;
    int rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    bool ok = c.admitted && !c.att.verified;
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
    o.no_evidence = false;
    /* PRIVATE on a software node: refused, and no task can be built */
    rc = run_key(&c, OCTO_ENV_PRIVATE, &pol, &o, why, sizeof(why));
    struct octo_buf out;
    octo_buf_init(&out, OCTO_FRAME_HEAD_LEN + OCTO_ENV_MAX);
    int rc_task = octo_privacy_client_task(&c, &pol, (const uint8_t *)"secret", 6, &out);
    size_t out_len = out.len;
    octo_buf_deinit(&out);
    ok = !c.admitted && c.att.verified && why[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EPERM);
    CHECK(ok);
    CHECK_ERR(rc_task, OCTO_ESTATE);
    CHECK_EQ_U64(out_len, 0);
    /* ... unless the client owns the node (with or without evidence) */
    struct octo_pubkey owned[2] = {g.other.pub, g.node.pub};
    pol.owned = owned;
    pol.owned_count = 2;
    rc = run_key(&c, OCTO_ENV_PRIVATE, &pol, &o, why, sizeof(why));
    ok = c.admitted;
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
    o.no_evidence = true;
    rc = run_key(&c, OCTO_ENV_PRIVATE, &pol, &o, why, sizeof(why));
    ok = c.admitted;
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
    o.no_evidence = false;
    /* CONFIDENTIAL on a software node: refused even when owned and on the ACL */
    rc = run_key(&c, OCTO_ENV_CONFIDENTIAL, &pol, &o, why, sizeof(why));
    ok = !c.admitted && why[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EPERM);
    CHECK(ok);
    /* ... and with the node off the ACL the ACL rule refuses first */
    pol.acl_count = 0;
    rc = run_key(&c, OCTO_ENV_CONFIDENTIAL, &pol, &o, why, sizeof(why));
    ok = !c.admitted && strstr(why, "ACL") != NULL;
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EPERM);
    CHECK(ok);
    /* a software anchor-less policy: the evidence does not verify, PUBLIC still runs */
    pol = policy_default();
    pol.anchors[OCTO_EV_SOFTWARE_UNVERIFIED] = NULL;
    rc = run_key(&c, OCTO_ENV_SHARED, &pol, &o, why, sizeof(why));
    ok = c.admitted && !c.att.verified && c.att.reason[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
}

static void test_key_signature(void)
{
    struct octo_privacy_policy pol = policy_default();
    struct octo_privacy_client c;
    char why[WHY_MAX];
    /* a corrupted node signature */
    struct key_opts o = {.flip_sig = true};
    int rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    bool ok = !c.admitted && why[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EBADSIG);
    CHECK(ok);
    /* signed by another node while naming this one */
    o = (struct key_opts){.signer = &g.other};
    rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    ok = !c.admitted;
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EBADSIG);
    CHECK(ok);
    /* the signature covers the class, the worker key, the command digest, the evidence and
     * its type: change each */
    struct octo_buf key;
    octo_buf_init(&key, OCTO_PRIVACY_KEY_MAX + 16);
    o = (struct key_opts){0};
    int rcs[5] = {0, 0, 0, 0, 0};
    rc = run_key(&c, OCTO_ENV_SHARED, &pol, &o, why, sizeof(why)); /* sets g.* from HELLO */
    if (rc == 0)
        rc = sim_key(&o, &key);
    c.cls = OCTO_ENV_PUBLIC; /* the client asked for another class than the node signed */
    rcs[0] = rc == 0 ? octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0) : rc;
    c.cls = OCTO_ENV_SHARED;
    key.data[0] ^= 1; /* worker key */
    rcs[1] = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    key.data[0] ^= 1;
    key.data[key.len - 1] ^= 1; /* evidence */
    rcs[2] = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    key.data[key.len - 1] ^= 1;
    key.data[160] = OCTO_EV_TPM2_QUOTE; /* evidence type */
    rcs[3] = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    key.data[160] = OCTO_EV_SOFTWARE_UNVERIFIED;
    key.data[32 + 31] ^= 0x80; /* command digest */
    rcs[4] = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    key.data[32 + 31] ^= 0x80;
    int rc_good = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    octo_buf_deinit(&key);
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    for (size_t i = 0; i < 5; i++)
        CHECK_ERR(rcs[i], OCTO_EBADSIG);
    CHECK_OK(rc_good);
}

static void test_key_evidence_binding(void)
{
    struct octo_privacy_policy pol = policy_default();
    struct octo_pubkey owned = g.node.pub;
    pol.owned = &owned;
    pol.owned_count = 1;
    struct octo_privacy_client c;
    char why[WHY_MAX];
    /* evidence bound to another nonce (a replay): signed by the node, but not verified */
    uint8_t stale[OCTO_PRIVACY_NONCE_LEN];
    memset(stale, 0x99, sizeof(stale));
    struct key_opts o = {.bind_nonce = stale};
    for (size_t i = 0; i < 4; i++) {
        int rc = run_key(&c, all_classes[i], &pol, &o, why, sizeof(why));
        bool verified = c.att.verified, admitted = c.admitted;
        bool reason = c.att.reason[0] != '\0';
        octo_privacy_client_deinit(&c);
        CHECK(!verified);
        CHECK(reason);
        /* the matrix without evidence: PUBLIC/SHARED run, PRIVATE on the owned node runs,
         * CONFIDENTIAL does not */
        if (all_classes[i] == OCTO_ENV_CONFIDENTIAL) {
            CHECK_ERR(rc, OCTO_EPERM);
            CHECK(!admitted);
        } else {
            CHECK_OK(rc);
            CHECK(admitted);
        }
    }
    /* an evidence type the policy has no anchors for, and one out of range */
    o = (struct key_opts){.ev_type_claimed = OCTO_EV_SEV_SNP_REPORT};
    int rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    bool ok = c.admitted && !c.att.verified && c.att.reason[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
    o.ev_type_claimed = OCTO_EV_TYPES;
    rc = run_key(&c, OCTO_ENV_PRIVATE, &pol, &o, why, sizeof(why));
    ok = c.admitted && !c.att.verified;
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc); /* owned */
    CHECK(ok);
}

static void test_key_malformed(void)
{
    struct octo_privacy_policy pol = policy_default();
    struct octo_privacy_client c;
    struct octo_buf key;
    octo_buf_init(&key, 2 * OCTO_PRIVACY_KEY_MAX);
    struct key_opts o = {.no_evidence = true};
    int rc = octo_privacy_client_init(&c, &g.client, OCTO_ENV_PUBLIC, NULL);
    if (rc == 0)
        rc = sim_hello(&c);
    if (rc == 0)
        rc = sim_key(&o, &key);
    int rcs[6];
    rcs[0] = octo_privacy_client_on_key(&c, &pol, key.data, OCTO_PRIVACY_KEY_FIXED - 1, NULL, 0);
    rcs[1] = octo_privacy_client_on_key(&c, &pol, NULL, 0, NULL, 0);
    /* EV_NONE followed by bytes */
    rcs[2] = octo_buf_append_byte(&key, 0);
    if (rcs[2] == 0)
        rcs[2] = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    /* over the maximum */
    rcs[3] = octo_buf_reserve(&key, OCTO_PRIVACY_KEY_MAX + 1 - key.len);
    if (rcs[3] == 0) {
        memset(key.data + key.len, 0, OCTO_PRIVACY_KEY_MAX + 1 - key.len);
        key.len = OCTO_PRIVACY_KEY_MAX + 1;
        rcs[3] = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    }
    /* a policy over its limits */
    key.len = OCTO_PRIVACY_KEY_FIXED;
    struct octo_privacy_policy big = pol;
    big.owned_count = OCTO_PRIVACY_OWNED_MAX + 1;
    rcs[4] = octo_privacy_client_on_key(&c, &big, key.data, key.len, NULL, 0);
    big = pol;
    big.acl_count = OCTO_ENV_ACL_MAX + 1;
    rcs[5] = octo_privacy_client_on_key(&c, &big, key.data, key.len, NULL, 0);
    int rc_good = octo_privacy_client_on_key(&c, &pol, key.data, key.len, NULL, 0);
    bool admitted = c.admitted;
    octo_buf_deinit(&key);
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK_ERR(rcs[0], OCTO_EMALFORMED);
    CHECK_ERR(rcs[1], OCTO_EMALFORMED);
    CHECK_ERR(rcs[2], OCTO_EMALFORMED);
    CHECK_ERR(rcs[3], OCTO_ETOOBIG);
    CHECK_ERR(rcs[4], OCTO_EINVAL);
    CHECK_ERR(rcs[5], OCTO_EINVAL);
    CHECK_OK(rc_good);
    CHECK(admitted);
}

/* ---- TASK ---- */

/* Parses the TASK frame as the provider and opens it as the worker, whose bind is the digest
 * of the command it announced (g_cmd); a sealed body must not open with a zero bind. */
static int sim_open_task(const struct octo_buf *frame, const struct octo_privacy_client *c,
                         struct octo_buf *payload, struct octo_envelope *e)
{
    enum octo_frame_type type;
    const uint8_t *b = NULL;
    size_t n = 0;
    long got = octo_frame_parse(frame->data, frame->len, OCTO_ENV_MAX, &type, &b, &n);
    if (got < 0)
        return (int)got;
    if ((size_t)got != frame->len || type != OCTO_FRAME_TASK)
        return OCTO_EPROTO;
    int rc = octo_env_decode(b, n, true, e);
    if (rc != 0)
        return rc;
    if (!e->is_signed || e->kind != OCTO_ENV_TASK || e->cls != c->cls ||
        memcmp(e->task_id, g.task_id, OCTO_ENV_TASK_ID_LEN) != 0 ||
        memcmp(e->sender.bytes, g.client.pub.bytes, 32) != 0)
        return OCTO_EPROTO;
    if (octo_env_class_sealed(e->cls) && (memcmp(e->recipient.bytes, g.worker.pub.bytes, 32) != 0 ||
                                          memcmp(e->reply_to.bytes, c->reply.pub.bytes, 32) != 0))
        return OCTO_EPROTO;
    if (octo_env_class_sealed(e->cls)) {
        rc = octo_env_open(e, &g.worker, payload);
        if (rc != OCTO_EMALFORMED)
            return 2000 + rc;
        rc = octo_env_open_bound(e, &g.worker, g_cmd_other_digest, payload);
        if (rc != OCTO_EMALFORMED)
            return 3000 + rc;
    }
    return octo_env_open_bound(e, octo_env_class_sealed(e->cls) ? &g.worker : NULL, g_cmd_digest,
                               payload);
}

static void test_task(void)
{
    static const uint8_t secret[] = "CANARY-7f3a payload";
    struct octo_privacy_policy pol = policy_default();
    struct octo_pubkey owned = g.node.pub;
    pol.owned = &owned;
    pol.owned_count = 1;
    struct key_opts o = {0};
    for (size_t i = 0; i < 4; i++) {
        enum octo_env_class cls = all_classes[i];
        struct octo_privacy_client c;
        int rc = run_key(&c, cls, &pol, &o, NULL, 0);
        if (cls == OCTO_ENV_CONFIDENTIAL) {
            /* no TEE here: admission is set by hand to test the encoding only */
            CHECK_ERR(rc, OCTO_EPERM);
            c.admitted = true;
            rc = 0;
        }
        struct octo_buf frame, payload;
        octo_buf_init(&frame, OCTO_FRAME_HEAD_LEN + OCTO_ENV_MAX);
        octo_buf_init_secret(&payload, OCTO_ENV_PAYLOAD_MAX);
        if (rc == 0)
            rc = octo_privacy_client_task(&c, &pol, secret, sizeof(secret) - 1, &frame);
        struct octo_envelope e;
        int rc_open = rc == 0 ? sim_open_task(&frame, &c, &payload, &e) : rc;
        bool payload_ok =
            payload.len == sizeof(secret) - 1 && memcmp(payload.data, secret, payload.len) == 0;
        /* sealed classes: the payload appears nowhere in the frame */
        bool hidden = true;
        for (size_t at = 0; at + sizeof(secret) - 1 <= frame.len; at++)
            hidden = hidden && memcmp(frame.data + at, secret, sizeof(secret) - 1) != 0;
        /* CONFIDENTIAL: the policy's ACL, sorted */
        bool acl_ok = cls != OCTO_ENV_CONFIDENTIAL;
        if (rc_open == 0 && cls == OCTO_ENV_CONFIDENTIAL) {
            bool node_first = memcmp(g.node.pub.bytes, g.other.pub.bytes, 32) < 0;
            const struct octo_pubkey *lo = node_first ? &g.node.pub : &g.other.pub;
            const struct octo_pubkey *hi = node_first ? &g.other.pub : &g.node.pub;
            acl_ok = e.acl_count == 2 && memcmp(e.acl, lo->bytes, 32) == 0 &&
                     memcmp(e.acl + 32, hi->bytes, 32) == 0 && octo_env_acl_allows(&e, &g.node.pub);
        }
        /* the worker's key pair is the only one that opens it */
        int rc_wrong = OCTO_EPERM;
        if (rc_open == 0 && octo_env_class_sealed(cls)) {
            octo_buf_reset(&payload);
            rc_wrong = octo_env_open(&e, &c.reply, &payload);
        }
        octo_buf_deinit(&frame);
        octo_buf_deinit(&payload);
        octo_privacy_client_deinit(&c);
        CHECK_OK(rc);
        CHECK_OK(rc_open);
        CHECK(payload_ok);
        CHECK(hidden == octo_env_class_sealed(cls));
        CHECK(acl_ok);
        CHECK_ERR(rc_wrong, OCTO_EPERM);
    }
}

/* ---- RESULT ---- */

struct result_opts {
    const struct octo_identity *signer; /* signs (and is the sender); default the node */
    bool other_task;
    enum octo_env_class cls_override; /* used when use_cls */
    bool use_cls;
    bool to_other_key; /* sealed to a key that is not the client's reply key */
    bool flip_sig;
    enum octo_env_kind kind; /* 0: RESULT */
    bool forge;              /* the node boxes it with its own fresh key, naming the worker's */
    bool other_worker;       /* boxed honestly by another X25519 key named in reply_to */
    const uint8_t *bind;     /* bound to this digest instead of the client's c->command */
};

/* Builds a RESULT frame body: the worker's payload for status st, its envelope, the node's
 * signature, behind the 9-byte outcome. */
static int sim_result(const struct octo_privacy_client *c, const struct result_opts *o, int st,
                      const char *so, const char *se, struct octo_buf *body)
{
    const struct octo_identity *signer = o->signer != NULL ? o->signer : &g.node;
    enum octo_env_class cls = o->use_cls ? o->cls_override : c->cls;
    struct octo_buf bo, be, payload, env;
    octo_buf_init(&bo, OUT_MAX);
    octo_buf_init(&be, OUT_MAX);
    octo_buf_init_secret(&payload, OCTO_ENV_PAYLOAD_MAX);
    octo_buf_init(&env, OCTO_ENV_MAX);
    struct octo_seal_keypair other = {0}, forger = {0};
    int rc = octo_seal_keypair_generate(&other);
    if (rc == 0)
        rc = octo_seal_keypair_generate(&forger);
    struct octo_seal_keypair claim = forger; /* the forger's secret, the worker's public key */
    claim.pub = g.worker.pub;
    if (rc == 0)
        rc = octo_buf_append_str(&bo, so);
    if (rc == 0)
        rc = octo_buf_append_str(&be, se);
    if (rc == 0)
        rc = octo_env_result_encode(st, &bo, &be, &payload);
    struct octo_env_params p;
    memset(&p, 0, sizeof(p));
    p.kind = o->kind != 0 ? o->kind : OCTO_ENV_RESULT;
    p.cls = cls;
    memcpy(p.task_id, g.task_id, OCTO_ENV_TASK_ID_LEN);
    if (o->other_task)
        p.task_id[3] ^= 0x40;
    p.sender = signer->pub;
    if (octo_env_class_sealed(cls))
        p.recipient = o->to_other_key ? other.pub : c->reply.pub;
    if (octo_env_class_sealed(cls) && p.kind == OCTO_ENV_TASK)
        p.reply_to = c->reply.pub;
    if (octo_env_class_sealed(cls) && p.kind == OCTO_ENV_RESULT) {
        p.from = o->forge ? &claim : o->other_worker ? &other : &g.worker;
        p.reply_to = p.from->pub;
    }
    memcpy(p.bind, o->bind != NULL ? o->bind : c->command, OCTO_ENV_BIND_LEN);
    if (cls == OCTO_ENV_CONFIDENTIAL) {
        p.acl = &g.node.pub;
        p.acl_count = 1;
    }
    if (rc == 0)
        rc = octo_env_encode(&p, payload.data, payload.len, &env);
    if (rc == 0)
        rc = octo_env_sign(&env, signer);
    if (rc == 0 && o->flip_sig)
        env.data[env.len - 5] ^= 0x08;
    uint8_t fixed[OCTO_PRIVACY_RESULT_FIXED] = {OCTO_SANDBOX_EXITED, 0, 0, 0, 0, 0, 0, 0, 0};
    octo_buf_reset(body);
    if (rc == 0)
        rc = octo_buf_append(body, fixed, sizeof(fixed));
    if (rc == 0)
        rc = octo_buf_append(body, env.data, env.len);
    octo_seal_keypair_deinit(&other);
    octo_seal_keypair_deinit(&forger);
    octo_seal_keypair_deinit(&claim);
    octo_buf_deinit(&bo);
    octo_buf_deinit(&be);
    octo_buf_deinit(&payload);
    octo_buf_deinit(&env);
    return rc;
}

/* An admitted client of class cls (CONFIDENTIAL admitted by hand: no TEE in this test). */
static int admitted_client(struct octo_privacy_client *c, enum octo_env_class cls)
{
    struct octo_privacy_policy pol = policy_default();
    struct octo_pubkey owned = g.node.pub;
    pol.owned = &owned;
    pol.owned_count = 1;
    struct key_opts o = {0};
    int rc = run_key(c, cls, &pol, &o, NULL, 0);
    if (cls == OCTO_ENV_CONFIDENTIAL && rc == OCTO_EPERM) {
        c->admitted = true;
        rc = 0;
    }
    return rc;
}

/* on_result with fresh output buffers; copies stdout/stderr out for checking. */
static int on_result(struct octo_privacy_client *c, const struct octo_buf *body,
                     struct octo_privacy_outcome *out, char *so, char *se)
{
    struct octo_buf bo, be;
    octo_buf_init_secret(&bo, OUT_MAX);
    octo_buf_init_secret(&be, OUT_MAX);
    int rc = octo_privacy_client_on_result(c, body->data, body->len, out, &bo, &be);
    snprintf(so, 64, "%.*s", (int)bo.len, bo.len > 0 ? (const char *)bo.data : "");
    snprintf(se, 64, "%.*s", (int)be.len, be.len > 0 ? (const char *)be.data : "");
    octo_buf_deinit(&bo);
    octo_buf_deinit(&be);
    return rc;
}

static void test_result(void)
{
    for (size_t i = 0; i < 4; i++) {
        struct octo_privacy_client c;
        struct octo_buf body;
        octo_buf_init(&body, OCTO_FRAME_BODY_MAX);
        int rc = admitted_client(&c, all_classes[i]);
        struct result_opts o = {0};
        if (rc == 0)
            rc = sim_result(&c, &o, 5 << 8, "the output", "a warning", &body);
        struct octo_privacy_outcome out;
        char so[64] = "", se[64] = "";
        int rc_res = rc == 0 ? on_result(&c, &body, &out, so, se) : rc;
        /* signaled */
        int rc_sig = rc == 0 ? sim_result(&c, &o, 9, "", "", &body) : rc;
        struct octo_privacy_outcome out_sig;
        char so2[64], se2[64];
        if (rc_sig == 0)
            rc_sig = on_result(&c, &body, &out_sig, so2, se2);
        octo_buf_deinit(&body);
        octo_privacy_client_deinit(&c);
        CHECK_OK(rc);
        CHECK_OK(rc_res);
        CHECK(out.have_result);
        CHECK_EQ_INT(out.sandbox, OCTO_SANDBOX_EXITED);
        CHECK_EQ_INT(out.how, OCTO_ENV_HOW_EXITED);
        CHECK_EQ_INT(out.code, 5);
        CHECK_STR(so, "the output");
        CHECK_STR(se, "a warning");
        CHECK_OK(rc_sig);
        CHECK(out_sig.have_result);
        CHECK_EQ_INT(out_sig.how, OCTO_ENV_HOW_SIGNALED);
        CHECK_EQ_INT(out_sig.code, 9);
        CHECK_STR(so2, "");
    }
}

/* The 9-byte outcome alone: the worker never returned a result. */
static void test_result_outcome_only(void)
{
    struct octo_privacy_client c;
    CHECK_OK(admitted_client(&c, OCTO_ENV_PRIVATE));
    uint8_t fixed[OCTO_PRIVACY_RESULT_FIXED] = {
        OCTO_SANDBOX_SIGNALED, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9};
    struct octo_privacy_outcome out;
    int rc = octo_privacy_client_on_result(&c, fixed, sizeof(fixed), &out, NULL, NULL);
    fixed[0] = OCTO_SANDBOX_CANCELLED + 1;
    struct octo_privacy_outcome out2;
    int rc_bad = octo_privacy_client_on_result(&c, fixed, sizeof(fixed), &out2, NULL, NULL);
    int rc_short = octo_privacy_client_on_result(&c, fixed, sizeof(fixed) - 1, &out2, NULL, NULL);
    int rc_empty = octo_privacy_client_on_result(&c, NULL, 0, &out2, NULL, NULL);
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(!out.have_result);
    CHECK_EQ_INT(out.sandbox, OCTO_SANDBOX_SIGNALED);
    CHECK_EQ_INT(out.worker_exit, -1);
    CHECK_EQ_INT(out.worker_signal, 9);
    CHECK_EQ_INT(out.how, OCTO_ENV_HOW_NOT_STARTED);
    CHECK_ERR(rc_bad, OCTO_EMALFORMED);
    CHECK_ERR(rc_short, OCTO_EMALFORMED);
    CHECK_ERR(rc_empty, OCTO_EMALFORMED);
}

static const uint8_t g_zero_bind[OCTO_ENV_BIND_LEN];

/* Results the client must refuse. */
static void test_result_refused(void)
{
    static const struct {
        enum octo_env_class cls;
        struct result_opts o;
        int want;
    } cases[] = {
        {OCTO_ENV_PRIVATE, {.signer = &g.other}, OCTO_EPERM}, /* another node */
        {OCTO_ENV_PUBLIC, {.signer = &g.other}, OCTO_EPERM},
        {OCTO_ENV_PRIVATE, {.other_task = true}, OCTO_EPERM}, /* another task */
        {OCTO_ENV_SHARED, {.other_task = true}, OCTO_EPERM},
        {OCTO_ENV_PRIVATE, {.use_cls = true, .cls_override = OCTO_ENV_CONFIDENTIAL}, OCTO_EPERM},
        {OCTO_ENV_PUBLIC, {.use_cls = true, .cls_override = OCTO_ENV_SHARED}, OCTO_EPERM},
        {OCTO_ENV_PRIVATE, {.to_other_key = true}, OCTO_EPERM},  /* not our reply key */
        {OCTO_ENV_PRIVATE, {.kind = OCTO_ENV_TASK}, OCTO_EPERM}, /* not a result */
        {OCTO_ENV_PRIVATE, {.flip_sig = true}, OCTO_EBADSIG},
        {OCTO_ENV_SHARED, {.flip_sig = true}, OCTO_EBADSIG},
        /* the reviewer's forge: the node boxes a result to the client's reply key with its own
         * fresh X25519 pair, names the admitted worker in reply_to and signs it */
        {OCTO_ENV_PRIVATE, {.forge = true}, OCTO_EDECRYPT},
        {OCTO_ENV_CONFIDENTIAL, {.forge = true}, OCTO_EDECRYPT},
        /* an honest box, by a worker the client did not admit */
        {OCTO_ENV_PRIVATE, {.other_worker = true}, OCTO_EPERM},
        {OCTO_ENV_CONFIDENTIAL, {.other_worker = true}, OCTO_EPERM},
        /* bound to another command than the one the client agreed to, or to none */
        {OCTO_ENV_PRIVATE, {.bind = g_cmd_other_digest}, OCTO_EMALFORMED},
        {OCTO_ENV_CONFIDENTIAL, {.bind = g_cmd_other_digest}, OCTO_EMALFORMED},
        {OCTO_ENV_PRIVATE, {.bind = g_zero_bind}, OCTO_EMALFORMED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct octo_privacy_client c;
        struct octo_buf body;
        octo_buf_init(&body, OCTO_FRAME_BODY_MAX);
        int rc = admitted_client(&c, cases[i].cls);
        if (rc == 0)
            rc = sim_result(&c, &cases[i].o, 0, "leak?", "", &body);
        struct octo_privacy_outcome out;
        memset(&out, 0, sizeof(out));
        char so[64] = "", se[64] = "";
        int rc_res = rc == 0 ? on_result(&c, &body, &out, so, se) : rc;
        octo_buf_deinit(&body);
        octo_privacy_client_deinit(&c);
        if (rc != 0 || rc_res != cases[i].want || out.have_result || so[0] != '\0')
            octo_test_fail_at(__FILE__, __LINE__, "case %zu: rc %d on_result %d (%s) want %d", i,
                              rc, rc_res, octo_test_err_name(rc_res), cases[i].want);
        CHECK(!octo_test_failed);
    }
    /* a result that names the wrong node while the client was admitted by this one, and a
     * truncated or extended envelope */
    struct octo_privacy_client c;
    struct octo_buf body;
    octo_buf_init(&body, OCTO_FRAME_BODY_MAX);
    struct result_opts o = {0};
    int rc = admitted_client(&c, OCTO_ENV_PRIVATE);
    if (rc == 0)
        rc = sim_result(&c, &o, 0, "x", "", &body);
    struct octo_privacy_outcome out;
    char so[64], se[64];
    body.len--;
    int rc_trunc = on_result(&c, &body, &out, so, se);
    body.len++;
    int rc_trail = octo_buf_append_byte(&body, 0);
    if (rc_trail == 0)
        rc_trail = on_result(&c, &body, &out, so, se);
    body.len--;
    int rc_ok = on_result(&c, &body, &out, so, se);
    octo_buf_deinit(&body);
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK_ERR(rc_trunc, OCTO_EMALFORMED);
    CHECK_ERR(rc_trail, OCTO_EMALFORMED);
    CHECK_OK(rc_ok);
}

/* A sealed result whose payload is not a result payload, and output over the caller's
 * buffer. */
static void test_result_payload_errors(void)
{
    struct octo_privacy_client c;
    CHECK_OK(admitted_client(&c, OCTO_ENV_PRIVATE));
    struct octo_env_params p;
    memset(&p, 0, sizeof(p));
    p.kind = OCTO_ENV_RESULT;
    p.cls = OCTO_ENV_PRIVATE;
    memcpy(p.task_id, g.task_id, OCTO_ENV_TASK_ID_LEN);
    p.sender = g.node.pub;
    p.recipient = c.reply.pub;
    p.reply_to = g.worker.pub;
    p.from = &g.worker;
    memcpy(p.bind, c.command, OCTO_ENV_BIND_LEN);
    struct octo_buf env, body;
    octo_buf_init(&env, OCTO_ENV_MAX);
    octo_buf_init(&body, OCTO_FRAME_BODY_MAX);
    uint8_t fixed[OCTO_PRIVACY_RESULT_FIXED] = {0};
    int rc = octo_env_encode(&p, (const uint8_t *)"not a payload", 13, &env);
    if (rc == 0)
        rc = octo_env_sign(&env, &g.node);
    if (rc == 0)
        rc = octo_buf_append(&body, fixed, sizeof(fixed));
    if (rc == 0)
        rc = octo_buf_append(&body, env.data, env.len);
    struct octo_privacy_outcome out;
    memset(&out, 0, sizeof(out));
    int rc_bad =
        rc == 0 ? octo_privacy_client_on_result(&c, body.data, body.len, &out, NULL, NULL) : rc;
    bool had = out.have_result;
    struct result_opts o = {0};
    if (rc == 0)
        rc = sim_result(&c, &o, 0, "a long line of output", "", &body);
    struct octo_buf tiny;
    octo_buf_init(&tiny, 4);
    int rc_big =
        rc == 0 ? octo_privacy_client_on_result(&c, body.data, body.len, &out, &tiny, NULL) : rc;
    octo_buf_deinit(&tiny);
    octo_buf_deinit(&env);
    octo_buf_deinit(&body);
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK_ERR(rc_bad, OCTO_EMALFORMED);
    CHECK(!had);
    CHECK_ERR(rc_big, OCTO_ETOOBIG);
}

/* ---- the command ---- */

/* The policy's pinned command, a KEY announcing another command, a tampered digest, evidence
 * bound to another command. */
static void test_key_command(void)
{
    struct octo_privacy_policy pol = policy_default();
    struct octo_pubkey owned = g.node.pub;
    pol.owned = &owned;
    pol.owned_count = 1;
    struct octo_privacy_client c;
    char why[WHY_MAX];
    struct key_opts o = {0};
    /* pinned to the command the worker announces: admitted */
    pol.command = g_cmd;
    int rc = run_key(&c, OCTO_ENV_PRIVATE, &pol, &o, why, sizeof(why));
    bool ok = c.admitted && c.att.verified && memcmp(c.command, g_cmd_digest, 32) == 0;
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
    /* pinned to another command: refused with a reason, for every class */
    pol.command = g_cmd_other;
    for (size_t i = 0; i < 4; i++) {
        rc = run_key(&c, all_classes[i], &pol, &o, why, sizeof(why));
        ok = !c.admitted && strstr(why, "command") != NULL;
        octo_privacy_client_deinit(&c);
        CHECK_ERR(rc, OCTO_EPERM);
        CHECK(ok);
    }
    /* the worker announces the other command (signed by the node): a policy pinned to g_cmd
     * refuses it; an unpinned one takes it, and binds the task to it */
    o.command = g_cmd_other_digest;
    pol.command = g_cmd;
    rc = run_key(&c, OCTO_ENV_SHARED, &pol, &o, why, sizeof(why));
    ok = !c.admitted && why[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EPERM);
    CHECK(ok);
    pol.command = NULL;
    rc = run_key(&c, OCTO_ENV_PRIVATE, &pol, &o, why, sizeof(why));
    ok = c.admitted && c.att.verified && memcmp(c.command, g_cmd_other_digest, 32) == 0;
    struct octo_buf frame, payload;
    octo_buf_init(&frame, OCTO_FRAME_HEAD_LEN + OCTO_ENV_MAX);
    octo_buf_init_secret(&payload, OCTO_ENV_PAYLOAD_MAX);
    int rc_task =
        rc == 0 ? octo_privacy_client_task(&c, &pol, (const uint8_t *)"p", 1, &frame) : rc;
    struct octo_envelope e;
    int rc_dec = rc_task == 0 ? octo_env_decode(frame.data + OCTO_FRAME_HEAD_LEN,
                                                frame.len - OCTO_FRAME_HEAD_LEN, true, &e)
                              : rc_task;
    int rc_mine = rc_dec == 0 ? octo_env_open_bound(&e, &g.worker, g_cmd_digest, &payload) : rc_dec;
    int rc_theirs =
        rc_dec == 0 ? octo_env_open_bound(&e, &g.worker, g_cmd_other_digest, &payload) : rc_dec;
    bool opened = payload.len == 1 && payload.data[0] == 'p';
    octo_buf_deinit(&frame);
    octo_buf_deinit(&payload);
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
    CHECK_OK(rc_task);
    CHECK_OK(rc_dec);
    CHECK_ERR(rc_mine, OCTO_EMALFORMED);
    CHECK_OK(rc_theirs);
    CHECK(opened);
    /* a relay that changes the announced digest breaks the node's signature, pinned or not */
    o = (struct key_opts){.tamper_command = true};
    rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    ok = !c.admitted && why[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EBADSIG);
    CHECK(ok);
    pol.command = g_cmd;
    rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EBADSIG);
    /* evidence bound to another command digest than the KEY announces: not verified (the
     * matrix then decides without it) */
    o = (struct key_opts){.ev_command = g_cmd_other_digest};
    pol.command = NULL;
    pol.owned_count = 0;
    rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    ok = c.admitted && !c.att.verified && c.att.reason[0] != '\0';
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
    rc = run_key(&c, OCTO_ENV_PRIVATE, &pol, &o, why, sizeof(why));
    ok = !c.admitted && !c.att.verified;
    octo_privacy_client_deinit(&c);
    CHECK_ERR(rc, OCTO_EPERM);
    CHECK(ok);
    /* control: the same policy with evidence bound to the announced command verifies */
    o = (struct key_opts){0};
    rc = run_key(&c, OCTO_ENV_PUBLIC, &pol, &o, why, sizeof(why));
    ok = c.admitted && c.att.verified;
    octo_privacy_client_deinit(&c);
    CHECK_OK(rc);
    CHECK(ok);
}

/* ---- frame I/O ---- */

#define BIG_WRITE (4u * 1024u * 1024u)
#define IO_TIMEOUT_MS 200u

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* 4 MiB to fd within IO_TIMEOUT_MS; *ms is how long it took. */
static int write_big(int fd, uint64_t *ms)
{
    uint8_t *big = octo_calloc(1, BIG_WRITE);
    if (big == NULL)
        return 1000;
    uint64_t t0 = now_ms();
    int rc = octo_privacy_write_all(fd, big, BIG_WRITE, IO_TIMEOUT_MS);
    *ms = now_ms() - t0;
    octo_free(big);
    return rc;
}

/* A peer that never reads: OCTO_ETIMEDOUT at about the timeout, on a socket and on a pipe. */
static void test_write_all_timeout(void)
{
    int sv[2], pf[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(pipe2(pf, O_CLOEXEC) == 0);
    uint64_t ms_sock = 0, ms_pipe = 0;
    int rc_sock = write_big(sv[0], &ms_sock);
    int rc_pipe = write_big(pf[1], &ms_pipe);
    /* a small write to a socket with room goes through, and arrives */
    uint8_t small[100], got[100];
    memset(small, 0x5c, sizeof(small));
    int sv2[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2) == 0);
    int rc_small = octo_privacy_write_all(sv2[0], small, sizeof(small), IO_TIMEOUT_MS);
    ssize_t n = read(sv2[1], got, sizeof(got));
    close(sv[0]);
    close(sv[1]);
    close(sv2[0]);
    close(sv2[1]);
    close(pf[0]);
    close(pf[1]);
    CHECK_ERR(rc_sock, OCTO_ETIMEDOUT);
    CHECK(ms_sock >= IO_TIMEOUT_MS - 10 && ms_sock < IO_TIMEOUT_MS + 1500);
    CHECK_ERR(rc_pipe, OCTO_ETIMEDOUT);
    CHECK(ms_pipe >= IO_TIMEOUT_MS - 10 && ms_pipe < IO_TIMEOUT_MS + 1500);
    CHECK_OK(rc_small);
    CHECK_EQ_INT(n, (int)sizeof(small));
    CHECK_MEM(got, small, sizeof(small));
}

/* A peer that is gone: OCTO_ECLOSED, without SIGPIPE (a socket uses MSG_NOSIGNAL; for a pipe
 * the caller blocks SIGPIPE, as octo_privacy_serve does). */
static void test_write_all_closed(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    close(sv[1]);
    uint64_t ms = 0;
    int rc_small = octo_privacy_write_all(sv[0], (const uint8_t *)"gone?", 5, IO_TIMEOUT_MS);
    int rc_big = write_big(sv[0], &ms);
    close(sv[0]);
    CHECK_ERR(rc_small, OCTO_ECLOSED);
    CHECK_ERR(rc_big, OCTO_ECLOSED);
    /* a pipe whose reader is gone, SIGPIPE blocked in this thread */
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    CHECK(pthread_sigmask(SIG_BLOCK, &pipe_set, &old) == 0);
    int pf[2];
    CHECK(pipe2(pf, O_CLOEXEC) == 0);
    close(pf[0]);
    int rc_pipe = octo_privacy_write_all(pf[1], (const uint8_t *)"gone?", 5, IO_TIMEOUT_MS);
    int rc_pipe_big = write_big(pf[1], &ms);
    close(pf[1]);
    sigemptyset(&pending);
    bool raised = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) > 0) {
    }
    CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
    CHECK_ERR(rc_pipe, OCTO_ECLOSED);
    CHECK_ERR(rc_pipe_big, OCTO_ECLOSED);
    CHECK(raised); /* the pipe did raise it: the block is what kept the test alive */
}

/* Writes bytes to fd (a socket with room for them). */
static int peer_send(int fd, const uint8_t *p, size_t n)
{
    return octo_privacy_write_all(fd, p, n, 1000);
}

/* Reads one frame from a socketpair whose peer sent head (5 bytes) and extra zero bytes and
 * then closed or not; *grew is how much octo_alloc's live bytes grew while buf held what
 * read_frame left in it. */
static int read_after(const uint8_t head[OCTO_FRAME_HEAD_LEN], size_t extra, bool close_peer,
                      size_t max, uint32_t timeout_ms, uint64_t *grew)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return 1000;
    uint8_t *zeros = octo_calloc(1, extra + 1);
    int rc = zeros != NULL ? peer_send(sv[1], head, OCTO_FRAME_HEAD_LEN) : 1001;
    if (rc == 0 && extra > 0)
        rc = peer_send(sv[1], zeros, extra);
    octo_free(zeros);
    if (close_peer) {
        close(sv[1]);
        sv[1] = -1;
    }
    struct octo_buf buf;
    octo_buf_init(&buf, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    const uint8_t *body = NULL;
    size_t body_len = 0;
    if (rc == 0)
        rc = octo_privacy_read_frame(sv[0], max, timeout_ms, &buf, &body, &body_len);
    octo_alloc_stats(&after);
    *grew = after.bytes_live - before.bytes_live;
    octo_buf_deinit(&buf);
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return rc;
}

static void test_read_frame(void)
{
    /* a whole frame */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    struct octo_buf f, buf;
    octo_buf_init(&f, 256);
    octo_buf_init(&buf, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    CHECK_OK(octo_frame_append(&f, OCTO_FRAME_TASK, (const uint8_t *)"abc", 3));
    CHECK_OK(octo_frame_append(&f, OCTO_FRAME_ERROR, (const uint8_t *)"no", 2));
    CHECK_OK(peer_send(sv[1], f.data, f.len));
    const uint8_t *body = NULL;
    size_t blen = 0;
    int t1 = octo_privacy_read_frame(sv[0], 64, 1000, &buf, &body, &blen);
    bool b1 = blen == 3 && body != NULL && memcmp(body, "abc", 3) == 0;
    int t2 = octo_privacy_read_frame(sv[0], 64, 1000, &buf, &body, &blen);
    bool b2 = blen == 2 && body != NULL && memcmp(body, "no", 2) == 0 &&
              buf.len == OCTO_FRAME_HEAD_LEN + 2; /* reset first */
    /* nothing more arrives: the deadline */
    uint64_t t0 = now_ms();
    int t3 = octo_privacy_read_frame(sv[0], 64, 100, &buf, &body, &blen);
    uint64_t ms = now_ms() - t0;
    close(sv[1]);
    int t4 = octo_privacy_read_frame(sv[0], 64, 1000, &buf, &body, &blen); /* EOF */
    close(sv[0]);
    octo_buf_deinit(&f);
    octo_buf_deinit(&buf);
    CHECK_EQ_INT(t1, OCTO_FRAME_TASK);
    CHECK(b1);
    CHECK_EQ_INT(t2, OCTO_FRAME_ERROR);
    CHECK(b2);
    CHECK_ERR(t3, OCTO_ETIMEDOUT);
    CHECK(ms >= 90 && ms < 1500);
    CHECK_ERR(t4, OCTO_ECLOSED);
    /* a header announcing OCTO_ENV_MAX, then the peer closes: OCTO_ECLOSED, and the buffer
     * holds about what arrived, far from 16 MiB */
    uint8_t head[OCTO_FRAME_HEAD_LEN] = {OCTO_FRAME_TASK};
    head[1] = (uint8_t)(OCTO_ENV_MAX >> 24);
    head[2] = (uint8_t)(OCTO_ENV_MAX >> 16);
    head[3] = (uint8_t)(OCTO_ENV_MAX >> 8);
    head[4] = (uint8_t)OCTO_ENV_MAX;
    uint64_t grew = 0, grew_some = 0, grew_wait = 0;
    int rc = read_after(head, 0, true, OCTO_ENV_MAX, 1000, &grew);
    CHECK_ERR(rc, OCTO_ECLOSED);
    CHECK(grew < 256u * 1024u);
    /* ... after 100 000 body bytes */
    rc = read_after(head, 100000, true, OCTO_ENV_MAX, 1000, &grew_some);
    CHECK_ERR(rc, OCTO_ECLOSED);
    CHECK(grew_some < 512u * 1024u);
    /* ... or the peer stays but sends nothing more: the deadline, same memory */
    rc = read_after(head, 0, false, OCTO_ENV_MAX, 100, &grew_wait);
    CHECK_ERR(rc, OCTO_ETIMEDOUT);
    CHECK(grew_wait < 256u * 1024u);
    /* the same header against a smaller max, and an unknown frame type */
    rc = read_after(head, 0, true, 1024, 1000, &grew);
    CHECK_ERR(rc, OCTO_ETOOBIG);
    uint8_t bad[OCTO_FRAME_HEAD_LEN] = {0x7f, 0, 0, 0, 1};
    rc = read_after(bad, 1, true, 1024, 1000, &grew);
    CHECK_ERR(rc, OCTO_EMALFORMED);
    /* a header cut short */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK_OK(peer_send(sv[1], head, 3));
    close(sv[1]);
    octo_buf_init(&buf, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    rc = octo_privacy_read_frame(sv[0], OCTO_ENV_MAX, 1000, &buf, &body, &blen);
    octo_buf_deinit(&buf);
    close(sv[0]);
    CHECK_ERR(rc, OCTO_ECLOSED);
}

int main(void)
{
    if (octo_crypto_init() < 0 || sim_init() < 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    OCTO_RUN(test_admit_table);
    OCTO_RUN(test_admit_reasons);
    OCTO_RUN(test_client_init_hello);
    OCTO_RUN(test_key_admission);
    OCTO_RUN(test_key_signature);
    OCTO_RUN(test_key_evidence_binding);
    OCTO_RUN(test_key_malformed);
    OCTO_RUN(test_task);
    OCTO_RUN(test_result);
    OCTO_RUN(test_result_outcome_only);
    OCTO_RUN(test_result_refused);
    OCTO_RUN(test_result_payload_errors);
    OCTO_RUN(test_key_command);
    OCTO_RUN(test_write_all_timeout);
    OCTO_RUN(test_write_all_closed);
    OCTO_RUN(test_read_frame);
    sim_deinit();
    return octo_test_finish();
}
