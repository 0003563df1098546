/*
 * identify.c — identify messages, signed peer records and the identify stream reader (see
 * identify.h for the contracts).
 *
 * Identify is encoded and decoded by hand: every field is length-delimited, so a small
 * protobuf writer/reader is shorter than adapting protobuf-c, and the hand reader can check
 * each count and length against its limit before copying, reject NUL inside strings (which
 * protobuf-c's char * would silently truncate) and skip unknown fields as protobuf requires.
 * proto/identify.proto documents the schema; the unit tests cross-check both directions
 * against protobuf-c. Envelopes and peer records are decoded with protobuf-c (bytes and
 * integers only) and encoded by hand in tag order, which reproduces js-libp2p's bytes exactly.
 *
 * Decoded data lives in the caller's arena; nothing here keeps state between calls except
 * the reader, whose fixed buffer holds one message.
 */
#include "p2p/identify.h"

#include "base/assert.h"
#include "base/varint.h"
#include "pb/envelope.pb-c.h"
#include "wire/pb.h"

#include <limits.h>
#include <string.h>

_Static_assert(OCTO_IDENTIFY_MESSAGE_MAX < 128 * 128, "identify length fits a 2-byte prefix");
_Static_assert(OCTO_IDENTIFY_PROTOCOL_LEN_MAX < OCTO_IDENTIFY_MESSAGE_MAX, "protocol limit");

#define PB_VARINT_MAX 10 /* a protobuf varint holds 64 bits */
#define PB_WT_VARINT 0
#define PB_WT_I64 1
#define PB_WT_LEN 2
#define PB_WT_I32 5

enum identify_field {
    F_PUBLIC_KEY = 1,
    F_LISTEN_ADDRS = 2,
    F_PROTOCOLS = 3,
    F_OBSERVED_ADDR = 4,
    F_PROTOCOL_VERSION = 5,
    F_AGENT_VERSION = 6,
    F_SIGNED_PEER_RECORD = 8,
};

static const uint8_t peer_record_type[2] = {0x03, 0x01};

/* ---- a bounded protobuf writer ---- */

struct pbw {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

static void pbw_raw(struct pbw *w, const void *data, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    if (n > 0)
        memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void pbw_varint(struct pbw *w, uint64_t v)
{
    uint8_t tmp[PB_VARINT_MAX];
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        tmp[n++] = v != 0 ? (uint8_t)(b | 0x80) : b;
    } while (v != 0);
    pbw_raw(w, tmp, n);
}

static void pbw_bytes(struct pbw *w, unsigned field, const void *data, size_t n)
{
    pbw_varint(w, ((uint64_t)field << 3) | PB_WT_LEN);
    pbw_varint(w, n);
    pbw_raw(w, data, n);
}

/* ---- a protobuf reader ---- */

/* Reads a varint at in[*off]; protobuf allows non-minimal forms up to 10 bytes. */
static int pb_varint(const uint8_t *in, size_t len, size_t *off, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < PB_VARINT_MAX; i++) {
        if (*off >= len)
            return OCTO_EMALFORMED;
        uint8_t b = in[(*off)++];
        if (i == PB_VARINT_MAX - 1 && b > 1)
            return OCTO_EMALFORMED; /* beyond 64 bits */
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            *v = r;
            return 0;
        }
    }
    return OCTO_EMALFORMED;
}

/* Skips the value of an unknown field. Groups (wire types 3, 4) are not accepted. */
static int pb_skip(const uint8_t *in, size_t len, size_t *off, unsigned wire_type)
{
    uint64_t v;
    switch (wire_type) {
    case PB_WT_VARINT:
        return pb_varint(in, len, off, &v);
    case PB_WT_I64:
        if (len - *off < 8)
            return OCTO_EMALFORMED;
        *off += 8;
        return 0;
    case PB_WT_I32:
        if (len - *off < 4)
            return OCTO_EMALFORMED;
        *off += 4;
        return 0;
    case PB_WT_LEN: {
        int rc = pb_varint(in, len, off, &v);
        if (rc < 0)
            return rc;
        if (v > len - *off)
            return OCTO_EMALFORMED;
        *off += (size_t)v;
        return 0;
    }
    default:
        return OCTO_EMALFORMED;
    }
}

/* ---- field validation shared by encode and decode ---- */

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF) without NUL. */
static bool text_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (extra > n - i - 1)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        if (cp >= 0xd800 && cp <= 0xdfff)
            return false;
        i += extra + 1;
    }
    return true;
}

static bool addr_valid(const uint8_t *a, size_t n)
{
    struct octo_multiaddr ma;
    return n <= OCTO_MULTIADDR_MAX_BYTES && octo_multiaddr_from_bytes(a, n, &ma) == 0;
}

/* strlen that stops after max + 1 bytes (strnlen is POSIX, not C17). */
static size_t bounded_strlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

/* A string field for encoding: NULL-safe length with an upper bound. */
static bool str_ok(const char *s, size_t min, size_t max)
{
    if (s == NULL)
        return false;
    size_t n = bounded_strlen(s, max);
    return n >= min && n <= max && text_valid((const uint8_t *)s, n);
}

static int validate_info(const struct octo_identify_info *info)
{
    if (info->has_public_key && (info->public_key.len > OCTO_KEY_PB_MAX ||
                                 (info->public_key.data == NULL && info->public_key.len != 0)))
        return OCTO_EINVAL;
    if (info->listen_addrs_count > OCTO_IDENTIFY_ADDRS_MAX ||
        info->protocols_count > OCTO_IDENTIFY_PROTOCOLS_MAX)
        return OCTO_EINVAL;
    for (size_t i = 0; i < info->listen_addrs_count; i++) {
        if (info->listen_addrs[i].data == NULL ||
            !addr_valid(info->listen_addrs[i].data, info->listen_addrs[i].len))
            return OCTO_EINVAL;
    }
    for (size_t i = 0; i < info->protocols_count; i++) {
        if (!str_ok(info->protocols[i], 1, OCTO_IDENTIFY_PROTOCOL_LEN_MAX))
            return OCTO_EINVAL;
    }
    if (info->has_observed_addr && (info->observed_addr.data == NULL ||
                                    !addr_valid(info->observed_addr.data, info->observed_addr.len)))
        return OCTO_EINVAL;
    if (info->protocol_version != NULL &&
        !str_ok(info->protocol_version, 0, OCTO_IDENTIFY_VERSION_LEN_MAX))
        return OCTO_EINVAL;
    if (info->agent_version != NULL &&
        !str_ok(info->agent_version, 0, OCTO_IDENTIFY_VERSION_LEN_MAX))
        return OCTO_EINVAL;
    if (info->has_signed_peer_record &&
        (info->signed_peer_record.len > OCTO_IDENTIFY_RECORD_MAX ||
         (info->signed_peer_record.data == NULL && info->signed_peer_record.len != 0)))
        return OCTO_EINVAL;
    return 0;
}

int octo_identify_encode(const struct octo_identify_info *info, struct octo_buf *out)
{
    OCTO_ASSERT(info != NULL);
    OCTO_ASSERT(out != NULL);
    int rc = validate_info(info);
    if (rc < 0)
        return rc;
    uint8_t body[OCTO_IDENTIFY_MESSAGE_MAX];
    struct pbw w = {.buf = body, .cap = sizeof(body)};
    if (info->has_public_key)
        pbw_bytes(&w, F_PUBLIC_KEY, info->public_key.data, info->public_key.len);
    for (size_t i = 0; i < info->listen_addrs_count; i++)
        pbw_bytes(&w, F_LISTEN_ADDRS, info->listen_addrs[i].data, info->listen_addrs[i].len);
    for (size_t i = 0; i < info->protocols_count; i++)
        pbw_bytes(&w, F_PROTOCOLS, info->protocols[i], strlen(info->protocols[i]));
    if (info->has_observed_addr)
        pbw_bytes(&w, F_OBSERVED_ADDR, info->observed_addr.data, info->observed_addr.len);
    if (info->protocol_version != NULL)
        pbw_bytes(&w, F_PROTOCOL_VERSION, info->protocol_version, strlen(info->protocol_version));
    if (info->agent_version != NULL)
        pbw_bytes(&w, F_AGENT_VERSION, info->agent_version, strlen(info->agent_version));
    if (info->has_signed_peer_record)
        pbw_bytes(&w, F_SIGNED_PEER_RECORD, info->signed_peer_record.data,
                  info->signed_peer_record.len);
    if (w.overflow)
        return OCTO_ETOOBIG;
    uint8_t prefix[OCTO_VARINT_MAX_LEN];
    size_t plen = octo_varint_encode(w.len, prefix);
    rc = octo_buf_reserve(out, plen + w.len);
    if (rc < 0)
        return rc;
    rc = octo_buf_append(out, prefix, plen);
    OCTO_ASSERT(rc == 0);
    rc = octo_buf_append(out, body, w.len);
    OCTO_ASSERT(rc == 0);
    return 0;
}

/* ---- decode ---- */

static int copy_bytes(struct octo_arena *arena, const uint8_t *p, size_t n,
                      struct octo_identify_bytes *out)
{
    uint8_t *copy = octo_arena_memdup(arena, p, n);
    if (copy == NULL)
        return OCTO_ETOOBIG;
    out->data = copy;
    out->len = n;
    return 0;
}

static int copy_text(struct octo_arena *arena, const uint8_t *p, size_t n, size_t min, size_t max,
                     const char **out)
{
    if (n > max)
        return OCTO_ETOOBIG;
    if (n < min || !text_valid(p, n))
        return OCTO_EMALFORMED;
    char *copy = octo_arena_alloc(arena, n + 1, 1);
    if (copy == NULL)
        return OCTO_ETOOBIG;
    if (n > 0)
        memcpy(copy, p, n);
    copy[n] = '\0';
    *out = copy;
    return 0;
}

/* Stores one known field of wire type 2 (value p[0..n)). */
static int decode_field(uint64_t field, const uint8_t *p, size_t n, struct octo_identify_info *o,
                        struct octo_arena *arena)
{
    switch (field) {
    case F_PUBLIC_KEY:
        if (n > OCTO_KEY_PB_MAX)
            return OCTO_ETOOBIG;
        o->has_public_key = true;
        return copy_bytes(arena, p, n, &o->public_key);
    case F_LISTEN_ADDRS:
        if (o->listen_addrs_count + o->addrs_dropped >= OCTO_IDENTIFY_ADDRS_MAX)
            return OCTO_ETOOBIG;
        if (!addr_valid(p, n)) {
            o->addrs_dropped++;
            return 0;
        }
        return copy_bytes(arena, p, n, &o->listen_addrs[o->listen_addrs_count++]);
    case F_PROTOCOLS:
        if (o->protocols_count >= OCTO_IDENTIFY_PROTOCOLS_MAX)
            return OCTO_ETOOBIG;
        return copy_text(arena, p, n, 1, OCTO_IDENTIFY_PROTOCOL_LEN_MAX,
                         &o->protocols[o->protocols_count++]);
    case F_OBSERVED_ADDR:
        o->has_observed_addr = false;
        if (!addr_valid(p, n)) {
            o->addrs_dropped++;
            return 0;
        }
        o->has_observed_addr = true;
        return copy_bytes(arena, p, n, &o->observed_addr);
    case F_PROTOCOL_VERSION:
        return copy_text(arena, p, n, 0, OCTO_IDENTIFY_VERSION_LEN_MAX, &o->protocol_version);
    case F_AGENT_VERSION:
        return copy_text(arena, p, n, 0, OCTO_IDENTIFY_VERSION_LEN_MAX, &o->agent_version);
    case F_SIGNED_PEER_RECORD:
        if (n > OCTO_IDENTIFY_RECORD_MAX)
            return OCTO_ETOOBIG;
        o->has_signed_peer_record = true;
        return copy_bytes(arena, p, n, &o->signed_peer_record);
    default:
        OCTO_UNREACHABLE();
    }
}

static bool field_known(uint64_t field)
{
    return (field >= F_PUBLIC_KEY && field <= F_AGENT_VERSION) || field == F_SIGNED_PEER_RECORD;
}

static int decode_fields(const uint8_t *msg, size_t len, struct octo_identify_info *out,
                         struct octo_arena *arena)
{
    size_t off = 0;
    while (off < len) {
        uint64_t tag;
        int rc = pb_varint(msg, len, &off, &tag);
        if (rc < 0)
            return rc;
        uint64_t field = tag >> 3;
        unsigned wire_type = (unsigned)(tag & 7);
        if (field == 0 || field > 0x1fffffff)
            return OCTO_EMALFORMED;
        if (!field_known(field)) {
            rc = pb_skip(msg, len, &off, wire_type);
            if (rc < 0)
                return rc;
            continue;
        }
        if (wire_type != PB_WT_LEN)
            return OCTO_EMALFORMED;
        uint64_t n;
        rc = pb_varint(msg, len, &off, &n);
        if (rc < 0)
            return rc;
        if (n > len - off)
            return OCTO_EMALFORMED;
        rc = decode_field(field, msg + off, (size_t)n, out, arena);
        if (rc < 0)
            return rc;
        off += (size_t)n;
    }
    return 0;
}

int octo_identify_decode(const uint8_t *msg, size_t len, struct octo_identify_info *out,
                         struct octo_arena *arena)
{
    OCTO_ASSERT(msg != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    OCTO_ASSERT(arena != NULL);
    memset(out, 0, sizeof(*out));
    if (len > OCTO_IDENTIFY_MESSAGE_MAX)
        return OCTO_ETOOBIG;
    int rc = decode_fields(msg, len, out, arena);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

int octo_identify_check_peer(const struct octo_identify_info *info,
                             const struct octo_peerid *expected)
{
    OCTO_ASSERT(info != NULL);
    OCTO_ASSERT(expected != NULL);
    if (!info->has_public_key)
        return OCTO_ENOTFOUND;
    struct octo_pubkey pub;
    int rc = octo_pubkey_decode(info->public_key.data, info->public_key.len, &pub);
    if (rc < 0)
        return rc;
    struct octo_peerid id;
    octo_peerid_from_pubkey(&pub, &id);
    return octo_peerid_equal(&id, expected) ? 0 : OCTO_EPERM;
}

/* ---- signed peer records ---- */

/* The signed bytes: uvarint(len(domain)) || domain || uvarint(2) || 03 01 ||
 * uvarint(len(payload)) || payload, written into buf. */
static void signing_input(struct pbw *w, const uint8_t *payload, size_t payload_len)
{
    size_t dlen = sizeof(OCTO_PEER_RECORD_DOMAIN) - 1;
    pbw_varint(w, dlen);
    pbw_raw(w, OCTO_PEER_RECORD_DOMAIN, dlen);
    pbw_varint(w, sizeof(peer_record_type));
    pbw_raw(w, peer_record_type, sizeof(peer_record_type));
    pbw_varint(w, payload_len);
    pbw_raw(w, payload, payload_len);
}

/* Room for the signing input of any envelope within OCTO_IDENTIFY_RECORD_MAX. */
#define SIGNING_MAX (OCTO_IDENTIFY_RECORD_MAX + 64)

int octo_peer_record_seal(const struct octo_identity *id, uint64_t seq,
                          const struct octo_multiaddr *addrs, size_t count, struct octo_buf *out)
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(addrs != NULL || count == 0);
    OCTO_ASSERT(out != NULL);
    if (count > OCTO_PEER_RECORD_ADDRS_MAX)
        return OCTO_EINVAL;
    struct octo_peerid pid;
    octo_peerid_from_pubkey(&id->pub, &pid);

    /* PeerRecord: proto3, so seq 0 is omitted as any protobuf encoder would */
    uint8_t payload[OCTO_IDENTIFY_RECORD_MAX];
    struct pbw pw = {.buf = payload, .cap = sizeof(payload)};
    pbw_bytes(&pw, 1, pid.bytes, pid.len);
    if (seq != 0) {
        pbw_varint(&pw, (2u << 3) | PB_WT_VARINT);
        pbw_varint(&pw, seq);
    }
    for (size_t i = 0; i < count; i++) {
        size_t n = addrs[i].len;
        OCTO_ASSERT(n <= OCTO_MULTIADDR_MAX_BYTES);
        pbw_varint(&pw, (3u << 3) | PB_WT_LEN);
        pbw_varint(&pw, 1 + octo_varint_size(n) + n); /* AddressInfo { multiaddr = 1 } */
        pbw_bytes(&pw, 1, addrs[i].bytes, n);
    }
    if (pw.overflow)
        return OCTO_ETOOBIG;

    uint8_t signing[SIGNING_MAX];
    struct pbw sw = {.buf = signing, .cap = sizeof(signing)};
    signing_input(&sw, payload, pw.len);
    OCTO_ASSERT(!sw.overflow);
    uint8_t sig[OCTO_ED25519_SIG_LEN];
    octo_identity_sign(id, signing, sw.len, sig);

    uint8_t key[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&id->pub, key);
    uint8_t env[OCTO_IDENTIFY_RECORD_MAX];
    struct pbw ew = {.buf = env, .cap = sizeof(env)};
    pbw_bytes(&ew, 1, key, sizeof(key));
    pbw_bytes(&ew, 2, peer_record_type, sizeof(peer_record_type));
    pbw_bytes(&ew, 3, payload, pw.len);
    pbw_bytes(&ew, 5, sig, sizeof(sig));
    if (ew.overflow)
        return OCTO_ETOOBIG;
    return octo_buf_append(out, env, ew.len);
}

/* Parses the PeerRecord payload into out (peer id, seq, addresses copied into arena). */
static int open_payload(const uint8_t *payload, size_t len, struct octo_peer_record *out,
                        struct octo_arena *arena)
{
    Octo__Pb__PeerRecord *rec = octo__pb__peer_record__unpack(octo_pb_allocator(), len, payload);
    if (rec == NULL)
        return OCTO_EMALFORMED;
    int rc = octo_peerid_from_bytes(rec->peer_id.data, rec->peer_id.len, &out->peer_id);
    if (rc < 0) {
        rc = rc == OCTO_ETOOBIG ? OCTO_EMALFORMED : rc;
        goto err_free_rec;
    }
    out->seq = rec->seq;
    if (rec->n_addresses > OCTO_PEER_RECORD_ADDRS_MAX) {
        rc = OCTO_ETOOBIG;
        goto err_free_rec;
    }
    for (size_t i = 0; i < rec->n_addresses; i++) {
        const ProtobufCBinaryData *ma = &rec->addresses[i]->multiaddr;
        if (!addr_valid(ma->data, ma->len)) {
            out->addrs_dropped++;
            continue;
        }
        rc = copy_bytes(arena, ma->data, ma->len, &out->addrs[out->addrs_count]);
        if (rc < 0)
            goto err_free_rec;
        out->addrs_count++;
    }
    rc = 0;
err_free_rec:
    octo__pb__peer_record__free_unpacked(rec, octo_pb_allocator());
    return rc;
}

/* Checks key, type and signature of an unpacked envelope; the key goes to *pub. */
static int verify_envelope(const Octo__Pb__Envelope *env, struct octo_pubkey *pub)
{
    int rc = octo_pubkey_decode(env->public_key.data, env->public_key.len, pub);
    if (rc < 0)
        return rc;
    if (env->payload_type.len != sizeof(peer_record_type) ||
        memcmp(env->payload_type.data, peer_record_type, sizeof(peer_record_type)) != 0)
        return OCTO_EUNSUPPORTED;
    if (env->signature.len != OCTO_ED25519_SIG_LEN)
        return OCTO_EBADSIG;
    uint8_t signing[SIGNING_MAX];
    struct pbw sw = {.buf = signing, .cap = sizeof(signing)};
    signing_input(&sw, env->payload.data, env->payload.len);
    OCTO_ASSERT(!sw.overflow); /* the payload is inside a bounded envelope */
    return octo_pubkey_verify(pub, signing, sw.len, env->signature.data);
}

int octo_peer_record_open(const uint8_t *env_bytes, size_t len, const struct octo_peerid *expected,
                          struct octo_peer_record *out, struct octo_arena *arena)
{
    OCTO_ASSERT(env_bytes != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    OCTO_ASSERT(arena != NULL);
    memset(out, 0, sizeof(*out));
    if (len > OCTO_IDENTIFY_RECORD_MAX)
        return OCTO_ETOOBIG;
    Octo__Pb__Envelope *env = octo__pb__envelope__unpack(octo_pb_allocator(), len, env_bytes);
    if (env == NULL)
        return OCTO_EMALFORMED;
    struct octo_pubkey pub;
    int rc = verify_envelope(env, &pub);
    if (rc == 0)
        rc = open_payload(env->payload.data, env->payload.len, out, arena);
    octo__pb__envelope__free_unpacked(env, octo_pb_allocator());
    if (rc == 0) {
        struct octo_peerid key_id;
        octo_peerid_from_pubkey(&pub, &key_id);
        if (!octo_peerid_equal(&key_id, &out->peer_id))
            rc = OCTO_EPERM;
        else if (expected != NULL && !octo_peerid_equal(expected, &out->peer_id))
            rc = OCTO_EPERM;
    }
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- stream reader ---- */

void octo_identify_reader_init(struct octo_identify_reader *r)
{
    OCTO_ASSERT(r != NULL);
    r->len = 0;
    r->msg_len = 0;
    r->msg_off = 0;
    r->ready = false;
    r->messages = 0;
}

/* Takes one prefix byte; sets msg_off/msg_len once the prefix is complete. */
static int reader_prefix_byte(struct octo_identify_reader *r, uint8_t byte)
{
    OCTO_ASSERT(r->len < OCTO_IDENTIFY_PREFIX_MAX);
    r->buf[r->len++] = byte;
    uint64_t v;
    int rc = octo_varint_decode(r->buf, r->len, &v);
    if (rc == OCTO_EAGAIN)
        return r->len >= OCTO_IDENTIFY_PREFIX_MAX ? OCTO_ETOOBIG : 0;
    if (rc < 0)
        return OCTO_EMALFORMED;
    if (v > OCTO_IDENTIFY_MESSAGE_MAX)
        return OCTO_ETOOBIG;
    if (r->messages >= OCTO_IDENTIFY_MESSAGES_MAX)
        return OCTO_ETOOBIG;
    r->msg_len = (size_t)v;
    r->msg_off = r->len;
    return 0;
}

int octo_identify_reader_recv(struct octo_identify_reader *r, const uint8_t *data, size_t len)
{
    OCTO_ASSERT(r != NULL);
    OCTO_ASSERT(data != NULL || len == 0);
    if (len > INT_MAX)
        len = INT_MAX;
    size_t used = 0;
    while (!r->ready) {
        if (r->msg_off == 0) {
            if (used == len)
                break;
            int rc = reader_prefix_byte(r, data[used++]);
            if (rc < 0)
                return rc;
            continue;
        }
        size_t end = r->msg_off + r->msg_len;
        OCTO_ASSERT(end <= sizeof(r->buf));
        size_t take = end - r->len;
        if (take > len - used)
            take = len - used;
        if (take > 0)
            memcpy(r->buf + r->len, data + used, take);
        r->len += take;
        used += take;
        if (r->len < end)
            break;
        r->ready = true;
        r->messages++;
    }
    return (int)used;
}

bool octo_identify_reader_next(struct octo_identify_reader *r, const uint8_t **msg, size_t *len)
{
    OCTO_ASSERT(r != NULL);
    OCTO_ASSERT(msg != NULL);
    OCTO_ASSERT(len != NULL);
    if (!r->ready)
        return false;
    /* the body stays in buf until the next recv, which starts a fresh message */
    *msg = r->buf + r->msg_off;
    *len = r->msg_len;
    r->ready = false;
    r->len = 0;
    r->msg_off = 0;
    r->msg_len = 0;
    return true;
}

int octo_identify_reader_finish(const struct octo_identify_reader *r)
{
    OCTO_ASSERT(r != NULL);
    return r->len == 0 || r->ready ? 0 : OCTO_EMALFORMED;
}
