/*
 * peerid.c — libp2p peer ids (see peerid.h).
 *
 * A peer id is kept in its binary form (a multihash). Validation: the multihash must parse
 * canonically (base/multihash.h), an identity multihash must hold a canonical Ed25519
 * PublicKey protobuf (octo_pubkey_decode: other key types are OCTO_EUNSUPPORTED), and a
 * sha2-256 multihash must carry 32 bytes. Text parsing follows peer-ids.md: a string
 * starting with '1' or "Qm" is bare base58btc; anything else is a multibase CIDv1 with the
 * libp2p-key codec.
 */
#include "crypto/peerid.h"

#include "base/assert.h"
#include "base/base32.h"
#include "base/base58.h"
#include "base/multihash.h"
#include "base/varint.h"

#include <string.h>

#define CID_VERSION_1 0x01
#define CODEC_LIBP2P_KEY 0x72
#define IDENTITY_PB_MAX 42 /* longer key protobufs are hashed, per peer-ids.md */

_Static_assert(2 + OCTO_PUBKEY_PB_LEN <= OCTO_PEERID_MAX_BYTES, "identity id fits");

void octo_peerid_from_pubkey(const struct octo_pubkey *pub, struct octo_peerid *out)
{
    OCTO_ASSERT(pub != NULL);
    OCTO_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    out->bytes[0] = OCTO_MH_IDENTITY;
    out->bytes[1] = OCTO_PUBKEY_PB_LEN;
    octo_pubkey_encode(pub, out->bytes + 2);
    out->len = 2 + OCTO_PUBKEY_PB_LEN;
}

int octo_peerid_from_bytes(const uint8_t *in, size_t len, struct octo_peerid *out)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (len > OCTO_PEERID_MAX_BYTES)
        return OCTO_ETOOBIG;
    if (len == 0)
        return OCTO_EMALFORMED;
    struct octo_multihash mh;
    int rc = octo_multihash_decode(in, len, &mh);
    if (rc < 0)
        return rc;
    if (mh.code == OCTO_MH_IDENTITY) {
        if (mh.digest_len > IDENTITY_PB_MAX)
            return OCTO_ENONCANON;
        struct octo_pubkey pub;
        rc = octo_pubkey_decode(mh.digest, mh.digest_len, &pub);
        if (rc < 0)
            return rc;
    } else if (mh.code == OCTO_MH_SHA2_256) {
        if (mh.digest_len != 32)
            return OCTO_EMALFORMED;
    } else {
        return OCTO_EUNSUPPORTED;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->bytes, in, len);
    out->len = len;
    return 0;
}

/* Bounded strlen: OCTO_ETOOBIG when no NUL within OCTO_PEERID_TEXT_MAX bytes. */
static int text_length(const char *text, size_t *len)
{
    for (size_t i = 0; i < OCTO_PEERID_TEXT_MAX; i++) {
        if (text[i] == '\0') {
            *len = i;
            return 0;
        }
    }
    return OCTO_ETOOBIG;
}

/* CIDv1: version 1, codec libp2p-key, then the multihash. */
static int peerid_from_cid(const uint8_t *cid, size_t len, struct octo_peerid *out)
{
    uint64_t version = 0, codec = 0;
    int n = octo_varint_decode(cid, len, &version);
    if (n < 0)
        return n == OCTO_EAGAIN ? OCTO_EMALFORMED : n;
    if (version != CID_VERSION_1)
        return OCTO_EUNSUPPORTED;
    size_t off = (size_t)n;
    n = octo_varint_decode(cid + off, len - off, &codec);
    if (n < 0)
        return n == OCTO_EAGAIN ? OCTO_EMALFORMED : n;
    if (codec != CODEC_LIBP2P_KEY)
        return OCTO_EUNSUPPORTED;
    off += (size_t)n;
    return octo_peerid_from_bytes(cid + off, len - off, out);
}

int octo_peerid_from_text(const char *text, struct octo_peerid *out)
{
    OCTO_ASSERT(text != NULL);
    OCTO_ASSERT(out != NULL);
    size_t len = 0;
    int rc = text_length(text, &len);
    if (rc < 0)
        return rc;
    if (len == 0)
        return OCTO_EMALFORMED;
    uint8_t raw[OCTO_PEERID_TEXT_MAX];
    if (text[0] == '1' || (len >= 2 && text[0] == 'Q' && text[1] == 'm')) {
        rc = octo_base58_decode(text, len, raw, OCTO_PEERID_MAX_BYTES);
        if (rc < 0)
            return rc == OCTO_ENOSPACE ? OCTO_ETOOBIG : rc;
        return octo_peerid_from_bytes(raw, (size_t)rc, out);
    }
    rc = octo_multibase_decode(text, len, raw, sizeof(raw));
    if (rc < 0)
        return rc == OCTO_ENOSPACE ? OCTO_ETOOBIG : rc;
    return peerid_from_cid(raw, (size_t)rc, out);
}

int octo_peerid_to_base58(const struct octo_peerid *id, char *out, size_t out_size)
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(id->len > 0 && id->len <= OCTO_PEERID_MAX_BYTES);
    OCTO_ASSERT(out != NULL);
    return octo_base58_encode(id->bytes, id->len, out, out_size);
}

int octo_peerid_to_cid(const struct octo_peerid *id, char *out, size_t out_size)
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(id->len > 0 && id->len <= OCTO_PEERID_MAX_BYTES);
    OCTO_ASSERT(out != NULL);
    uint8_t cid[2 + OCTO_PEERID_MAX_BYTES];
    cid[0] = CID_VERSION_1;
    cid[1] = CODEC_LIBP2P_KEY;
    memcpy(cid + 2, id->bytes, id->len);
    return octo_multibase_encode('b', cid, 2 + id->len, out, out_size);
}

int octo_peerid_pubkey(const struct octo_peerid *id, struct octo_pubkey *out)
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(out != NULL);
    struct octo_multihash mh;
    int rc = octo_multihash_decode(id->bytes, id->len, &mh);
    if (rc < 0)
        return rc;
    if (mh.code != OCTO_MH_IDENTITY)
        return OCTO_EUNSUPPORTED;
    return octo_pubkey_decode(mh.digest, mh.digest_len, out);
}

bool octo_peerid_equal(const struct octo_peerid *a, const struct octo_peerid *b)
{
    OCTO_ASSERT(a != NULL);
    OCTO_ASSERT(b != NULL);
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}
