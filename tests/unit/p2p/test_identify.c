/*
 * test_identify.c — identify messages (round trips through the stream reader, cross-checks
 * against protobuf-c in both directions, every decode and encode limit), the peer check, and
 * signed peer records: the LIBP2P.md §7 vector byte for byte, every single-bit flip of it
 * rejected, and hand-built envelopes for each verification failure.
 *
 * With OCTO_SEED_DIR set, the test also writes fuzz seeds (the §7 envelope and an encoded
 * identify message) into that directory.
 */
#include "base/assert.h"
#include "base/buf.h"
#include "base/multiaddr.h"
#include "base/varint.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "p2p/identify.h"
#include "pb/envelope.pb-c.h"
#include "pb/identify.pb-c.h"
#include "test.h"
#include "wire/pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PUBPB_HEX "0801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define PAYLOAD_HEX                                                                                \
    "0a2600240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b810011a0a0a"   \
    "08047f000001060fa1"
#define SIG_HEX                                                                                    \
    "861856eaf4508e0714f2e5d70fbc18b8fc4509f76f405dc8272fe5b71f0445874ca5a5ceca413d1ae0c177400f0"  \
    "358e75b0051bdddd40fd33e90f22ff1e77203"
#define ENVELOPE_HEX "0a24" PUBPB_HEX "120203011a36" PAYLOAD_HEX "2a40" SIG_HEX
#define MA_HEX "047f000001060fa1" /* /ip4/127.0.0.1/tcp/4001 */

static void seed_identity(struct octo_identity *id, uint8_t first)
{
    size_t n;
    const uint8_t *seed = octo_test_hex(SEED_HEX, &n);
    uint8_t s[OCTO_ED25519_SEED_LEN];
    memcpy(s, seed, sizeof(s));
    s[0] = first;
    OCTO_ASSERT(octo_identity_from_seed(id, s) == 0);
}

static void write_seed(const char *name, const uint8_t *data, size_t len)
{
    const char *dir = getenv("OCTO_SEED_DIR");
    if (dir == NULL)
        return;
    octo_test_write_file(dir, name, data, len);
}

/* ---- signed peer records ---- */

static void test_peer_record_vector(void)
{
    struct octo_identity id;
    seed_identity(&id, 0x00);
    struct octo_multiaddr ma;
    CHECK_OK(octo_multiaddr_from_text("/ip4/127.0.0.1/tcp/4001", &ma));
    struct octo_buf env;
    octo_buf_init(&env, 8192);
    CHECK_OK(octo_peer_record_seal(&id, 1, &ma, 1, &env));
    CHECK_HEX(env.data, env.len, ENVELOPE_HEX);
    write_seed("spr_vector.bin", env.data, env.len);

    struct octo_peerid pid;
    octo_peerid_from_pubkey(&id.pub, &pid);
    struct octo_arena arena;
    octo_arena_init(&arena, 1024, OCTO_IDENTIFY_ARENA_MIN);
    struct octo_peer_record rec;
    CHECK_OK(octo_peer_record_open(env.data, env.len, &pid, &rec, &arena));
    CHECK(octo_peerid_equal(&rec.peer_id, &pid));
    CHECK_EQ_U64(rec.seq, 1);
    CHECK_EQ_U64(rec.addrs_count, 1);
    CHECK_HEX(rec.addrs[0].data, rec.addrs[0].len, MA_HEX);
    CHECK_OK(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena));

    /* the published bytes open too (not only our own encoding) */
    size_t n;
    const uint8_t *pub_env = octo_test_hex(ENVELOPE_HEX, &n);
    CHECK_OK(octo_peer_record_open(pub_env, n, &pid, &rec, &arena));

    /* another expected peer */
    struct octo_identity other;
    seed_identity(&other, 0x42);
    struct octo_peerid other_id;
    octo_peerid_from_pubkey(&other.pub, &other_id);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, &other_id, &rec, &arena), OCTO_EPERM);
    CHECK_EQ_U64(rec.addrs_count, 0); /* zeroed on error */
    octo_arena_deinit(&arena);
    octo_buf_deinit(&env);
    octo_identity_deinit(&id);
    octo_identity_deinit(&other);
}

static void test_peer_record_bit_flips(void)
{
    size_t n;
    const uint8_t *v = octo_test_hex(ENVELOPE_HEX, &n);
    uint8_t env[512];
    CHECK(n <= sizeof(env));
    struct octo_arena arena;
    octo_arena_init(&arena, 1024, OCTO_IDENTIFY_ARENA_MIN);
    struct octo_peer_record rec;
    size_t rejected = 0;
    for (size_t bit = 0; bit < 8 * n; bit++) {
        memcpy(env, v, n);
        env[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = octo_peer_record_open(env, n, NULL, &rec, &arena);
        if (rc >= 0)
            octo_test_fail_at(__FILE__, __LINE__, "flip of bit %zu accepted", bit);
        CHECK(rc < 0);
        rejected++;
        octo_arena_reset(&arena);
    }
    CHECK_EQ_U64(rejected, 8 * n);
    /* truncation at every length */
    for (size_t len = 0; len < n; len++)
        CHECK(octo_peer_record_open(v, len, NULL, &rec, &arena) < 0);
    octo_arena_deinit(&arena);
}

/* Builds an envelope from parts with protobuf-c; signs with signer when it is not NULL. */
static void build_envelope(struct octo_buf *out, const struct octo_identity *signer,
                           const uint8_t *key, size_t key_len, const uint8_t *type, size_t type_len,
                           const uint8_t *payload, size_t payload_len, size_t sig_len)
{
    uint8_t signing[8192];
    size_t off = 0;
    off += octo_varint_encode(18, signing + off);
    memcpy(signing + off, "libp2p-peer-record", 18);
    off += 18;
    off += octo_varint_encode(type_len, signing + off);
    memcpy(signing + off, type, type_len);
    off += type_len;
    off += octo_varint_encode(payload_len, signing + off);
    memcpy(signing + off, payload, payload_len);
    off += payload_len;
    uint8_t sig[OCTO_ED25519_SIG_LEN + 1];
    memset(sig, 0, sizeof(sig));
    if (signer != NULL)
        octo_identity_sign(signer, signing, off, sig);
    Octo__Pb__Envelope e = OCTO__PB__ENVELOPE__INIT;
    e.public_key.data = (uint8_t *)(uintptr_t)key;
    e.public_key.len = key_len;
    e.payload_type.data = (uint8_t *)(uintptr_t)type;
    e.payload_type.len = type_len;
    e.payload.data = (uint8_t *)(uintptr_t)payload;
    e.payload.len = payload_len;
    e.signature.data = sig;
    e.signature.len = sig_len;
    size_t len = octo__pb__envelope__get_packed_size(&e);
    OCTO_ASSERT(octo_buf_reserve(out, len) == 0);
    octo__pb__envelope__pack(&e, out->data + out->len);
    out->len += len;
}

/* A PeerRecord payload for peer id `pid` with `count` copies of addr (protobuf-c). */
static size_t build_payload(uint8_t *out, size_t cap, const struct octo_peerid *pid,
                            const uint8_t *addr, size_t addr_len, size_t count)
{
    Octo__Pb__PeerRecord r = OCTO__PB__PEER_RECORD__INIT;
    Octo__Pb__PeerRecord__AddressInfo infos[40];
    Octo__Pb__PeerRecord__AddressInfo *ptrs[40];
    OCTO_ASSERT(count <= 40);
    for (size_t i = 0; i < count; i++) {
        octo__pb__peer_record__address_info__init(&infos[i]);
        infos[i].multiaddr.data = (uint8_t *)(uintptr_t)addr;
        infos[i].multiaddr.len = addr_len;
        ptrs[i] = &infos[i];
    }
    r.peer_id.data = (uint8_t *)(uintptr_t)pid->bytes;
    r.peer_id.len = pid->len;
    r.seq = 7;
    r.n_addresses = count;
    r.addresses = ptrs;
    size_t len = octo__pb__peer_record__get_packed_size(&r);
    OCTO_ASSERT(len <= cap);
    return octo__pb__peer_record__pack(&r, out);
}

static void test_peer_record_failures(void)
{
    struct octo_identity a, b;
    seed_identity(&a, 0x00);
    seed_identity(&b, 0x01);
    struct octo_peerid aid, bid;
    octo_peerid_from_pubkey(&a.pub, &aid);
    octo_peerid_from_pubkey(&b.pub, &bid);
    uint8_t akey[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&a.pub, akey);
    static const uint8_t type[] = {0x03, 0x01};
    size_t ma_len;
    uint8_t ma[16];
    memcpy(ma, octo_test_hex(MA_HEX, &ma_len), 8);
    uint8_t payload[4096];
    struct octo_buf env;
    octo_buf_init(&env, 16384);
    struct octo_arena arena;
    octo_arena_init(&arena, 1024, OCTO_IDENTIFY_ARENA_MIN);
    struct octo_peer_record rec;

    /* the hand-built reference opens */
    size_t plen = build_payload(payload, sizeof(payload), &aid, ma, ma_len, 2);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, payload, plen, 64);
    CHECK_OK(octo_peer_record_open(env.data, env.len, &aid, &rec, &arena));
    CHECK_EQ_U64(rec.seq, 7);
    CHECK_EQ_U64(rec.addrs_count, 2);

    /* record for peer B signed by A: wrong peer */
    octo_buf_reset(&env);
    plen = build_payload(payload, sizeof(payload), &bid, ma, ma_len, 1);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, payload, plen, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EPERM);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, &bid, &rec, &arena), OCTO_EPERM);

    /* signed by B with A's key in the envelope */
    octo_buf_reset(&env);
    plen = build_payload(payload, sizeof(payload), &aid, ma, ma_len, 1);
    build_envelope(&env, &b, akey, sizeof(akey), type, 2, payload, plen, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EBADSIG);

    /* payload type: the varint form 81 06, RFC 0003's, or missing */
    static const uint8_t varint_type[] = {0x81, 0x06};
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), varint_type, 2, payload, plen, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EUNSUPPORTED);
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), type, 0, payload, plen, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EUNSUPPORTED);

    /* signature of the wrong length, or missing */
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, payload, plen, 65);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EBADSIG);
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, payload, plen, 0);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EBADSIG);

    /* keys: missing, RSA type, garbage */
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, 0, type, 2, payload, plen, 64);
    CHECK(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena) < 0);
    uint8_t rsa_key[OCTO_PUBKEY_PB_LEN];
    memcpy(rsa_key, akey, sizeof(rsa_key));
    rsa_key[1] = 0x00;
    octo_buf_reset(&env);
    build_envelope(&env, &a, rsa_key, sizeof(rsa_key), type, 2, payload, plen, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EUNSUPPORTED);

    /* signed garbage payload, and a bad peer id inside */
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, (const uint8_t *)"\xff\xff", 2, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EMALFORMED);
    struct octo_peerid junk = {.bytes = {0x00, 0x03, 1, 2, 3}, .len = 5};
    plen = build_payload(payload, sizeof(payload), &junk, ma, ma_len, 1);
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, payload, plen, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_EMALFORMED);

    /* too many addresses; invalid addresses are dropped */
    plen =
        build_payload(payload, sizeof(payload), &aid, ma, ma_len, OCTO_PEER_RECORD_ADDRS_MAX + 1);
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, payload, plen, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena), OCTO_ETOOBIG);
    static const uint8_t bad_ma[] = {0x04, 0x7f, 0x00};
    plen = build_payload(payload, sizeof(payload), &aid, bad_ma, sizeof(bad_ma), 3);
    octo_buf_reset(&env);
    build_envelope(&env, &a, akey, sizeof(akey), type, 2, payload, plen, 64);
    CHECK_OK(octo_peer_record_open(env.data, env.len, NULL, &rec, &arena));
    CHECK_EQ_U64(rec.addrs_count, 0);
    CHECK_EQ_U64(rec.addrs_dropped, 3);

    /* size limits: the envelope, and seal's */
    uint8_t big[OCTO_IDENTIFY_RECORD_MAX + 1];
    memset(big, 0, sizeof(big));
    CHECK_ERR(octo_peer_record_open(big, sizeof(big), NULL, &rec, &arena), OCTO_ETOOBIG);
    struct octo_multiaddr addrs[OCTO_PEER_RECORD_ADDRS_MAX + 1];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(addrs); i++) {
        addrs[i].len = 0;
        CHECK_OK(octo_multiaddr_push(
            &addrs[i], OCTO_MA_DNS4,
            (const uint8_t *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            126));
    }
    octo_buf_reset(&env);
    CHECK_ERR(octo_peer_record_seal(&a, 1, addrs, OCTO_ARRAY_LEN(addrs), &env), OCTO_EINVAL);
    CHECK_ERR(octo_peer_record_seal(&a, 1, addrs, OCTO_PEER_RECORD_ADDRS_MAX, &env), OCTO_ETOOBIG);
    CHECK_EQ_U64(env.len, 0);
    /* seq 0 is omitted on the wire and still opens; a 64-bit seq survives */
    CHECK_OK(octo_peer_record_seal(&a, 0, addrs, 0, &env));
    CHECK_OK(octo_peer_record_open(env.data, env.len, &aid, &rec, &arena));
    CHECK_EQ_U64(rec.seq, 0);
    octo_buf_reset(&env);
    CHECK_OK(octo_peer_record_seal(&a, UINT64_MAX, addrs, 2, &env));
    CHECK_OK(octo_peer_record_open(env.data, env.len, &aid, &rec, &arena));
    CHECK_EQ_U64(rec.seq, UINT64_MAX);
    CHECK_EQ_U64(rec.addrs_count, 2);
    /* an arena too small for the addresses */
    struct octo_arena tiny;
    octo_arena_init(&tiny, 64, 64);
    CHECK_ERR(octo_peer_record_open(env.data, env.len, &aid, &rec, &tiny), OCTO_ETOOBIG);
    octo_arena_deinit(&tiny);

    octo_arena_deinit(&arena);
    octo_buf_deinit(&env);
    octo_identity_deinit(&a);
    octo_identity_deinit(&b);
}

/* ---- identify ---- */

struct sample {
    struct octo_identity id;
    uint8_t key[OCTO_PUBKEY_PB_LEN];
    struct octo_multiaddr addrs[2], observed;
    struct octo_buf spr;
    struct octo_identify_info info;
};

static const char *const sample_protocols[] = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0",
                                               "/ipfs/id/push/1.0.0"};

static void sample_init(struct sample *s)
{
    memset(s, 0, sizeof(*s));
    seed_identity(&s->id, 0x00);
    octo_pubkey_encode(&s->id.pub, s->key);
    OCTO_ASSERT(octo_multiaddr_from_text("/ip4/127.0.0.1/tcp/4001", &s->addrs[0]) == 0);
    OCTO_ASSERT(octo_multiaddr_from_text("/ip6/::1/tcp/4001", &s->addrs[1]) == 0);
    OCTO_ASSERT(octo_multiaddr_from_text("/ip4/10.0.0.7/tcp/51234", &s->observed) == 0);
    octo_buf_init(&s->spr, 4096);
    OCTO_ASSERT(octo_peer_record_seal(&s->id, 1, s->addrs, 2, &s->spr) == 0);
    struct octo_identify_info *i = &s->info;
    i->has_public_key = true;
    i->public_key = (struct octo_identify_bytes){s->key, sizeof(s->key)};
    i->listen_addrs_count = 2;
    for (size_t k = 0; k < 2; k++)
        i->listen_addrs[k] = (struct octo_identify_bytes){s->addrs[k].bytes, s->addrs[k].len};
    i->protocols_count = OCTO_ARRAY_LEN(sample_protocols);
    for (size_t k = 0; k < i->protocols_count; k++)
        i->protocols[k] = sample_protocols[k];
    i->has_observed_addr = true;
    i->observed_addr = (struct octo_identify_bytes){s->observed.bytes, s->observed.len};
    i->protocol_version = "ipfs/0.1.0";
    i->agent_version = "octo/0.1.0";
    i->has_signed_peer_record = true;
    i->signed_peer_record = (struct octo_identify_bytes){s->spr.data, s->spr.len};
}

static void sample_deinit(struct sample *s)
{
    octo_buf_deinit(&s->spr);
    octo_identity_deinit(&s->id);
}

static bool bytes_eq(struct octo_identify_bytes a, struct octo_identify_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool info_eq(const struct octo_identify_info *a, const struct octo_identify_info *b)
{
    if (a->has_public_key != b->has_public_key || a->has_observed_addr != b->has_observed_addr ||
        a->has_signed_peer_record != b->has_signed_peer_record ||
        a->listen_addrs_count != b->listen_addrs_count || a->protocols_count != b->protocols_count)
        return false;
    if ((a->has_public_key && !bytes_eq(a->public_key, b->public_key)) ||
        (a->has_observed_addr && !bytes_eq(a->observed_addr, b->observed_addr)) ||
        (a->has_signed_peer_record && !bytes_eq(a->signed_peer_record, b->signed_peer_record)))
        return false;
    for (size_t i = 0; i < a->listen_addrs_count; i++) {
        if (!bytes_eq(a->listen_addrs[i], b->listen_addrs[i]))
            return false;
    }
    for (size_t i = 0; i < a->protocols_count; i++) {
        if (!str_eq(a->protocols[i], b->protocols[i]))
            return false;
    }
    return str_eq(a->protocol_version, b->protocol_version) &&
           str_eq(a->agent_version, b->agent_version);
}

static void test_identify_round_trip(void)
{
    struct sample s;
    sample_init(&s);
    struct octo_buf wire;
    octo_buf_init(&wire, 65536);
    CHECK_OK(octo_identify_encode(&s.info, &wire));
    write_seed("identify_message.bin", wire.data, wire.len);
    /* one message then FIN, delivered byte by byte */
    struct octo_identify_reader r;
    octo_identify_reader_init(&r);
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    bool got = false;
    for (size_t i = 0; i < wire.len; i++) {
        CHECK_EQ_INT(octo_identify_reader_recv(&r, wire.data + i, 1), 1);
        if (octo_identify_reader_next(&r, &msg, &msg_len)) {
            CHECK(!got);
            got = true;
            CHECK_EQ_U64(i, wire.len - 1);
        }
    }
    CHECK(got);
    CHECK_OK(octo_identify_reader_finish(&r));
    write_seed("identify_body.bin", msg, msg_len);
    struct octo_arena arena;
    octo_arena_init(&arena, 1024, OCTO_IDENTIFY_ARENA_MIN);
    struct octo_identify_info out;
    CHECK_OK(octo_identify_decode(msg, msg_len, &out, &arena));
    CHECK(info_eq(&s.info, &out));
    CHECK_EQ_U64(out.addrs_dropped, 0);
    struct octo_peerid pid;
    octo_peerid_from_pubkey(&s.id.pub, &pid);
    CHECK_OK(octo_identify_check_peer(&out, &pid));
    struct octo_peer_record rec;
    CHECK_OK(octo_peer_record_open(out.signed_peer_record.data, out.signed_peer_record.len, &pid,
                                   &rec, &arena));
    CHECK_EQ_U64(rec.addrs_count, 2);

    /* protobuf-c reads our encoding ... */
    Octo__Pb__Identify *pb = octo__pb__identify__unpack(octo_pb_allocator(), msg_len, msg);
    CHECK(pb != NULL);
    CHECK(pb->has_publickey && pb->publickey.len == sizeof(s.key));
    CHECK_EQ_U64(pb->n_listenaddrs, 2);
    CHECK_EQ_U64(pb->n_protocols, 3);
    CHECK_STR(pb->protocols[2], "/ipfs/id/push/1.0.0");
    CHECK_STR(pb->agentversion, "octo/0.1.0");
    CHECK(pb->has_signedpeerrecord && pb->signedpeerrecord.len == s.spr.len);
    /* ... and packs the same bytes (field order and lengths agree) */
    size_t plen = octo__pb__identify__get_packed_size(pb);
    CHECK_EQ_U64(plen, msg_len);
    uint8_t repacked[OCTO_IDENTIFY_MESSAGE_MAX];
    octo__pb__identify__pack(pb, repacked);
    CHECK_MEM(repacked, msg, msg_len);
    octo__pb__identify__free_unpacked(pb, octo_pb_allocator());

    /* an empty message is a valid Identify */
    struct octo_identify_info empty;
    memset(&empty, 0, sizeof(empty));
    octo_buf_reset(&wire);
    CHECK_OK(octo_identify_encode(&empty, &wire));
    CHECK_HEX(wire.data, wire.len, "00");
    CHECK_OK(octo_identify_decode(wire.data + 1, 0, &out, &arena));
    CHECK(info_eq(&empty, &out));
    CHECK_ERR(octo_identify_check_peer(&out, &pid), OCTO_ENOTFOUND);

    octo_arena_deinit(&arena);
    octo_buf_deinit(&wire);
    sample_deinit(&s);
}

/* Appends a field of wire type 2 to b (raw protobuf for hostile messages). */
static void raw_field(struct octo_buf *b, unsigned field, const void *data, size_t len)
{
    uint8_t v[OCTO_VARINT_MAX_LEN];
    size_t n = octo_varint_encode(((uint64_t)field << 3) | 2, v);
    OCTO_ASSERT(octo_buf_append(b, v, n) == 0);
    n = octo_varint_encode(len, v);
    OCTO_ASSERT(octo_buf_append(b, v, n) == 0);
    OCTO_ASSERT(octo_buf_append(b, data, len) == 0);
}

/* Decoded data stays valid until the next decode_buf (the arena is reset, not freed). */
static struct octo_arena decode_arena;

static int decode_buf(const struct octo_buf *b, struct octo_identify_info *out)
{
    octo_arena_reset(&decode_arena);
    return octo_identify_decode(b->data, b->len, out, &decode_arena);
}

static void test_identify_decode_limits(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 65536);
    struct octo_identify_info out;
    static uint8_t zeros[OCTO_IDENTIFY_MESSAGE_MAX + 1];
    static char text[2048];
    memset(text, 'a', sizeof(text));
    size_t ma_len;
    uint8_t ma[16];
    memcpy(ma, octo_test_hex(MA_HEX, &ma_len), 8);
    octo_arena_init(&decode_arena, 1024, OCTO_IDENTIFY_ARENA_MIN);

    /* the message size is checked before parsing */
    struct octo_arena arena;
    octo_arena_init(&arena, 1024, OCTO_IDENTIFY_ARENA_MIN);
    CHECK_ERR(octo_identify_decode(zeros, sizeof(zeros), &out, &arena), OCTO_ETOOBIG);
    octo_arena_deinit(&arena);

    /* counts */
    for (int i = 0; i < OCTO_IDENTIFY_ADDRS_MAX; i++)
        raw_field(&b, 2, ma, ma_len);
    CHECK_OK(decode_buf(&b, &out));
    CHECK_EQ_U64(out.listen_addrs_count, OCTO_IDENTIFY_ADDRS_MAX);
    raw_field(&b, 2, ma, ma_len);
    CHECK_ERR(decode_buf(&b, &out), OCTO_ETOOBIG);
    CHECK_EQ_U64(out.listen_addrs_count, 0); /* zeroed on error */
    octo_buf_reset(&b);
    for (int i = 0; i < OCTO_IDENTIFY_PROTOCOLS_MAX; i++)
        raw_field(&b, 3, "/p", 2);
    CHECK_OK(decode_buf(&b, &out));
    CHECK_EQ_U64(out.protocols_count, OCTO_IDENTIFY_PROTOCOLS_MAX);
    raw_field(&b, 3, "/p", 2);
    CHECK_ERR(decode_buf(&b, &out), OCTO_ETOOBIG);

    /* lengths: at the limit fine, one over refused */
    struct {
        unsigned field;
        size_t max;
    } lens[] = {{1, OCTO_KEY_PB_MAX},
                {3, OCTO_IDENTIFY_PROTOCOL_LEN_MAX},
                {5, OCTO_IDENTIFY_VERSION_LEN_MAX},
                {6, OCTO_IDENTIFY_VERSION_LEN_MAX},
                {8, OCTO_IDENTIFY_RECORD_MAX}};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(lens); i++) {
        octo_buf_reset(&b);
        raw_field(&b, lens[i].field, lens[i].max <= sizeof(text) ? (const void *)text : zeros,
                  lens[i].max);
        CHECK_OK(decode_buf(&b, &out));
        octo_buf_reset(&b);
        raw_field(&b, lens[i].field, lens[i].max < sizeof(text) ? (const void *)text : zeros,
                  lens[i].max + 1);
        CHECK_ERR(decode_buf(&b, &out), OCTO_ETOOBIG);
    }

    /* strings: NUL, bad UTF-8, overlong, surrogate, empty protocol; valid UTF-8 is fine */
    const char *bad_text[] = {"a\0b", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", ""};
    size_t bad_len[] = {3, 1, 2, 3, 2, 0};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad_text); i++) {
        octo_buf_reset(&b);
        raw_field(&b, 3, bad_text[i], bad_len[i]);
        CHECK_ERR(decode_buf(&b, &out), OCTO_EMALFORMED);
    }
    octo_buf_reset(&b);
    raw_field(&b, 6, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\x99", 15);
    CHECK_OK(decode_buf(&b, &out));
    CHECK_STR(out.agent_version, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\x99");

    /* structure: truncated, wrong wire type, group, field 0, huge length */
    const char *bad_pb[] = {"0a05aabb",
                            "08",
                            "0801",
                            "0b0c",
                            "0201",
                            "0aff",
                            "1a",
                            "0affffffffffffffffff01",
                            "80808080808080808080"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad_pb); i++) {
        size_t n;
        const uint8_t *p = octo_test_hex(bad_pb[i], &n);
        octo_buf_reset(&b);
        CHECK_OK(octo_buf_append(&b, p, n));
        int rc = decode_buf(&b, &out);
        if (rc != OCTO_EMALFORMED)
            octo_test_fail_at(__FILE__, __LINE__, "case %zu", i);
        CHECK_ERR(rc, OCTO_EMALFORMED);
    }

    /* unknown fields of every wire type are skipped; repeated singulars: last wins */
    size_t n;
    const uint8_t *p = octo_test_hex("38013901020304050607084d010203043a0161"
                                     "2a0161"
                                     "2a0162",
                                     &n);
    octo_buf_reset(&b);
    CHECK_OK(octo_buf_append(&b, p, n));
    CHECK_OK(decode_buf(&b, &out));
    CHECK_STR(out.protocol_version, "b");

    /* invalid addresses are dropped, not fatal */
    static const uint8_t bad_ma[] = {0x04, 0x7f, 0x00, 0x00};
    octo_buf_reset(&b);
    raw_field(&b, 2, bad_ma, sizeof(bad_ma));
    raw_field(&b, 2, ma, ma_len);
    raw_field(&b, 4, ma, ma_len);
    raw_field(&b, 4, bad_ma, sizeof(bad_ma));
    CHECK_OK(decode_buf(&b, &out));
    CHECK_EQ_U64(out.listen_addrs_count, 1);
    CHECK(!out.has_observed_addr);
    CHECK_EQ_U64(out.addrs_dropped, 2);

    /* an arena below the documented minimum runs out */
    octo_buf_reset(&b);
    raw_field(&b, 8, zeros, OCTO_IDENTIFY_RECORD_MAX);
    struct octo_arena tiny;
    octo_arena_init(&tiny, 256, 1024);
    CHECK_ERR(octo_identify_decode(b.data, b.len, &out, &tiny), OCTO_ETOOBIG);
    octo_arena_deinit(&tiny);

    /* protobuf-c's encoding of a message decodes to the same fields */
    Octo__Pb__Identify m = OCTO__PB__IDENTIFY__INIT;
    static char pa[] = "/a", pb_[] = "/b", agent[] = "js-libp2p/3.3.11 node/20.20.2";
    char *protos[] = {pa, pb_};
    ProtobufCBinaryData addrs[1] = {{ma_len, ma}};
    m.n_protocols = 2;
    m.protocols = protos;
    m.n_listenaddrs = 1;
    m.listenaddrs = addrs;
    m.agentversion = agent;
    uint8_t packed[256];
    size_t plen = octo__pb__identify__pack(&m, packed);
    octo_buf_reset(&b);
    CHECK_OK(octo_buf_append(&b, packed, plen));
    CHECK_OK(decode_buf(&b, &out));
    CHECK_EQ_U64(out.protocols_count, 2);
    CHECK_STR(out.protocols[1], "/b");
    CHECK_EQ_U64(out.listen_addrs_count, 1);
    CHECK_STR(out.agent_version, "js-libp2p/3.3.11 node/20.20.2");
    CHECK(out.protocol_version == NULL);
    CHECK(!out.has_public_key);
    octo_buf_deinit(&b);
    octo_arena_deinit(&decode_arena);
}

static void test_identify_encode_limits(void)
{
    struct sample s;
    sample_init(&s);
    struct octo_buf out;
    octo_buf_init(&out, 65536);
    struct octo_identify_info i;
    static char text[2048];
    memset(text, 'x', sizeof(text) - 1);
    text[0] = '/';

    i = s.info;
    i.listen_addrs_count = OCTO_IDENTIFY_ADDRS_MAX + 1;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i = s.info;
    i.protocols_count = OCTO_IDENTIFY_PROTOCOLS_MAX + 1;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i = s.info;
    i.protocols[1] = "";
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i.protocols[1] = NULL;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i.protocols[1] = "\xff";
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    text[OCTO_IDENTIFY_PROTOCOL_LEN_MAX + 1] = '\0';
    i.protocols[1] = text;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    text[OCTO_IDENTIFY_PROTOCOL_LEN_MAX + 1] = 'x';
    text[OCTO_IDENTIFY_VERSION_LEN_MAX + 1] = '\0';
    i = s.info;
    i.agent_version = text;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i = s.info;
    i.protocol_version = text;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    text[OCTO_IDENTIFY_VERSION_LEN_MAX] = '\0';
    i.protocol_version = text; /* exactly at the limit */
    CHECK_OK(octo_identify_encode(&i, &out));
    static const uint8_t bad_ma[] = {0x04, 0x7f};
    i = s.info;
    i.listen_addrs[1] = (struct octo_identify_bytes){bad_ma, sizeof(bad_ma)};
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i = s.info;
    i.observed_addr = (struct octo_identify_bytes){bad_ma, sizeof(bad_ma)};
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i = s.info;
    i.public_key.len = OCTO_KEY_PB_MAX + 1;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);
    i = s.info;
    i.signed_peer_record.len = OCTO_IDENTIFY_RECORD_MAX + 1;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_EINVAL);

    /* every field within its limit, the body over 8 KiB */
    static char protos[OCTO_IDENTIFY_PROTOCOLS_MAX][101];
    i = s.info;
    i.protocols_count = OCTO_IDENTIFY_PROTOCOLS_MAX;
    for (size_t k = 0; k < OCTO_IDENTIFY_PROTOCOLS_MAX; k++) {
        memset(protos[k], 'p', 100);
        protos[k][0] = '/';
        i.protocols[k] = protos[k];
    }
    size_t before = out.len;
    CHECK_ERR(octo_identify_encode(&i, &out), OCTO_ETOOBIG);
    CHECK_EQ_U64(out.len, before);
    /* the output buffer's own ceiling */
    struct octo_buf small;
    octo_buf_init(&small, 16);
    CHECK_ERR(octo_identify_encode(&s.info, &small), OCTO_ETOOBIG);
    CHECK_EQ_U64(small.len, 0);
    octo_buf_deinit(&small);
    octo_buf_deinit(&out);
    sample_deinit(&s);
}

static void test_check_peer(void)
{
    struct sample s;
    sample_init(&s);
    struct octo_peerid pid, other;
    octo_peerid_from_pubkey(&s.id.pub, &pid);
    struct octo_identity o;
    seed_identity(&o, 0x99);
    octo_peerid_from_pubkey(&o.pub, &other);
    CHECK_OK(octo_identify_check_peer(&s.info, &pid));
    CHECK_ERR(octo_identify_check_peer(&s.info, &other), OCTO_EPERM);
    struct octo_identify_info i = s.info;
    uint8_t key[OCTO_PUBKEY_PB_LEN];
    memcpy(key, s.key, sizeof(key));
    i.public_key.data = key;
    key[1] = 0x00; /* RSA */
    CHECK_ERR(octo_identify_check_peer(&i, &pid), OCTO_EUNSUPPORTED);
    i.public_key.len = 3;
    CHECK(octo_identify_check_peer(&i, &pid) < 0);
    i.has_public_key = false;
    CHECK_ERR(octo_identify_check_peer(&i, &pid), OCTO_ENOTFOUND);
    octo_identity_deinit(&o);
    sample_deinit(&s);
}

static void test_reader(void)
{
    struct octo_identify_reader r;
    octo_identify_reader_init(&r);
    /* two messages in one read: recv stops after the first */
    size_t n;
    const uint8_t *two = octo_test_hex("022a00"
                                       "00"
                                       "01",
                                       &n);
    CHECK_EQ_INT(octo_identify_reader_recv(&r, two, n), 3);
    CHECK_EQ_INT(octo_identify_reader_recv(&r, two + 3, n - 3), 0); /* first not taken */
    const uint8_t *msg;
    size_t len;
    CHECK(octo_identify_reader_next(&r, &msg, &len));
    CHECK_HEX(msg, len, "2a00");
    CHECK(!octo_identify_reader_next(&r, &msg, &len));
    CHECK_EQ_INT(octo_identify_reader_recv(&r, two + 3, n - 3), 1);
    CHECK(octo_identify_reader_next(&r, &msg, &len));
    CHECK_EQ_U64(len, 0);
    CHECK_EQ_INT(octo_identify_reader_recv(&r, two + 4, 1), 1);
    CHECK_ERR(octo_identify_reader_finish(&r), OCTO_EMALFORMED); /* EOF inside a message */
    CHECK_EQ_U64(r.messages, 2);

    /* at most OCTO_IDENTIFY_MESSAGES_MAX messages per stream */
    octo_identify_reader_init(&r);
    for (int i = 0; i < OCTO_IDENTIFY_MESSAGES_MAX; i++) {
        CHECK_EQ_INT(octo_identify_reader_recv(&r, (const uint8_t *)"\x00", 1), 1);
        CHECK(octo_identify_reader_next(&r, &msg, &len));
    }
    CHECK_OK(octo_identify_reader_finish(&r));
    CHECK_ERR(octo_identify_reader_recv(&r, (const uint8_t *)"\x00", 1), OCTO_ETOOBIG);

    /* prefix limits */
    const char *too_big[] = {"814001", "808001"}; /* 8193; a 3-byte prefix */
    for (size_t i = 0; i < OCTO_ARRAY_LEN(too_big); i++) {
        octo_identify_reader_init(&r);
        const uint8_t *p = octo_test_hex(too_big[i], &n);
        CHECK_ERR(octo_identify_reader_recv(&r, p, n), OCTO_ETOOBIG);
    }
    octo_identify_reader_init(&r);
    CHECK_ERR(octo_identify_reader_recv(&r, (const uint8_t *)"\x81\x00", 2), OCTO_EMALFORMED);
    /* exactly 8 KiB */
    static uint8_t big[2 + OCTO_IDENTIFY_MESSAGE_MAX];
    size_t pl = octo_varint_encode(OCTO_IDENTIFY_MESSAGE_MAX, big);
    CHECK_EQ_U64(pl, 2);
    octo_identify_reader_init(&r);
    CHECK_EQ_INT(octo_identify_reader_recv(&r, big, 1000), 1000);
    CHECK_EQ_INT(octo_identify_reader_recv(&r, big + 1000, sizeof(big) - 1000), sizeof(big) - 1000);
    CHECK(octo_identify_reader_next(&r, &msg, &len));
    CHECK_EQ_U64(len, OCTO_IDENTIFY_MESSAGE_MAX);
    CHECK_OK(octo_identify_reader_finish(&r));
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_peer_record_vector);
    OCTO_RUN(test_peer_record_bit_flips);
    OCTO_RUN(test_peer_record_failures);
    OCTO_RUN(test_identify_round_trip);
    OCTO_RUN(test_identify_decode_limits);
    OCTO_RUN(test_identify_encode_limits);
    OCTO_RUN(test_check_peer);
    OCTO_RUN(test_reader);
    return octo_test_finish();
}
