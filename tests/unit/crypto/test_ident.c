/*
 * test_ident.c — identities, key protobufs (canonical-form enforcement), signatures and
 * peer ids, against the project vectors of LIBP2P.md §2 and the signed-peer-record
 * signature of LIBP2P.md §7.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/base32.h"
#include "base/varint.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "test.h"

#define SEED_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PUB_HEX "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define PUBPB_HEX "08011220" PUB_HEX
#define PRIVPB_HEX "08011240" SEED_HEX PUB_HEX
#define PEERID_HEX "0024" PUBPB_HEX
#define PEERID_B58 "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"
#define PEERID_CID "bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny"

static void seed_identity(struct octo_identity *id)
{
    size_t n;
    const uint8_t *seed = octo_test_hex(SEED_HEX, &n);
    OCTO_ASSERT(n == OCTO_ED25519_SEED_LEN);
    OCTO_ASSERT(octo_identity_from_seed(id, seed) == 0);
}

static void test_seed_vector(void)
{
    struct octo_identity id;
    seed_identity(&id);
    CHECK_HEX(id.pub.bytes, OCTO_ED25519_PK_LEN, PUB_HEX);
    CHECK_HEX(id.sk, OCTO_ED25519_SK_LEN, SEED_HEX PUB_HEX);
    uint8_t pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&id.pub, pb);
    CHECK_HEX(pb, sizeof(pb), PUBPB_HEX);
    uint8_t priv[OCTO_PRIVKEY_PB_LEN];
    octo_identity_encode_private(&id, priv);
    CHECK_HEX(priv, sizeof(priv), PRIVPB_HEX);
    octo_identity_deinit(&id);
    static const uint8_t zero[sizeof(id)];
    CHECK_MEM(&id, zero, sizeof(id));
}

static void test_pubkey_decode_vector(void)
{
    size_t n;
    const uint8_t *pb = octo_test_hex(PUBPB_HEX, &n);
    struct octo_pubkey pub;
    CHECK_OK(octo_pubkey_decode(pb, n, &pub));
    CHECK_HEX(pub.bytes, sizeof(pub.bytes), PUB_HEX);
}

static void test_private_decode_vector(void)
{
    size_t n;
    const uint8_t *pb = octo_test_hex(PRIVPB_HEX, &n);
    struct octo_identity id;
    CHECK_OK(octo_identity_decode_private(pb, n, &id));
    CHECK_HEX(id.pub.bytes, OCTO_ED25519_PK_LEN, PUB_HEX);
    CHECK_HEX(id.sk, OCTO_ED25519_SK_LEN, SEED_HEX PUB_HEX);
    octo_identity_deinit(&id);
}

/* Non-canonical encodings of the seed public key, each valid protobuf for protobuf-c. */
static void test_pubkey_noncanonical(void)
{
    struct octo_pubkey pub;
    size_t n;
    const uint8_t *in;
    /* fields in reverse order */
    in = octo_test_hex("1220" PUB_HEX "0801", &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_ENONCANON);
    /* non-minimal varint for the type (01 as 81 00) */
    in = octo_test_hex("088100"
                       "1220" PUB_HEX,
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_ENONCANON);
    /* non-minimal length prefix (32 as a0 00) */
    in = octo_test_hex("0801"
                       "12a000" PUB_HEX,
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_ENONCANON);
    /* duplicated type field */
    in = octo_test_hex("0801"
                       "0801"
                       "1220" PUB_HEX,
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_ENONCANON);
    /* duplicated data field */
    in = octo_test_hex("0801"
                       "1220" PUB_HEX "1220" PUB_HEX,
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_ENONCANON);
    /* unknown trailing field 3 (varint) */
    in = octo_test_hex(PUBPB_HEX "1801", &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_ENONCANON);
    /* non-minimal tag (field 1 tag 08 as 88 00) */
    in = octo_test_hex("880001"
                       "1220" PUB_HEX,
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_ENONCANON);
}

static void test_pubkey_malformed(void)
{
    struct octo_pubkey pub;
    size_t n;
    const uint8_t *in = octo_test_hex(PUBPB_HEX, &n);
    /* every truncation fails */
    for (size_t cut = 0; cut < n; cut++) {
        int rc = octo_pubkey_decode(in, cut, &pub);
        CHECK(rc == OCTO_EMALFORMED || rc == OCTO_ENONCANON);
    }
    /* missing required Data */
    in = octo_test_hex("0801", &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EMALFORMED);
    /* missing required Type */
    in = octo_test_hex("1220" PUB_HEX, &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EMALFORMED);
    /* wrong wire type for Type (length-delimited) */
    in = octo_test_hex("0a0101"
                       "1220" PUB_HEX,
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EMALFORMED);
    /* wrong Data length for Ed25519 */
    in = octo_test_hex("0801"
                       "121f"
                       "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc866412553131",
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EMALFORMED);
    /* empty input */
    CHECK_ERR(octo_pubkey_decode(in, 0, &pub), OCTO_EMALFORMED);
    /* over the size limit, checked before decoding */
    uint8_t *big = octo_calloc(1, OCTO_KEY_PB_MAX + 1);
    CHECK(big != NULL);
    int rc = octo_pubkey_decode(big, OCTO_KEY_PB_MAX + 1, &pub);
    octo_free(big);
    CHECK_ERR(rc, OCTO_ETOOBIG);
}

static void test_pubkey_unsupported_and_invalid(void)
{
    struct octo_pubkey pub;
    size_t n;
    const uint8_t *in;
    /* Secp256k1 (33-byte compressed key), canonical */
    in = octo_test_hex("08021221"
                       "02" PUB_HEX,
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EUNSUPPORTED);
    /* RSA (type 0): proto2 encodes a required 0 explicitly */
    in = octo_test_hex("08001204deadbeef", &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EUNSUPPORTED);
    /* ECDSA */
    in = octo_test_hex("08031220" PUB_HEX, &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EUNSUPPORTED);
    /* not a valid point: y = 2 is not on the curve; all-zero y = 0 is small order */
    in = octo_test_hex("08011220"
                       "0200000000000000000000000000000000000000000000000000000000000000",
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EINVAL);
    in = octo_test_hex("08011220"
                       "0100000000000000000000000000000000000000000000000000000000000000",
                       &n);
    CHECK_ERR(octo_pubkey_decode(in, n, &pub), OCTO_EINVAL);
}

/* decode_for_verify skips the point check; verification must then refuse the bad points
 * (small order, off the curve) whatever the signature, and accept a good key as before. */
static void test_pubkey_decode_for_verify(void)
{
    static const char *const bad[] = {
        "0100000000000000000000000000000000000000000000000000000000000000", /* identity */
        "0200000000000000000000000000000000000000000000000000000000000000", /* off curve */
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* order 2 */
    };
    uint8_t sig[64] = {0};
    const uint8_t msg[] = "noise-libp2p-static-key:";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char hex[80];
        snprintf(hex, sizeof(hex), "08011220%s", bad[i]);
        size_t n;
        const uint8_t *in = octo_test_hex(hex, &n);
        struct octo_pubkey pub;
        CHECK_OK(octo_pubkey_decode_for_verify(in, n, &pub));
        CHECK_ERR(octo_pubkey_verify(&pub, msg, sizeof(msg), sig), OCTO_EBADSIG);
    }
    struct octo_identity id;
    CHECK_OK(octo_identity_generate(&id));
    uint8_t pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&id.pub, pb);
    struct octo_pubkey pub;
    CHECK_OK(octo_pubkey_decode_for_verify(pb, sizeof(pb), &pub));
    octo_identity_sign(&id, msg, sizeof(msg), sig);
    CHECK_OK(octo_pubkey_verify(&pub, msg, sizeof(msg), sig));
    octo_identity_deinit(&id);
    /* the encoding checks still apply */
    size_t n;
    const uint8_t *rsa = octo_test_hex("08001204deadbeef", &n);
    CHECK_ERR(octo_pubkey_decode_for_verify(rsa, n, &pub), OCTO_EUNSUPPORTED);
}

static void test_private_errors(void)
{
    struct octo_identity id;
    size_t n;
    const uint8_t *in = octo_test_hex(PRIVPB_HEX, &n);
    uint8_t buf[OCTO_PRIVKEY_PB_LEN];
    /* seed/public mismatch: flip a bit of the seed */
    memcpy(buf, in, n);
    buf[4] ^= 1;
    CHECK_ERR(octo_identity_decode_private(buf, n, &id), OCTO_EINVAL);
    /* public half replaced by another valid key */
    struct octo_identity other;
    CHECK_OK(octo_identity_generate(&other));
    memcpy(buf, in, n);
    memcpy(buf + 4 + 32, other.pub.bytes, 32);
    CHECK_ERR(octo_identity_decode_private(buf, n, &id), OCTO_EINVAL);
    octo_identity_deinit(&other);
    /* public half not a point */
    memcpy(buf, in, n);
    memset(buf + 4 + 32, 0, 32);
    buf[4 + 32] = 2;
    CHECK_ERR(octo_identity_decode_private(buf, n, &id), OCTO_EINVAL);
    /* legacy 96-byte form, type RSA, truncation, trailing byte */
    in = octo_test_hex("08011260" SEED_HEX PUB_HEX PUB_HEX, &n);
    CHECK_ERR(octo_identity_decode_private(in, n, &id), OCTO_EMALFORMED);
    in = octo_test_hex("08001240" SEED_HEX PUB_HEX, &n);
    CHECK_ERR(octo_identity_decode_private(in, n, &id), OCTO_EUNSUPPORTED);
    in = octo_test_hex(PRIVPB_HEX, &n);
    CHECK_ERR(octo_identity_decode_private(in, n - 1, &id), OCTO_EMALFORMED);
    in = octo_test_hex(PRIVPB_HEX "00", &n);
    CHECK(octo_identity_decode_private(in, n, &id) < 0);
    in = octo_test_hex("1240" SEED_HEX PUB_HEX "0801", &n);
    CHECK_ERR(octo_identity_decode_private(in, n, &id), OCTO_ENONCANON);
    uint8_t *big = octo_calloc(1, OCTO_KEY_PB_MAX + 1);
    CHECK(big != NULL);
    int rc = octo_identity_decode_private(big, OCTO_KEY_PB_MAX + 1, &id);
    octo_free(big);
    CHECK_ERR(rc, OCTO_ETOOBIG);
}

static void test_generate_sign_verify(void)
{
    struct octo_identity id;
    CHECK_OK(octo_identity_generate(&id));
    static const uint8_t msg[] = "hello octo";
    uint8_t sig[OCTO_ED25519_SIG_LEN];
    octo_identity_sign(&id, msg, sizeof(msg), sig);
    CHECK_OK(octo_pubkey_verify(&id.pub, msg, sizeof(msg), sig));
    sig[10] ^= 0x40;
    CHECK_ERR(octo_pubkey_verify(&id.pub, msg, sizeof(msg), sig), OCTO_EBADSIG);
    sig[10] ^= 0x40;
    CHECK_ERR(octo_pubkey_verify(&id.pub, msg, sizeof(msg) - 1, sig), OCTO_EBADSIG);
    /* empty message */
    octo_identity_sign(&id, NULL, 0, sig);
    CHECK_OK(octo_pubkey_verify(&id.pub, NULL, 0, sig));
    /* round trip through the private protobuf */
    uint8_t priv[OCTO_PRIVKEY_PB_LEN];
    octo_identity_encode_private(&id, priv);
    struct octo_identity back;
    CHECK_OK(octo_identity_decode_private(priv, sizeof(priv), &back));
    CHECK_MEM(&back, &id, sizeof(id));
    octo_identity_deinit(&back);
    octo_identity_deinit(&id);
    CHECK_OK(octo_crypto_init()); /* idempotent */
}

/* LIBP2P.md §7: signed peer record envelope signature by the seed key. */
static void test_peer_record_signature(void)
{
    static const char domain[] = "libp2p-peer-record";
    size_t plen;
    const uint8_t *payload = octo_test_hex(
        "0a2600240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b810011a"
        "0a0a08047f000001060fa1",
        &plen);
    CHECK_EQ_U64(plen, 54);
    uint8_t buf[256];
    size_t off = 0;
    off += octo_varint_encode(sizeof(domain) - 1, buf + off);
    memcpy(buf + off, domain, sizeof(domain) - 1);
    off += sizeof(domain) - 1;
    off += octo_varint_encode(2, buf + off);
    buf[off++] = 0x03;
    buf[off++] = 0x01;
    off += octo_varint_encode(plen, buf + off);
    memcpy(buf + off, payload, plen);
    off += plen;
    struct octo_identity id;
    seed_identity(&id);
    uint8_t sig[OCTO_ED25519_SIG_LEN];
    octo_identity_sign(&id, buf, off, sig);
    CHECK_HEX(sig, sizeof(sig),
              "861856eaf4508e0714f2e5d70fbc18b8fc4509f76f405dc8272fe5b71f0445874ca5a5ceca413d1a"
              "e0c177400f0358e75b0051bdddd40fd33e90f22ff1e77203");
    CHECK_OK(octo_pubkey_verify(&id.pub, buf, off, sig));
    octo_identity_deinit(&id);
}

static void test_peerid_vectors(void)
{
    struct octo_identity id;
    seed_identity(&id);
    struct octo_peerid pid;
    octo_peerid_from_pubkey(&id.pub, &pid);
    CHECK_HEX(pid.bytes, pid.len, PEERID_HEX);
    char text[OCTO_PEERID_TEXT_MAX];
    int n = octo_peerid_to_base58(&pid, text, sizeof(text));
    CHECK_EQ_INT(n, (int)strlen(PEERID_B58));
    CHECK_STR(text, PEERID_B58);
    n = octo_peerid_to_cid(&pid, text, sizeof(text));
    CHECK_EQ_INT(n, (int)strlen(PEERID_CID));
    CHECK_STR(text, PEERID_CID);

    struct octo_peerid a, b;
    CHECK_OK(octo_peerid_from_text(PEERID_B58, &a));
    CHECK_OK(octo_peerid_from_text(PEERID_CID, &b));
    CHECK(octo_peerid_equal(&a, &b));
    CHECK(octo_peerid_equal(&a, &pid));
    struct octo_pubkey pub;
    CHECK_OK(octo_peerid_pubkey(&a, &pub));
    CHECK_MEM(pub.bytes, id.pub.bytes, OCTO_ED25519_PK_LEN);
    CHECK_OK(octo_peerid_from_bytes(pid.bytes, pid.len, &a));
    CHECK(octo_peerid_equal(&a, &pid));
    /* too small output buffers */
    CHECK_ERR(octo_peerid_to_base58(&pid, text, 10), OCTO_ENOSPACE);
    CHECK_ERR(octo_peerid_to_cid(&pid, text, 10), OCTO_ENOSPACE);
    octo_identity_deinit(&id);
}

static void test_peerid_sha256(void)
{
    /* an RSA-style hashed id: 12 20 || 32 bytes; valid, but carries no key */
    size_t n;
    const uint8_t *in =
        octo_test_hex("1220"
                      "0000000000000000000000000000000000000000000000000000000000000001",
                      &n);
    struct octo_peerid pid;
    CHECK_OK(octo_peerid_from_bytes(in, n, &pid));
    struct octo_pubkey pub;
    CHECK_ERR(octo_peerid_pubkey(&pid, &pub), OCTO_EUNSUPPORTED);
    char text[OCTO_PEERID_TEXT_MAX];
    CHECK_OK(octo_peerid_to_base58(&pid, text, sizeof(text)));
    CHECK(text[0] == 'Q' && text[1] == 'm');
    struct octo_peerid back;
    CHECK_OK(octo_peerid_from_text(text, &back));
    CHECK(octo_peerid_equal(&back, &pid));
    CHECK_OK(octo_peerid_to_cid(&pid, text, sizeof(text)));
    CHECK_OK(octo_peerid_from_text(text, &back));
    CHECK(octo_peerid_equal(&back, &pid));
}

static void test_peerid_errors(void)
{
    struct octo_peerid pid;
    size_t n;
    const uint8_t *in;
    CHECK_ERR(octo_peerid_from_bytes(NULL, 0, &pid), OCTO_EMALFORMED);
    /* identity digest length disagrees with the data */
    in = octo_test_hex("0025" PUBPB_HEX, &n);
    CHECK(octo_peerid_from_bytes(in, n, &pid) < 0);
    /* truncated */
    in = octo_test_hex(PEERID_HEX, &n);
    CHECK(octo_peerid_from_bytes(in, n - 1, &pid) < 0);
    /* sha2-256 with a wrong digest length */
    in = octo_test_hex("121f"
                       "00000000000000000000000000000000000000000000000000000000000000",
                       &n);
    CHECK(octo_peerid_from_bytes(in, n, &pid) < 0);
    /* unknown hash function (sha2-512, code 0x13) */
    in = octo_test_hex("1320"
                       "0000000000000000000000000000000000000000000000000000000000000000",
                       &n);
    CHECK_ERR(octo_peerid_from_bytes(in, n, &pid), OCTO_EUNSUPPORTED);
    /* identity holding a non-canonical key */
    in = octo_test_hex("0026"
                       "088100"
                       "12a000" PUB_HEX,
                       &n);
    CHECK_ERR(octo_peerid_from_bytes(in, n, &pid), OCTO_ENONCANON);
    /* identity holding a non-Ed25519 key */
    in = octo_test_hex("0025"
                       "08021221"
                       "02" PUB_HEX,
                       &n);
    CHECK_ERR(octo_peerid_from_bytes(in, n, &pid), OCTO_EUNSUPPORTED);
    /* too long */
    uint8_t big[OCTO_PEERID_MAX_BYTES + 1] = {0};
    CHECK_ERR(octo_peerid_from_bytes(big, sizeof(big), &pid), OCTO_ETOOBIG);

    /* text */
    CHECK_ERR(octo_peerid_from_text("", &pid), OCTO_EMALFORMED);
    CHECK(octo_peerid_from_text("12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeS0", &pid) < 0);
    CHECK(octo_peerid_from_text("12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeS", &pid) < 0);
    CHECK(octo_peerid_from_text("bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmn",
                                &pid) < 0);
    /* CIDv1 with the wrong codec (raw 0x55 instead of libp2p-key) */
    char text[OCTO_PEERID_TEXT_MAX];
    struct octo_identity id;
    seed_identity(&id);
    octo_peerid_from_pubkey(&id.pub, &pid);
    octo_identity_deinit(&id);
    uint8_t cid[2 + OCTO_PEERID_MAX_BYTES];
    cid[0] = 0x01;
    cid[1] = 0x55;
    memcpy(cid + 2, pid.bytes, pid.len);
    CHECK_OK(octo_multibase_encode('b', cid, 2 + pid.len, text, sizeof(text)));
    CHECK_ERR(octo_peerid_from_text(text, &pid), OCTO_EUNSUPPORTED);
    /* CID version 2 */
    cid[0] = 0x02;
    cid[1] = 0x72;
    CHECK_OK(octo_multibase_encode('b', cid, 2 + pid.len, text, sizeof(text)));
    CHECK_ERR(octo_peerid_from_text(text, &pid), OCTO_EUNSUPPORTED);
    /* unknown multibase prefix */
    CHECK_ERR(octo_peerid_from_text("xabc", &pid), OCTO_EUNSUPPORTED);
    /* no NUL within the limit */
    char longtext[OCTO_PEERID_TEXT_MAX + 8];
    memset(longtext, '1', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    CHECK_ERR(octo_peerid_from_text(longtext, &pid), OCTO_ETOOBIG);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_seed_vector);
    OCTO_RUN(test_pubkey_decode_vector);
    OCTO_RUN(test_private_decode_vector);
    OCTO_RUN(test_pubkey_noncanonical);
    OCTO_RUN(test_pubkey_malformed);
    OCTO_RUN(test_pubkey_unsupported_and_invalid);
    OCTO_RUN(test_pubkey_decode_for_verify);
    OCTO_RUN(test_private_errors);
    OCTO_RUN(test_generate_sign_verify);
    OCTO_RUN(test_peer_record_signature);
    OCTO_RUN(test_peerid_vectors);
    OCTO_RUN(test_peerid_sha256);
    OCTO_RUN(test_peerid_errors);
    return octo_test_finish();
}
