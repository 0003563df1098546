/*
 * noise_hs.c — Noise_XX_25519_ChaChaPoly_SHA256 on libsodium 1.0.18 (contracts in noise_hs.h).
 *
 * Primitives: X25519 = crypto_scalarmult_curve25519{,_base} (libsodium returns -1 for an
 * all-zero result, which we treat as a handshake abort), AEAD =
 * crypto_aead_chacha20poly1305_ietf with the 96-bit nonce 0^32 || LE64(n), HASH = SHA-256,
 * HMAC = crypto_auth_hmacsha256 (incremental API: it accepts any key length).
 *
 * The message pattern is encoded directly in write/read below (three fixed messages), which
 * keeps the token handling obvious: XX never needs the general token interpreter.
 */
#include "p2p/noise_hs.h"

#include "base/assert.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(OCTO_NOISE_PROTOCOL_NAME) - 1 == OCTO_NOISE_HASH_LEN,
               "protocol name must be exactly HASHLEN bytes (h = name, no hashing)");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == OCTO_NOISE_TAG_LEN, "tag length");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "nonce length");
_Static_assert(crypto_scalarmult_curve25519_BYTES == OCTO_NOISE_DH_LEN, "DH length");
_Static_assert(crypto_auth_hmacsha256_BYTES == OCTO_NOISE_HASH_LEN, "HMAC length");

enum { HS_STEP_DONE = 3, HS_STEP_SPLIT = 4 };

/* ---- CipherState ---- */

void octo_noise_cipher_init(struct octo_noise_cipher *c, const uint8_t key[OCTO_NOISE_KEY_LEN])
{
    memcpy(c->k, key, OCTO_NOISE_KEY_LEN);
    c->n = 0;
    c->has_key = true;
}

void octo_noise_cipher_set_nonce(struct octo_noise_cipher *c, uint64_t n)
{
    c->n = n;
}

void octo_noise_cipher_wipe(struct octo_noise_cipher *c)
{
    sodium_memzero(c, sizeof(*c));
}

static void cipher_nonce(uint64_t n, uint8_t nonce[12])
{
    memset(nonce, 0, 4);
    for (unsigned i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

int octo_noise_cipher_encrypt(struct octo_noise_cipher *c, const uint8_t *ad, size_t ad_len,
                              const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_size)
{
    if (!c->has_key) {
        if (pt_len > OCTO_NOISE_MSG_MAX)
            return OCTO_ETOOBIG;
        if (out_size < pt_len)
            return OCTO_ENOSPACE;
        if (pt_len > 0 && out != pt)
            memmove(out, pt, pt_len);
        return (int)pt_len;
    }
    if (c->n == OCTO_NOISE_NONCE_MAX)
        return OCTO_ERANGE;
    if (pt_len > OCTO_NOISE_MSG_MAX - OCTO_NOISE_TAG_LEN)
        return OCTO_ETOOBIG;
    if (out_size < pt_len + OCTO_NOISE_TAG_LEN)
        return OCTO_ENOSPACE;
    uint8_t nonce[12];
    cipher_nonce(c->n, nonce);
    unsigned long long clen = 0;
    int rc = crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, pt_len, ad, ad_len, NULL,
                                                       nonce, c->k);
    if (rc != 0)
        return OCTO_ECRYPTO;
    OCTO_ASSERT(clen == pt_len + OCTO_NOISE_TAG_LEN);
    c->n++;
    return (int)clen;
}

int octo_noise_cipher_decrypt(struct octo_noise_cipher *c, const uint8_t *ad, size_t ad_len,
                              const uint8_t *ct, size_t ct_len, uint8_t *out, size_t out_size)
{
    if (ct_len > OCTO_NOISE_MSG_MAX)
        return OCTO_ETOOBIG;
    if (!c->has_key) {
        if (out_size < ct_len)
            return OCTO_ENOSPACE;
        if (ct_len > 0 && out != ct)
            memmove(out, ct, ct_len);
        return (int)ct_len;
    }
    if (c->n == OCTO_NOISE_NONCE_MAX)
        return OCTO_ERANGE;
    if (ct_len < OCTO_NOISE_TAG_LEN)
        return OCTO_EMALFORMED;
    if (out_size < ct_len - OCTO_NOISE_TAG_LEN)
        return OCTO_ENOSPACE;
    uint8_t nonce[12];
    cipher_nonce(c->n, nonce);
    unsigned long long plen = 0;
    int rc = crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, ct, ct_len, ad, ad_len,
                                                       nonce, c->k);
    if (rc != 0)
        return OCTO_EDECRYPT;
    OCTO_ASSERT(plen == ct_len - OCTO_NOISE_TAG_LEN);
    c->n++;
    return (int)plen;
}

/* ---- SymmetricState ---- */

static void hmac(const uint8_t key[OCTO_NOISE_HASH_LEN], const uint8_t *a, size_t a_len,
                 const uint8_t *b, size_t b_len, uint8_t out[OCTO_NOISE_HASH_LEN])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, OCTO_NOISE_HASH_LEN);
    crypto_auth_hmacsha256_update(&st, a, a_len);
    if (b_len > 0)
        crypto_auth_hmacsha256_update(&st, b, b_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

/* HKDF(ck, ikm) with two outputs (spec §4.3). */
static void hkdf2(const uint8_t ck[OCTO_NOISE_HASH_LEN], const uint8_t *ikm, size_t ikm_len,
                  uint8_t o1[OCTO_NOISE_HASH_LEN], uint8_t o2[OCTO_NOISE_HASH_LEN])
{
    static const uint8_t one = 0x01, two = 0x02;
    uint8_t temp[OCTO_NOISE_HASH_LEN];
    hmac(ck, ikm, ikm_len, NULL, 0, temp);
    hmac(temp, &one, 1, NULL, 0, o1);
    hmac(temp, o1, OCTO_NOISE_HASH_LEN, &two, 1, o2);
    sodium_memzero(temp, sizeof(temp));
}

static void mix_hash(struct octo_noise_symmetric *ss, const uint8_t *data, size_t len)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, ss->h, OCTO_NOISE_HASH_LEN);
    crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, ss->h);
}

static void mix_key(struct octo_noise_symmetric *ss, const uint8_t ikm[OCTO_NOISE_DH_LEN])
{
    uint8_t ck[OCTO_NOISE_HASH_LEN], k[OCTO_NOISE_HASH_LEN];
    hkdf2(ss->ck, ikm, OCTO_NOISE_DH_LEN, ck, k);
    memcpy(ss->ck, ck, sizeof(ck));
    /* HASHLEN == 32 == key length: no truncation. */
    octo_noise_cipher_init(&ss->cs, k);
    sodium_memzero(ck, sizeof(ck));
    sodium_memzero(k, sizeof(k));
}

/* EncryptAndHash: ciphertext to out, then MixHash(ciphertext). */
static int encrypt_and_hash(struct octo_noise_symmetric *ss, const uint8_t *pt, size_t pt_len,
                            uint8_t *out, size_t out_size)
{
    int n =
        octo_noise_cipher_encrypt(&ss->cs, ss->h, OCTO_NOISE_HASH_LEN, pt, pt_len, out, out_size);
    if (n < 0)
        return n;
    mix_hash(ss, out, (size_t)n);
    return n;
}

/* DecryptAndHash: plaintext to out, then MixHash(ciphertext). ct and out must not overlap. */
static int decrypt_and_hash(struct octo_noise_symmetric *ss, const uint8_t *ct, size_t ct_len,
                            uint8_t *out, size_t out_size)
{
    int n =
        octo_noise_cipher_decrypt(&ss->cs, ss->h, OCTO_NOISE_HASH_LEN, ct, ct_len, out, out_size);
    if (n < 0)
        return n;
    mix_hash(ss, ct, ct_len);
    return n;
}

/* ---- HandshakeState ---- */

/* DH(priv, pub) followed by MixKey; an all-zero result aborts (OCTO_ECRYPTO). */
static int mix_dh(struct octo_noise_symmetric *ss, const uint8_t priv[OCTO_NOISE_DH_LEN],
                  const uint8_t pub[OCTO_NOISE_DH_LEN])
{
    uint8_t shared[OCTO_NOISE_DH_LEN];
    if (crypto_scalarmult_curve25519(shared, priv, pub) != 0) {
        sodium_memzero(shared, sizeof(shared));
        return OCTO_ECRYPTO;
    }
    mix_key(ss, shared);
    sodium_memzero(shared, sizeof(shared));
    return 0;
}

int octo_noise_hs_init(struct octo_noise_hs *hs, bool initiator, const uint8_t *prologue,
                       size_t prologue_len, const uint8_t s_priv[OCTO_NOISE_DH_LEN],
                       const uint8_t e_priv[OCTO_NOISE_DH_LEN])
{
    return octo_noise_hs_init_static(hs, initiator, prologue, prologue_len, s_priv, NULL, e_priv);
}

int octo_noise_hs_init_static(struct octo_noise_hs *hs, bool initiator, const uint8_t *prologue,
                              size_t prologue_len, const uint8_t s_priv[OCTO_NOISE_DH_LEN],
                              const uint8_t *s_pub, const uint8_t e_priv[OCTO_NOISE_DH_LEN])
{
    OCTO_ASSERT(prologue != NULL || prologue_len == 0);
    memset(hs, 0, sizeof(*hs));
    hs->initiator = initiator;
    memcpy(hs->s_priv, s_priv, OCTO_NOISE_DH_LEN);
    memcpy(hs->e_priv, e_priv, OCTO_NOISE_DH_LEN);
    int rc = 0;
    if (s_pub != NULL)
        memcpy(hs->s_pub, s_pub, OCTO_NOISE_DH_LEN);
    else
        rc = crypto_scalarmult_curve25519_base(hs->s_pub, hs->s_priv);
    if (rc != 0 || crypto_scalarmult_curve25519_base(hs->e_pub, hs->e_priv) != 0) {
        octo_noise_hs_deinit(hs);
        return OCTO_ECRYPTO;
    }
    memcpy(hs->ss.h, OCTO_NOISE_PROTOCOL_NAME, OCTO_NOISE_HASH_LEN);
    memcpy(hs->ss.ck, hs->ss.h, OCTO_NOISE_HASH_LEN);
    mix_hash(&hs->ss, prologue, prologue_len);
    return 0;
}

void octo_noise_hs_deinit(struct octo_noise_hs *hs)
{
    sodium_memzero(hs, sizeof(*hs));
}

/* Aborts the handshake after an error: keys wiped, later calls get OCTO_ESTATE. */
static int hs_fail(struct octo_noise_hs *hs, int err)
{
    OCTO_ASSERT(err < 0);
    bool initiator = hs->initiator;
    sodium_memzero(hs, sizeof(*hs));
    hs->initiator = initiator;
    hs->failed = true;
    return err;
}

bool octo_noise_hs_write_turn(const struct octo_noise_hs *hs)
{
    if (hs->failed || hs->step >= HS_STEP_DONE)
        return false;
    /* Messages 0 and 2 (first and third) are the initiator's. */
    bool initiator_turn = hs->step != 1;
    return initiator_turn == hs->initiator;
}

bool octo_noise_hs_done(const struct octo_noise_hs *hs)
{
    return !hs->failed && hs->step >= HS_STEP_DONE;
}

static size_t step_overhead(unsigned step)
{
    switch (step) {
    case 0:
        return OCTO_NOISE_MSG1_OVERHEAD;
    case 1:
        return OCTO_NOISE_MSG2_OVERHEAD;
    case 2:
        return OCTO_NOISE_MSG3_OVERHEAD;
    default:
        return 0;
    }
}

size_t octo_noise_hs_overhead(const struct octo_noise_hs *hs)
{
    return hs->failed ? 0 : step_overhead(hs->step);
}

/* Tokens of the message being written, in pattern order; returns bytes written to out. */
static int write_tokens(struct octo_noise_hs *hs, uint8_t *out, size_t out_size)
{
    size_t off = 0;
    int rc;
    switch (hs->step) {
    case 0: /* -> e */
        memcpy(out, hs->e_pub, OCTO_NOISE_DH_LEN);
        mix_hash(&hs->ss, hs->e_pub, OCTO_NOISE_DH_LEN);
        return OCTO_NOISE_DH_LEN;
    case 1: /* <- e, ee, s, es */
        memcpy(out, hs->e_pub, OCTO_NOISE_DH_LEN);
        mix_hash(&hs->ss, hs->e_pub, OCTO_NOISE_DH_LEN);
        off = OCTO_NOISE_DH_LEN;
        rc = mix_dh(&hs->ss, hs->e_priv, hs->re);
        if (rc < 0)
            return rc;
        rc = encrypt_and_hash(&hs->ss, hs->s_pub, OCTO_NOISE_DH_LEN, out + off, out_size - off);
        if (rc < 0)
            return rc;
        off += (size_t)rc;
        rc = mix_dh(&hs->ss, hs->s_priv, hs->re); /* es, responder side: DH(s, re) */
        if (rc < 0)
            return rc;
        return (int)off;
    case 2: /* -> s, se */
        rc = encrypt_and_hash(&hs->ss, hs->s_pub, OCTO_NOISE_DH_LEN, out, out_size);
        if (rc < 0)
            return rc;
        off = (size_t)rc;
        rc = mix_dh(&hs->ss, hs->s_priv, hs->re); /* se, initiator side: DH(s, re) */
        if (rc < 0)
            return rc;
        return (int)off;
    default:
        OCTO_UNREACHABLE();
    }
}

int octo_noise_hs_write_message(struct octo_noise_hs *hs, const uint8_t *payload,
                                size_t payload_len, uint8_t *out, size_t out_size)
{
    OCTO_ASSERT(payload != NULL || payload_len == 0);
    if (!octo_noise_hs_write_turn(hs))
        return OCTO_ESTATE;
    size_t overhead = step_overhead(hs->step);
    if (payload_len > OCTO_NOISE_MSG_MAX - overhead)
        return OCTO_ETOOBIG;
    size_t total = overhead + payload_len;
    if (out_size < total)
        return OCTO_ENOSPACE;
    int rc = write_tokens(hs, out, out_size);
    if (rc < 0)
        return hs_fail(hs, rc);
    size_t off = (size_t)rc;
    rc = encrypt_and_hash(&hs->ss, payload, payload_len, out + off, out_size - off);
    if (rc < 0)
        return hs_fail(hs, rc);
    off += (size_t)rc;
    OCTO_ASSERT(off == total);
    hs->step++;
    return (int)off;
}

/* Tokens of the message being read; returns bytes consumed from msg. msg_len was checked to
 * cover the fixed part of the message. */
static int read_tokens(struct octo_noise_hs *hs, const uint8_t *msg, size_t msg_len)
{
    size_t off = 0;
    int rc;
    switch (hs->step) {
    case 0: /* -> e */
        memcpy(hs->re, msg, OCTO_NOISE_DH_LEN);
        mix_hash(&hs->ss, hs->re, OCTO_NOISE_DH_LEN);
        return OCTO_NOISE_DH_LEN;
    case 1: /* <- e, ee, s, es */
        memcpy(hs->re, msg, OCTO_NOISE_DH_LEN);
        mix_hash(&hs->ss, hs->re, OCTO_NOISE_DH_LEN);
        off = OCTO_NOISE_DH_LEN;
        rc = mix_dh(&hs->ss, hs->e_priv, hs->re);
        if (rc < 0)
            return rc;
        rc = decrypt_and_hash(&hs->ss, msg + off, OCTO_NOISE_DH_LEN + OCTO_NOISE_TAG_LEN, hs->rs,
                              sizeof(hs->rs));
        if (rc < 0)
            return rc;
        off += OCTO_NOISE_DH_LEN + OCTO_NOISE_TAG_LEN;
        rc = mix_dh(&hs->ss, hs->e_priv, hs->rs); /* es, initiator side: DH(e, rs) */
        if (rc < 0)
            return rc;
        break;
    case 2: /* -> s, se */
        rc = decrypt_and_hash(&hs->ss, msg, OCTO_NOISE_DH_LEN + OCTO_NOISE_TAG_LEN, hs->rs,
                              sizeof(hs->rs));
        if (rc < 0)
            return rc;
        off = OCTO_NOISE_DH_LEN + OCTO_NOISE_TAG_LEN;
        rc = mix_dh(&hs->ss, hs->e_priv, hs->rs); /* se, responder side: DH(e, rs) */
        if (rc < 0)
            return rc;
        break;
    default:
        OCTO_UNREACHABLE();
    }
    OCTO_ASSERT(off <= msg_len);
    return (int)off;
}

int octo_noise_hs_read_message(struct octo_noise_hs *hs, const uint8_t *msg, size_t msg_len,
                               uint8_t *payload_out, size_t payload_size)
{
    OCTO_ASSERT(msg != NULL || msg_len == 0);
    if (hs->failed || hs->step >= HS_STEP_DONE || octo_noise_hs_write_turn(hs))
        return OCTO_ESTATE;
    if (msg_len > OCTO_NOISE_MSG_MAX)
        return hs_fail(hs, OCTO_ETOOBIG);
    size_t overhead = step_overhead(hs->step);
    if (msg_len < overhead)
        return hs_fail(hs, OCTO_EMALFORMED);
    /* The payload is encrypted (with a tag) in messages 2 and 3, in clear in message 1. */
    size_t payload_len = msg_len - overhead;
    if (payload_size < payload_len)
        return OCTO_ENOSPACE;
    int rc = read_tokens(hs, msg, msg_len);
    if (rc < 0)
        return hs_fail(hs, rc);
    size_t off = (size_t)rc;
    rc = decrypt_and_hash(&hs->ss, msg + off, msg_len - off, payload_out, payload_size);
    if (rc < 0) {
        if (payload_len > 0)
            sodium_memzero(payload_out, payload_len);
        return hs_fail(hs, rc);
    }
    OCTO_ASSERT((size_t)rc == payload_len);
    hs->step++;
    return rc;
}

int octo_noise_hs_split(struct octo_noise_hs *hs, struct octo_noise_cipher *send,
                        struct octo_noise_cipher *recv, uint8_t hash_out[OCTO_NOISE_HASH_LEN])
{
    if (hs->failed || hs->step != HS_STEP_DONE)
        return OCTO_ESTATE;
    uint8_t k1[OCTO_NOISE_HASH_LEN], k2[OCTO_NOISE_HASH_LEN];
    hkdf2(hs->ss.ck, NULL, 0, k1, k2);
    /* c1 carries initiator -> responder, c2 the reverse. */
    octo_noise_cipher_init(send, hs->initiator ? k1 : k2);
    octo_noise_cipher_init(recv, hs->initiator ? k2 : k1);
    sodium_memzero(k1, sizeof(k1));
    sodium_memzero(k2, sizeof(k2));
    if (hash_out != NULL)
        memcpy(hash_out, hs->ss.h, OCTO_NOISE_HASH_LEN);
    sodium_memzero(&hs->ss, sizeof(hs->ss));
    sodium_memzero(hs->s_priv, sizeof(hs->s_priv));
    sodium_memzero(hs->e_priv, sizeof(hs->e_priv));
    hs->step = HS_STEP_SPLIT;
    return 0;
}

const uint8_t *octo_noise_hs_local_static(const struct octo_noise_hs *hs)
{
    return hs->s_pub;
}

const uint8_t *octo_noise_hs_remote_static(const struct octo_noise_hs *hs)
{
    if (hs->failed)
        return NULL;
    unsigned needed = hs->initiator ? 2 : 3; /* messages processed once rs is known */
    return hs->step >= needed ? hs->rs : NULL;
}
