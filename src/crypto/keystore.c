/*
 * keystore.c — the node key file (see keystore.h for the byte layout).
 *
 * Encrypted files: key = Argon2id13(passphrase, salt, opslimit, memlimit), then
 * XChaCha20-Poly1305-IETF over the 68-byte PrivateKey protobuf with the whole header
 * (magic .. nonce, 60 bytes) as associated data, so no header byte can be changed without
 * the MAC failing. The KDF parameters from a file are range-checked before any work is
 * done. Every buffer that held the derived key or the plaintext protobuf is wiped.
 */
#include "crypto/keystore.h"

#include "base/assert.h"
#include "crypto/random.h"

#include <sodium.h>
#include <string.h>

#define MAGIC "OCTOKEY1"
#define MAGIC_LEN 8
#define FIXED_LEN 12 /* magic, kdf, reserved, u16 body length */
#define KDF_NONE 0
#define KDF_ARGON2ID 1
#define SALT_LEN 16
#define NONCE_LEN 24
#define KEY_LEN 32
#define MAC_LEN 16
#define KDF_HEADER_LEN (FIXED_LEN + 4 + 4 + SALT_LEN + NONCE_LEN) /* 60: the AEAD AD */
#define CIPHER_LEN (OCTO_PRIVKEY_PB_LEN + MAC_LEN)
#define PASSPHRASE_MAX 4096
#define OPSLIMIT_MIN 1u
#define MEMLIMIT_KIB_MIN 8u

_Static_assert(SALT_LEN == crypto_pwhash_SALTBYTES, "salt");
_Static_assert(NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key");
_Static_assert(MAC_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "mac");
_Static_assert(KDF_HEADER_LEN + CIPHER_LEN <= OCTO_KEYSTORE_FILE_MAX, "file fits");

void octo_keystore_params_default(struct octo_keystore_params *p)
{
    OCTO_ASSERT(p != NULL);
    p->opslimit = (uint32_t)crypto_pwhash_OPSLIMIT_MODERATE;
    p->memlimit_kib = (uint32_t)(crypto_pwhash_MEMLIMIT_MODERATE / 1024u);
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* OCTO_EMALFORMED below the libsodium minimum, OCTO_ETOOBIG above our ceiling. */
static int check_params(uint32_t opslimit, uint32_t memlimit_kib)
{
    if (opslimit < OPSLIMIT_MIN || memlimit_kib < MEMLIMIT_KIB_MIN)
        return OCTO_EMALFORMED;
    if (opslimit > OCTO_KEYSTORE_OPSLIMIT_MAX || memlimit_kib > OCTO_KEYSTORE_MEMLIMIT_KIB_MAX)
        return OCTO_ETOOBIG;
    return 0;
}

static int derive_key(uint8_t key[KEY_LEN], const char *passphrase, const uint8_t *salt,
                      uint32_t opslimit, uint32_t memlimit_kib)
{
    size_t pass_len = strlen(passphrase);
    if (crypto_pwhash(key, KEY_LEN, passphrase, pass_len, salt, opslimit,
                      (size_t)memlimit_kib * 1024u, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, KEY_LEN);
        return OCTO_ENOMEM; /* libsodium fails here only when it cannot allocate */
    }
    return 0;
}

/* Bounded strlen check on the passphrase: OCTO_ETOOBIG past PASSPHRASE_MAX. */
static int check_passphrase(const char *passphrase)
{
    for (size_t i = 0; i <= PASSPHRASE_MAX; i++) {
        if (passphrase[i] == '\0')
            return 0;
    }
    return OCTO_ETOOBIG;
}

static void write_fixed(uint8_t *out, uint8_t kdf, uint16_t body_len)
{
    memcpy(out, MAGIC, MAGIC_LEN);
    out[8] = kdf;
    out[9] = 0;
    put_u16(out + 10, body_len);
}

static int encode_plain(const struct octo_identity *id, struct octo_buf *out)
{
    uint8_t file[FIXED_LEN + OCTO_PRIVKEY_PB_LEN];
    write_fixed(file, KDF_NONE, OCTO_PRIVKEY_PB_LEN);
    octo_identity_encode_private(id, file + FIXED_LEN);
    int rc = octo_buf_append(out, file, sizeof(file));
    sodium_memzero(file, sizeof(file));
    return rc;
}

static int encode_encrypted(const struct octo_identity *id, const char *passphrase,
                            const struct octo_keystore_params *params, struct octo_buf *out)
{
    uint8_t file[KDF_HEADER_LEN + CIPHER_LEN];
    uint8_t key[KEY_LEN];
    uint8_t pb[OCTO_PRIVKEY_PB_LEN];
    write_fixed(file, KDF_ARGON2ID, (uint16_t)(sizeof(file) - FIXED_LEN));
    put_u32(file + 12, params->opslimit);
    put_u32(file + 16, params->memlimit_kib);
    uint8_t *salt = file + 20;
    uint8_t *nonce = salt + SALT_LEN;
    octo_random_bytes(salt, SALT_LEN);
    octo_random_bytes(nonce, NONCE_LEN);
    int rc = derive_key(key, passphrase, salt, params->opslimit, params->memlimit_kib);
    if (rc == 0) {
        octo_identity_encode_private(id, pb);
        unsigned long long clen = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(file + KDF_HEADER_LEN, &clen, pb, sizeof(pb),
                                                   file, KDF_HEADER_LEN, NULL, nonce, key);
        OCTO_ASSERT(clen == CIPHER_LEN);
        rc = octo_buf_append(out, file, sizeof(file));
    }
    sodium_memzero(pb, sizeof(pb));
    sodium_memzero(key, sizeof(key));
    return rc;
}

int octo_keystore_encode(const struct octo_identity *id, const char *passphrase,
                         const struct octo_keystore_params *params, struct octo_buf *out)
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(out != NULL);
    if (passphrase == NULL)
        return encode_plain(id, out);
    struct octo_keystore_params defaults;
    if (params == NULL) {
        octo_keystore_params_default(&defaults);
        params = &defaults;
    }
    int rc = check_params(params->opslimit, params->memlimit_kib);
    if (rc < 0)
        return OCTO_EINVAL;
    rc = check_passphrase(passphrase);
    if (rc < 0)
        return rc;
    return encode_encrypted(id, passphrase, params, out);
}

/* Checks the fixed header; returns the kdf byte or an error. */
static int parse_fixed(const uint8_t *in, size_t len)
{
    if (len > OCTO_KEYSTORE_FILE_MAX)
        return OCTO_ETOOBIG;
    if (len < FIXED_LEN || memcmp(in, MAGIC, MAGIC_LEN) != 0 || in[9] != 0)
        return OCTO_EMALFORMED;
    if ((size_t)get_u16(in + 10) != len - FIXED_LEN)
        return OCTO_EMALFORMED;
    if (in[8] != KDF_NONE && in[8] != KDF_ARGON2ID)
        return OCTO_EUNSUPPORTED;
    return in[8];
}

static int decode_encrypted(const uint8_t *in, size_t len, const char *passphrase,
                            struct octo_identity *out)
{
    if (len != KDF_HEADER_LEN + CIPHER_LEN)
        return OCTO_EMALFORMED;
    uint32_t opslimit = get_u32(in + 12);
    uint32_t memlimit_kib = get_u32(in + 16);
    int rc = check_params(opslimit, memlimit_kib);
    if (rc < 0)
        return rc;
    rc = check_passphrase(passphrase);
    if (rc < 0)
        return rc;
    const uint8_t *salt = in + 20;
    const uint8_t *nonce = salt + SALT_LEN;
    uint8_t key[KEY_LEN];
    uint8_t pb[OCTO_PRIVKEY_PB_LEN];
    rc = derive_key(key, passphrase, salt, opslimit, memlimit_kib);
    if (rc == 0) {
        unsigned long long plen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(pb, &plen, NULL, in + KDF_HEADER_LEN,
                                                       CIPHER_LEN, in, KDF_HEADER_LEN, nonce,
                                                       key) != 0)
            rc = OCTO_EDECRYPT;
    }
    if (rc == 0)
        rc = octo_identity_decode_private(pb, sizeof(pb), out);
    sodium_memzero(pb, sizeof(pb));
    sodium_memzero(key, sizeof(key));
    return rc;
}

int octo_keystore_decode(const uint8_t *in, size_t len, const char *passphrase,
                         struct octo_identity *out)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    int kdf = parse_fixed(in, len);
    if (kdf < 0)
        return kdf;
    if (kdf == KDF_NONE)
        return octo_identity_decode_private(in + FIXED_LEN, len - FIXED_LEN, out);
    if (passphrase == NULL)
        return OCTO_EPERM;
    return decode_encrypted(in, len, passphrase, out);
}

int octo_keystore_is_encrypted(const uint8_t *in, size_t len)
{
    OCTO_ASSERT(in != NULL || len == 0);
    int kdf = parse_fixed(in, len);
    if (kdf < 0)
        return kdf;
    return kdf == KDF_ARGON2ID ? 1 : 0;
}
