/*
 * test_multihash.c — multihash framing: the Ed25519 identity peer id of LIBP2P.md §2, a
 * sha2-256 and a blake2b-256 frame, prefix parsing, and every rejection.
 */
#include "base/multihash.h"
#include "test.h"

#define PEER_MH "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define DIGEST32 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_decode_identity_peer_id(void)
{
    size_t len;
    const uint8_t *in = octo_test_hex(PEER_MH, &len);
    struct octo_multihash mh;
    CHECK_OK(octo_multihash_decode(in, len, &mh));
    CHECK_EQ_U64(mh.code, OCTO_MH_IDENTITY);
    CHECK_EQ_INT(mh.digest_len, 36);
    CHECK(mh.digest == in + 2); /* borrowed from the input */
    CHECK_HEX(mh.digest, mh.digest_len,
              "0801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
}

static void test_encode(void)
{
    size_t dlen;
    const uint8_t *d = octo_test_hex(DIGEST32, &dlen);
    uint8_t out[64];
    CHECK_EQ_INT(octo_multihash_encode(OCTO_MH_SHA2_256, d, dlen, out, sizeof(out)), 34);
    CHECK_HEX(out, 34, "1220" DIGEST32);
    CHECK_EQ_INT(octo_multihash_encode(OCTO_MH_BLAKE2B_256, d, dlen, out, sizeof(out)), 36);
    CHECK_HEX(out, 36, "a0e40220" DIGEST32); /* 0xb220 = varint a0 e4 02 */
    struct octo_multihash mh;
    CHECK_OK(octo_multihash_decode(out, 36, &mh));
    CHECK_EQ_U64(mh.code, OCTO_MH_BLAKE2B_256);
    CHECK_EQ_INT(octo_multihash_encode(OCTO_MH_IDENTITY, NULL, 0, out, sizeof(out)), 2);
    CHECK_HEX(out, 2, "0000");
    CHECK_OK(octo_multihash_decode(out, 2, &mh));
    CHECK_EQ_INT(mh.digest_len, 0);
}

static void test_encode_errors(void)
{
    uint8_t digest[OCTO_MULTIHASH_DIGEST_MAX + 1] = {0};
    uint8_t out[256];
    CHECK_ERR(octo_multihash_encode(OCTO_MH_SHA2_256, digest, 32, out, 33), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_multihash_encode(OCTO_MH_SHA2_256, digest, 32, out, 34), 34);
    CHECK_ERR(octo_multihash_encode(OCTO_MH_SHA2_256, digest, 31, out, sizeof(out)), OCTO_EINVAL);
    CHECK_ERR(octo_multihash_encode(OCTO_MH_IDENTITY, digest, sizeof(digest), out, sizeof(out)),
              OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_multihash_encode(OCTO_MH_IDENTITY, digest, OCTO_MULTIHASH_DIGEST_MAX, out,
                                       sizeof(out)),
                 OCTO_MULTIHASH_DIGEST_MAX + 3); /* 128 needs a two-byte length */
    CHECK_ERR(octo_multihash_encode(UINT64_C(1) << 63, digest, 1, out, sizeof(out)), OCTO_EINVAL);
}

static void test_decode_errors(void)
{
    struct octo_multihash mh;
    size_t len;
    const uint8_t *in;
    CHECK_ERR(octo_multihash_decode(NULL, 0, &mh), OCTO_EMALFORMED);
    in = octo_test_hex("00", &len); /* no length */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
    in = octo_test_hex("80", &len); /* truncated code varint */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
    in = octo_test_hex("0003aabb", &len); /* truncated digest */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
    in = octo_test_hex("0001aabb", &len); /* trailing byte */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
    in = octo_test_hex("800001aa", &len); /* non-minimal code */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_ENONCANON);
    in = octo_test_hex("00810001", &len); /* non-minimal length */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_ENONCANON);
    in = octo_test_hex("008101", &len); /* 129-byte digest: refused before reading it */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_ETOOBIG);
    in = octo_test_hex("ffffffffffffffffff01 00", &len); /* code varint too long */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
    in = octo_test_hex("1201aa", &len); /* sha2-256 must be 32 bytes */
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
    in = octo_test_hex("1221" DIGEST32 "00", &len);
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
}

static void test_decode_prefix(void)
{
    size_t len;
    const uint8_t *in = octo_test_hex("1220" DIGEST32 "ffee", &len);
    struct octo_multihash mh;
    CHECK_EQ_INT(octo_multihash_decode_prefix(in, len, &mh), 34);
    CHECK_EQ_U64(mh.code, OCTO_MH_SHA2_256);
    CHECK_EQ_INT(mh.digest_len, 32);
    CHECK_ERR(octo_multihash_decode(in, len, &mh), OCTO_EMALFORMED);
    CHECK_ERR(octo_multihash_decode_prefix(in, 33, &mh), OCTO_EMALFORMED);
}

int main(void)
{
    OCTO_RUN(test_decode_identity_peer_id);
    OCTO_RUN(test_encode);
    OCTO_RUN(test_encode_errors);
    OCTO_RUN(test_decode_errors);
    OCTO_RUN(test_decode_prefix);
    return octo_test_finish();
}
