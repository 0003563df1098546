/*
 * ident.c — Ed25519 identities and their libp2p protobuf encodings (see ident.h).
 *
 * Encoding is written by hand (the canonical form is a fixed 4-byte prefix plus the key), so
 * it cannot fail. Decoding goes through protobuf-c (with the counted allocator) and then
 * insists on the canonical form by re-encoding (wire/pb.h): field order, minimal varints, no
 * duplicates and no unknown fields all follow from "re-encodes to the same bytes".
 *
 * Secrets: struct octo_identity holds the 64-byte secret key; private-key protobufs are
 * unpacked with the wiping allocator and every stack copy of a seed is wiped before return.
 */
#include "crypto/ident.h"

#include "base/assert.h"
#include "base/mem.h"
#include "pb/keys.pb-c.h"
#include "wire/pb.h"

#include <sodium.h>
#include <string.h>

_Static_assert(OCTO_ED25519_PK_LEN == crypto_sign_PUBLICKEYBYTES, "pk length");
_Static_assert(OCTO_ED25519_SK_LEN == crypto_sign_SECRETKEYBYTES, "sk length");
_Static_assert(OCTO_ED25519_SEED_LEN == crypto_sign_SEEDBYTES, "seed length");
_Static_assert(OCTO_ED25519_SIG_LEN == crypto_sign_BYTES, "signature length");
_Static_assert(OCTO_PUBKEY_PB_LEN == 4 + OCTO_ED25519_PK_LEN, "pubkey pb length");
_Static_assert(OCTO_PRIVKEY_PB_LEN == 4 + OCTO_ED25519_SK_LEN, "privkey pb length");

int octo_crypto_init(void)
{
    /* 0 = initialised now, 1 = already initialised, -1 = failure */
    return sodium_init() < 0 ? OCTO_ECRYPTO : 0;
}

int octo_identity_generate(struct octo_identity *id)
{
    OCTO_ASSERT(id != NULL);
    if (crypto_sign_keypair(id->pub.bytes, id->sk) != 0)
        return OCTO_ECRYPTO;
    return 0;
}

int octo_identity_from_seed(struct octo_identity *id, const uint8_t seed[OCTO_ED25519_SEED_LEN])
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(seed != NULL);
    if (crypto_sign_seed_keypair(id->pub.bytes, id->sk, seed) != 0)
        return OCTO_ECRYPTO;
    return 0;
}

void octo_identity_deinit(struct octo_identity *id)
{
    if (id != NULL)
        sodium_memzero(id, sizeof(*id));
}

void octo_identity_sign(const struct octo_identity *id, const uint8_t *msg, size_t len,
                        uint8_t sig[OCTO_ED25519_SIG_LEN])
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(msg != NULL || len == 0);
    OCTO_ASSERT(sig != NULL);
    int rc = crypto_sign_detached(sig, NULL, msg, len, id->sk);
    OCTO_ASSERT(rc == 0);
}

int octo_pubkey_verify(const struct octo_pubkey *pub, const uint8_t *msg, size_t len,
                       const uint8_t sig[OCTO_ED25519_SIG_LEN])
{
    OCTO_ASSERT(pub != NULL);
    OCTO_ASSERT(msg != NULL || len == 0);
    OCTO_ASSERT(sig != NULL);
    if (crypto_sign_verify_detached(sig, msg, len, pub->bytes) != 0)
        return OCTO_EBADSIG;
    return 0;
}

/* Field 1 (varint) = KeyType Ed25519, field 2 (length-delimited) of data_len bytes. */
static void write_key_prefix(uint8_t out[4], uint8_t data_len)
{
    out[0] = 0x08;
    out[1] = (uint8_t)OCTO_KEY_ED25519;
    out[2] = 0x12;
    out[3] = data_len;
}

void octo_pubkey_encode(const struct octo_pubkey *pub, uint8_t out[OCTO_PUBKEY_PB_LEN])
{
    OCTO_ASSERT(pub != NULL);
    OCTO_ASSERT(out != NULL);
    write_key_prefix(out, OCTO_ED25519_PK_LEN);
    memcpy(out + 4, pub->bytes, OCTO_ED25519_PK_LEN);
}

void octo_identity_encode_private(const struct octo_identity *id, uint8_t out[OCTO_PRIVKEY_PB_LEN])
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(out != NULL);
    write_key_prefix(out, OCTO_ED25519_SK_LEN);
    memcpy(out + 4, id->sk, OCTO_ED25519_SK_LEN);
}

/* Shared checks after unpacking either key message: canonical bytes, then key type and
 * data length. The order makes a non-canonical encoding of any key type ENONCANON. */
static int check_key_msg(const ProtobufCMessage *msg, Octo__Pb__KeyType type, size_t data_len,
                         size_t want_len, const uint8_t *in, size_t len)
{
    uint8_t scratch[OCTO_KEY_PB_MAX];
    int rc = octo_pb_check_canonical(msg, in, len, scratch, sizeof(scratch));
    if (rc < 0)
        return rc;
    if (type != OCTO__PB__KEY_TYPE__Ed25519)
        return OCTO_EUNSUPPORTED;
    if (data_len != want_len)
        return OCTO_EMALFORMED;
    return 0;
}

static int pubkey_decode(const uint8_t *in, size_t len, struct octo_pubkey *out, bool validate)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (len > OCTO_KEY_PB_MAX)
        return OCTO_ETOOBIG;
    Octo__Pb__PublicKey *msg = octo__pb__public_key__unpack(octo_pb_allocator(), len, in);
    if (msg == NULL)
        return OCTO_EMALFORMED;
    int rc = check_key_msg(&msg->base, msg->type, msg->data.len, OCTO_ED25519_PK_LEN, in, len);
    if (rc == 0 && validate && crypto_core_ed25519_is_valid_point(msg->data.data) != 1)
        rc = OCTO_EINVAL;
    if (rc == 0)
        memcpy(out->bytes, msg->data.data, OCTO_ED25519_PK_LEN);
    octo__pb__public_key__free_unpacked(msg, octo_pb_allocator());
    return rc;
}

int octo_pubkey_decode(const uint8_t *in, size_t len, struct octo_pubkey *out)
{
    return pubkey_decode(in, len, out, true);
}

int octo_pubkey_decode_for_verify(const uint8_t *in, size_t len, struct octo_pubkey *out)
{
    return pubkey_decode(in, len, out, false);
}

/* Rebuilds the key pair from the seed half of sk and checks the public half against it. */
static int identity_from_sk(const uint8_t sk[OCTO_ED25519_SK_LEN], struct octo_identity *out)
{
    const uint8_t *pub = sk + OCTO_ED25519_SEED_LEN;
    if (crypto_core_ed25519_is_valid_point(pub) != 1)
        return OCTO_EINVAL;
    struct octo_identity derived;
    int rc = octo_identity_from_seed(&derived, sk);
    if (rc == 0 && sodium_memcmp(derived.pub.bytes, pub, OCTO_ED25519_PK_LEN) != 0)
        rc = OCTO_EINVAL;
    if (rc == 0)
        memcpy(out, &derived, sizeof(derived));
    octo_identity_deinit(&derived);
    return rc;
}

int octo_identity_decode_private(const uint8_t *in, size_t len, struct octo_identity *out)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (len > OCTO_KEY_PB_MAX)
        return OCTO_ETOOBIG;
    ProtobufCAllocator *alloc = octo_pb_allocator_secret();
    Octo__Pb__PrivateKey *msg = octo__pb__private_key__unpack(alloc, len, in);
    if (msg == NULL)
        return OCTO_EMALFORMED;
    int rc = check_key_msg(&msg->base, msg->type, msg->data.len, OCTO_ED25519_SK_LEN, in, len);
    if (rc == 0)
        rc = identity_from_sk(msg->data.data, out);
    octo__pb__private_key__free_unpacked(msg, alloc);
    return rc;
}
