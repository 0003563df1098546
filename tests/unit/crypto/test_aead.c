/*
 * test_aead.c — secretstream encryption: chunked round trips over many chunk sizes,
 * truncation (no FINAL) detected, reordered / dropped / duplicated / modified chunks
 * detected, state errors, and the whole-buffer seal/open format.
 */
#include "base/alloc.h"
#include "crypto/aead.h"
#include "crypto/ident.h"
#include "test.h"

#define DATA_LEN 5000
#define CHUNKS_MAX 64

static uint8_t data[DATA_LEN];

/* A stream of `count` chunks of `size` bytes each (last one FINAL), stored as frames. */
struct stream {
    uint8_t header[OCTO_AEAD_HEADER_LEN];
    uint8_t frames[CHUNKS_MAX][64 + OCTO_AEAD_ABYTES];
    size_t frame_len[CHUNKS_MAX];
    size_t count;
};

static int make_stream(const uint8_t *key, size_t size, size_t count, struct stream *s)
{
    struct octo_aead_enc e;
    if (octo_aead_enc_init(&e, key, s->header) != 0)
        return -1;
    s->count = count;
    for (size_t i = 0; i < count; i++) {
        int n = octo_aead_enc_push(&e, data + i * size, size, i + 1 == count, s->frames[i],
                                   sizeof(s->frames[i]));
        if (n < 0)
            return n;
        s->frame_len[i] = (size_t)n;
    }
    octo_aead_enc_deinit(&e);
    return 0;
}

/* Decrypts frames in the given order; returns 0 only for a complete authentic stream. */
static int pull_stream(const uint8_t *key, const struct stream *s, const size_t *order,
                       size_t count, uint8_t *out)
{
    struct octo_aead_dec d;
    int rc = octo_aead_dec_init(&d, key, s->header);
    size_t off = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        bool final = false;
        size_t f = order[i];
        int n = octo_aead_dec_pull(&d, s->frames[f], s->frame_len[f], out + off, 64, &final);
        if (n < 0)
            rc = n;
        else
            off += (size_t)n;
    }
    if (rc == 0)
        rc = octo_aead_dec_finish(&d);
    octo_aead_dec_deinit(&d);
    return rc;
}

static void test_stream_round_trip(void)
{
    uint8_t key[OCTO_AEAD_KEY_LEN];
    octo_aead_keygen(key);
    static struct stream s;
    static uint8_t out[CHUNKS_MAX * 64];
    size_t order[CHUNKS_MAX];
    for (size_t i = 0; i < CHUNKS_MAX; i++)
        order[i] = i;
    for (size_t size = 0; size <= 64; size++) {
        for (size_t count = 1; count <= 9; count++) {
            CHECK_OK(make_stream(key, size, count, &s));
            CHECK_EQ_U64(s.frame_len[0], size + OCTO_AEAD_ABYTES);
            CHECK_OK(pull_stream(key, &s, order, count, out));
            CHECK_MEM(out, data, size * count);
            /* truncated: drop the FINAL chunk */
            CHECK_ERR(pull_stream(key, &s, order, count - 1, out), OCTO_EDECRYPT);
            if (count >= 3) {
                size_t swapped[CHUNKS_MAX];
                memcpy(swapped, order, sizeof(order));
                swapped[0] = 1;
                swapped[1] = 0;
                CHECK_ERR(pull_stream(key, &s, swapped, count, out), OCTO_EDECRYPT);
                swapped[0] = 0;
                swapped[1] = 0; /* duplicated */
                CHECK_ERR(pull_stream(key, &s, swapped, count, out), OCTO_EDECRYPT);
                swapped[1] = 2; /* dropped chunk 1 */
                CHECK_ERR(pull_stream(key, &s, swapped, count - 1, out), OCTO_EDECRYPT);
            }
        }
    }
    /* modified chunk: every bit of a 3-chunk stream */
    CHECK_OK(make_stream(key, 10, 3, &s));
    for (size_t f = 0; f < 3; f++) {
        for (size_t i = 0; i < s.frame_len[f] * 8; i++) {
            s.frames[f][i / 8] ^= (uint8_t)(1u << (i % 8));
            int rc = pull_stream(key, &s, order, 3, out);
            s.frames[f][i / 8] ^= (uint8_t)(1u << (i % 8));
            CHECK_ERR(rc, OCTO_EDECRYPT);
        }
    }
    /* modified header, wrong key */
    s.header[5] ^= 1;
    CHECK_ERR(pull_stream(key, &s, order, 3, out), OCTO_EDECRYPT);
    s.header[5] ^= 1;
    uint8_t key2[OCTO_AEAD_KEY_LEN];
    octo_aead_keygen(key2);
    CHECK_ERR(pull_stream(key2, &s, order, 3, out), OCTO_EDECRYPT);
    CHECK_OK(pull_stream(key, &s, order, 3, out));
}

static void test_stream_states(void)
{
    uint8_t key[OCTO_AEAD_KEY_LEN], header[OCTO_AEAD_HEADER_LEN];
    octo_aead_keygen(key);
    uint8_t frame[64], out[64];
    struct octo_aead_enc e;
    memset(&e, 0, sizeof(e));
    CHECK_ERR(octo_aead_enc_push(&e, data, 4, false, frame, sizeof(frame)), OCTO_ESTATE);
    CHECK_OK(octo_aead_enc_init(&e, key, header));
    CHECK_ERR(octo_aead_enc_push(&e, data, 40, false, frame, 56), OCTO_ENOSPACE);
    CHECK_ERR(octo_aead_enc_push(&e, data, OCTO_AEAD_CHUNK_MAX + 1, false, frame, sizeof(frame)),
              OCTO_ETOOBIG);
    int n = octo_aead_enc_push(&e, data, 4, true, frame, sizeof(frame));
    CHECK_EQ_INT(n, 4 + OCTO_AEAD_ABYTES);
    CHECK_ERR(octo_aead_enc_push(&e, data, 4, false, frame, sizeof(frame)), OCTO_ESTATE);
    octo_aead_enc_deinit(&e);

    struct octo_aead_dec d;
    bool final = true;
    CHECK_OK(octo_aead_dec_init(&d, key, header));
    CHECK_ERR(octo_aead_dec_finish(&d), OCTO_EDECRYPT);
    CHECK_ERR(octo_aead_dec_pull(&d, frame, OCTO_AEAD_ABYTES - 1, out, sizeof(out), &final),
              OCTO_EMALFORMED);
    CHECK(!final);
    CHECK_ERR(octo_aead_dec_pull(&d, frame, (size_t)n, out, 3, &final), OCTO_ENOSPACE);
    CHECK_ERR(octo_aead_dec_pull(&d, frame, OCTO_AEAD_CHUNK_MAX + OCTO_AEAD_ABYTES + 1, out,
                                 sizeof(out), &final),
              OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_aead_dec_pull(&d, frame, (size_t)n, out, sizeof(out), &final), 4);
    CHECK(final);
    CHECK_MEM(out, data, 4);
    CHECK_OK(octo_aead_dec_finish(&d));
    CHECK_ERR(octo_aead_dec_pull(&d, frame, (size_t)n, out, sizeof(out), &final), OCTO_ESTATE);
    octo_aead_dec_deinit(&d);
    /* a failed pull poisons the decryptor */
    CHECK_OK(octo_aead_dec_init(&d, key, header));
    frame[0] ^= 1;
    CHECK_ERR(octo_aead_dec_pull(&d, frame, (size_t)n, out, sizeof(out), &final), OCTO_EDECRYPT);
    frame[0] ^= 1;
    CHECK_ERR(octo_aead_dec_pull(&d, frame, (size_t)n, out, sizeof(out), &final), OCTO_ESTATE);
    octo_aead_dec_deinit(&d);
}

static void check_buffer_round_trip(const uint8_t *key, size_t len)
{
    struct octo_buf sealed, plain;
    octo_buf_init(&sealed, 4u << 20);
    octo_buf_init_secret(&plain, 4u << 20);
    uint8_t *in = octo_malloc(len + 1);
    CHECK(in != NULL);
    for (size_t i = 0; i < len; i++)
        in[i] = (uint8_t)(i * 31 + 7);
    int rc = octo_aead_seal(key, in, len, &sealed);
    /* full chunks, the last one FINAL; an empty input is one empty FINAL chunk */
    size_t chunks = len == 0 ? 1 : (len + OCTO_AEAD_SEAL_CHUNK - 1) / OCTO_AEAD_SEAL_CHUNK;
    if (rc == 0 && sealed.len != OCTO_AEAD_HEADER_LEN + len + chunks * OCTO_AEAD_ABYTES)
        rc = -100;
    if (rc == 0)
        rc = octo_aead_open(key, sealed.data, sealed.len, &plain);
    if (rc == 0 && (plain.len != len || memcmp(plain.data, in, len) != 0))
        rc = -101;
    /* truncation at a chunk boundary and in the middle, appended garbage */
    if (rc == 0 && chunks > 1) {
        octo_buf_reset(&plain);
        size_t cut = OCTO_AEAD_HEADER_LEN + OCTO_AEAD_SEAL_CHUNK + OCTO_AEAD_ABYTES;
        if (octo_aead_open(key, sealed.data, cut, &plain) != OCTO_EDECRYPT)
            rc = -102;
    }
    if (rc == 0) {
        octo_buf_reset(&plain);
        if (octo_aead_open(key, sealed.data, sealed.len - 1, &plain) >= 0)
            rc = -103;
        octo_buf_reset(&plain);
        if (octo_buf_append_byte(&sealed, 0) != 0 ||
            octo_aead_open(key, sealed.data, sealed.len, &plain) >= 0)
            rc = -104;
    }
    octo_free(in);
    octo_buf_deinit(&sealed);
    octo_buf_deinit(&plain);
    CHECK_OK(rc);
}

static void test_buffer_seal_open(void)
{
    uint8_t key[OCTO_AEAD_KEY_LEN];
    octo_aead_keygen(key);
    static const size_t sizes[] = {0,
                                   1,
                                   100,
                                   OCTO_AEAD_SEAL_CHUNK - 1,
                                   OCTO_AEAD_SEAL_CHUNK,
                                   OCTO_AEAD_SEAL_CHUNK + 1,
                                   3 * OCTO_AEAD_SEAL_CHUNK + 5};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        check_buffer_round_trip(key, sizes[i]);
        if (octo_test_failed)
            return;
    }
    struct octo_buf out;
    octo_buf_init(&out, 1024);
    CHECK_ERR(octo_aead_open(key, data, OCTO_AEAD_HEADER_LEN + OCTO_AEAD_ABYTES - 1, &out),
              OCTO_EMALFORMED);
    CHECK_ERR(octo_aead_open(key, data, (size_t)1 << 31, &out), OCTO_ETOOBIG);
    CHECK_ERR(octo_aead_seal(key, data, OCTO_AEAD_SEAL_MAX + 1, &out), OCTO_ETOOBIG);
    /* wrong key */
    CHECK_OK(octo_aead_seal(key, data, 100, &out));
    uint8_t key2[OCTO_AEAD_KEY_LEN];
    octo_aead_keygen(key2);
    struct octo_buf plain;
    octo_buf_init(&plain, 1024);
    CHECK_ERR(octo_aead_open(key2, out.data, out.len, &plain), OCTO_EDECRYPT);
    octo_buf_deinit(&plain);
    octo_buf_deinit(&out);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    for (size_t i = 0; i < DATA_LEN; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    OCTO_RUN(test_stream_round_trip);
    OCTO_RUN(test_stream_states);
    OCTO_RUN(test_buffer_seal_open);
    return octo_test_finish();
}
