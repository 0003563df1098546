/*
 * privacy.c — the data-class matrix, the client's side of the sealed exchange and the
 * provider's relay (protocol: privacy.h; envelope and frame layout: envelope.h).
 *
 * The provider drives the worker's sandbox with an interactive stdin (struct octo_sandbox_feed):
 * the worker's KEY arrives through the on_output callback, which forwards it to the client,
 * waits (bounded by io_timeout_ms) for the client's TASK, checks it and queues it for the
 * worker; the worker's RESULT is checked against the task, signed with the node key and sent
 * once the sandbox has ended, with the sandbox's outcome. The provider never holds a key that
 * opens a sealed body: the worker made its key pair inside the sandbox.
 */
#include "exec/privacy.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "crypto/hash.h"
#include "crypto/random.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char key_domain[] = "octo-worker-key-v1";

_Static_assert(1 + OCTO_PRIVACY_BINDS_MAX <= OCTO_SANDBOX_BINDS_MAX, "the worker and the binds");

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void say(char *why, size_t why_size, const char *text)
{
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "%s", text);
}

int octo_privacy_admit(enum octo_env_class cls, const struct octo_att_result *att, bool owner_node,
                       bool node_in_acl, char *why, size_t why_size)
{
    say(why, why_size, "");
    switch (cls) {
    case OCTO_ENV_PUBLIC:
    case OCTO_ENV_SHARED:
        return 0;
    case OCTO_ENV_PRIVATE:
        if (octo_att_satisfies(att, OCTO_ATT_CLASS_PRIVATE) || owner_node)
            return 0;
        say(why, why_size, "private data runs only in an attested TEE or on the owner's own node");
        return OCTO_EPERM;
    case OCTO_ENV_CONFIDENTIAL:
        if (!node_in_acl) {
            say(why, why_size, "confidential data: the node is not on the task's ACL");
            return OCTO_EPERM;
        }
        if (octo_att_satisfies(att, OCTO_ATT_CLASS_CONFIDENTIAL))
            return 0;
        say(why, why_size, "confidential data runs only in an attested TEE");
        return OCTO_EPERM;
    }
    say(why, why_size, "unknown data class");
    return OCTO_EPERM;
}

/* The message the node signs in KEY. */
static void key_message(const uint8_t nonce[OCTO_PRIVACY_NONCE_LEN],
                        const uint8_t task_id[OCTO_ENV_TASK_ID_LEN], uint8_t cls,
                        const uint8_t worker[32], const uint8_t command[OCTO_ENV_BIND_LEN],
                        uint8_t ev_type, const uint8_t *ev, size_t ev_len,
                        uint8_t out[OCTO_SHA256_LEN])
{
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, key_domain, sizeof(key_domain) - 1);
    octo_sha256_update(&h, nonce, OCTO_PRIVACY_NONCE_LEN);
    octo_sha256_update(&h, task_id, OCTO_ENV_TASK_ID_LEN);
    octo_sha256_update(&h, &cls, 1);
    octo_sha256_update(&h, worker, 32);
    octo_sha256_update(&h, command, OCTO_ENV_BIND_LEN);
    octo_sha256_update(&h, &ev_type, 1);
    uint8_t ev_hash[OCTO_SHA256_LEN];
    octo_sha256(ev, ev_len, ev_hash);
    octo_sha256_update(&h, ev_hash, sizeof(ev_hash));
    octo_sha256_final(&h, out);
}

/* The report_data of a worker key's evidence. The task's input does not exist yet when the key
 * is attested (it is sealed to that key afterwards), so the input-hash slot carries the node's
 * identity key and the command's digest instead: evidence then names the node that relays it
 * (a node cannot pass another node's attested worker off as its own to get onto an ACL) and
 * the command the worker will run. */
static int binding_of(const uint8_t nonce[OCTO_PRIVACY_NONCE_LEN], const uint8_t worker[32],
                      const uint8_t task_id[OCTO_ENV_TASK_ID_LEN], const uint8_t node[32],
                      const uint8_t command[OCTO_ENV_BIND_LEN], uint8_t rd[OCTO_ATT_RD_LEN])
{
    uint8_t slot[32 + OCTO_ENV_BIND_LEN];
    memcpy(slot, node, 32);
    memcpy(slot + 32, command, OCTO_ENV_BIND_LEN);
    return octo_att_binding(nonce, OCTO_PRIVACY_NONCE_LEN, worker, 32, task_id,
                            OCTO_ENV_TASK_ID_LEN, slot, sizeof(slot), rd);
}

/* ---- blocking frame I/O ---- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits until fd is ready for events before the deadline: 1, 0 at the deadline, or -1. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= deadline)
            return 0;
        struct pollfd pf = {fd, events, 0};
        int r = poll(&pf, 1, (int)(deadline - now > 60000 ? 60000 : deadline - now));
        if (r < 0 && errno != EINTR)
            return -1;
        if (r > 0)
            return 1;
    }
}

/* One bounded write: send() without SIGPIPE or blocking on a socket; on a pipe (ENOTSOCK) at
 * most PIPE_BUF bytes, which a pipe that polled writable takes without blocking. */
static ssize_t write_some(int fd, const uint8_t *data, size_t len)
{
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0 || errno != ENOTSOCK)
        return n;
    return write(fd, data, len < PIPE_BUF ? len : PIPE_BUF);
}

int octo_privacy_write_all(int fd, const uint8_t *data, size_t len, uint32_t timeout_ms)
{
    uint64_t deadline = mono_ms() + timeout_ms;
    while (len > 0) {
        int ready = wait_fd(fd, POLLOUT, deadline);
        if (ready <= 0)
            return ready == 0 ? OCTO_ETIMEDOUT : OCTO_EIO;
        ssize_t n = write_some(fd, data, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return n < 0 && (errno == EPIPE || errno == ECONNRESET) ? OCTO_ECLOSED : OCTO_EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

#define READ_STEP (64u * 1024u) /* buffer growth per read: never sized from a length field */

/* Reads exactly len bytes onto buf before the deadline. */
static int read_exact(int fd, struct octo_buf *buf, size_t len, uint64_t deadline)
{
    size_t want = buf->len + len;
    while (buf->len < want) {
        size_t step = want - buf->len < READ_STEP ? want - buf->len : READ_STEP;
        int rc = octo_buf_reserve(buf, step);
        if (rc != 0)
            return rc;
        int ready = wait_fd(fd, POLLIN, deadline);
        if (ready <= 0)
            return ready == 0 ? OCTO_ETIMEDOUT : OCTO_EIO;
        ssize_t n = read(fd, buf->data + buf->len, step);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return errno == ECONNRESET ? OCTO_ECLOSED : OCTO_EIO;
        if (n == 0)
            return OCTO_ECLOSED;
        buf->len += (size_t)n;
    }
    return 0;
}

int octo_privacy_read_frame(int fd, size_t max, uint32_t timeout_ms, struct octo_buf *buf,
                            const uint8_t **body, size_t *body_len)
{
    OCTO_ASSERT(buf != NULL && body != NULL && body_len != NULL);
    octo_buf_reset(buf);
    uint64_t deadline = mono_ms() + timeout_ms;
    int rc = read_exact(fd, buf, OCTO_FRAME_HEAD_LEN, deadline);
    if (rc != 0)
        return rc;
    enum octo_frame_type type;
    long got = octo_frame_parse(buf->data, buf->len, max, &type, body, body_len);
    if (got == OCTO_EAGAIN) {
        rc = read_exact(fd, buf, get_be32(buf->data + 1), deadline);
        if (rc != 0)
            return rc;
        got = octo_frame_parse(buf->data, buf->len, max, &type, body, body_len);
    }
    if (got < 0)
        return (int)got;
    return (int)type;
}

/* ---- client ---- */

int octo_privacy_client_init(struct octo_privacy_client *c, const struct octo_identity *id,
                             enum octo_env_class cls, const uint8_t task_id[OCTO_ENV_TASK_ID_LEN])
{
    OCTO_ASSERT(c != NULL);
    memset(c, 0, sizeof(*c));
    if (id == NULL || (unsigned)cls > OCTO_ENV_PRIVATE)
        return OCTO_EINVAL;
    c->id = id;
    c->cls = cls;
    if (task_id != NULL)
        memcpy(c->task_id, task_id, OCTO_ENV_TASK_ID_LEN);
    else
        octo_random_bytes(c->task_id, OCTO_ENV_TASK_ID_LEN);
    octo_random_bytes(c->nonce, OCTO_PRIVACY_NONCE_LEN);
    return octo_seal_keypair_generate(&c->reply);
}

void octo_privacy_client_deinit(struct octo_privacy_client *c)
{
    if (c == NULL)
        return;
    octo_seal_keypair_deinit(&c->reply);
    c->admitted = false;
}

int octo_privacy_client_hello(const struct octo_privacy_client *c, struct octo_buf *out)
{
    uint8_t body[OCTO_PRIVACY_HELLO_LEN];
    memcpy(body, c->nonce, OCTO_PRIVACY_NONCE_LEN);
    memcpy(body + OCTO_PRIVACY_NONCE_LEN, c->task_id, OCTO_ENV_TASK_ID_LEN);
    body[OCTO_PRIVACY_HELLO_LEN - 1] = (uint8_t)c->cls;
    return octo_frame_append(out, OCTO_FRAME_HELLO, body, sizeof(body));
}

static bool key_in(const struct octo_pubkey *set, size_t n, const struct octo_pubkey *k)
{
    for (size_t i = 0; set != NULL && i < n; i++) {
        if (memcmp(set[i].bytes, k->bytes, OCTO_ED25519_PK_LEN) == 0)
            return true;
    }
    return false;
}

/* Verifies the KEY's evidence into c->att (verified stays false when it does not verify). */
static void client_verify_evidence(struct octo_privacy_client *c,
                                   const struct octo_privacy_policy *pol, uint8_t ev_type,
                                   const uint8_t *ev, size_t ev_len)
{
    octo_att_result_init(&c->att, OCTO_EV_SOFTWARE_UNVERIFIED);
    if (ev_type == OCTO_PRIVACY_EV_NONE)
        return;
    if (ev_type >= OCTO_EV_TYPES || pol->anchors[ev_type] == NULL) {
        (void)octo_att_reject(&c->att, OCTO_EUNSUPPORTED, "no trust anchors for this evidence");
        return;
    }
    uint8_t rd[OCTO_ATT_RD_LEN];
    if (binding_of(c->nonce, c->worker.bytes, c->task_id, c->node.bytes, c->command, rd) != 0)
        return;
    OCTO_IGNORE(octo_att_verify((enum octo_ev_type)ev_type, ev, ev_len, rd, pol->anchors[ev_type],
                                pol->now_s, &c->att));
}

int octo_privacy_client_on_key(struct octo_privacy_client *c, const struct octo_privacy_policy *pol,
                               const uint8_t *body, size_t len, char *why, size_t why_size)
{
    OCTO_ASSERT(c != NULL && pol != NULL && (body != NULL || len == 0));
    c->admitted = false;
    say(why, why_size, "");
    if (len > OCTO_PRIVACY_KEY_MAX)
        return OCTO_ETOOBIG;
    if (len < OCTO_PRIVACY_KEY_FIXED)
        return OCTO_EMALFORMED;
    if (pol->owned_count > OCTO_PRIVACY_OWNED_MAX || pol->acl_count > OCTO_ENV_ACL_MAX)
        return OCTO_EINVAL;
    memcpy(c->worker.bytes, body, 32);
    memcpy(c->command, body + 32, OCTO_ENV_BIND_LEN);
    memcpy(c->node.bytes, body + 64, 32);
    const uint8_t *sig = body + 96;
    uint8_t ev_type = body[160];
    const uint8_t *ev = body + OCTO_PRIVACY_KEY_FIXED;
    size_t ev_len = len - OCTO_PRIVACY_KEY_FIXED;
    if (ev_type == OCTO_PRIVACY_EV_NONE && ev_len != 0)
        return OCTO_EMALFORMED;
    uint8_t msg[OCTO_SHA256_LEN];
    key_message(c->nonce, c->task_id, (uint8_t)c->cls, c->worker.bytes, c->command, ev_type, ev,
                ev_len, msg);
    if (octo_pubkey_verify(&c->node, msg, sizeof(msg), sig) != 0) {
        say(why, why_size, "the node's signature over the worker key does not verify");
        return OCTO_EBADSIG;
    }
    struct octo_buf probe;
    octo_buf_init(&probe, OCTO_SEAL_OVERHEAD);
    int usable = octo_seal(&c->worker, NULL, 0, &probe); /* refuses a small-order key */
    octo_buf_deinit(&probe);
    if (usable != 0) {
        say(why, why_size, "the worker key is not a usable X25519 key");
        return OCTO_EMALFORMED;
    }
    if (pol->command != NULL) {
        uint8_t want[OCTO_ENV_BIND_LEN];
        octo_env_command_digest(pol->command, want);
        if (sodium_memcmp(want, c->command, OCTO_ENV_BIND_LEN) != 0) {
            say(why, why_size, "the worker would run another command than the one agreed");
            return OCTO_EPERM;
        }
    }
    client_verify_evidence(c, pol, ev_type, ev, ev_len);
    bool owner = key_in(pol->owned, pol->owned_count, &c->node);
    bool in_acl = key_in(pol->acl, pol->acl_count, &c->node);
    int rc =
        octo_privacy_admit(c->cls, c->att.verified ? &c->att : NULL, owner, in_acl, why, why_size);
    c->admitted = rc == 0;
    return rc;
}

int octo_privacy_client_task(const struct octo_privacy_client *c,
                             const struct octo_privacy_policy *pol, const uint8_t *payload,
                             size_t len, struct octo_buf *out)
{
    OCTO_ASSERT(c != NULL && pol != NULL && out != NULL);
    if (!c->admitted)
        return OCTO_ESTATE;
    bool sealed = octo_env_class_sealed(c->cls);
    struct octo_env_params p;
    memset(&p, 0, sizeof(p));
    p.kind = OCTO_ENV_TASK;
    p.cls = c->cls;
    memcpy(p.task_id, c->task_id, OCTO_ENV_TASK_ID_LEN);
    p.sender = c->id->pub;
    if (sealed) {
        p.reply_to = c->reply.pub;
        p.recipient = c->worker;
    }
    if (c->cls == OCTO_ENV_CONFIDENTIAL) {
        p.acl = pol->acl;
        p.acl_count = pol->acl_count;
    }
    memcpy(p.bind, c->command, OCTO_ENV_BIND_LEN);
    struct octo_buf env;
    octo_buf_init(&env, OCTO_ENV_MAX);
    int rc = octo_env_encode(&p, payload, len, &env);
    if (rc == 0)
        rc = octo_env_sign(&env, c->id);
    if (rc == 0)
        rc = octo_frame_append(out, OCTO_FRAME_TASK, env.data, env.len);
    octo_buf_deinit(&env);
    return rc;
}

int octo_privacy_client_on_result(struct octo_privacy_client *c, const uint8_t *body, size_t len,
                                  struct octo_privacy_outcome *out, struct octo_buf *out_stdout,
                                  struct octo_buf *out_stderr)
{
    OCTO_ASSERT(c != NULL && out != NULL && (body != NULL || len == 0));
    memset(out, 0, sizeof(*out));
    if (len < OCTO_PRIVACY_RESULT_FIXED)
        return OCTO_EMALFORMED;
    if (body[0] > OCTO_SANDBOX_CANCELLED)
        return OCTO_EMALFORMED;
    out->sandbox = (enum octo_sandbox_outcome)body[0];
    out->worker_exit = (int)(int32_t)get_be32(body + 1);
    out->worker_signal = (int)(int32_t)get_be32(body + 5);
    out->how = OCTO_ENV_HOW_NOT_STARTED;
    if (len == OCTO_PRIVACY_RESULT_FIXED)
        return 0;
    struct octo_envelope e;
    int rc = octo_env_decode(body + OCTO_PRIVACY_RESULT_FIXED, len - OCTO_PRIVACY_RESULT_FIXED,
                             true, &e);
    if (rc != 0)
        return rc;
    bool sealed = octo_env_class_sealed(c->cls);
    if (e.kind != OCTO_ENV_RESULT || e.cls != c->cls ||
        memcmp(e.task_id, c->task_id, OCTO_ENV_TASK_ID_LEN) != 0 ||
        memcmp(e.sender.bytes, c->node.bytes, 32) != 0 ||
        (sealed && (memcmp(e.recipient.bytes, c->reply.pub.bytes, 32) != 0 ||
                    memcmp(e.reply_to.bytes, c->worker.bytes, 32) != 0)))
        return OCTO_EPERM;
    struct octo_buf payload;
    octo_buf_init_secret(&payload, OCTO_ENV_PAYLOAD_MAX);
    rc = octo_env_open_bound(&e, sealed ? &c->reply : NULL, c->command, &payload);
    if (rc == 0)
        rc = octo_env_result_decode(payload.data, payload.len, &out->how, &out->code, out_stdout,
                                    out_stderr);
    octo_buf_deinit(&payload);
    out->have_result = rc == 0;
    return rc;
}

/* ---- provider ---- */

enum serve_state { WAIT_KEY, WAIT_RESULT, DONE, BROKEN };

struct serve {
    const struct octo_privacy_provider *p;
    int in_fd, out_fd;
    uint32_t timeout_ms;
    uint8_t nonce[OCTO_PRIVACY_NONCE_LEN];
    struct octo_privacy_report *report;
    struct octo_sandbox_feed feed;
    struct octo_buf wout;   /* the worker's stdout, not yet parsed */
    struct octo_buf rx;     /* frames from the client */
    struct octo_buf result; /* the signed result envelope */
    uint8_t worker[32];
    uint8_t command[OCTO_ENV_BIND_LEN];       /* digest of the command the worker runs */
    uint8_t task_header[OCTO_ENV_HEADER_MAX]; /* the accepted task's header */
    size_t task_header_len;
    struct octo_x25519_pk reply_to;
    enum serve_state state;
    uint64_t run_deadline_ms; /* the worker's wall deadline (monotonic ms) */
    int err;                  /* why the exchange broke (BROKEN) */
    size_t log_bytes;
};

static void serve_refuse(struct serve *s, int err, const char *why)
{
    s->state = BROKEN;
    s->err = err;
    if (s->report->reason[0] == '\0')
        snprintf(s->report->reason, sizeof(s->report->reason), "%s", why);
    octo_sandbox_feed_close(&s->feed); /* the worker reads EOF and runs nothing */
}

/* Collects evidence for the worker key (when the node has an attester) and sends KEY. */
static int serve_send_key(struct serve *s)
{
    const struct octo_privacy_provider *p = s->p;
    uint8_t ev_type = OCTO_PRIVACY_EV_NONE;
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    if (p->attester != NULL) {
        uint8_t rd[OCTO_ATT_RD_LEN];
        int rc =
            binding_of(s->nonce, s->worker, s->report->task_id, p->node->pub.bytes, s->command, rd);
        if (rc == 0)
            rc = p->attester->ops->collect(p->attester->ctx, rd, &ev, &ev_len);
        if (rc != 0 || ev_len > OCTO_ATT_EVIDENCE_MAX) {
            octo_free(ev);
            return OCTO_EIO;
        }
        ev_type = (uint8_t)p->attester->ops->type;
    }
    uint8_t msg[OCTO_SHA256_LEN];
    key_message(s->nonce, s->report->task_id, (uint8_t)s->report->cls, s->worker, s->command,
                ev_type, ev, ev_len, msg);
    uint8_t head[OCTO_PRIVACY_KEY_FIXED];
    memcpy(head, s->worker, 32);
    memcpy(head + 32, s->command, OCTO_ENV_BIND_LEN);
    memcpy(head + 64, p->node->pub.bytes, 32);
    octo_identity_sign(p->node, msg, sizeof(msg), head + 96);
    head[160] = ev_type;
    struct octo_buf f;
    octo_buf_init(&f, OCTO_FRAME_HEAD_LEN + OCTO_PRIVACY_KEY_MAX);
    uint8_t fh[OCTO_FRAME_HEAD_LEN] = {OCTO_FRAME_KEY};
    put_be32(fh + 1, (uint32_t)(sizeof(head) + ev_len));
    int rc = octo_buf_append(&f, fh, sizeof(fh));
    if (rc == 0)
        rc = octo_buf_append(&f, head, sizeof(head));
    if (rc == 0 && ev_len > 0)
        rc = octo_buf_append(&f, ev, ev_len);
    if (rc == 0)
        rc = octo_privacy_write_all(s->out_fd, f.data, f.len, s->timeout_ms);
    octo_buf_deinit(&f);
    octo_free(ev);
    return rc;
}

/* Checks the client's task envelope against HELLO, the worker key and the ACL, and hands it to
 * the node's on_accept. */
static const char *serve_check_task(struct serve *s, const uint8_t *env, size_t len)
{
    struct octo_envelope e;
    if (octo_env_decode(env, len, true, &e) != 0)
        return "the task envelope is malformed or its signature does not verify";
    if (e.kind != OCTO_ENV_TASK || e.cls != s->report->cls ||
        memcmp(e.task_id, s->report->task_id, OCTO_ENV_TASK_ID_LEN) != 0)
        return "the task envelope does not match HELLO (kind, class or task id)";
    if (octo_env_class_sealed(e.cls) && memcmp(e.recipient.bytes, s->worker, 32) != 0)
        return "the task is not sealed to this task's worker key";
    if (!octo_env_acl_allows(&e, &s->p->node->pub))
        return "this node is not on the task's ACL";
    if (s->p->on_accept != NULL && s->p->on_accept(s->p->ctx, &e, env, len) != 0)
        return "the node could not accept the task (storage)";
    memcpy(s->task_header, e.header, e.header_len);
    s->task_header_len = e.header_len;
    s->reply_to = e.reply_to;
    return NULL;
}

static void serve_on_worker_key(struct serve *s, const uint8_t *body, size_t len)
{
    if (len != OCTO_PRIVACY_WORKER_KEY_LEN) {
        serve_refuse(s, OCTO_EPROTO, "the worker sent a malformed key");
        return;
    }
    memcpy(s->worker, body, 32);
    memcpy(s->command, body + 32, OCTO_ENV_BIND_LEN);
    if (serve_send_key(s) != 0) {
        serve_refuse(s, OCTO_EIO, "could not collect evidence or send the worker key");
        return;
    }
    /* This runs inside the sandbox loop's output callback: wait no longer than the worker's
     * own deadline, which the loop enforces once we return. */
    const uint8_t *tb = NULL;
    size_t tlen = 0;
    uint64_t now = mono_ms();
    uint64_t left = s->run_deadline_ms > now ? s->run_deadline_ms - now : 0;
    uint32_t wait_ms = left < s->timeout_ms ? (uint32_t)left : s->timeout_ms;
    int type = octo_privacy_read_frame(s->in_fd, OCTO_ENV_MAX, wait_ms, &s->rx, &tb, &tlen);
    if (type < 0) {
        serve_refuse(s, type, "no task from the client");
        return;
    }
    if (type != OCTO_FRAME_TASK) {
        serve_refuse(s, OCTO_EPROTO, "expected a TASK frame");
        return;
    }
    const char *bad = serve_check_task(s, tb, tlen);
    if (bad != NULL) {
        serve_refuse(s, OCTO_EPERM, bad);
        return;
    }
    if (octo_sandbox_feed_push(&s->feed, s->rx.data, s->rx.len) != 0) {
        serve_refuse(s, OCTO_ENOMEM, "out of memory queueing the task");
        return;
    }
    octo_sandbox_feed_close(&s->feed);
    octo_buf_reset(&s->rx);
    s->report->accepted = true;
    s->state = WAIT_RESULT;
}

static void serve_on_worker_result(struct serve *s, const uint8_t *body, size_t len)
{
    struct octo_envelope e;
    const struct octo_identity *node = s->p->node;
    bool sealed = octo_env_class_sealed(s->report->cls);
    if (octo_env_decode(body, len, false, &e) != 0 || e.kind != OCTO_ENV_RESULT ||
        e.cls != s->report->cls ||
        memcmp(e.task_id, s->report->task_id, OCTO_ENV_TASK_ID_LEN) != 0 ||
        memcmp(e.sender.bytes, node->pub.bytes, 32) != 0 ||
        (sealed && (memcmp(e.recipient.bytes, s->reply_to.bytes, 32) != 0 ||
                    memcmp(e.reply_to.bytes, s->worker, 32) != 0)) ||
        e.header_len != s->task_header_len ||
        memcmp(e.acl, s->task_header + OCTO_ENV_FIXED_LEN, 32 * e.acl_count) != 0) {
        serve_refuse(s, OCTO_EPROTO, "the worker's result does not match the task");
        return;
    }
    octo_buf_reset(&s->result);
    if (octo_buf_append(&s->result, body, len) != 0 || octo_env_sign(&s->result, node) != 0) {
        serve_refuse(s, OCTO_ENOMEM, "could not sign the result");
        return;
    }
    s->state = DONE;
}

static void serve_on_output(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct serve *s = ctx;
    if (stream == 2) {
        /* The worker's diagnostics (never payload data): log a bounded amount. */
        size_t room = s->log_bytes < 4096 ? 4096 - s->log_bytes : 0;
        size_t n = len < room ? len : room;
        if (n > 0)
            OCTO_INFO("privacy worker: %.*s", (int)n, (const char *)data);
        s->log_bytes += n;
        return;
    }
    if (s->state == BROKEN || s->state == DONE)
        return;
    if (octo_buf_append(&s->wout, data, len) != 0) {
        serve_refuse(s, OCTO_EPROTO, "the worker sent an oversized frame");
        return;
    }
    for (;;) {
        enum octo_frame_type type;
        const uint8_t *body = NULL;
        size_t blen = 0;
        long got = octo_frame_parse(s->wout.data, s->wout.len, OCTO_ENV_MAX, &type, &body, &blen);
        if (got == OCTO_EAGAIN)
            return;
        if (got < 0 || (s->state == WAIT_KEY && type != OCTO_FRAME_KEY) ||
            (s->state == WAIT_RESULT && type != OCTO_FRAME_RESULT)) {
            serve_refuse(s, OCTO_EPROTO, "the worker broke the exchange");
            return;
        }
        if (s->state == WAIT_KEY)
            serve_on_worker_key(s, body, blen);
        else
            serve_on_worker_result(s, body, blen);
        octo_buf_consume(&s->wout, (size_t)got);
        if (s->state == BROKEN || s->state == DONE)
            return;
    }
}

static int serve_hello(struct serve *s)
{
    const uint8_t *b = NULL;
    size_t n = 0;
    int type =
        octo_privacy_read_frame(s->in_fd, OCTO_PRIVACY_HELLO_LEN, s->timeout_ms, &s->rx, &b, &n);
    if (type < 0)
        return type;
    if (type != OCTO_FRAME_HELLO || n != OCTO_PRIVACY_HELLO_LEN ||
        b[OCTO_PRIVACY_HELLO_LEN - 1] > OCTO_ENV_PRIVATE)
        return OCTO_EPROTO;
    memcpy(s->nonce, b, OCTO_PRIVACY_NONCE_LEN);
    memcpy(s->report->task_id, b + OCTO_PRIVACY_NONCE_LEN, OCTO_ENV_TASK_ID_LEN);
    s->report->cls = (enum octo_env_class)b[OCTO_PRIVACY_HELLO_LEN - 1];
    return 0;
}

static int send_error(int fd, const char *reason, uint32_t timeout_ms)
{
    struct octo_buf f;
    octo_buf_init(&f, OCTO_FRAME_HEAD_LEN + OCTO_PRIVACY_ERROR_MAX);
    size_t n = strlen(reason);
    int rc = octo_frame_append(&f, OCTO_FRAME_ERROR, (const uint8_t *)reason,
                               n < OCTO_PRIVACY_ERROR_MAX ? n : OCTO_PRIVACY_ERROR_MAX);
    if (rc == 0)
        rc = octo_privacy_write_all(fd, f.data, f.len, timeout_ms);
    octo_buf_deinit(&f);
    return rc;
}

static int send_result(struct serve *s)
{
    const struct octo_sandbox_result *r = &s->report->sandbox;
    uint8_t fixed[OCTO_PRIVACY_RESULT_FIXED];
    fixed[0] = (uint8_t)r->outcome;
    put_be32(fixed + 1, (uint32_t)r->exit_code);
    put_be32(fixed + 5, (uint32_t)r->signal);
    struct octo_buf f;
    octo_buf_init(&f, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    uint8_t fh[OCTO_FRAME_HEAD_LEN] = {OCTO_FRAME_RESULT};
    put_be32(fh + 1, (uint32_t)(sizeof(fixed) + s->result.len));
    int rc = octo_buf_append(&f, fh, sizeof(fh));
    if (rc == 0)
        rc = octo_buf_append(&f, fixed, sizeof(fixed));
    if (rc == 0)
        rc = octo_buf_append(&f, s->result.data, s->result.len);
    if (rc == 0)
        rc = octo_privacy_write_all(s->out_fd, f.data, f.len, s->timeout_ms);
    octo_buf_deinit(&f);
    return rc;
}

/* The worker's command line: the worker, its parameters, "--", then the task's command. */
#define WORKER_FIXED_ARGS 10
struct worker_argv {
    const char *argv[OCTO_SANDBOX_ARGS_MAX + 1];
    char task_hex[2 * OCTO_ENV_TASK_ID_LEN + 1];
    char node_hex[2 * OCTO_ED25519_PK_LEN + 1];
    char out_max[24];
};

static int worker_argv_build(struct worker_argv *w, const struct serve *s, uint64_t out_max,
                             const char *const *argv)
{
    size_t n = 0;
    while (argv[n] != NULL)
        if (++n > OCTO_SANDBOX_ARGS_MAX - WORKER_FIXED_ARGS)
            return OCTO_EINVAL;
    if (n == 0)
        return OCTO_EINVAL;
    if (octo_hex_encode(s->report->task_id, OCTO_ENV_TASK_ID_LEN, w->task_hex,
                        sizeof(w->task_hex)) < 0 ||
        octo_hex_encode(s->p->node->pub.bytes, OCTO_ED25519_PK_LEN, w->node_hex,
                        sizeof(w->node_hex)) < 0)
        return OCTO_EINVAL;
    snprintf(w->out_max, sizeof(w->out_max), "%" PRIu64, out_max);
    const char *fixed[WORKER_FIXED_ARGS] = {OCTO_PRIVACY_WORKER_PATH,
                                            "--task",
                                            w->task_hex,
                                            "--class",
                                            octo_env_class_name(s->report->cls),
                                            "--node",
                                            w->node_hex,
                                            "--out-max",
                                            w->out_max,
                                            "--"};
    memcpy(w->argv, fixed, sizeof(fixed));
    memcpy(w->argv + WORKER_FIXED_ARGS, argv, n * sizeof(*argv));
    w->argv[WORKER_FIXED_ARGS + n] = NULL;
    return 0;
}

static void serve_run(struct serve *s, const char *const *argv)
{
    const struct octo_privacy_provider *p = s->p;
    struct octo_sandbox_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.limits = p->limits;
    uint64_t out_max =
        spec.limits.output_bytes != 0 ? spec.limits.output_bytes : OCTO_SANDBOX_OUTPUT_DEFAULT;
    /* The worker's own stdout carries KEY and RESULT: room for both streams plus framing. */
    spec.limits.output_bytes = 2 * out_max + OCTO_ENV_HEADER_MAX + 1024;
    if (spec.limits.output_bytes > OCTO_SANDBOX_OUTPUT_MAX)
        spec.limits.output_bytes = OCTO_SANDBOX_OUTPUT_MAX;
    struct worker_argv w;
    if (worker_argv_build(&w, s, out_max, argv) != 0) {
        serve_refuse(s, OCTO_EINVAL, "the command has too many arguments");
        return;
    }
    spec.argv = w.argv;
    spec.net = p->net;
    spec.binds[0] = (struct octo_sandbox_bind){p->worker_exe, OCTO_PRIVACY_WORKER_PATH, false};
    spec.binds_count = 1;
    for (size_t i = 0; i < p->binds_count; i++) {
        spec.binds[spec.binds_count] = p->binds[i];
        spec.binds[spec.binds_count++].writable = false;
    }
    spec.stdin_feed = &s->feed;
    spec.cancel_fd = p->cancel_fd;
    spec.on_output = serve_on_output;
    spec.ctx = s;
    s->run_deadline_ms =
        mono_ms() + (spec.limits.wall_ms != 0 ? spec.limits.wall_ms : OCTO_SANDBOX_WALL_MS_DEFAULT);
    int rc = octo_sandbox_run(&spec, &s->report->sandbox);
    if (rc != 0)
        serve_refuse(s, rc, "the sandbox refused the task's specification");
}

static int serve_main(const struct octo_privacy_provider *p, int in_fd, int out_fd,
                      const char *const *argv, struct octo_privacy_report *report)
{
    memset(report, 0, sizeof(*report));
    if (p == NULL || p->node == NULL || p->worker_exe == NULL || p->worker_exe[0] != '/' ||
        p->binds_count > OCTO_PRIVACY_BINDS_MAX || argv == NULL || argv[0] == NULL)
        return OCTO_EINVAL;
    struct serve s;
    memset(&s, 0, sizeof(s));
    s.p = p;
    s.in_fd = in_fd;
    s.out_fd = out_fd;
    s.timeout_ms = p->io_timeout_ms != 0 ? p->io_timeout_ms : OCTO_PRIVACY_IO_TIMEOUT_MS_DEFAULT;
    s.report = report;
    s.state = WAIT_KEY;
    octo_sandbox_feed_init(&s.feed, OCTO_FRAME_HEAD_LEN + OCTO_ENV_MAX, false);
    octo_buf_init(&s.wout, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    octo_buf_init(&s.rx, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    octo_buf_init(&s.result, OCTO_ENV_MAX);
    int rc = serve_hello(&s);
    if (rc == 0) {
        serve_run(&s, argv);
        if (s.state == WAIT_KEY)
            serve_refuse(&s, OCTO_EIO, "the worker ended before sending its key");
        else if (s.state == WAIT_RESULT && report->sandbox.outcome == OCTO_SANDBOX_EXITED &&
                 report->sandbox.exit_code != 0)
            OCTO_INFO("privacy worker exited with %d", report->sandbox.exit_code);
        if (s.state == BROKEN && s.err != OCTO_ECLOSED && s.err != OCTO_ETIMEDOUT)
            (void)send_error(out_fd, report->reason, s.timeout_ms);
        if (s.state == DONE || s.state == WAIT_RESULT) {
            rc = send_result(&s);
            report->result_sent = rc == 0 && s.state == DONE;
        } else {
            rc = s.err;
        }
    } else if (rc == OCTO_EPROTO) {
        (void)send_error(out_fd, "expected HELLO", s.timeout_ms);
    }
    octo_sandbox_feed_deinit(&s.feed);
    octo_buf_deinit(&s.wout);
    octo_buf_deinit(&s.rx);
    octo_buf_deinit(&s.result);
    return rc;
}

int octo_privacy_serve(const struct octo_privacy_provider *p, int in_fd, int out_fd,
                       const char *const *argv, struct octo_privacy_report *report)
{
    OCTO_ASSERT(report != NULL);
    /* A client that hangs up must give OCTO_ECLOSED, not kill the node with SIGPIPE (a pipe
     * has no MSG_NOSIGNAL): block it for this thread, and swallow one we caused. */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    int rc = serve_main(p, in_fd, out_fd, argv, report);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
