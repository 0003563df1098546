/*
 * fuzz_envelope.c — libFuzzer harness for the Privacy Containers' codecs (exec/envelope.h)
 * and the client's side of the exchange (exec/privacy.h): envelope decoding (signed and
 * unsigned), opening, the ACL lookup, the result payload, frames, and the client's handling
 * of KEY and RESULT frame bodies.
 *
 * Input: byte 0 selects: low 3 bits the target (0 signed envelope, 1 unsigned envelope,
 * 2 result payload, 3 frames, 4 KEY body, 5 RESULT body, 6 and 7 both envelope forms), bit 3
 * "the client's policy owns the node" (KEY) or "bodies of at most 64 bytes" (frames), bits
 * 4-5 the client's class (KEY, RESULT), bit 6 "the client's policy pins the fixed command"
 * (KEY). The rest is the target's input.
 *
 * Fixed keys, the ones the seeds in fuzz/seeds/envelope/ were made with (write_seeds() in
 * tests/unit/exec/test_envelope.c; keep the SEED_* values and the command equal): Ed25519
 * identities from the 32-byte seeds 0xC1.. (client) and 0xD2.. (node), X25519 key pairs of the
 * identities 0xE3.. (worker: tasks are opened with it, results are boxed from it) and 0xF4..
 * (the client's reply key: results), task id 0x7B.., nonce 0x5A.., command {"/bin/cat", "-n"}
 * (its digest binds the seeds' KEY and results).
 *
 * Invariants: errors only from each function's documented set; a decoded envelope obeys the
 * layout rules (a plaintext body never over OCTO_ENV_PAYLOAD_MAX), is canonical (re-encoding
 * its fields and payload gives the same bytes; a re-signature by a fixed identity gives the
 * same signature) and opens only with its recipient's key, and never with two different binds;
 * a sealed result opens only when boxed by the fixed worker named in reply_to; a result
 * payload re-encodes to the same bytes when its status is representable; frames re-append to
 * the same bytes; the client admits PRIVATE only on an owned node and CONFIDENTIAL never (the
 * policy trusts no TEE), a pinned policy only the fixed command, builds a task that the worker
 * opens only with the announced command's bind, and accepts a result only when the fixed node
 * signed it for this task (a sealed one boxed by the admitted worker to the reply key).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "crypto/ident.h"
#include "crypto/seal.h"
#include "exec/attest.h"
#include "exec/envelope.h"
#include "exec/privacy.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEED_CLIENT 0xC1
#define SEED_NODE 0xD2
#define SEED_WORKER 0xE3
#define SEED_REPLY 0xF4
#define FIXED_TASK 0x7B
#define FIXED_NONCE 0x5A
#define OUT_MAX (1u << 20)

static const char *const fixed_cmd[] = {"/bin/cat", "-n", NULL};

static struct {
    bool ready;
    struct octo_identity client, node;
    struct octo_seal_keypair worker, reply;
    struct octo_trust_anchor anchor;
    struct octo_trust_anchors anchors;
    uint8_t task[OCTO_ENV_TASK_ID_LEN];
    uint8_t cmd[OCTO_ENV_BIND_LEN]; /* fixed_cmd's digest */
} fz;

static void identity_from_byte(struct octo_identity *id, uint8_t b)
{
    uint8_t seed[OCTO_ED25519_SEED_LEN];
    memset(seed, b, sizeof(seed));
    OCTO_ASSERT(octo_identity_from_seed(id, seed) == 0);
}

static void seal_from_byte(struct octo_seal_keypair *kp, uint8_t b)
{
    struct octo_identity id;
    identity_from_byte(&id, b);
    OCTO_ASSERT(octo_seal_keypair_from_identity(&id, kp) == 0);
    octo_identity_deinit(&id);
}

static void fuzz_setup(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    identity_from_byte(&fz.client, SEED_CLIENT);
    identity_from_byte(&fz.node, SEED_NODE);
    seal_from_byte(&fz.worker, SEED_WORKER);
    seal_from_byte(&fz.reply, SEED_REPLY);
    memset(fz.task, FIXED_TASK, sizeof(fz.task));
    octo_env_command_digest(fixed_cmd, fz.cmd);
    fz.anchor = (struct octo_trust_anchor){.type = OCTO_EV_SOFTWARE_UNVERIFIED,
                                           .kind = OCTO_ANCHOR_ED25519,
                                           .data = fz.node.pub.bytes,
                                           .len = OCTO_ED25519_PK_LEN,
                                           .label = "TEST ONLY: fuzz node",
                                           .test_only = true};
    fz.anchors.items = &fz.anchor;
    fz.anchors.count = 1;
    fz.ready = true;
}

/* ---- envelopes ---- */

static bool acl_linear(const struct octo_envelope *e, const struct octo_pubkey *who)
{
    for (size_t i = 0; i < e->acl_count; i++) {
        if (memcmp(e->acl + 32 * i, who->bytes, 32) == 0)
            return true;
    }
    return false;
}

static void check_layout(const struct octo_envelope *e, const uint8_t *data, size_t size,
                         bool want_signed)
{
    OCTO_ASSERT(e->kind == OCTO_ENV_TASK || e->kind == OCTO_ENV_RESULT);
    OCTO_ASSERT((unsigned)e->cls <= OCTO_ENV_PRIVATE);
    OCTO_ASSERT(e->is_signed == want_signed);
    OCTO_ASSERT(e->header == data);
    OCTO_ASSERT(e->acl == data + OCTO_ENV_FIXED_LEN);
    OCTO_ASSERT(e->header_len == OCTO_ENV_FIXED_LEN + 32 * e->acl_count);
    OCTO_ASSERT(e->body == data + e->header_len + 4);
    OCTO_ASSERT(e->header_len + 4 + e->body_len + (want_signed ? OCTO_ENV_SIG_LEN : 0) == size);
    OCTO_ASSERT(e->body_len <= OCTO_ENV_BODY_MAX);
    OCTO_ASSERT((e->cls == OCTO_ENV_CONFIDENTIAL) == (e->acl_count > 0));
    OCTO_ASSERT(e->acl_count <= OCTO_ENV_ACL_MAX);
    for (size_t i = 1; i < e->acl_count; i++)
        OCTO_ASSERT(memcmp(e->acl + 32 * (i - 1), e->acl + 32 * i, 32) < 0);
    for (size_t i = 0; i < e->acl_count; i++) {
        struct octo_pubkey k;
        memcpy(k.bytes, e->acl + 32 * i, 32);
        OCTO_ASSERT(octo_env_acl_allows(e, &k));
    }
    const struct octo_pubkey *probes[2] = {&fz.client.pub, &fz.node.pub};
    for (size_t i = 0; i < 2; i++)
        OCTO_ASSERT(octo_env_acl_allows(e, probes[i]) ==
                    (e->cls != OCTO_ENV_CONFIDENTIAL || acl_linear(e, probes[i])));
}

/* Re-encodes e's fields with payload: an unsealed envelope must come out byte for byte, a
 * sealed one with the same header and body length. */
static void check_canonical(const struct octo_envelope *e, const uint8_t *payload, size_t len)
{
    static struct octo_pubkey acl[OCTO_ENV_ACL_MAX];
    struct octo_env_params p;
    memset(&p, 0, sizeof(p));
    p.kind = e->kind;
    p.cls = e->cls;
    memcpy(p.task_id, e->task_id, sizeof(p.task_id));
    p.sender = e->sender;
    p.reply_to = e->reply_to;
    p.recipient = e->recipient;
    if (octo_env_class_sealed(e->cls) && e->kind == OCTO_ENV_RESULT) {
        OCTO_ASSERT(memcmp(e->reply_to.bytes, fz.worker.pub.bytes, 32) == 0);
        p.from = &fz.worker;
    }
    memcpy(acl, e->acl, 32 * e->acl_count);
    p.acl = acl;
    p.acl_count = e->acl_count;
    struct octo_buf out;
    octo_buf_init(&out, OCTO_ENV_MAX);
    int rc = octo_env_encode(&p, payload, len, &out);
    OCTO_ASSERT(rc == 0);
    if (octo_env_class_sealed(e->cls)) {
        OCTO_ASSERT(out.len == e->header_len + 4 + e->body_len);
        OCTO_ASSERT(memcmp(out.data, e->header, e->header_len + 4) == 0);
    } else {
        OCTO_ASSERT(out.len == e->header_len + 4 + e->body_len);
        OCTO_ASSERT(memcmp(out.data, e->header, out.len) == 0);
    }
    octo_buf_deinit(&out);
}

/* A verified envelope from a fixed identity re-signs to the same bytes (Ed25519 is
 * deterministic and the signature covers everything). */
static void check_resign(const struct octo_envelope *e, const uint8_t *data, size_t size)
{
    const struct octo_identity *ids[2] = {&fz.client, &fz.node};
    for (size_t i = 0; i < 2; i++) {
        if (memcmp(e->sender.bytes, ids[i]->pub.bytes, 32) != 0)
            continue;
        struct octo_buf b;
        octo_buf_init(&b, OCTO_ENV_MAX);
        OCTO_ASSERT(octo_buf_append(&b, data, size - OCTO_ENV_SIG_LEN) == 0);
        OCTO_ASSERT(octo_env_sign(&b, ids[i]) == 0);
        OCTO_ASSERT(b.len == size && memcmp(b.data, data, size) == 0);
        octo_buf_deinit(&b);
    }
}

static void fuzz_env(const uint8_t *data, size_t size, bool want_signed)
{
    struct octo_envelope e;
    int rc = octo_env_decode(data, size, want_signed, &e);
    if (rc != 0) {
        OCTO_ASSERT(rc == OCTO_ETOOBIG || rc == OCTO_EMALFORMED || rc == OCTO_EUNSUPPORTED ||
                    (want_signed && rc == OCTO_EBADSIG));
        return;
    }
    check_layout(&e, data, size, want_signed);
    if (want_signed)
        check_resign(&e, data, size);
    bool sealed = octo_env_class_sealed(e.cls);
    const struct octo_seal_keypair *kp = e.kind == OCTO_ENV_TASK ? &fz.worker : &fz.reply;
    struct octo_buf out;
    octo_buf_init_secret(&out, 3 + OCTO_ENV_BODY_MAX);
    OCTO_ASSERT(octo_buf_append(&out, "pre", 3) == 0);
    rc = octo_env_open(&e, sealed ? kp : NULL, &out);
    if (rc != 0)
        OCTO_ASSERT(out.len == 3); /* out unchanged on error */
    if (!sealed) {
        OCTO_ASSERT(rc == 0);
        OCTO_ASSERT(out.len == 3 + e.body_len);
        OCTO_ASSERT(e.body_len == 0 || memcmp(out.data + 3, e.body, e.body_len) == 0);
    } else if (memcmp(e.recipient.bytes, kp->pub.bytes, 32) != 0) {
        OCTO_ASSERT(rc == OCTO_EPERM);
    } else {
        /* a body opens with at most one of two different binds (zero, the fixed command) */
        size_t overhead = e.kind == OCTO_ENV_RESULT ? OCTO_ENV_BOX_NONCE_LEN + OCTO_ENV_BOX_MAC_LEN
                                                    : OCTO_SEAL_OVERHEAD;
        /* (a sealed result body over OCTO_ENV_PAYLOAD_MAX + 32 + 40 bytes decodes but cannot
         * be opened: OCTO_ETOOBIG from the inner buffer; see test_decoder_sizes) */
        bool oversized = e.body_len - overhead - 32 > OCTO_ENV_PAYLOAD_MAX;
        struct octo_buf other;
        octo_buf_init_secret(&other, OCTO_ENV_BODY_MAX);
        int rc_cmd = octo_env_open_bound(&e, kp, fz.cmd, &other);
        OCTO_ASSERT(rc == 0 || rc == OCTO_EDECRYPT || rc == OCTO_EMALFORMED ||
                    (oversized && rc == OCTO_ETOOBIG));
        OCTO_ASSERT(rc_cmd == 0 || rc_cmd == OCTO_EDECRYPT || rc_cmd == OCTO_EMALFORMED ||
                    (oversized && rc_cmd == OCTO_ETOOBIG));
        OCTO_ASSERT(!(rc == 0 && rc_cmd == 0));
        /* the box does not depend on the bind: both fail to decrypt or neither does */
        OCTO_ASSERT((rc == OCTO_EDECRYPT) == (rc_cmd == OCTO_EDECRYPT));
        if (rc_cmd != 0)
            OCTO_ASSERT(other.len == 0);
        if (rc == 0)
            OCTO_ASSERT(out.len == 3 + e.body_len - overhead - 32);
        if (rc_cmd == 0) {
            OCTO_ASSERT(other.len == e.body_len - overhead - 32);
            rc = 0; /* the canonical check below runs with this payload */
            OCTO_ASSERT(octo_buf_append(&out, other.data, other.len) == 0);
        }
        octo_buf_deinit(&other);
    }
    /* the decoder refuses plaintext bodies over OCTO_ENV_PAYLOAD_MAX: everything that opened
     * re-encodes */
    if (rc == 0) {
        OCTO_ASSERT(out.len - 3 <= OCTO_ENV_PAYLOAD_MAX);
        check_canonical(&e, out.len > 3 ? out.data + 3 : NULL, out.len - 3);
    }
    octo_buf_deinit(&out);
}

/* ---- result payload ---- */

static void fuzz_result_payload(const uint8_t *data, size_t size)
{
    int how = -1, code = -1, how2 = -1, code2 = -1;
    struct octo_buf o, e;
    octo_buf_init(&o, OUT_MAX);
    octo_buf_init(&e, OUT_MAX);
    int rc = octo_env_result_decode(data, size, &how, &code, &o, &e);
    OCTO_ASSERT(rc == octo_env_result_decode(data, size, &how2, &code2, NULL, NULL));
    if (rc != 0) {
        OCTO_ASSERT(rc == OCTO_EMALFORMED || rc == OCTO_ETOOBIG);
    } else {
        OCTO_ASSERT(how == how2 && code == code2);
        OCTO_ASSERT(how >= OCTO_ENV_HOW_EXITED && how <= OCTO_ENV_HOW_NOT_STARTED);
        OCTO_ASSERT(o.len + e.len + 14 == size);
        int st = -2;
        if (how == OCTO_ENV_HOW_EXITED && code >= 0 && code <= 255)
            st = code << 8;
        else if (how == OCTO_ENV_HOW_SIGNALED && code >= 1 && code <= 0x7e)
            st = code;
        else if (how == OCTO_ENV_HOW_NOT_STARTED && code == 0)
            st = -1;
        if (st != -2) {
            struct octo_buf back;
            octo_buf_init(&back, 2 * OUT_MAX + 64);
            OCTO_ASSERT(octo_env_result_encode(st, &o, &e, &back) == 0);
            OCTO_ASSERT(back.len == size && memcmp(back.data, data, size) == 0);
            octo_buf_deinit(&back);
        }
    }
    octo_buf_deinit(&o);
    octo_buf_deinit(&e);
}

/* ---- frames ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fuzz_frames(const uint8_t *data, size_t size, size_t max)
{
    size_t at = 0;
    for (;;) {
        enum octo_frame_type type;
        const uint8_t *body = NULL;
        size_t blen = 0;
        const uint8_t *p = size > at ? data + at : NULL;
        long got = octo_frame_parse(p, size - at, max, &type, &body, &blen);
        if (got == OCTO_EAGAIN) {
            OCTO_ASSERT(size - at < OCTO_FRAME_HEAD_LEN ||
                        be32(p + 1) > size - at - OCTO_FRAME_HEAD_LEN);
            return;
        }
        if (got < 0) {
            OCTO_ASSERT(got == OCTO_EMALFORMED || got == OCTO_ETOOBIG);
            return;
        }
        OCTO_ASSERT((size_t)got == OCTO_FRAME_HEAD_LEN + blen && (size_t)got <= size - at);
        OCTO_ASSERT(blen <= max && body == p + OCTO_FRAME_HEAD_LEN);
        OCTO_ASSERT(type >= OCTO_FRAME_HELLO && type <= OCTO_FRAME_TYPE_LAST);
        struct octo_buf b;
        octo_buf_init(&b, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
        OCTO_ASSERT(octo_frame_append(&b, type, body, blen) == 0);
        OCTO_ASSERT(b.len == (size_t)got && memcmp(b.data, p, b.len) == 0);
        octo_buf_deinit(&b);
        at += (size_t)got;
    }
}

/* ---- the client ---- */

static void client_make(struct octo_privacy_client *c, enum octo_env_class cls)
{
    OCTO_ASSERT(octo_privacy_client_init(c, &fz.client, cls, fz.task) == 0);
    memset(c->nonce, FIXED_NONCE, sizeof(c->nonce));
    c->reply = fz.reply;
}

static void fuzz_key(const uint8_t *data, size_t size, enum octo_env_class cls, bool owned,
                     bool pinned)
{
    struct octo_privacy_client c;
    client_make(&c, cls);
    struct octo_privacy_policy pol;
    memset(&pol, 0, sizeof(pol));
    pol.anchors[OCTO_EV_SOFTWARE_UNVERIFIED] = &fz.anchors;
    pol.acl = &fz.node.pub;
    pol.acl_count = 1;
    if (owned) {
        pol.owned = &fz.node.pub;
        pol.owned_count = 1;
    }
    if (pinned)
        pol.command = fixed_cmd;
    char why[128];
    int rc = octo_privacy_client_on_key(&c, &pol, data, size, why, sizeof(why));
    OCTO_ASSERT(rc == 0 || rc == OCTO_EPERM || rc == OCTO_EBADSIG || rc == OCTO_EMALFORMED ||
                rc == OCTO_ETOOBIG);
    OCTO_ASSERT(c.admitted == (rc == 0));
    OCTO_ASSERT(memchr(why, 0, sizeof(why)) != NULL);
    if (rc == OCTO_EPERM || rc == OCTO_EBADSIG)
        OCTO_ASSERT(why[0] != '\0');
    if (c.att.verified) {
        /* only the fixed node's software evidence verifies here */
        OCTO_ASSERT(rc != OCTO_EBADSIG);
        OCTO_ASSERT(c.att.type == OCTO_EV_SOFTWARE_UNVERIFIED && !c.att.hardware_rooted);
    }
    if (rc == 0) {
        bool is_owned = owned && memcmp(c.node.bytes, fz.node.pub.bytes, 32) == 0;
        OCTO_ASSERT(cls == OCTO_ENV_PUBLIC || cls == OCTO_ENV_SHARED ||
                    (cls == OCTO_ENV_PRIVATE && is_owned));
        OCTO_ASSERT(!pinned || memcmp(c.command, fz.cmd, OCTO_ENV_BIND_LEN) == 0);
        struct octo_buf f;
        octo_buf_init(&f, OCTO_FRAME_HEAD_LEN + OCTO_ENV_MAX);
        int t = octo_privacy_client_task(&c, &pol, (const uint8_t *)"fuzz", 4, &f);
        OCTO_ASSERT(t == 0 || t == OCTO_EINVAL || t == OCTO_ECRYPTO);
        if (t == 0) {
            enum octo_frame_type type;
            const uint8_t *b = NULL;
            size_t n = 0;
            OCTO_ASSERT(octo_frame_parse(f.data, f.len, OCTO_FRAME_BODY_MAX, &type, &b, &n) ==
                        (long)f.len);
            struct octo_envelope e;
            OCTO_ASSERT(octo_env_decode(b, n, true, &e) == 0);
            OCTO_ASSERT(e.cls == cls && e.kind == OCTO_ENV_TASK);
            OCTO_ASSERT(memcmp(e.sender.bytes, fz.client.pub.bytes, 32) == 0);
            if (octo_env_class_sealed(cls)) {
                OCTO_ASSERT(memcmp(e.recipient.bytes, c.worker.bytes, 32) == 0);
                OCTO_ASSERT(memcmp(e.reply_to.bytes, c.reply.pub.bytes, 32) == 0);
            }
            /* the fixed worker opens it with the announced command's bind, not another */
            if (!octo_env_class_sealed(cls) ||
                memcmp(c.worker.bytes, fz.worker.pub.bytes, 32) == 0) {
                struct octo_buf pl;
                octo_buf_init_secret(&pl, 64);
                OCTO_ASSERT(octo_env_open_bound(&e, &fz.worker, c.command, &pl) == 0);
                OCTO_ASSERT(pl.len == 4 && memcmp(pl.data, "fuzz", 4) == 0);
                uint8_t other[OCTO_ENV_BIND_LEN];
                memcpy(other, c.command, sizeof(other));
                other[0] ^= 1;
                int rc_other = octo_env_open_bound(&e, &fz.worker, other, &pl);
                OCTO_ASSERT(octo_env_class_sealed(cls) ? rc_other == OCTO_EMALFORMED
                                                       : rc_other == 0);
                octo_buf_deinit(&pl);
            }
        }
        octo_buf_deinit(&f);
    } else {
        struct octo_buf f;
        octo_buf_init(&f, 64);
        OCTO_ASSERT(octo_privacy_client_task(&c, &pol, NULL, 0, &f) == OCTO_ESTATE);
        OCTO_ASSERT(f.len == 0);
        octo_buf_deinit(&f);
    }
    octo_privacy_client_deinit(&c);
}

static void fuzz_result(const uint8_t *data, size_t size, enum octo_env_class cls)
{
    struct octo_privacy_client c;
    client_make(&c, cls);
    c.node = fz.node.pub;
    c.worker = fz.worker.pub;
    memcpy(c.command, fz.cmd, OCTO_ENV_BIND_LEN);
    c.admitted = true;
    struct octo_buf so, se;
    octo_buf_init_secret(&so, OUT_MAX);
    octo_buf_init_secret(&se, OUT_MAX);
    struct octo_privacy_outcome out;
    int rc = octo_privacy_client_on_result(&c, data, size, &out, &so, &se);
    OCTO_ASSERT(rc == 0 || rc == OCTO_EMALFORMED || rc == OCTO_EBADSIG || rc == OCTO_EPERM ||
                rc == OCTO_EDECRYPT || rc == OCTO_ETOOBIG || rc == OCTO_EUNSUPPORTED);
    if (rc == 0 && size == OCTO_PRIVACY_RESULT_FIXED)
        OCTO_ASSERT(!out.have_result && so.len == 0 && se.len == 0);
    if (rc == 0 && size > OCTO_PRIVACY_RESULT_FIXED) {
        /* accepted: a result for this task and class, signed by the fixed node */
        OCTO_ASSERT(out.have_result);
        OCTO_ASSERT(out.how >= OCTO_ENV_HOW_EXITED && out.how <= OCTO_ENV_HOW_NOT_STARTED);
        struct octo_envelope e;
        OCTO_ASSERT(octo_env_decode(data + OCTO_PRIVACY_RESULT_FIXED,
                                    size - OCTO_PRIVACY_RESULT_FIXED, true, &e) == 0);
        OCTO_ASSERT(e.kind == OCTO_ENV_RESULT && e.cls == cls);
        OCTO_ASSERT(memcmp(e.sender.bytes, fz.node.pub.bytes, 32) == 0);
        OCTO_ASSERT(memcmp(e.task_id, fz.task, sizeof(fz.task)) == 0);
        if (octo_env_class_sealed(cls)) {
            OCTO_ASSERT(memcmp(e.reply_to.bytes, fz.worker.pub.bytes, 32) == 0);
            OCTO_ASSERT(memcmp(e.recipient.bytes, fz.reply.pub.bytes, 32) == 0);
        }
    }
    if (rc != 0)
        OCTO_ASSERT(!out.have_result);
    octo_buf_deinit(&so);
    octo_buf_deinit(&se);
    octo_privacy_client_deinit(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz.ready)
        fuzz_setup();
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *in = size > 1 ? data + 1 : NULL;
    size_t len = size - 1;
    enum octo_env_class cls = (enum octo_env_class)((sel >> 4) & 3);
    switch (sel & 7) {
    case 0:
        fuzz_env(in, len, true);
        break;
    case 1:
        fuzz_env(in, len, false);
        break;
    case 2:
        fuzz_result_payload(in, len);
        break;
    case 3:
        fuzz_frames(in, len, (sel & 8) != 0 ? 64 : OCTO_FRAME_BODY_MAX);
        break;
    case 4:
        fuzz_key(in, len, cls, (sel & 8) != 0, (sel & 0x40) != 0);
        break;
    case 5:
        fuzz_result(in, len, cls);
        break;
    default:
        fuzz_env(in, len, true);
        fuzz_env(in, len, false);
        break;
    }
    return 0;
}
