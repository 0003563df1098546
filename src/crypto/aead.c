/*
 * aead.c — secretstream wrappers (see aead.h).
 *
 * The state structs track "ready" so misuse after FINAL or after a failed pull is an
 * operating error (OCTO_ESTATE) rather than undefined behaviour. A failed pull poisons the
 * decryptor: libsodium's state is not advanced by a failed chunk, but a caller that skips a
 * bad chunk and carries on would be accepting a stream with a hole in it.
 */
#include "crypto/aead.h"

#include "base/assert.h"

#include <string.h>

_Static_assert(OCTO_AEAD_KEY_LEN == crypto_secretstream_xchacha20poly1305_KEYBYTES, "key");
_Static_assert(OCTO_AEAD_HEADER_LEN == crypto_secretstream_xchacha20poly1305_HEADERBYTES, "header");
_Static_assert(OCTO_AEAD_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES, "abytes");
_Static_assert(OCTO_AEAD_SEAL_CHUNK <= OCTO_AEAD_CHUNK_MAX, "seal chunk within limit");

/* The largest whole-buffer stream: header, OCTO_AEAD_SEAL_MAX plaintext bytes, and one
 * ABYTES per chunk (full chunks plus the final one). */
#define SEALED_MAX                                                                                 \
    ((size_t)OCTO_AEAD_HEADER_LEN + OCTO_AEAD_SEAL_MAX +                                           \
     ((size_t)OCTO_AEAD_SEAL_MAX / OCTO_AEAD_SEAL_CHUNK + 1) * OCTO_AEAD_ABYTES)

/* Never hand libsodium NULL, even for an empty chunk. */
static const uint8_t empty_chunk[1];

void octo_aead_keygen(uint8_t key[OCTO_AEAD_KEY_LEN])
{
    crypto_secretstream_xchacha20poly1305_keygen(key);
}

int octo_aead_enc_init(struct octo_aead_enc *e, const uint8_t key[OCTO_AEAD_KEY_LEN],
                       uint8_t header[OCTO_AEAD_HEADER_LEN])
{
    OCTO_ASSERT(e != NULL);
    OCTO_ASSERT(key != NULL);
    memset(e, 0, sizeof(*e));
    if (crypto_secretstream_xchacha20poly1305_init_push(&e->st, header, key) != 0)
        return OCTO_ECRYPTO;
    e->ready = true;
    return 0;
}

int octo_aead_enc_push(struct octo_aead_enc *e, const uint8_t *chunk, size_t len, bool final,
                       uint8_t *out, size_t out_size)
{
    OCTO_ASSERT(e != NULL);
    OCTO_ASSERT(chunk != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (!e->ready)
        return OCTO_ESTATE;
    if (len > OCTO_AEAD_CHUNK_MAX)
        return OCTO_ETOOBIG;
    if (out_size < len + OCTO_AEAD_ABYTES)
        return OCTO_ENOSPACE;
    uint8_t tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                        : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    unsigned long long written = 0;
    if (crypto_secretstream_xchacha20poly1305_push(
            &e->st, out, &written, len > 0 ? chunk : empty_chunk, len, NULL, 0, tag) != 0)
        return OCTO_ECRYPTO;
    OCTO_ASSERT(written == len + OCTO_AEAD_ABYTES);
    if (final)
        e->ready = false;
    return (int)written;
}

void octo_aead_enc_deinit(struct octo_aead_enc *e)
{
    if (e != NULL)
        sodium_memzero(e, sizeof(*e));
}

int octo_aead_dec_init(struct octo_aead_dec *d, const uint8_t key[OCTO_AEAD_KEY_LEN],
                       const uint8_t header[OCTO_AEAD_HEADER_LEN])
{
    OCTO_ASSERT(d != NULL);
    OCTO_ASSERT(key != NULL);
    OCTO_ASSERT(header != NULL);
    memset(d, 0, sizeof(*d));
    if (crypto_secretstream_xchacha20poly1305_init_pull(&d->st, header, key) != 0)
        return OCTO_EDECRYPT;
    d->ready = true;
    return 0;
}

int octo_aead_dec_pull(struct octo_aead_dec *d, const uint8_t *in, size_t len, uint8_t *out,
                       size_t out_size, bool *final)
{
    OCTO_ASSERT(d != NULL);
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    OCTO_ASSERT(final != NULL);
    *final = false;
    if (!d->ready)
        return OCTO_ESTATE;
    if (len < OCTO_AEAD_ABYTES)
        return OCTO_EMALFORMED;
    if (len - OCTO_AEAD_ABYTES > OCTO_AEAD_CHUNK_MAX)
        return OCTO_ETOOBIG;
    size_t plain_len = len - OCTO_AEAD_ABYTES;
    if (out_size < plain_len)
        return OCTO_ENOSPACE;
    unsigned long long got = 0;
    uint8_t tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&d->st, out, &got, &tag, in, len, NULL, 0) !=
        0) {
        d->ready = false;
        return OCTO_EDECRYPT;
    }
    OCTO_ASSERT(got == plain_len);
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
        d->ready = false;
        d->final_seen = true;
        *final = true;
    } else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
        /* PUSH and REKEY are never written by this module */
        sodium_memzero(out, plain_len);
        d->ready = false;
        return OCTO_EDECRYPT;
    }
    return (int)plain_len;
}

int octo_aead_dec_finish(const struct octo_aead_dec *d)
{
    OCTO_ASSERT(d != NULL);
    return d->final_seen ? 0 : OCTO_EDECRYPT;
}

void octo_aead_dec_deinit(struct octo_aead_dec *d)
{
    if (d != NULL)
        sodium_memzero(d, sizeof(*d));
}

static int seal_chunks(struct octo_aead_enc *e, const uint8_t *in, size_t len, struct octo_buf *out)
{
    size_t off = 0;
    for (;;) {
        size_t n = len - off < OCTO_AEAD_SEAL_CHUNK ? len - off : OCTO_AEAD_SEAL_CHUNK;
        bool final = off + n == len;
        int rc = octo_buf_reserve(out, n + OCTO_AEAD_ABYTES);
        if (rc < 0)
            return rc;
        rc = octo_aead_enc_push(e, in + off, n, final, out->data + out->len, n + OCTO_AEAD_ABYTES);
        if (rc < 0)
            return rc;
        out->len += (size_t)rc;
        off += n;
        if (final)
            return 0;
    }
}

int octo_aead_seal(const uint8_t key[OCTO_AEAD_KEY_LEN], const uint8_t *in, size_t len,
                   struct octo_buf *out)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (len > OCTO_AEAD_SEAL_MAX)
        return OCTO_ETOOBIG;
    uint8_t header[OCTO_AEAD_HEADER_LEN];
    struct octo_aead_enc e;
    int rc = octo_aead_enc_init(&e, key, header);
    if (rc == 0)
        rc = octo_buf_append(out, header, sizeof(header));
    if (rc == 0)
        rc = seal_chunks(&e, len > 0 ? in : empty_chunk, len, out);
    octo_aead_enc_deinit(&e);
    return rc;
}

static int open_chunks(struct octo_aead_dec *d, const uint8_t *in, size_t len, struct octo_buf *out)
{
    size_t off = 0;
    while (off < len) {
        size_t frame_max = OCTO_AEAD_SEAL_CHUNK + OCTO_AEAD_ABYTES;
        size_t n = len - off < frame_max ? len - off : frame_max;
        if (n < OCTO_AEAD_ABYTES)
            return OCTO_EMALFORMED;
        int rc = octo_buf_reserve(out, n - OCTO_AEAD_ABYTES);
        if (rc < 0)
            return rc;
        bool final = false;
        rc = octo_aead_dec_pull(d, in + off, n, out->data + out->len, n - OCTO_AEAD_ABYTES, &final);
        if (rc < 0)
            return rc;
        out->len += (size_t)rc;
        off += n;
        if (final && off != len)
            return OCTO_EMALFORMED;
    }
    return octo_aead_dec_finish(d);
}

int octo_aead_open(const uint8_t key[OCTO_AEAD_KEY_LEN], const uint8_t *in, size_t len,
                   struct octo_buf *out)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    if (len < OCTO_AEAD_HEADER_LEN + OCTO_AEAD_ABYTES)
        return OCTO_EMALFORMED;
    if (len > SEALED_MAX)
        return OCTO_ETOOBIG;
    size_t body = len - OCTO_AEAD_HEADER_LEN;
    struct octo_aead_dec d;
    int rc = octo_aead_dec_init(&d, key, in);
    if (rc == 0)
        rc = open_chunks(&d, in + OCTO_AEAD_HEADER_LEN, body, out);
    octo_aead_dec_deinit(&d);
    return rc;
}
