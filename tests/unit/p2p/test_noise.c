/*
 * test_noise.c — the libp2p Noise channel (src/p2p/noise.c): two instances driven against
 * each other in memory (whole, byte-at-a-time and coalesced delivery), the LIBP2P.md §5
 * identity_sig vector, payload verification (forged signature, wrong peer, unsupported key),
 * tampering of every handshake byte, inlined muxer negotiation, transport round trips and
 * frame limits, backpressure on both buffers, and nonce exhaustion.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "p2p/noise.h"
#include "pb/noise.pb-c.h"
#include "test.h"
#include "wire/pb.h"

#include <sodium.h>
#include <string.h>

static struct octo_identity id_a; /* LIBP2P.md §2 seed 00..1f */
static struct octo_identity id_b;

struct opts {
    const char *const *ini_muxers;
    size_t ini_muxer_count;
    const char *const *resp_muxers;
    size_t resp_muxer_count;
    const struct octo_peerid *expected; /* initiator's */
};

static void keys(uint8_t base, uint8_t out[32])
{
    for (unsigned i = 0; i < 32; i++)
        out[i] = (uint8_t)(base + i * 3);
}

static int make_pair(struct octo_noise *ini, struct octo_noise *resp, const struct opts *o)
{
    uint8_t is[32], ie[32], rs[32], re[32];
    keys(1, is);
    keys(2, ie);
    keys(3, rs);
    keys(4, re);
    struct octo_noise_config ci = {
        .initiator = true,
        .identity = &id_a,
        .static_secret = is,
        .ephemeral_secret = ie,
        .expected_peer = o != NULL ? o->expected : NULL,
        .muxers = o != NULL ? o->ini_muxers : NULL,
        .muxer_count = o != NULL ? o->ini_muxer_count : 0,
    };
    struct octo_noise_config cr = {
        .initiator = false,
        .identity = &id_b,
        .static_secret = rs,
        .ephemeral_secret = re,
        .muxers = o != NULL ? o->resp_muxers : NULL,
        .muxer_count = o != NULL ? o->resp_muxer_count : 0,
    };
    int rc = octo_noise_init(ini, &ci);
    if (rc < 0)
        return rc;
    rc = octo_noise_init(resp, &cr);
    if (rc < 0)
        octo_noise_deinit(ini);
    return rc;
}

static void free_pair(struct octo_noise *ini, struct octo_noise *resp)
{
    octo_noise_deinit(ini);
    octo_noise_deinit(resp);
}

/* Moves up to `chunk` bytes per recv call from `from` to `to` until `from` is drained or `to`
 * stops accepting. Returns bytes moved or the error. */
static int pump(struct octo_noise *from, struct octo_noise *to, size_t chunk)
{
    size_t moved = 0;
    for (;;) {
        const uint8_t *data;
        size_t len;
        octo_noise_out(from, &data, &len);
        if (len == 0)
            break;
        if (len > chunk)
            len = chunk;
        int rc = octo_noise_recv(to, 0, data, len);
        if (rc < 0)
            return rc;
        octo_noise_out_consume(from, (size_t)rc);
        moved += (size_t)rc;
        if ((size_t)rc < len)
            break;
    }
    return (int)moved;
}

/* Pumps both ways until quiet; returns 0 or the first error. */
static int converse(struct octo_noise *a, struct octo_noise *b, size_t chunk)
{
    for (;;) {
        int x = pump(a, b, chunk);
        if (x < 0)
            return x;
        int y = pump(b, a, chunk);
        if (y < 0)
            return y;
        if (x == 0 && y == 0)
            return 0;
    }
}

static bool get_event(struct octo_noise *n, enum octo_noise_event_type type,
                      struct octo_noise_event *ev)
{
    while (octo_noise_poll(n, ev))
        if (ev->type == type)
            return true;
    return false;
}

static void test_static_sig_vector(void)
{
    uint8_t seed[32];
    for (unsigned i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    struct octo_identity id;
    CHECK_OK(octo_identity_from_seed(&id, seed));
    uint8_t pub[32], sig[64];
    memset(pub, 0x11, sizeof(pub));
    octo_noise_static_sig(&id, pub, sig);
    CHECK_HEX(sig, 64,
              "02b4bfd88f3ae94022703eb1000681e6e842ce06f8beab49d69ca86390fb8f8185354300063d024d"
              "fd53c8d93ba2edcf6cf7b230c68b57065c06459f90060703");
    octo_identity_deinit(&id);
}

static void check_done(struct octo_noise *n, const struct octo_identity *remote_id,
                       const char *muxer)
{
    struct octo_noise_event ev;
    CHECK(get_event(n, OCTO_NOISE_EV_HANDSHAKE_DONE, &ev));
    struct octo_peerid want;
    octo_peerid_from_pubkey(&remote_id->pub, &want);
    CHECK(octo_peerid_equal(&ev.remote_peer, &want));
    CHECK_MEM(ev.remote_key.bytes, remote_id->pub.bytes, 32);
    if (muxer == NULL) {
        CHECK(!ev.has_muxer);
    } else {
        CHECK(ev.has_muxer);
        CHECK_STR(ev.muxer, muxer);
    }
    CHECK(octo_noise_established(n));
}

static void test_handshake_whole(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, NULL));
    /* message 1 is queued at init: 00 20 || e */
    const uint8_t *data;
    size_t len;
    octo_noise_out(&ini, &data, &len);
    CHECK_EQ_U64(len, 34);
    CHECK(data[0] == 0x00 && data[1] == 0x20);
    octo_noise_out(&resp, &data, &len);
    CHECK_EQ_U64(len, 0);
    CHECK(!octo_noise_established(&ini));
    CHECK_ERR(octo_noise_write(&ini, (const uint8_t *)"x", 1), OCTO_ESTATE);
    octo_noise_read(&ini, &data, &len);
    CHECK_EQ_U64(len, 0);
    CHECK_OK(converse(&ini, &resp, SIZE_MAX));
    check_done(&ini, &id_b, NULL);
    if (octo_test_failed)
        goto out;
    check_done(&resp, &id_a, NULL);
    if (octo_test_failed)
        goto out;
    CHECK_MEM(ini.handshake_hash, resp.handshake_hash, 32);
    struct octo_noise_event ev;
    CHECK(!octo_noise_poll(&ini, &ev));
out:
    free_pair(&ini, &resp);
}

/* The wire sizes match the js trace of LIBP2P.md §4 when advertising /yamux/1.0.0:
 * message 2 is 0x00d8 bytes, message 3 is 0x00b8. */
static void test_handshake_sizes_match_js(void)
{
    static const char *const yamux[] = {"/yamux/1.0.0"};
    struct opts o = {yamux, 1, yamux, 1, NULL};
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, &o));
    const uint8_t *data;
    size_t len;
    CHECK_EQ_INT(pump(&ini, &resp, SIZE_MAX), 34);
    octo_noise_out(&resp, &data, &len);
    CHECK_EQ_U64(len, 2 + 0xd8);
    CHECK(data[0] == 0x00 && data[1] == 0xd8);
    CHECK_EQ_INT(pump(&resp, &ini, SIZE_MAX), 2 + 0xd8);
    octo_noise_out(&ini, &data, &len);
    CHECK_EQ_U64(len, 2 + 0xb8);
    CHECK(data[0] == 0x00 && data[1] == 0xb8);
    CHECK_OK(converse(&ini, &resp, SIZE_MAX));
    check_done(&ini, &id_b, "/yamux/1.0.0");
    check_done(&resp, &id_a, "/yamux/1.0.0");
    free_pair(&ini, &resp);
}

static void test_handshake_byte_at_a_time(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, NULL));
    CHECK_OK(converse(&ini, &resp, 1));
    check_done(&ini, &id_b, NULL);
    check_done(&resp, &id_a, NULL);
    /* transport one byte at a time too */
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)"hello", 5), 5);
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)" world", 6), 6);
    CHECK_OK(pump(&ini, &resp, 1));
    const uint8_t *data;
    size_t len;
    octo_noise_read(&resp, &data, &len);
    CHECK_EQ_U64(len, 11);
    CHECK_MEM(data, "hello world", 11);
    octo_noise_read_consume(&resp, 3);
    octo_noise_read(&resp, &data, &len);
    CHECK_EQ_U64(len, 8);
    CHECK_MEM(data, "lo world", 8);
    octo_noise_read_consume(&resp, 8);
    octo_noise_read(&resp, &data, &len);
    CHECK_EQ_U64(len, 0);
    free_pair(&ini, &resp);
}

/* Message 3 and the initiator's first transport frames arrive in one segment (js does this);
 * the responder must process all of it in one recv. */
static void test_handshake_coalesced(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, NULL));
    CHECK_EQ_INT(pump(&ini, &resp, SIZE_MAX), 34);
    CHECK_OK(pump(&resp, &ini, SIZE_MAX));
    CHECK(octo_noise_established(&ini));
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)"abc", 3), 3);
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)"defg", 4), 4);
    const uint8_t *data;
    size_t len;
    octo_noise_out(&ini, &data, &len);
    size_t total = len;
    CHECK_EQ_INT(octo_noise_recv(&resp, 0, data, len), (int)total);
    octo_noise_out_consume(&ini, total);
    check_done(&resp, &id_a, NULL);
    octo_noise_read(&resp, &data, &len);
    CHECK_EQ_U64(len, 7);
    CHECK_MEM(data, "abcdefg", 7);
    free_pair(&ini, &resp);
}

static void test_expected_peer(void)
{
    struct octo_peerid right, wrong;
    octo_peerid_from_pubkey(&id_b.pub, &right);
    octo_peerid_from_pubkey(&id_a.pub, &wrong);
    struct opts o = {NULL, 0, NULL, 0, &right};
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, &o));
    CHECK_OK(converse(&ini, &resp, SIZE_MAX));
    check_done(&ini, &id_b, NULL);
    free_pair(&ini, &resp);

    o.expected = &wrong;
    CHECK_OK(make_pair(&ini, &resp, &o));
    CHECK_ERR(converse(&ini, &resp, SIZE_MAX), OCTO_EPERM);
    struct octo_noise_event ev;
    CHECK(get_event(&ini, OCTO_NOISE_EV_ERROR, &ev));
    CHECK_EQ_INT(ev.reason, OCTO_NOISE_R_WRONG_PEER);
    CHECK_EQ_INT(ev.err, OCTO_EPERM);
    CHECK(ev.reason_str != NULL && strstr(ev.reason_str, "peer id") != NULL);
    CHECK_EQ_U64(ini.stats.errors[OCTO_NOISE_R_WRONG_PEER], 1);
    CHECK(!octo_noise_established(&ini));
    /* sticky */
    CHECK_ERR(octo_noise_recv(&ini, 0, (const uint8_t *)"x", 1), OCTO_EPERM);
    CHECK_ERR(octo_noise_write(&ini, (const uint8_t *)"x", 1), OCTO_EPERM);
    /* message 3 was never sent: the responder is still waiting */
    CHECK(!octo_noise_established(&resp));
    free_pair(&ini, &resp);
}

/* Flip one bit at every byte of each handshake message body: the handshake must fail with an
 * error (message 1 is unauthenticated: the initiator notices when message 2 arrives). */
static void test_tamper_every_byte(void)
{
    static const char *const yamux[] = {"/yamux/1.0.0"};
    struct opts o = {yamux, 1, yamux, 1, NULL};
    size_t lens[3] = {34, 2 + 0xd8, 2 + 0xb8};
    for (unsigned which = 0; which < 3; which++) {
        for (size_t pos = 2; pos < lens[which]; pos++) {
            struct octo_noise ini, resp;
            CHECK_OK(make_pair(&ini, &resp, &o));
            int rc = 0;
            for (unsigned i = 0; i < 3 && rc >= 0; i++) {
                struct octo_noise *w = (i % 2 == 0) ? &ini : &resp;
                struct octo_noise *r = (i % 2 == 0) ? &resp : &ini;
                const uint8_t *data;
                size_t len;
                octo_noise_out(w, &data, &len);
                CHECK_EQ_U64(len, lens[i]);
                uint8_t buf[512];
                memcpy(buf, data, len);
                octo_noise_out_consume(w, len);
                if (i == which)
                    buf[pos] ^= 0x80;
                rc = octo_noise_recv(r, 0, buf, len);
            }
            CHECK(rc < 0);
            CHECK(rc == OCTO_EDECRYPT || rc == OCTO_ECRYPTO);
            CHECK(!octo_noise_established(&ini) || !octo_noise_established(&resp));
            free_pair(&ini, &resp);
            if (octo_test_failed)
                return;
        }
    }
}

/* The responder signs a different static key: the initiator must reject the signature. */
static void test_forged_sig(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, NULL));
    uint8_t other[32];
    memset(other, 0x42, sizeof(other));
    CHECK_OK(octo_noise_payload_encode(&id_b, other, &resp.muxers, &resp.payload));
    CHECK_ERR(converse(&ini, &resp, SIZE_MAX), OCTO_EBADSIG);
    struct octo_noise_event ev;
    CHECK(get_event(&ini, OCTO_NOISE_EV_ERROR, &ev));
    CHECK_EQ_INT(ev.reason, OCTO_NOISE_R_BAD_SIGNATURE);
    free_pair(&ini, &resp);

    /* a signature by another identity over the right key, with our key claimed */
    CHECK_OK(make_pair(&ini, &resp, NULL));
    struct octo_noise_muxers none = {0};
    CHECK_OK(
        octo_noise_payload_encode(&id_a, octo_noise_hs_local_static(&ini.hs), &none, &ini.payload));
    /* swap in id_b's key bytes (payload: 0a 24 <36-byte key> 12 40 <sig>) */
    uint8_t key_pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&id_b.pub, key_pb);
    CHECK(ini.payload.len == 2 + 36 + 2 + 64);
    memcpy(ini.payload.data + 2, key_pb, sizeof(key_pb));
    CHECK_ERR(converse(&ini, &resp, SIZE_MAX), OCTO_EBADSIG);
    CHECK(get_event(&resp, OCTO_NOISE_EV_ERROR, &ev));
    CHECK_EQ_INT(ev.reason, OCTO_NOISE_R_BAD_SIGNATURE);
    free_pair(&ini, &resp);
}

static void test_payload_decode_errors(void)
{
    uint8_t rs[32];
    memset(rs, 0x11, sizeof(rs));
    struct octo_noise_remote r;
    struct octo_noise_muxers none = {0};
    struct octo_buf b;
    octo_buf_init(&b, OCTO_NOISE_PAYLOAD_MAX);
    CHECK_OK(octo_noise_payload_encode(&id_a, rs, &none, &b));
    CHECK_OK(octo_noise_payload_decode(b.data, b.len, rs, &none, true, &r));
    CHECK_MEM(r.key.bytes, id_a.pub.bytes, 32);
    CHECK(!r.has_muxer);
    CHECK_EQ_U64(r.muxer_count, 0);
    /* every truncation fails */
    for (size_t cut = 0; cut < b.len; cut++) {
        int rc = octo_noise_payload_decode(b.data, cut, rs, &none, true, &r);
        CHECK(rc < 0);
    }
    /* garbage, empty, oversize */
    CHECK_ERR(octo_noise_payload_decode((const uint8_t *)"\xff\xff\xff", 3, rs, &none, true, &r),
              OCTO_EMALFORMED);
    CHECK_ERR(octo_noise_payload_decode(NULL, 0, rs, &none, true, &r), OCTO_EMALFORMED);
    CHECK_ERR(octo_noise_payload_decode(b.data, OCTO_NOISE_PAYLOAD_MAX + 1, rs, &none, true, &r),
              OCTO_ETOOBIG);
    /* signature of the wrong length: drop its last byte (12 40 -> 12 3f) */
    uint8_t p[200];
    memcpy(p, b.data, b.len);
    p[2 + 36 + 1] = 0x3f;
    CHECK_ERR(octo_noise_payload_decode(p, b.len - 1, rs, &none, true, &r), OCTO_EMALFORMED);
    /* identity key of another type (secp256k1, 33 bytes) */
    uint8_t q[2 + 37 + 2 + 64];
    size_t k = 0;
    q[k++] = 0x0a;
    q[k++] = 37;
    q[k++] = 0x08;
    q[k++] = 0x02;
    q[k++] = 0x12;
    q[k++] = 33;
    q[k++] = 0x02;
    memset(q + k, 0x55, 32);
    k += 32;
    q[k++] = 0x12;
    q[k++] = 0x40;
    memset(q + k, 0, 64);
    k += 64;
    CHECK_ERR(octo_noise_payload_decode(q, k, rs, &none, true, &r), OCTO_EUNSUPPORTED);
    /* key present, signature missing */
    CHECK_ERR(octo_noise_payload_decode(b.data, 2 + 36, rs, &none, true, &r), OCTO_EMALFORMED);
    /* signature by the right key over another static key */
    rs[0] ^= 1;
    CHECK_ERR(octo_noise_payload_decode(b.data, b.len, rs, &none, true, &r), OCTO_EBADSIG);
    octo_buf_deinit(&b);
}

/* Inlined muxer negotiation cases. */
static void muxer_case(const char *const *im, size_t ic, const char *const *rm, size_t rc,
                       const char *want)
{
    struct opts o = {im, ic, rm, rc, NULL};
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, &o));
    CHECK_OK(converse(&ini, &resp, SIZE_MAX));
    check_done(&ini, &id_b, want);
    check_done(&resp, &id_a, want);
    free_pair(&ini, &resp);
}

static void test_muxers(void)
{
    static const char *const yamux[] = {"/yamux/1.0.0"};
    static const char *const mplex_yamux[] = {"/mplex/6.7.0", "/yamux/1.0.0"};
    static const char *const yamux_mplex[] = {"/yamux/1.0.0", "/mplex/6.7.0"};
    static const char *const other[] = {"/other/1"};
    muxer_case(yamux, 1, yamux, 1, "/yamux/1.0.0");             /* both advertise */
    muxer_case(mplex_yamux, 2, yamux_mplex, 2, "/mplex/6.7.0"); /* initiator's order wins */
    muxer_case(yamux_mplex, 2, mplex_yamux, 2, "/yamux/1.0.0");
    muxer_case(mplex_yamux, 2, yamux, 1, "/yamux/1.0.0"); /* first common */
    muxer_case(yamux, 1, NULL, 0, NULL);                  /* only the initiator */
    muxer_case(NULL, 0, yamux, 1, NULL);                  /* only the responder */
    muxer_case(NULL, 0, NULL, 0, NULL);                   /* none */
    muxer_case(yamux, 1, other, 1, NULL);                 /* nothing in common */
}

static void test_config_errors(void)
{
    uint8_t k[32] = {1};
    struct octo_noise n;
    struct octo_noise_config c = {.initiator = true, .static_secret = k, .ephemeral_secret = k};
    CHECK_ERR(octo_noise_init(&n, &c), OCTO_EINVAL); /* no identity */
    c.identity = &id_a;
    c.static_secret = NULL;
    CHECK_ERR(octo_noise_init(&n, &c), OCTO_EINVAL);
    c.static_secret = k;
    c.prologue_len = 3;
    CHECK_ERR(octo_noise_init(&n, &c), OCTO_EINVAL);
    c.prologue_len = 0;
    const char *many[OCTO_NOISE_MUXERS_MAX + 1];
    for (size_t i = 0; i <= OCTO_NOISE_MUXERS_MAX; i++)
        many[i] = "/m";
    c.muxers = many;
    c.muxer_count = OCTO_NOISE_MUXERS_MAX + 1;
    CHECK_ERR(octo_noise_init(&n, &c), OCTO_ETOOBIG);
    c.muxer_count = OCTO_NOISE_MUXERS_MAX;
    CHECK_OK(octo_noise_init(&n, &c));
    octo_noise_deinit(&n);
    const char *empty[] = {""};
    c.muxers = empty;
    c.muxer_count = 1;
    CHECK_ERR(octo_noise_init(&n, &c), OCTO_ECONFIG);
    char longname[OCTO_NOISE_MUXER_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    const char *longs[] = {longname};
    c.muxers = longs;
    CHECK_ERR(octo_noise_init(&n, &c), OCTO_ETOOBIG);
    longname[OCTO_NOISE_MUXER_NAME_MAX] = '\0';
    CHECK_OK(octo_noise_init(&n, &c));
    octo_noise_deinit(&n);
    /* deinit tolerates a zeroed struct */
    memset(&n, 0, sizeof(n));
    octo_noise_deinit(&n);
}

static int established_pair(struct octo_noise *ini, struct octo_noise *resp)
{
    int rc = make_pair(ini, resp, NULL);
    if (rc < 0)
        return rc;
    rc = converse(ini, resp, SIZE_MAX);
    struct octo_noise_event ev;
    while (octo_noise_poll(ini, &ev))
        ;
    while (octo_noise_poll(resp, &ev))
        ;
    if (rc < 0)
        free_pair(ini, resp);
    return rc;
}

static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

/* Sends len pattern bytes from a to b through both buffers, reading as it goes. */
static int transfer(struct octo_noise *a, struct octo_noise *b, size_t len, size_t chunk_max)
{
    uint8_t *src = octo_malloc(len > 0 ? len : 1);
    if (src == NULL)
        return -1;
    for (size_t i = 0; i < len; i++)
        src[i] = pattern_byte(i);
    size_t sent = 0, got = 0;
    int result = 0;
    if (len == 0) {
        int rc = octo_noise_write(a, NULL, 0);
        if (rc != 0)
            result = -2;
    }
    unsigned idle = 0;
    while ((got < len || sent < len) && result == 0 && idle < 4) {
        size_t want = len - sent;
        if (want > chunk_max)
            want = chunk_max;
        int w = octo_noise_write(a, src + sent, want);
        if (w < 0) {
            result = w;
            break;
        }
        sent += (size_t)w;
        int p = pump(a, b, SIZE_MAX);
        if (p < 0) {
            result = p;
            break;
        }
        const uint8_t *data;
        size_t n;
        octo_noise_read(b, &data, &n);
        if (n > len - got || (n > 0 && memcmp(data, src + got, n) != 0)) {
            result = -3;
            break;
        }
        got += n;
        octo_noise_read_consume(b, n);
        idle = (w == 0 && p == 0 && n == 0) ? idle + 1 : 0;
    }
    if (result == 0 && len == 0) {
        int p = pump(a, b, SIZE_MAX);
        if (p != 18)
            result = -4;
    }
    if (result == 0 && got != len)
        result = -5;
    octo_free(src);
    return result;
}

static void test_transport_sizes(void)
{
    static const size_t sizes[] = {0, 1, 65519, 65520, 5 * 1024 * 1024};
    /* frames written at least (5 MiB goes out in pieces bounded by the output buffer) */
    static const uint64_t frames[] = {1, 1, 1, 2, 81};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(sizes); i++) {
        struct octo_noise ini, resp;
        CHECK_OK(established_pair(&ini, &resp));
        CHECK_EQ_INT(transfer(&ini, &resp, sizes[i], SIZE_MAX), 0);
        if (sizes[i] <= 65520)
            CHECK_EQ_U64(ini.stats.frames_out, frames[i]);
        CHECK(ini.stats.frames_out >= frames[i]);
        CHECK_EQ_U64(resp.stats.frames_in, ini.stats.frames_out);
        /* and back the other way, written in odd-sized pieces */
        CHECK_EQ_INT(transfer(&resp, &ini, sizes[i], 40000), 0);
        free_pair(&ini, &resp);
    }
}

static void test_out_backpressure(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(established_pair(&ini, &resp));
    size_t big = 2 * OCTO_NOISE_OUT_MAX;
    uint8_t *src = octo_calloc(1, big);
    CHECK(src != NULL);
    int w = octo_noise_write(&ini, src, big);
    CHECK(w > 0);
    CHECK((size_t)w < big);
    const uint8_t *data;
    size_t len;
    octo_noise_out(&ini, &data, &len);
    CHECK(len <= OCTO_NOISE_OUT_MAX);
    CHECK(len > OCTO_NOISE_OUT_MAX - 18);
    CHECK_EQ_INT(octo_noise_write(&ini, src, big), 0); /* full */
    CHECK_EQ_INT(octo_noise_write(&ini, NULL, 0), 0);
    /* drain part, then more is accepted */
    octo_noise_out_consume(&ini, 100000);
    int w2 = octo_noise_write(&ini, src, big);
    CHECK(w2 > 0 && w2 < 100000);
    /* the stream still decrypts in order */
    CHECK_OK(octo_noise_recv(&resp, 0, (const uint8_t *)"", 0));
    octo_free(src);
    free_pair(&ini, &resp);
}

static void test_recv_backpressure(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(established_pair(&ini, &resp));
    size_t total = 3 * OCTO_NOISE_PLAIN_MAX;
    uint8_t *src = octo_malloc(total);
    CHECK(src != NULL);
    for (size_t i = 0; i < total; i++)
        src[i] = pattern_byte(i);
    CHECK_EQ_INT(octo_noise_write(&ini, src, total), (int)total);
    const uint8_t *data;
    size_t len;
    octo_noise_out(&ini, &data, &len);
    int rc = octo_noise_recv(&resp, 0, data, len);
    CHECK(rc > 0);
    CHECK((size_t)rc < len); /* stopped, not failed */
    octo_noise_out_consume(&ini, (size_t)rc);
    const uint8_t *pt;
    size_t plen;
    octo_noise_read(&resp, &pt, &plen);
    CHECK(plen <= OCTO_NOISE_PLAIN_MAX);
    CHECK(plen > 0);
    /* no room: recv consumes nothing more */
    octo_noise_out(&ini, &data, &len);
    if (OCTO_NOISE_PLAIN_MAX - plen < OCTO_NOISE_PLAIN_FRAME_MAX)
        CHECK_EQ_INT(octo_noise_recv(&resp, 0, data, len), 0);
    size_t got = 0;
    for (unsigned rounds = 0; rounds < 100 && got < total; rounds++) {
        octo_noise_read(&resp, &pt, &plen);
        CHECK(plen == 0 || memcmp(pt, src + got, plen) == 0);
        got += plen;
        octo_noise_read_consume(&resp, plen);
        CHECK(pump(&ini, &resp, 7777) >= 0);
    }
    CHECK_EQ_U64(got, total);
    octo_free(src);
    free_pair(&ini, &resp);
}

/* Partial reads: consume a little at a time while frames keep arriving (exercises the
 * compaction of the plaintext buffer). */
static void test_partial_reads(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(established_pair(&ini, &resp));
    size_t total = 600000;
    uint8_t *src = octo_malloc(total);
    CHECK(src != NULL);
    for (size_t i = 0; i < total; i++)
        src[i] = pattern_byte(i);
    size_t sent = 0, got = 0;
    for (unsigned rounds = 0; rounds < 100000 && got < total; rounds++) {
        if (sent < total) {
            size_t want = total - sent < 5000 ? total - sent : 5000;
            int w = octo_noise_write(&ini, src + sent, want);
            CHECK(w >= 0);
            sent += (size_t)w;
        }
        CHECK(pump(&ini, &resp, 3000) >= 0);
        const uint8_t *pt;
        size_t plen;
        octo_noise_read(&resp, &pt, &plen);
        size_t take = plen < 1234 ? plen : 1234;
        CHECK(take == 0 || memcmp(pt, src + got, take) == 0);
        got += take;
        octo_noise_read_consume(&resp, take);
    }
    CHECK_EQ_U64(got, total);
    octo_free(src);
    free_pair(&ini, &resp);
}

static void expect_error(struct octo_noise *n, enum octo_noise_reason reason)
{
    struct octo_noise_event ev;
    CHECK(get_event(n, OCTO_NOISE_EV_ERROR, &ev));
    CHECK_EQ_INT(ev.reason, reason);
    CHECK_EQ_U64(n->stats.errors[reason], 1);
}

static void test_short_frames(void)
{
    struct octo_noise ini, resp;
    /* frame shorter than the tag */
    CHECK_OK(established_pair(&ini, &resp));
    CHECK_ERR(octo_noise_recv(&resp, 0,
                              (const uint8_t *)"\x00\x05"
                                               "abcde",
                              7),
              OCTO_EMALFORMED);
    expect_error(&resp, OCTO_NOISE_R_SHORT_FRAME);
    free_pair(&ini, &resp);
    /* empty frame */
    CHECK_OK(established_pair(&ini, &resp));
    CHECK_ERR(octo_noise_recv(&resp, 0, (const uint8_t *)"\x00\x00", 2), OCTO_EMALFORMED);
    free_pair(&ini, &resp);
    /* a 15-byte frame delivered in pieces */
    CHECK_OK(established_pair(&ini, &resp));
    uint8_t f[17] = {0x00, 0x0f};
    CHECK_EQ_INT(octo_noise_recv(&resp, 0, f, 1), 1);
    CHECK_EQ_INT(octo_noise_recv(&resp, 0, f + 1, 10), 10);
    CHECK_ERR(octo_noise_recv(&resp, 0, f + 11, 6), OCTO_EMALFORMED);
    free_pair(&ini, &resp);
    /* handshake message 1 shorter than e */
    CHECK_OK(make_pair(&ini, &resp, NULL));
    CHECK_ERR(octo_noise_recv(&resp, 0,
                              (const uint8_t *)"\x00\x03"
                                               "abc",
                              5),
              OCTO_EMALFORMED);
    expect_error(&resp, OCTO_NOISE_R_SHORT_FRAME);
    free_pair(&ini, &resp);
    /* the largest frame header (65535) is buffered, not rejected: the body is awaited */
    CHECK_OK(established_pair(&ini, &resp));
    CHECK_EQ_INT(octo_noise_recv(&resp, 0,
                                 (const uint8_t *)"\xff\xff"
                                                  "abc",
                                 5),
                 5);
    free_pair(&ini, &resp);
}

static void test_transport_decrypt_failure(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(established_pair(&ini, &resp));
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)"secret", 6), 6);
    const uint8_t *data;
    size_t len;
    octo_noise_out(&ini, &data, &len);
    uint8_t buf[64];
    memcpy(buf, data, len);
    buf[5] ^= 1;
    CHECK_ERR(octo_noise_recv(&resp, 0, buf, len), OCTO_EDECRYPT);
    expect_error(&resp, OCTO_NOISE_R_DECRYPT);
    CHECK_ERR(octo_noise_recv(&resp, 0, data, len), OCTO_EDECRYPT); /* sticky */
    CHECK_ERR(octo_noise_write(&resp, buf, 1), OCTO_EDECRYPT);
    CHECK(!octo_noise_established(&resp));
    /* a replayed frame fails too (nonce moved on) */
    free_pair(&ini, &resp);
    CHECK_OK(established_pair(&ini, &resp));
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)"one", 3), 3);
    octo_noise_out(&ini, &data, &len);
    memcpy(buf, data, len);
    size_t flen = len;
    CHECK_OK(pump(&ini, &resp, SIZE_MAX));
    CHECK_ERR(octo_noise_recv(&resp, 0, buf, flen), OCTO_EDECRYPT);
    free_pair(&ini, &resp);
}

static void test_nonce_exhaustion(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(established_pair(&ini, &resp));
    octo_noise_cipher_set_nonce(&ini.send, OCTO_NOISE_NONCE_MAX - 1);
    octo_noise_cipher_set_nonce(&resp.recv, OCTO_NOISE_NONCE_MAX - 1);
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)"last", 4), 4);
    CHECK_OK(pump(&ini, &resp, SIZE_MAX));
    const uint8_t *data;
    size_t len;
    octo_noise_read(&resp, &data, &len);
    CHECK_EQ_U64(len, 4);
    CHECK_ERR(octo_noise_write(&ini, (const uint8_t *)"more", 4), OCTO_ERANGE);
    expect_error(&ini, OCTO_NOISE_R_NONCE_EXHAUSTED);
    free_pair(&ini, &resp);
    /* receive side */
    CHECK_OK(established_pair(&ini, &resp));
    octo_noise_cipher_set_nonce(&resp.recv, OCTO_NOISE_NONCE_MAX);
    CHECK_EQ_INT(octo_noise_write(&ini, (const uint8_t *)"x", 1), 1);
    CHECK_ERR(pump(&ini, &resp, SIZE_MAX), OCTO_ERANGE);
    expect_error(&resp, OCTO_NOISE_R_NONCE_EXHAUSTED);
    free_pair(&ini, &resp);
}

/* A low-order ephemeral key in message 1 aborts the responder. */
static void test_weak_key(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, NULL));
    uint8_t m1[34] = {0x00, 0x20};
    CHECK_ERR(octo_noise_recv(&resp, 0, m1, sizeof(m1)), OCTO_ECRYPTO);
    expect_error(&resp, OCTO_NOISE_R_WEAK_KEY);
    free_pair(&ini, &resp);
}

static void test_pipe_and_misc(void)
{
    struct octo_noise ini, resp;
    CHECK_OK(make_pair(&ini, &resp, NULL));
    CHECK_EQ_INT(octo_noise_pipe(&ini, &resp, 0), 34);
    CHECK_EQ_INT(octo_noise_pipe(&ini, &resp, 0), 0);
    CHECK(octo_noise_pipe(&resp, &ini, 0) > 0);
    CHECK(octo_noise_pipe(&ini, &resp, 0) > 0);
    CHECK(octo_noise_established(&ini));
    CHECK(octo_noise_established(&resp));
    /* unexpected bytes in the wrong direction fail cleanly: resp feeding itself */
    CHECK_EQ_INT(octo_noise_write(&resp, (const uint8_t *)"zz", 2), 2);
    CHECK_ERR(octo_noise_pipe(&resp, &resp, 0), OCTO_EDECRYPT);
    CHECK_STR(octo_noise_reason_str(OCTO_NOISE_R_NONE), "none");
    CHECK_STR(octo_noise_reason_str(OCTO_NOISE_R_COUNT), "unknown");
    for (int r = 0; r < OCTO_NOISE_R_COUNT; r++)
        CHECK(octo_noise_reason_str((enum octo_noise_reason)r) != NULL);
    free_pair(&ini, &resp);
}

/* A static key reused across connections, with its public key and signature computed once:
 * the handshake must be byte-identical to one where init computes them. */
static void test_precomputed_static(void)
{
    struct octo_noise a_ini, a_resp, b_ini, b_resp;
    CHECK_OK(make_pair(&a_ini, &a_resp, NULL));
    uint8_t is[32], ie[32], rs[32], re[32], ipub[32], isig[64];
    keys(1, is);
    keys(2, ie);
    keys(3, rs);
    keys(4, re);
    CHECK(crypto_scalarmult_curve25519_base(ipub, is) == 0);
    octo_noise_static_sig(&id_a, ipub, isig);
    struct octo_noise_config ci = {.initiator = true,
                                   .identity = &id_a,
                                   .static_secret = is,
                                   .static_public = ipub,
                                   .static_sig = isig,
                                   .ephemeral_secret = ie};
    struct octo_noise_config cr = {
        .initiator = false, .identity = &id_b, .static_secret = rs, .ephemeral_secret = re};
    CHECK_OK(octo_noise_init(&b_ini, &ci));
    CHECK_OK(octo_noise_init(&b_resp, &cr));
    CHECK_OK(converse(&a_ini, &a_resp, SIZE_MAX));
    CHECK_OK(converse(&b_ini, &b_resp, SIZE_MAX));
    check_done(&b_resp, &id_a, NULL);
    CHECK_MEM(a_ini.handshake_hash, b_ini.handshake_hash, 32);
    CHECK_MEM(a_resp.handshake_hash, b_resp.handshake_hash, 32);
    free_pair(&a_ini, &a_resp);
    free_pair(&b_ini, &b_resp);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    uint8_t seed[32];
    for (unsigned i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    if (octo_identity_from_seed(&id_a, seed) != 0)
        return 1;
    memset(seed, 0x5a, sizeof(seed));
    if (octo_identity_from_seed(&id_b, seed) != 0)
        return 1;
    OCTO_RUN(test_static_sig_vector);
    OCTO_RUN(test_handshake_whole);
    OCTO_RUN(test_precomputed_static);
    OCTO_RUN(test_handshake_sizes_match_js);
    OCTO_RUN(test_handshake_byte_at_a_time);
    OCTO_RUN(test_handshake_coalesced);
    OCTO_RUN(test_expected_peer);
    OCTO_RUN(test_tamper_every_byte);
    OCTO_RUN(test_forged_sig);
    OCTO_RUN(test_payload_decode_errors);
    OCTO_RUN(test_muxers);
    OCTO_RUN(test_config_errors);
    OCTO_RUN(test_transport_sizes);
    OCTO_RUN(test_out_backpressure);
    OCTO_RUN(test_recv_backpressure);
    OCTO_RUN(test_partial_reads);
    OCTO_RUN(test_short_frames);
    OCTO_RUN(test_transport_decrypt_failure);
    OCTO_RUN(test_nonce_exhaustion);
    OCTO_RUN(test_weak_key);
    OCTO_RUN(test_pipe_and_misc);
    octo_identity_deinit(&id_a);
    octo_identity_deinit(&id_b);
    return octo_test_finish();
}
