/*
 * fuzz_keys.c — libFuzzer harness for the key decoders: PublicKey and PrivateKey protobufs,
 * binary peer ids, and unencrypted key files. Every decoder must either reject the input or
 * accept exactly its canonical encoding: on success the harness re-encodes and asserts the
 * bytes equal the input (pair check for the canonical-form enforcement).
 */
#include "base/assert.h"
#include "base/buf.h"
#include "crypto/ident.h"
#include "crypto/keystore.h"
#include "crypto/peerid.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_pubkey(const uint8_t *data, size_t size)
{
    struct octo_pubkey pub;
    if (octo_pubkey_decode(data, size, &pub) != 0)
        return;
    uint8_t pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&pub, pb);
    OCTO_ASSERT(size == sizeof(pb));
    OCTO_ASSERT(memcmp(pb, data, size) == 0);
}

static void fuzz_private(const uint8_t *data, size_t size)
{
    struct octo_identity id;
    if (octo_identity_decode_private(data, size, &id) != 0)
        return;
    uint8_t pb[OCTO_PRIVKEY_PB_LEN];
    octo_identity_encode_private(&id, pb);
    OCTO_ASSERT(size == sizeof(pb));
    OCTO_ASSERT(memcmp(pb, data, size) == 0);
    octo_identity_deinit(&id);
}

static void fuzz_peerid(const uint8_t *data, size_t size)
{
    struct octo_peerid pid;
    if (octo_peerid_from_bytes(data, size, &pid) != 0)
        return;
    OCTO_ASSERT(pid.len == size);
    OCTO_ASSERT(memcmp(pid.bytes, data, size) == 0);
    /* text forms round trip too */
    char text[OCTO_PEERID_TEXT_MAX];
    struct octo_peerid back;
    OCTO_ASSERT(octo_peerid_to_base58(&pid, text, sizeof(text)) > 0);
    OCTO_ASSERT(octo_peerid_from_text(text, &back) == 0);
    OCTO_ASSERT(octo_peerid_equal(&back, &pid));
    OCTO_ASSERT(octo_peerid_to_cid(&pid, text, sizeof(text)) > 0);
    OCTO_ASSERT(octo_peerid_from_text(text, &back) == 0);
    OCTO_ASSERT(octo_peerid_equal(&back, &pid));
    struct octo_pubkey pub;
    if (octo_peerid_pubkey(&pid, &pub) == 0) {
        octo_peerid_from_pubkey(&pub, &back);
        OCTO_ASSERT(octo_peerid_equal(&back, &pid));
    }
}

static void fuzz_keystore(const uint8_t *data, size_t size)
{
    struct octo_identity id;
    if (octo_keystore_decode(data, size, NULL, &id) != 0)
        return;
    struct octo_buf out;
    octo_buf_init_secret(&out, OCTO_KEYSTORE_FILE_MAX);
    OCTO_ASSERT(octo_keystore_encode(&id, NULL, NULL, &out) == 0);
    OCTO_ASSERT(out.len == size);
    OCTO_ASSERT(memcmp(out.data, data, size) == 0);
    octo_buf_deinit(&out);
    octo_identity_deinit(&id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        OCTO_ASSERT(octo_crypto_init() == 0);
        initialised = 1;
    }
    fuzz_pubkey(data, size);
    fuzz_private(data, size);
    fuzz_peerid(data, size);
    fuzz_keystore(data, size);
    return 0;
}
