/*
 * noise.c — the libp2p Noise channel: framing, handshake payload, muxer inlining, transport
 * (contracts in noise.h).
 *
 * Input path: recv parses u16-prefixed frames. A frame wholly inside the caller's bytes is
 * processed in place; otherwise its bytes are gathered in `in` (at most one frame). Before
 * taking the body bytes of a transport frame, recv checks that its plaintext will fit under
 * OCTO_NOISE_PLAIN_MAX and stops there if not (backpressure): room only grows while the
 * frame is incomplete, because only the reader changes it.
 *
 * The `plain` and `out` buffers are consumed from the front by advancing an offset; the
 * unread tail is moved to the front only when the consumed prefix is at least as long as the
 * tail or the buffer's ceiling needs the space, so each byte is moved O(1) times amortised.
 *
 * During the handshake `plain` is empty and serves as the scratch area for decrypted
 * handshake payloads (it is a secret buffer: wiped on reset and deinit).
 */
#include "p2p/noise.h"

#include "base/assert.h"
#include "pb/noise.pb-c.h"
#include "wire/pb.h"

#include <limits.h>
#include <sodium.h>
#include <string.h>

#define SIG_PREFIX_LEN (sizeof(OCTO_NOISE_SIG_PREFIX) - 1)
#define IN_MAX (OCTO_NOISE_FRAME_HDR_LEN + OCTO_NOISE_FRAME_MAX)

_Static_assert(OCTO_NOISE_PLAIN_MAX >= OCTO_NOISE_FRAME_MAX,
               "plain doubles as the handshake payload scratch");

static const char *const reason_strs[OCTO_NOISE_R_COUNT] = {
    [OCTO_NOISE_R_NONE] = "none",
    [OCTO_NOISE_R_BAD_SIGNATURE] = "identity signature does not verify",
    [OCTO_NOISE_R_WRONG_PEER] = "remote peer id differs from the expected one",
    [OCTO_NOISE_R_DECRYPT] = "decryption failed",
    [OCTO_NOISE_R_OVERSIZE] = "message over its size limit",
    [OCTO_NOISE_R_SHORT_FRAME] = "frame shorter than its fixed part",
    [OCTO_NOISE_R_NONCE_EXHAUSTED] = "nonce exhausted",
    [OCTO_NOISE_R_BAD_PAYLOAD] = "malformed handshake payload",
    [OCTO_NOISE_R_UNSUPPORTED_KEY] = "identity key type not supported (Ed25519 only)",
    [OCTO_NOISE_R_WEAK_KEY] = "low-order X25519 key (all-zero DH result)",
    [OCTO_NOISE_R_INTERNAL] = "internal error",
};

const char *octo_noise_reason_str(enum octo_noise_reason reason)
{
    if ((unsigned)reason >= OCTO_NOISE_R_COUNT)
        return "unknown";
    return reason_strs[reason];
}

/* ---- handshake payload ---- */

void octo_noise_static_sig(const struct octo_identity *id,
                           const uint8_t static_pub[OCTO_NOISE_DH_LEN],
                           uint8_t sig[OCTO_ED25519_SIG_LEN])
{
    uint8_t msg[SIG_PREFIX_LEN + OCTO_NOISE_DH_LEN];
    memcpy(msg, OCTO_NOISE_SIG_PREFIX, SIG_PREFIX_LEN);
    memcpy(msg + SIG_PREFIX_LEN, static_pub, OCTO_NOISE_DH_LEN);
    octo_identity_sign(id, msg, sizeof(msg), sig);
}

int octo_noise_payload_encode(const struct octo_identity *id,
                              const uint8_t static_pub[OCTO_NOISE_DH_LEN],
                              const struct octo_noise_muxers *muxers, struct octo_buf *out)
{
    uint8_t sig[OCTO_ED25519_SIG_LEN];
    octo_noise_static_sig(id, static_pub, sig);
    return octo_noise_payload_encode_signed(&id->pub, sig, muxers, out);
}

int octo_noise_payload_encode_signed(const struct octo_pubkey *identity_key,
                                     const uint8_t sig[OCTO_ED25519_SIG_LEN],
                                     const struct octo_noise_muxers *muxers, struct octo_buf *out)
{
    OCTO_ASSERT(muxers->count <= OCTO_NOISE_MUXERS_MAX);
    uint8_t key_pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(identity_key, key_pb);

    Octo__Pb__NoiseHandshakePayload msg = OCTO__PB__NOISE_HANDSHAKE_PAYLOAD__INIT;
    Octo__Pb__NoiseExtensions ext = OCTO__PB__NOISE_EXTENSIONS__INIT;
    ProtobufCBinaryData names[OCTO_NOISE_MUXERS_MAX];
    msg.has_identity_key = 1;
    msg.identity_key.data = key_pb;
    msg.identity_key.len = sizeof(key_pb);
    msg.has_identity_sig = 1;
    msg.identity_sig.data = (uint8_t *)(uintptr_t)sig; /* read only, as above */
    msg.identity_sig.len = OCTO_ED25519_SIG_LEN;
    if (muxers->count > 0) {
        for (size_t i = 0; i < muxers->count; i++) {
            /* protobuf-c only reads the field; the cast drops const for its struct type. */
            names[i].data = (uint8_t *)(uintptr_t)muxers->name[i];
            names[i].len = strlen(muxers->name[i]);
        }
        ext.n_stream_muxers = muxers->count;
        ext.stream_muxers = names;
        msg.extensions = &ext;
    }
    size_t size = octo__pb__noise_handshake_payload__get_packed_size(&msg);
    if (size > OCTO_NOISE_PAYLOAD_MAX)
        return OCTO_ETOOBIG;
    octo_buf_reset(out);
    int rc = octo_buf_reserve(out, size);
    if (rc < 0)
        return rc;
    size_t packed = octo__pb__noise_handshake_payload__pack(&msg, out->data);
    OCTO_ASSERT(packed == size);
    out->len = packed;
    return 0;
}

static bool muxer_eq(const char *local, const ProtobufCBinaryData *remote)
{
    size_t len = strlen(local);
    return len == remote->len && len > 0 && memcmp(local, remote->data, len) == 0;
}

/* Inlined muxer negotiation: the first entry of the initiator's list the responder lists. */
static void select_muxer(const struct octo_noise_muxers *local, bool local_initiator,
                         const Octo__Pb__NoiseExtensions *ext, struct octo_noise_remote *out)
{
    size_t remote_count = ext != NULL ? ext->n_stream_muxers : 0;
    out->muxer_count = remote_count;
    if (local == NULL || local->count == 0 || remote_count == 0)
        return;
    const char *found = NULL;
    if (local_initiator) {
        for (size_t i = 0; i < local->count && found == NULL; i++)
            for (size_t j = 0; j < remote_count && found == NULL; j++)
                if (muxer_eq(local->name[i], &ext->stream_muxers[j]))
                    found = local->name[i];
    } else {
        for (size_t j = 0; j < remote_count && found == NULL; j++)
            for (size_t i = 0; i < local->count && found == NULL; i++)
                if (muxer_eq(local->name[i], &ext->stream_muxers[j]))
                    found = local->name[i];
    }
    if (found != NULL) {
        size_t len = strlen(found);
        OCTO_ASSERT(len <= OCTO_NOISE_MUXER_NAME_MAX);
        memcpy(out->muxer, found, len + 1);
        out->has_muxer = true;
    }
}

int octo_noise_payload_decode(const uint8_t *in, size_t len,
                              const uint8_t remote_static[OCTO_NOISE_DH_LEN],
                              const struct octo_noise_muxers *local, bool local_initiator,
                              struct octo_noise_remote *out)
{
    memset(out, 0, sizeof(*out));
    if (len > OCTO_NOISE_PAYLOAD_MAX)
        return OCTO_ETOOBIG;
    Octo__Pb__NoiseHandshakePayload *msg =
        octo__pb__noise_handshake_payload__unpack(octo_pb_allocator(), len, in);
    if (msg == NULL)
        return OCTO_EMALFORMED;
    int rc = OCTO_EMALFORMED;
    if (!msg->has_identity_key || !msg->has_identity_sig ||
        msg->identity_sig.len != OCTO_ED25519_SIG_LEN)
        goto out_free;
    /* the key only checks the signature below, whose verification rejects bad points */
    rc = octo_pubkey_decode_for_verify(msg->identity_key.data, msg->identity_key.len, &out->key);
    if (rc < 0)
        goto out_free;
    uint8_t signed_msg[SIG_PREFIX_LEN + OCTO_NOISE_DH_LEN];
    memcpy(signed_msg, OCTO_NOISE_SIG_PREFIX, SIG_PREFIX_LEN);
    memcpy(signed_msg + SIG_PREFIX_LEN, remote_static, OCTO_NOISE_DH_LEN);
    rc = octo_pubkey_verify(&out->key, signed_msg, sizeof(signed_msg), msg->identity_sig.data);
    if (rc < 0)
        goto out_free;
    octo_peerid_from_pubkey(&out->key, &out->peer);
    select_muxer(local, local_initiator, msg->extensions, out);
    rc = 0;
out_free:
    octo__pb__noise_handshake_payload__free_unpacked(msg, octo_pb_allocator());
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- events and failure ---- */

static void push_event(struct octo_noise *n, const struct octo_noise_event *ev)
{
    OCTO_ASSERT(n->ev_count < OCTO_NOISE_EVENTS_MAX);
    n->events[(n->ev_head + n->ev_count) % OCTO_NOISE_EVENTS_MAX] = *ev;
    n->ev_count++;
}

static enum octo_noise_reason reason_for(int err)
{
    switch (err) {
    case OCTO_EBADSIG:
        return OCTO_NOISE_R_BAD_SIGNATURE;
    case OCTO_EPERM:
        return OCTO_NOISE_R_WRONG_PEER;
    case OCTO_EDECRYPT:
        return OCTO_NOISE_R_DECRYPT;
    case OCTO_ETOOBIG:
        return OCTO_NOISE_R_OVERSIZE;
    case OCTO_ERANGE:
        return OCTO_NOISE_R_NONCE_EXHAUSTED;
    case OCTO_EUNSUPPORTED:
        return OCTO_NOISE_R_UNSUPPORTED_KEY;
    case OCTO_ECRYPTO:
        return OCTO_NOISE_R_WEAK_KEY;
    case OCTO_EMALFORMED:
    case OCTO_ENONCANON:
    case OCTO_EINVAL:
        return OCTO_NOISE_R_BAD_PAYLOAD;
    default:
        return OCTO_NOISE_R_INTERNAL;
    }
}

/* Makes the connection fail: wipes keys, queues ERROR, returns err (sticky from now on). */
static int fail(struct octo_noise *n, int err, enum octo_noise_reason reason)
{
    OCTO_ASSERT(err < 0);
    OCTO_ASSERT(n->state != OCTO_NOISE_ST_FAILED);
    n->state = OCTO_NOISE_ST_FAILED;
    n->err = err;
    n->stats.errors[reason]++;
    octo_noise_hs_deinit(&n->hs);
    octo_noise_cipher_wipe(&n->send);
    octo_noise_cipher_wipe(&n->recv);
    octo_buf_reset(&n->in);
    struct octo_noise_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = OCTO_NOISE_EV_ERROR;
    ev.reason = reason;
    ev.err = err;
    ev.reason_str = octo_noise_reason_str(reason);
    push_event(n, &ev);
    return err;
}

/* ---- buffers ---- */

/* Makes room for `extra` more bytes at the end of b whose first *off bytes are consumed;
 * `limit` bounds the unconsumed bytes. OCTO_ETOOBIG past the limit. */
static int buf_make_room(struct octo_buf *b, size_t *off, size_t extra, size_t limit)
{
    size_t pending = b->len - *off;
    if (extra > limit - pending)
        return OCTO_ETOOBIG;
    if (*off > 0 && (*off >= pending || extra > b->max - b->len)) {
        if (pending > 0)
            memmove(b->data, b->data + *off, pending);
        b->len = pending;
        *off = 0;
    }
    return octo_buf_reserve(b, extra);
}

static void put_be16(uint8_t *p, size_t v)
{
    OCTO_ASSERT(v <= 0xffff);
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---- handshake ---- */

/* Writes the next handshake message (with our payload for messages 2 and 3) as a frame. */
static int queue_hs_message(struct octo_noise *n, bool with_payload)
{
    const uint8_t *payload = with_payload ? n->payload.data : NULL;
    size_t payload_len = with_payload ? n->payload.len : 0;
    size_t msg_len = octo_noise_hs_overhead(&n->hs) + payload_len;
    if (msg_len > OCTO_NOISE_FRAME_MAX)
        return fail(n, OCTO_ETOOBIG, OCTO_NOISE_R_OVERSIZE);
    int rc =
        buf_make_room(&n->out, &n->out_off, OCTO_NOISE_FRAME_HDR_LEN + msg_len, OCTO_NOISE_OUT_MAX);
    if (rc < 0)
        return fail(n, rc, OCTO_NOISE_R_INTERNAL);
    uint8_t *p = n->out.data + n->out.len;
    rc = octo_noise_hs_write_message(&n->hs, payload, payload_len, p + OCTO_NOISE_FRAME_HDR_LEN,
                                     msg_len);
    if (rc < 0)
        return fail(n, rc, reason_for(rc));
    OCTO_ASSERT((size_t)rc == msg_len);
    put_be16(p, msg_len);
    n->out.len += OCTO_NOISE_FRAME_HDR_LEN + msg_len;
    return 0;
}

/* Split into transport keys and announce the remote. */
static int finish_handshake(struct octo_noise *n, const struct octo_noise_remote *remote)
{
    int rc = octo_noise_hs_split(&n->hs, &n->send, &n->recv, n->handshake_hash);
    if (rc < 0)
        return fail(n, rc, OCTO_NOISE_R_INTERNAL);
    octo_buf_deinit(&n->payload);
    n->state = OCTO_NOISE_ST_TRANSPORT;
    struct octo_noise_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = OCTO_NOISE_EV_HANDSHAKE_DONE;
    ev.remote_peer = remote->peer;
    ev.remote_key = remote->key;
    ev.has_muxer = remote->has_muxer;
    memcpy(ev.muxer, remote->muxer, sizeof(ev.muxer));
    ev.reason_str = "handshake complete";
    push_event(n, &ev);
    return 0;
}

/* Verifies the remote's payload (decrypted into plain[0..len)). */
static int accept_payload(struct octo_noise *n, size_t len, struct octo_noise_remote *remote)
{
    const uint8_t *rs = octo_noise_hs_remote_static(&n->hs);
    OCTO_ASSERT(rs != NULL);
    int rc = octo_noise_payload_decode(n->plain.data, len, rs, &n->muxers, n->hs.initiator, remote);
    octo_buf_reset(&n->plain);
    if (rc < 0)
        return fail(n, rc, reason_for(rc));
    if (n->has_expected && !octo_peerid_equal(&n->expected, &remote->peer))
        return fail(n, OCTO_EPERM, OCTO_NOISE_R_WRONG_PEER);
    return 0;
}

static int handshake_frame(struct octo_noise *n, const uint8_t *msg, size_t len)
{
    if (octo_noise_hs_write_turn(&n->hs)) /* cannot happen: we write as soon as it is our turn */
        return fail(n, OCTO_ESTATE, OCTO_NOISE_R_INTERNAL);
    OCTO_ASSERT(n->plain.len == 0);
    int rc = octo_buf_reserve(&n->plain, len);
    if (rc < 0)
        return fail(n, rc, OCTO_NOISE_R_INTERNAL);
    rc = octo_noise_hs_read_message(&n->hs, msg, len, n->plain.data, len);
    if (rc < 0) {
        enum octo_noise_reason reason =
            rc == OCTO_EMALFORMED ? OCTO_NOISE_R_SHORT_FRAME : reason_for(rc);
        return fail(n, rc, reason);
    }
    size_t payload_len = (size_t)rc;
    struct octo_noise_remote remote;
    if (n->hs.step == 1) {
        /* Responder got message 1; libp2p puts no payload there, ignore any. */
        octo_buf_reset(&n->plain);
        return queue_hs_message(n, true);
    }
    rc = accept_payload(n, payload_len, &remote);
    if (rc < 0)
        return rc;
    if (n->hs.initiator) {
        rc = queue_hs_message(n, true);
        if (rc < 0)
            return rc;
    }
    return finish_handshake(n, &remote);
}

/* ---- transport ---- */

static size_t plain_room(const struct octo_noise *n)
{
    return OCTO_NOISE_PLAIN_MAX - (n->plain.len - n->plain_off);
}

/* Whether a frame of body length len may be taken now (backpressure on plaintext). */
static bool frame_fits(const struct octo_noise *n, size_t len)
{
    if (n->state != OCTO_NOISE_ST_TRANSPORT || len < OCTO_NOISE_TAG_LEN)
        return true;
    return len - OCTO_NOISE_TAG_LEN <= plain_room(n);
}

static int transport_frame(struct octo_noise *n, const uint8_t *msg, size_t len)
{
    if (len < OCTO_NOISE_TAG_LEN)
        return fail(n, OCTO_EMALFORMED, OCTO_NOISE_R_SHORT_FRAME);
    size_t pt_len = len - OCTO_NOISE_TAG_LEN;
    int rc = buf_make_room(&n->plain, &n->plain_off, pt_len, OCTO_NOISE_PLAIN_MAX);
    if (rc < 0) /* frame_fits was checked: only ENOMEM */
        return fail(n, rc, OCTO_NOISE_R_INTERNAL);
    rc = octo_noise_cipher_decrypt(&n->recv, NULL, 0, msg, len, n->plain.data + n->plain.len,
                                   pt_len);
    if (rc < 0)
        return fail(n, rc, reason_for(rc));
    n->plain.len += (size_t)rc;
    n->stats.frames_in++;
    return 0;
}

static int process_frame(struct octo_noise *n, const uint8_t *msg, size_t len)
{
    if (n->state == OCTO_NOISE_ST_HANDSHAKE)
        return handshake_frame(n, msg, len);
    OCTO_ASSERT(n->state == OCTO_NOISE_ST_TRANSPORT);
    return transport_frame(n, msg, len);
}

static size_t get_be16(const uint8_t *p)
{
    return ((size_t)p[0] << 8) | p[1];
}

int octo_noise_recv(struct octo_noise *n, octo_tick now, const uint8_t *data, size_t len)
{
    (void)now;
    OCTO_ASSERT(data != NULL || len == 0);
    if (n->state == OCTO_NOISE_ST_FAILED)
        return n->err;
    OCTO_ASSERT(n->state == OCTO_NOISE_ST_HANDSHAKE || n->state == OCTO_NOISE_ST_TRANSPORT);
    if (len > INT_MAX)
        len = INT_MAX;
    size_t off = 0;
    for (;;) {
        /* Fast path: a whole frame inside the caller's bytes. */
        if (n->in.len == 0 && len - off >= OCTO_NOISE_FRAME_HDR_LEN) {
            size_t flen = get_be16(data + off);
            if (len - off - OCTO_NOISE_FRAME_HDR_LEN >= flen) {
                if (!frame_fits(n, flen))
                    break;
                int rc = process_frame(n, data + off + OCTO_NOISE_FRAME_HDR_LEN, flen);
                if (rc < 0)
                    return rc;
                off += OCTO_NOISE_FRAME_HDR_LEN + flen;
                continue;
            }
        }
        if (off == len)
            break;
        /* Slow path: gather the frame in `in`. */
        if (n->in.len < OCTO_NOISE_FRAME_HDR_LEN) {
            size_t take = OCTO_NOISE_FRAME_HDR_LEN - n->in.len;
            if (take > len - off)
                take = len - off;
            int rc = octo_buf_append(&n->in, data + off, take);
            if (rc < 0)
                return fail(n, rc, OCTO_NOISE_R_INTERNAL);
            off += take;
            if (n->in.len < OCTO_NOISE_FRAME_HDR_LEN)
                break;
        }
        size_t flen = get_be16(n->in.data);
        size_t need = OCTO_NOISE_FRAME_HDR_LEN + flen - n->in.len;
        if (need > 0) {
            if (!frame_fits(n, flen))
                break;
            size_t take = need < len - off ? need : len - off;
            int rc = octo_buf_append(&n->in, data + off, take);
            if (rc < 0)
                return fail(n, rc, OCTO_NOISE_R_INTERNAL);
            off += take;
            if (take < need)
                break;
        }
        int rc = process_frame(n, n->in.data + OCTO_NOISE_FRAME_HDR_LEN, flen);
        n->in.len = 0;
        if (rc < 0)
            return rc;
    }
    return (int)off;
}

int octo_noise_write(struct octo_noise *n, const uint8_t *data, size_t len)
{
    OCTO_ASSERT(data != NULL || len == 0);
    if (n->state == OCTO_NOISE_ST_FAILED)
        return n->err;
    if (n->state != OCTO_NOISE_ST_TRANSPORT)
        return OCTO_ESTATE;
    if (len > INT_MAX)
        len = INT_MAX;
    const size_t frame_overhead = OCTO_NOISE_FRAME_HDR_LEN + OCTO_NOISE_TAG_LEN;
    size_t done = 0;
    do {
        size_t pending = n->out.len - n->out_off;
        size_t room = OCTO_NOISE_OUT_MAX - pending;
        if (room < frame_overhead + (len > 0 ? 1 : 0))
            break;
        size_t chunk = len - done;
        if (chunk > OCTO_NOISE_PLAIN_FRAME_MAX)
            chunk = OCTO_NOISE_PLAIN_FRAME_MAX;
        if (chunk > room - frame_overhead)
            chunk = room - frame_overhead;
        int rc = buf_make_room(&n->out, &n->out_off, frame_overhead + chunk, OCTO_NOISE_OUT_MAX);
        if (rc < 0)
            return fail(n, rc, OCTO_NOISE_R_INTERNAL);
        uint8_t *p = n->out.data + n->out.len;
        rc = octo_noise_cipher_encrypt(&n->send, NULL, 0, data + done, chunk,
                                       p + OCTO_NOISE_FRAME_HDR_LEN, chunk + OCTO_NOISE_TAG_LEN);
        if (rc < 0)
            return fail(n, rc, reason_for(rc));
        put_be16(p, (size_t)rc);
        n->out.len += OCTO_NOISE_FRAME_HDR_LEN + (size_t)rc;
        n->stats.frames_out++;
        done += chunk;
    } while (done < len);
    return (int)done;
}

/* ---- lifecycle ---- */

/* strlen that stops at max (strnlen is POSIX, not C17). */
static size_t bounded_strlen(const char *s, size_t max)
{
    size_t len = 0;
    while (len < max && s[len] != '\0')
        len++;
    return len;
}

static int copy_config(struct octo_noise *n, const struct octo_noise_config *cfg)
{
    if (cfg->identity == NULL || cfg->static_secret == NULL || cfg->ephemeral_secret == NULL)
        return OCTO_EINVAL;
    if (cfg->prologue == NULL && cfg->prologue_len > 0)
        return OCTO_EINVAL;
    if (cfg->muxer_count > 0 && cfg->muxers == NULL)
        return OCTO_EINVAL;
    if (cfg->muxer_count > OCTO_NOISE_MUXERS_MAX)
        return OCTO_ETOOBIG;
    for (size_t i = 0; i < cfg->muxer_count; i++) {
        const char *name = cfg->muxers[i];
        if (name == NULL)
            return OCTO_EINVAL;
        size_t len = bounded_strlen(name, OCTO_NOISE_MUXER_NAME_MAX + 1);
        if (len == 0)
            return OCTO_ECONFIG;
        if (len > OCTO_NOISE_MUXER_NAME_MAX)
            return OCTO_ETOOBIG;
        memcpy(n->muxers.name[i], name, len + 1);
    }
    n->muxers.count = cfg->muxer_count;
    if (cfg->expected_peer != NULL) {
        n->has_expected = true;
        n->expected = *cfg->expected_peer;
    }
    return 0;
}

int octo_noise_init(struct octo_noise *n, const struct octo_noise_config *cfg)
{
    memset(n, 0, sizeof(*n));
    octo_buf_init(&n->payload, OCTO_NOISE_PAYLOAD_MAX);
    octo_buf_init(&n->in, IN_MAX);
    octo_buf_init_secret(&n->plain, OCTO_NOISE_PLAIN_MAX);
    octo_buf_init(&n->out, OCTO_NOISE_OUT_MAX);
    int rc = copy_config(n, cfg);
    if (rc < 0)
        goto err_deinit;
    rc = octo_noise_hs_init_static(&n->hs, cfg->initiator, cfg->prologue, cfg->prologue_len,
                                   cfg->static_secret, cfg->static_public, cfg->ephemeral_secret);
    if (rc < 0)
        goto err_deinit;
    if (cfg->static_public != NULL && cfg->static_sig != NULL)
        rc = octo_noise_payload_encode_signed(&cfg->identity->pub, cfg->static_sig, &n->muxers,
                                              &n->payload);
    else
        rc = octo_noise_payload_encode(cfg->identity, octo_noise_hs_local_static(&n->hs),
                                       &n->muxers, &n->payload);
    if (rc < 0)
        goto err_deinit;
    n->state = OCTO_NOISE_ST_HANDSHAKE;
    if (cfg->initiator) {
        rc = queue_hs_message(n, false); /* -> e, empty payload */
        if (rc < 0)
            goto err_deinit;
    }
    return 0;
err_deinit:
    octo_noise_deinit(n);
    return rc;
}

void octo_noise_deinit(struct octo_noise *n)
{
    octo_noise_hs_deinit(&n->hs);
    octo_noise_cipher_wipe(&n->send);
    octo_noise_cipher_wipe(&n->recv);
    octo_buf_deinit(&n->payload);
    octo_buf_deinit(&n->in);
    octo_buf_deinit(&n->plain);
    octo_buf_deinit(&n->out);
    sodium_memzero(n, sizeof(*n));
}

/* ---- accessors ---- */

size_t octo_noise_out_room(const struct octo_noise *n)
{
    return OCTO_NOISE_OUT_MAX - (n->out.len - n->out_off);
}

void octo_noise_out(const struct octo_noise *n, const uint8_t **data, size_t *len)
{
    *len = n->out.len - n->out_off;
    *data = *len > 0 ? n->out.data + n->out_off : NULL;
}

void octo_noise_out_consume(struct octo_noise *n, size_t k)
{
    OCTO_ASSERT(k <= n->out.len - n->out_off);
    n->out_off += k;
    if (n->out_off == n->out.len) {
        n->out.len = 0;
        n->out_off = 0;
    }
}

void octo_noise_read(const struct octo_noise *n, const uint8_t **data, size_t *len)
{
    if (n->state != OCTO_NOISE_ST_TRANSPORT && n->state != OCTO_NOISE_ST_FAILED) {
        *data = NULL; /* plain is the handshake scratch area */
        *len = 0;
        return;
    }
    *len = n->plain.len - n->plain_off;
    *data = *len > 0 ? n->plain.data + n->plain_off : NULL;
}

void octo_noise_read_consume(struct octo_noise *n, size_t k)
{
    OCTO_ASSERT(k <= n->plain.len - n->plain_off);
    n->plain_off += k;
    if (n->plain_off == n->plain.len) {
        /* No wipe here (hot path): the bytes are overwritten by later frames and the buffer
         * is wiped by deinit. */
        n->plain.len = 0;
        n->plain_off = 0;
    }
}

bool octo_noise_poll(struct octo_noise *n, struct octo_noise_event *ev)
{
    if (n->ev_count == 0)
        return false;
    *ev = n->events[n->ev_head];
    n->ev_head = (n->ev_head + 1) % OCTO_NOISE_EVENTS_MAX;
    n->ev_count--;
    return true;
}

bool octo_noise_established(const struct octo_noise *n)
{
    return n->state == OCTO_NOISE_ST_TRANSPORT;
}

int octo_noise_pipe(struct octo_noise *from, struct octo_noise *to, octo_tick now)
{
    const uint8_t *data;
    size_t len;
    octo_noise_out(from, &data, &len);
    if (len == 0)
        return 0;
    int rc = octo_noise_recv(to, now, data, len);
    if (rc < 0)
        return rc;
    octo_noise_out_consume(from, (size_t)rc);
    return rc;
}
