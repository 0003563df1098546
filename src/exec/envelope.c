/*
 * envelope.c — task/result envelopes and frames (layout and rules: envelope.h).
 *
 * Decoding walks the bytes once with explicit bounds; every length is compared with its
 * maximum and with the bytes present before it is used, so nothing is sized from untrusted
 * input. Signing and verifying use libsodium's Ed25519 directly (the signature covers a
 * domain-separation prefix so an envelope signature can never be replayed as another
 * protocol's).
 */
#include "exec/envelope.h"

#include "base/assert.h"
#include "base/mem.h"
#include "crypto/hash.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const uint8_t env_magic[4] = {'O', 'E', 'N', 'V'};
static const char sig_domain[] = "octo-envelope-v1";

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

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

static bool is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

bool octo_env_class_sealed(enum octo_env_class cls)
{
    return cls == OCTO_ENV_CONFIDENTIAL || cls == OCTO_ENV_PRIVATE;
}

static const char *const class_names[] = {"public", "shared", "confidential", "private"};

const char *octo_env_class_name(enum octo_env_class cls)
{
    return (unsigned)cls < 4 ? class_names[cls] : "?";
}

int octo_env_class_parse(const char *name, enum octo_env_class *out)
{
    for (unsigned i = 0; name != NULL && i < 4; i++) {
        if (strcmp(name, class_names[i]) == 0) {
            *out = (enum octo_env_class)i;
            return 0;
        }
    }
    return OCTO_EINVAL;
}

/* The rules that tie keys and ACL to the kind and class (shared by encoder and decoder). */
static bool fields_ok(enum octo_env_kind kind, enum octo_env_class cls, const uint8_t *reply_to,
                      const uint8_t *recipient, size_t acl_count)
{
    if (kind != OCTO_ENV_TASK && kind != OCTO_ENV_RESULT)
        return false;
    if ((unsigned)cls > OCTO_ENV_PRIVATE)
        return false;
    bool sealed = octo_env_class_sealed(cls);
    if (is_zero(reply_to, OCTO_X25519_PK_LEN) == sealed)
        return false;
    if (is_zero(recipient, OCTO_X25519_PK_LEN) == sealed)
        return false;
    if (cls == OCTO_ENV_CONFIDENTIAL)
        return acl_count >= 1 && acl_count <= OCTO_ENV_ACL_MAX;
    return acl_count == 0;
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, OCTO_ED25519_PK_LEN);
}

static int header_build(const struct octo_env_params *p, uint8_t *h, size_t *h_len)
{
    if (p->acl_count > OCTO_ENV_ACL_MAX || (p->acl_count > 0 && p->acl == NULL))
        return OCTO_EINVAL;
    if (!fields_ok(p->kind, p->cls, p->reply_to.bytes, p->recipient.bytes, p->acl_count))
        return OCTO_EINVAL;
    memcpy(h, env_magic, 4);
    h[4] = OCTO_ENV_VERSION;
    h[5] = (uint8_t)p->kind;
    h[6] = (uint8_t)p->cls;
    h[7] = 0;
    memcpy(h + 8, p->task_id, OCTO_ENV_TASK_ID_LEN);
    memcpy(h + 24, p->sender.bytes, 32);
    memcpy(h + 56, p->reply_to.bytes, 32);
    memcpy(h + 88, p->recipient.bytes, 32);
    put_be16(h + 120, (uint16_t)p->acl_count);
    uint8_t *acl = h + OCTO_ENV_FIXED_LEN;
    for (size_t i = 0; i < p->acl_count; i++)
        memcpy(acl + 32 * i, p->acl[i].bytes, 32);
    qsort(acl, p->acl_count, 32, key_cmp);
    for (size_t i = 1; i < p->acl_count; i++) {
        if (memcmp(acl + 32 * (i - 1), acl + 32 * i, 32) == 0)
            return OCTO_EINVAL;
    }
    *h_len = OCTO_ENV_FIXED_LEN + 32 * p->acl_count;
    return 0;
}

/* The inner hash of a sealed body: SHA-256(header || bind). */
static void inner_hash(const uint8_t *h, size_t h_len, const uint8_t bind[OCTO_ENV_BIND_LEN],
                       uint8_t out[OCTO_SHA256_LEN])
{
    static const uint8_t zero[OCTO_ENV_BIND_LEN];
    struct octo_sha256 st;
    octo_sha256_init(&st);
    octo_sha256_update(&st, h, h_len);
    octo_sha256_update(&st, bind != NULL ? bind : zero, OCTO_ENV_BIND_LEN);
    octo_sha256_final(&st, out);
}

/* A result's box: nonce || crypto_box(inner) from `from` to `to`, appended to out. */
static int box_body(const struct octo_seal_keypair *from, const struct octo_x25519_pk *to,
                    const struct octo_buf *inner, struct octo_buf *out)
{
    int rc = octo_buf_reserve(out, OCTO_ENV_BOX_NONCE_LEN + OCTO_ENV_BOX_MAC_LEN + inner->len);
    if (rc != 0)
        return rc;
    uint8_t *at = out->data + out->len;
    randombytes_buf(at, OCTO_ENV_BOX_NONCE_LEN);
    if (crypto_box_easy(at + OCTO_ENV_BOX_NONCE_LEN, inner->data, inner->len, at, to->bytes,
                        from->sk) != 0)
        return OCTO_ECRYPTO;
    out->len += OCTO_ENV_BOX_NONCE_LEN + OCTO_ENV_BOX_MAC_LEN + inner->len;
    return 0;
}

/* Seals (task) or boxes (result) SHA-256(header || bind) || payload to the recipient. */
static int seal_body(const struct octo_env_params *p, const uint8_t *h, size_t h_len,
                     const uint8_t *payload, size_t len, struct octo_buf *out)
{
    struct octo_buf inner;
    octo_buf_init_secret(&inner, OCTO_SEAL_PLAINTEXT_MAX);
    uint8_t digest[OCTO_SHA256_LEN];
    inner_hash(h, h_len, p->bind, digest);
    int rc = octo_buf_append(&inner, digest, sizeof(digest));
    if (rc == 0)
        rc = octo_buf_append(&inner, payload, len);
    if (rc == 0 && p->kind == OCTO_ENV_RESULT)
        rc = box_body(p->from, &p->recipient, &inner, out);
    else if (rc == 0)
        rc = octo_seal(&p->recipient, inner.data, inner.len, out);
    octo_buf_deinit(&inner);
    return rc;
}

static size_t sealed_overhead(enum octo_env_kind kind)
{
    return kind == OCTO_ENV_RESULT ? OCTO_ENV_BOX_NONCE_LEN + OCTO_ENV_BOX_MAC_LEN
                                   : OCTO_SEAL_OVERHEAD;
}

int octo_env_encode(const struct octo_env_params *p, const uint8_t *payload, size_t len,
                    struct octo_buf *out)
{
    OCTO_ASSERT(p != NULL && out != NULL && (payload != NULL || len == 0));
    if (len > OCTO_ENV_PAYLOAD_MAX)
        return OCTO_ETOOBIG;
    uint8_t h[OCTO_ENV_HEADER_MAX];
    size_t h_len = 0;
    int rc = header_build(p, h, &h_len);
    if (rc != 0)
        return rc;
    bool sealed = octo_env_class_sealed(p->cls);
    if (sealed && p->kind == OCTO_ENV_RESULT &&
        (p->from == NULL || sodium_memcmp(p->from->pub.bytes, p->reply_to.bytes, 32) != 0))
        return OCTO_EINVAL;
    size_t start = out->len;
    uint8_t blen[4];
    put_be32(blen, (uint32_t)(sealed ? len + 32 + sealed_overhead(p->kind) : len));
    rc = octo_buf_append(out, h, h_len);
    if (rc == 0)
        rc = octo_buf_append(out, blen, sizeof(blen));
    if (rc == 0)
        rc =
            sealed ? seal_body(p, h, h_len, payload, len, out) : octo_buf_append(out, payload, len);
    if (rc != 0)
        out->len = start;
    return rc;
}

/* Parses the unsigned part in[0..len) exactly (no trailing bytes). */
static int parse_unsigned(const uint8_t *in, size_t len, struct octo_envelope *e)
{
    if (len < OCTO_ENV_FIXED_LEN + 4)
        return OCTO_EMALFORMED;
    if (memcmp(in, env_magic, 4) != 0)
        return OCTO_EMALFORMED;
    if (in[4] != OCTO_ENV_VERSION)
        return OCTO_EUNSUPPORTED;
    if (in[7] != 0)
        return OCTO_EMALFORMED;
    size_t acl_count = (size_t)in[120] << 8 | in[121];
    if (acl_count > OCTO_ENV_ACL_MAX)
        return OCTO_ETOOBIG;
    if (!fields_ok((enum octo_env_kind)in[5], (enum octo_env_class)in[6], in + 56, in + 88,
                   acl_count))
        return OCTO_EMALFORMED;
    size_t h_len = OCTO_ENV_FIXED_LEN + 32 * acl_count;
    if (len < h_len + 4)
        return OCTO_EMALFORMED;
    for (size_t i = 1; i < acl_count; i++) {
        const uint8_t *a = in + OCTO_ENV_FIXED_LEN + 32 * i;
        if (memcmp(a - 32, a, 32) >= 0)
            return OCTO_EMALFORMED;
    }
    uint32_t body_len = get_be32(in + h_len);
    if (body_len > OCTO_ENV_BODY_MAX)
        return OCTO_ETOOBIG;
    if (len - h_len - 4 != body_len)
        return OCTO_EMALFORMED;
    bool sealed = octo_env_class_sealed((enum octo_env_class)in[6]);
    size_t overhead = sealed_overhead((enum octo_env_kind)in[5]) + OCTO_SHA256_LEN;
    if (sealed && body_len < overhead)
        return OCTO_EMALFORMED;
    if (sealed && body_len - overhead > OCTO_ENV_PAYLOAD_MAX)
        return OCTO_ETOOBIG; /* the encoder never makes one (a result's box is smaller) */
    if (!sealed && body_len > OCTO_ENV_PAYLOAD_MAX)
        return OCTO_ETOOBIG; /* the encoder never makes one */
    memset(e, 0, sizeof(*e));
    e->kind = (enum octo_env_kind)in[5];
    e->cls = (enum octo_env_class)in[6];
    memcpy(e->task_id, in + 8, OCTO_ENV_TASK_ID_LEN);
    memcpy(e->sender.bytes, in + 24, 32);
    memcpy(e->reply_to.bytes, in + 56, 32);
    memcpy(e->recipient.bytes, in + 88, 32);
    e->acl = in + OCTO_ENV_FIXED_LEN;
    e->acl_count = acl_count;
    e->header = in;
    e->header_len = h_len;
    e->body = in + h_len + 4;
    e->body_len = body_len;
    return 0;
}

/* The signed message: the domain prefix and the SHA-256 of the unsigned envelope (a hash, so a
 * 16 MiB envelope is not copied to be signed). */
static size_t sig_message(const uint8_t *env, size_t len, uint8_t *msg)
{
    size_t d = sizeof(sig_domain) - 1;
    memcpy(msg, sig_domain, d);
    octo_sha256(env, len, msg + d);
    return d + OCTO_SHA256_LEN;
}

int octo_env_sign(struct octo_buf *env, const struct octo_identity *id)
{
    OCTO_ASSERT(env != NULL && id != NULL);
    struct octo_envelope e;
    if (parse_unsigned(env->data, env->len, &e) != 0)
        return OCTO_EMALFORMED;
    if (memcmp(e.sender.bytes, id->pub.bytes, 32) != 0)
        return OCTO_EPERM;
    uint8_t msg[sizeof(sig_domain) - 1 + OCTO_SHA256_LEN];
    size_t n = sig_message(env->data, env->len, msg);
    uint8_t sig[OCTO_ENV_SIG_LEN];
    crypto_sign_detached(sig, NULL, msg, n, id->sk);
    return octo_buf_append(env, sig, sizeof(sig));
}

int octo_env_decode(const uint8_t *in, size_t len, bool want_signed, struct octo_envelope *out)
{
    OCTO_ASSERT(out != NULL && (in != NULL || len == 0));
    memset(out, 0, sizeof(*out));
    if (len > OCTO_ENV_MAX)
        return OCTO_ETOOBIG;
    size_t ulen = len;
    if (want_signed) {
        if (len < OCTO_ENV_SIG_LEN)
            return OCTO_EMALFORMED;
        ulen = len - OCTO_ENV_SIG_LEN;
    }
    struct octo_envelope e;
    int rc = parse_unsigned(in, ulen, &e);
    if (rc != 0)
        return rc;
    if (want_signed) {
        uint8_t msg[sizeof(sig_domain) - 1 + OCTO_SHA256_LEN];
        size_t n = sig_message(in, ulen, msg);
        if (crypto_sign_verify_detached(in + ulen, msg, n, e.sender.bytes) != 0)
            return OCTO_EBADSIG;
        e.is_signed = true;
    }
    *out = e;
    return 0;
}

/* Opens a result's box (authenticated by e->reply_to) with kp into inner. */
static int unbox_body(const struct octo_envelope *e, const struct octo_seal_keypair *kp,
                      struct octo_buf *inner)
{
    size_t n = e->body_len - OCTO_ENV_BOX_NONCE_LEN - OCTO_ENV_BOX_MAC_LEN;
    int rc = octo_buf_reserve(inner, n);
    if (rc != 0)
        return rc;
    if (crypto_box_open_easy(inner->data, e->body + OCTO_ENV_BOX_NONCE_LEN,
                             e->body_len - OCTO_ENV_BOX_NONCE_LEN, e->body, e->reply_to.bytes,
                             kp->sk) != 0)
        return OCTO_EDECRYPT;
    inner->len = n;
    return 0;
}

int octo_env_open_bound(const struct octo_envelope *e, const struct octo_seal_keypair *kp,
                        const uint8_t bind[OCTO_ENV_BIND_LEN], struct octo_buf *out)
{
    OCTO_ASSERT(e != NULL && out != NULL);
    if (!octo_env_class_sealed(e->cls))
        return octo_buf_append(out, e->body, e->body_len);
    if (kp == NULL || sodium_memcmp(kp->pub.bytes, e->recipient.bytes, OCTO_X25519_PK_LEN) != 0)
        return OCTO_EPERM;
    struct octo_buf inner;
    octo_buf_init_secret(&inner, OCTO_SEAL_PLAINTEXT_MAX);
    int rc = e->kind == OCTO_ENV_RESULT ? unbox_body(e, kp, &inner)
                                        : octo_seal_open(kp, e->body, e->body_len, &inner);
    if (rc == 0 && inner.len < OCTO_SHA256_LEN)
        rc = OCTO_EMALFORMED;
    if (rc == 0) {
        uint8_t digest[OCTO_SHA256_LEN];
        inner_hash(e->header, e->header_len, bind, digest);
        if (sodium_memcmp(digest, inner.data, OCTO_SHA256_LEN) != 0)
            rc = OCTO_EMALFORMED;
    }
    if (rc == 0)
        rc = octo_buf_append(out, inner.data + OCTO_SHA256_LEN, inner.len - OCTO_SHA256_LEN);
    octo_buf_deinit(&inner);
    return rc;
}

int octo_env_open(const struct octo_envelope *e, const struct octo_seal_keypair *kp,
                  struct octo_buf *out)
{
    return octo_env_open_bound(e, kp, NULL, out);
}

void octo_env_command_digest(const char *const *argv, uint8_t out[OCTO_ENV_BIND_LEN])
{
    static const char domain[] = "octo-command-v1";
    OCTO_ASSERT(argv != NULL && argv[0] != NULL);
    struct octo_sha256 st;
    octo_sha256_init(&st);
    octo_sha256_update(&st, domain, sizeof(domain));
    for (size_t i = 0; argv[i] != NULL; i++)
        octo_sha256_update(&st, argv[i], strlen(argv[i]) + 1);
    octo_sha256_final(&st, out);
}

bool octo_env_acl_allows(const struct octo_envelope *e, const struct octo_pubkey *who)
{
    OCTO_ASSERT(e != NULL && who != NULL);
    if (e->cls != OCTO_ENV_CONFIDENTIAL)
        return true;
    return bsearch(who->bytes, e->acl, e->acl_count, 32, key_cmp) != NULL;
}

/* ---- result payload ---- */

int octo_env_result_encode(int st, const struct octo_buf *out, const struct octo_buf *err,
                           struct octo_buf *dst)
{
    OCTO_ASSERT(out != NULL && err != NULL && dst != NULL);
    uint8_t head[6] = {OCTO_ENV_RESULT_VERSION, OCTO_ENV_HOW_NOT_STARTED};
    if (st != -1 && WIFEXITED(st)) {
        head[1] = OCTO_ENV_HOW_EXITED;
        put_be32(head + 2, (uint32_t)WEXITSTATUS(st));
    } else if (st != -1 && WIFSIGNALED(st)) {
        head[1] = OCTO_ENV_HOW_SIGNALED;
        put_be32(head + 2, (uint32_t)WTERMSIG(st));
    }
    size_t start = dst->len;
    int rc = octo_buf_append(dst, head, sizeof(head));
    const struct octo_buf *parts[2] = {out, err};
    for (int i = 0; rc == 0 && i < 2; i++) {
        uint8_t n[4];
        if (parts[i]->len > UINT32_MAX)
            rc = OCTO_ETOOBIG;
        put_be32(n, (uint32_t)parts[i]->len);
        if (rc == 0)
            rc = octo_buf_append(dst, n, sizeof(n));
        if (rc == 0)
            rc = octo_buf_append(dst, parts[i]->data, parts[i]->len);
    }
    if (rc != 0)
        dst->len = start;
    return rc;
}

int octo_env_result_decode(const uint8_t *p, size_t len, int *how, int *code, struct octo_buf *out,
                           struct octo_buf *err)
{
    OCTO_ASSERT(how != NULL && code != NULL && (p != NULL || len == 0));
    if (len < 6 || p[0] != OCTO_ENV_RESULT_VERSION || p[1] > OCTO_ENV_HOW_NOT_STARTED)
        return OCTO_EMALFORMED;
    size_t at = 6;
    const uint8_t *part[2];
    uint32_t plen[2];
    for (int i = 0; i < 2; i++) {
        if (len - at < 4)
            return OCTO_EMALFORMED;
        plen[i] = get_be32(p + at);
        at += 4;
        if (len - at < plen[i])
            return OCTO_EMALFORMED;
        part[i] = p + at;
        at += plen[i];
    }
    if (at != len)
        return OCTO_EMALFORMED;
    struct octo_buf *dst[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        int rc = dst[i] != NULL ? octo_buf_append(dst[i], part[i], plen[i]) : 0;
        if (rc != 0)
            return rc;
    }
    *how = p[1];
    *code = (int)(int32_t)get_be32(p + 2);
    return 0;
}

/* ---- frames ---- */

int octo_frame_append(struct octo_buf *out, enum octo_frame_type type, const uint8_t *body,
                      size_t len)
{
    OCTO_ASSERT(out != NULL && (body != NULL || len == 0));
    OCTO_ASSERT(type >= OCTO_FRAME_HELLO && type <= OCTO_FRAME_TYPE_LAST);
    if (len > OCTO_FRAME_BODY_MAX)
        return OCTO_ETOOBIG;
    uint8_t head[OCTO_FRAME_HEAD_LEN];
    head[0] = (uint8_t)type;
    put_be32(head + 1, (uint32_t)len);
    size_t start = out->len;
    int rc = octo_buf_append(out, head, sizeof(head));
    if (rc == 0)
        rc = octo_buf_append(out, body, len);
    if (rc != 0)
        out->len = start;
    return rc;
}

long octo_frame_parse(const uint8_t *in, size_t len, size_t max, enum octo_frame_type *type,
                      const uint8_t **body, size_t *body_len)
{
    OCTO_ASSERT(max <= OCTO_FRAME_BODY_MAX && (in != NULL || len == 0));
    if (len < OCTO_FRAME_HEAD_LEN)
        return OCTO_EAGAIN;
    if (in[0] < OCTO_FRAME_HELLO || in[0] > OCTO_FRAME_TYPE_LAST)
        return OCTO_EMALFORMED;
    uint32_t n = get_be32(in + 1);
    if (n > max)
        return OCTO_ETOOBIG;
    if (len - OCTO_FRAME_HEAD_LEN < n)
        return OCTO_EAGAIN;
    *type = (enum octo_frame_type)in[0];
    *body = in + OCTO_FRAME_HEAD_LEN;
    *body_len = n;
    return (long)(OCTO_FRAME_HEAD_LEN + n);
}
