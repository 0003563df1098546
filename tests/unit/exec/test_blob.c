/*
 * test_blob.c — the blob store: CID vectors (the IPFS CIDv1 raw of the empty blob is the
 * published one; "hello world\n" was computed independently with python3 hashlib + base64),
 * round trips of every class and size edge, streaming in odd pieces, dedup, encryption at rest
 * (canary), every-byte tampering, every truncation, wrong key, relabelling, access by class,
 * crash leftovers, size and quota limits, references and gc, ls/stat, the key file, and OOM.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "crypto/ident.h"
#include "exec/blob.h"
#include "intel/router.h" /* enum octo_data_class: the class values must agree */
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert((int)OCTO_BLOB_PUBLIC == (int)OCTO_DATA_PUBLIC, "class values");
_Static_assert((int)OCTO_BLOB_SHARED == (int)OCTO_DATA_SHARED, "class values");
_Static_assert((int)OCTO_BLOB_CONFIDENTIAL == (int)OCTO_DATA_CONFIDENTIAL, "class values");
_Static_assert((int)OCTO_BLOB_PRIVATE == (int)OCTO_DATA_PRIVATE, "class values");

#define CID_EMPTY "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
#define CID_HELLO "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
#define SMALL_CHUNK 64u

static const enum octo_blob_class all_classes[] = {OCTO_BLOB_PUBLIC, OCTO_BLOB_SHARED,
                                                   OCTO_BLOB_CONFIDENTIAL, OCTO_BLOB_PRIVATE};

static uint8_t *pattern(size_t len, uint32_t seed)
{
    uint8_t *p = octo_malloc(len == 0 ? 1 : len);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
    return p;
}

static void blob_path(const char *dir, enum octo_blob_class c, const struct octo_blob_cid *cid,
                      char *out, size_t out_size)
{
    char text[OCTO_BLOB_CID_TEXT_MAX];
    OCTO_ASSERT(octo_blob_cid_to_text(cid, text, sizeof(text)) > 0);
    snprintf(out, out_size, "%s/%s/%s", dir, octo_blob_class_name(c), text);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    OCTO_ASSERT(f != NULL);
    OCTO_ASSERT(len == 0 || fwrite(data, 1, len, f) == len);
    OCTO_ASSERT(fclose(f) == 0);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int open_store(struct octo_blob_store *s, const char *dir, uint32_t chunk)
{
    struct octo_blob_options o = {.chunk_size = chunk};
    return octo_blob_init(s, dir, &o);
}

/* Streams the blob out in pieces of `piece` bytes; the whole content or an error. */
static int get_pieces(const struct octo_blob_store *s, const struct octo_blob_cid *cid,
                      unsigned allow, size_t piece, struct octo_buf *out)
{
    struct octo_blob_get g;
    int rc = octo_blob_get_init(&g, s, cid, allow, NULL);
    if (rc < 0)
        return rc;
    uint8_t tmp[4096];
    for (;;) {
        int n = octo_blob_get_read(&g, tmp, piece < sizeof(tmp) ? piece : sizeof(tmp));
        if (n <= 0) {
            rc = n;
            break;
        }
        rc = octo_buf_append(out, tmp, (size_t)n);
        if (rc < 0)
            break;
    }
    octo_blob_get_deinit(&g);
    return rc;
}

static void test_cid_vectors(void)
{
    struct octo_blob_cid cid;
    char text[OCTO_BLOB_CID_TEXT_MAX];
    octo_blob_cid_of("", 0, &cid);
    CHECK_EQ_INT(octo_blob_cid_to_text(&cid, text, sizeof(text)), OCTO_BLOB_CID_TEXT_LEN);
    CHECK_STR(text, CID_EMPTY);
    octo_blob_cid_of("hello world\n", 12, &cid);
    CHECK_OK(octo_blob_cid_to_text(&cid, text, sizeof(text)));
    CHECK_STR(text, CID_HELLO);
    struct octo_blob_cid back;
    CHECK_OK(octo_blob_cid_parse(text, strlen(text), &back));
    CHECK_MEM(back.digest, cid.digest, 32);
    CHECK_ERR(octo_blob_cid_to_text(&cid, text, OCTO_BLOB_CID_TEXT_LEN), OCTO_ENOSPACE);
}

static void test_cid_parse_errors(void)
{
    struct octo_blob_cid c;
    CHECK_ERR(octo_blob_cid_parse("", 0, &c), OCTO_EMALFORMED);
    CHECK_ERR(octo_blob_cid_parse(CID_EMPTY, 58, &c), OCTO_EMALFORMED);
    char up[64];
    snprintf(up, sizeof(up), "%s", CID_EMPTY);
    up[0] = 'x';
    CHECK_ERR(octo_blob_cid_parse(up, 59, &c), OCTO_EMALFORMED);
    snprintf(up, sizeof(up), "%s", CID_EMPTY);
    up[0] = 'B';
    CHECK_ERR(octo_blob_cid_parse(up, 59, &c), OCTO_EUNSUPPORTED);
    CHECK_ERR(octo_blob_cid_parse("QmSomething", 11, &c), OCTO_EUNSUPPORTED);
    snprintf(up, sizeof(up), "%s", CID_EMPTY);
    up[10] = 'A'; /* not lowercase base32 */
    CHECK_ERR(octo_blob_cid_parse(up, 59, &c), OCTO_EMALFORMED);
    /* dag-pb codec and another multihash code: well formed CIDs we do not store */
    const char *dagpb = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    CHECK_ERR(octo_blob_cid_parse(dagpb, 59, &c), OCTO_EUNSUPPORTED);
    const char *sha512 = "bafkrgihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    CHECK_ERR(octo_blob_cid_parse(sha512, 59, &c), OCTO_EUNSUPPORTED);
    /* non-canonical trailing bits */
    snprintf(up, sizeof(up), "%s", CID_EMPTY);
    up[58] = 'v';
    CHECK_ERR(octo_blob_cid_parse(up, 59, &c), OCTO_EMALFORMED);
}

static void test_class_names(void)
{
    enum octo_blob_class c;
    for (size_t i = 0; i < OCTO_ARRAY_LEN(all_classes); i++) {
        CHECK_OK(octo_blob_class_parse(octo_blob_class_name(all_classes[i]), &c));
        CHECK_EQ_INT(c, all_classes[i]);
    }
    CHECK_ERR(octo_blob_class_parse("secret", &c), OCTO_EINVAL);
    CHECK_STR(octo_blob_class_name((enum octo_blob_class)9), "?");
}

static void round_trip(struct octo_blob_store *s, enum octo_blob_class cls, size_t len)
{
    uint8_t *data = pattern(len, (uint32_t)(len + cls));
    struct octo_blob_cid cid, want;
    octo_blob_cid_of(data, len, &want);
    int rc = octo_blob_put(s, cls, data, len, &cid);
    if (rc < 0) {
        octo_free(data);
        CHECK_OK(rc);
    }
    struct octo_buf out;
    octo_buf_init(&out, 8u << 20);
    rc = octo_blob_get(s, &cid, OCTO_BLOB_ALLOW_ALL, &out);
    bool same = out.len == len && (len == 0 || memcmp(out.data, data, len) == 0);
    octo_buf_deinit(&out);
    octo_free(data);
    CHECK_OK(rc);
    CHECK(same);
    CHECK_MEM(cid.digest, want.digest, 32);
    struct octo_blob_info info;
    CHECK_OK(octo_blob_stat(s, &cid, cls, &info));
    CHECK_EQ_U64(info.size, len);
    CHECK_EQ_INT(info.cls, cls);
}

static void test_round_trips(void)
{
    const char *dir = octo_test_tmpdir("blob-rt");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    const size_t c = OCTO_BLOB_CHUNK_DEFAULT;
    const size_t sizes[] = {0, 1, c - 1, c, c + 1, 2 * c, 3u * 1024u * 1024u + 7};
    for (size_t k = 0; k < OCTO_ARRAY_LEN(all_classes); k++) {
        for (size_t i = 0; i < OCTO_ARRAY_LEN(sizes); i++) {
            round_trip(&s, all_classes[k], sizes[i]);
            if (octo_test_failed) {
                fprintf(stderr, "class %d size %zu\n", (int)all_classes[k], sizes[i]);
                break;
            }
        }
    }
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_empty_blob_cid(void)
{
    const char *dir = octo_test_tmpdir("blob-empty");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid cid;
    char text[OCTO_BLOB_CID_TEXT_MAX], path[4096];
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, "", 0, &cid));
    CHECK_OK(octo_blob_cid_to_text(&cid, text, sizeof(text)));
    CHECK_STR(text, CID_EMPTY);
    snprintf(path, sizeof(path), "%s/private/%s", dir, CID_EMPTY);
    CHECK(file_exists(path));
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PUBLIC, "hello world\n", 12, &cid));
    CHECK_OK(octo_blob_cid_to_text(&cid, text, sizeof(text)));
    CHECK_STR(text, CID_HELLO);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

/* Streaming in odd pieces, with a small chunk size so blobs span many chunks. */
static void test_streaming_pieces(void)
{
    const char *dir = octo_test_tmpdir("blob-stream");
    struct octo_blob_store s;
    CHECK_OK(open_store(&s, dir, SMALL_CHUNK));
    const size_t len = 10 * SMALL_CHUNK + 5;
    uint8_t *data = pattern(len, 7);
    const size_t pieces[] = {1, 7, SMALL_CHUNK, SMALL_CHUNK + 1, 1000};
    for (size_t k = 0; k < OCTO_ARRAY_LEN(all_classes) && !octo_test_failed; k++) {
        for (size_t i = 0; i < OCTO_ARRAY_LEN(pieces); i++) {
            struct octo_blob_put p;
            struct octo_blob_cid cid;
            CHECK_OK(octo_blob_put_init(&p, &s, all_classes[k]));
            for (size_t off = 0; off < len; off += pieces[i]) {
                size_t n = len - off < pieces[i] ? len - off : pieces[i];
                CHECK_OK(octo_blob_put_update(&p, data + off, n));
            }
            CHECK_OK(octo_blob_put_update(&p, data, 0));
            CHECK_OK(octo_blob_put_final(&p, &cid));
            CHECK_ERR(octo_blob_put_update(&p, data, 1), OCTO_ESTATE);
            struct octo_buf out;
            octo_buf_init(&out, 1u << 20);
            int rc = get_pieces(&s, &cid, OCTO_BLOB_ALLOW_ALL, pieces[i], &out);
            bool same = out.len == len && memcmp(out.data, data, len) == 0;
            octo_buf_deinit(&out);
            CHECK_OK(rc);
            CHECK(same);
        }
    }
    octo_free(data);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_dedup(void)
{
    const char *dir = octo_test_tmpdir("blob-dedup");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid a, b, c;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, "same", 4, &a));
    uint64_t used = s.used;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, "same", 4, &b));
    CHECK_MEM(a.digest, b.digest, 32);
    CHECK_EQ_U64(s.used, used); /* nothing new on disk */
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PUBLIC, "same", 4, &c));
    CHECK_MEM(a.digest, c.digest, 32);
    CHECK(s.used > used); /* another class: its own copy */
    char p1[4096], p2[4096];
    blob_path(dir, OCTO_BLOB_SHARED, &a, p1, sizeof(p1));
    blob_path(dir, OCTO_BLOB_PUBLIC, &a, p2, sizeof(p2));
    CHECK(file_exists(p1) && file_exists(p2));
    /* the default reader finds it (PUBLIC first) */
    struct octo_buf out;
    octo_buf_init(&out, 64);
    CHECK_OK(octo_blob_get(&s, &a, OCTO_BLOB_ALLOW_DEFAULT, &out));
    CHECK_EQ_U64(out.len, 4);
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

/* A damaged stored copy is not trusted by a dedup: the new put replaces it; a sound copy gets
 * its mtime renewed (gc's grace period covers the new put); a file longer or shorter than its
 * header says is refused before anything is sized from the header. */
static void test_dedup_checks_existing(void)
{
    const char *dir = octo_test_tmpdir("blob-dedup2");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid a;
    static const char text[] = "content that must survive";
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, text, sizeof(text), &a));
    char path[4096];
    blob_path(dir, OCTO_BLOB_PRIVATE, &a, path, sizeof(path));
    CHECK_EQ_INT(truncate(path, 10), 0); /* damaged on disk */
    struct octo_buf out;
    octo_buf_init(&out, 4096);
    CHECK_ERR(octo_blob_get(&s, &a, OCTO_BLOB_ALLOW_ALL, &out), OCTO_EMALFORMED);
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, text, sizeof(text), &a)); /* replaces it */
    octo_buf_reset(&out);
    CHECK_OK(octo_blob_get(&s, &a, OCTO_BLOB_ALLOW_ALL, &out));
    CHECK_EQ_U64(out.len, sizeof(text));
    /* a sound copy: the dedup renews its mtime */
    struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
    CHECK_EQ_INT(utimensat(AT_FDCWD, path, old, 0), 0);
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, text, sizeof(text), &a));
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK(st.st_mtime > 1000000);
    /* a file padded past what its header says */
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL);
    fputc('x', f);
    fclose(f);
    octo_buf_reset(&out);
    CHECK_ERR(octo_blob_get(&s, &a, OCTO_BLOB_ALLOW_ALL, &out), OCTO_EMALFORMED);
    CHECK_EQ_U64(out.len, 0);
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    }
    return false;
}

static void test_encrypted_at_rest(void)
{
    const char *dir = octo_test_tmpdir("blob-canary");
    static const char canary[] = "CANARY-7f3e9a1c-secret-plaintext-CANARY";
    struct octo_blob_store s;
    CHECK_OK(open_store(&s, dir, SMALL_CHUNK));
    for (size_t k = 0; k < OCTO_ARRAY_LEN(all_classes); k++) {
        struct octo_blob_cid cid;
        CHECK_OK(octo_blob_put(&s, all_classes[k], canary, sizeof(canary) - 1, &cid));
        char path[4096];
        blob_path(dir, all_classes[k], &cid, path, sizeof(path));
        size_t n;
        char *raw = octo_test_read_file(path, &n);
        CHECK(raw != NULL);
        bool found = contains((const uint8_t *)raw, n, "CANARY") ||
                     contains((const uint8_t *)raw, n, "secret");
        octo_free(raw);
        if (all_classes[k] == OCTO_BLOB_PUBLIC)
            CHECK(found);
        else
            CHECK(!found);
    }
    /* nor in any other file of the store (the key file is random bytes) */
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

/* Every single-byte change and every truncation of the stored file is an error. */
static void tamper_all(const char *dir, struct octo_blob_store *s, enum octo_blob_class cls,
                       size_t len)
{
    uint8_t *data = pattern(len, 99 + (uint32_t)cls); /* a CID of its own per class */
    struct octo_blob_cid cid;
    int rc = octo_blob_put(s, cls, data, len, &cid);
    octo_free(data);
    CHECK_OK(rc);
    char path[4096];
    blob_path(dir, cls, &cid, path, sizeof(path));
    size_t n;
    uint8_t *orig = (uint8_t *)octo_test_read_file(path, &n);
    CHECK(orig != NULL);
    struct octo_buf out;
    octo_buf_init(&out, 1u << 20);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        for (int bit = 0; bit < 8 && ok; bit += 7) {
            orig[i] ^= (uint8_t)(1u << bit);
            write_file(path, orig, n);
            orig[i] ^= (uint8_t)(1u << bit);
            octo_buf_reset(&out);
            rc = octo_blob_get(s, &cid, OCTO_BLOB_ALLOW(cls), &out);
            if (rc >= 0 || out.len != 0) {
                fprintf(stderr, "class %d: flipping bit %d of byte %zu not detected\n", (int)cls,
                        bit, i);
                ok = false;
            }
        }
    }
    for (size_t cut = 0; cut < n && ok; cut++) {
        write_file(path, orig, cut);
        octo_buf_reset(&out);
        if (octo_blob_get(s, &cid, OCTO_BLOB_ALLOW(cls), &out) >= 0) {
            fprintf(stderr, "class %d: truncation to %zu not detected\n", (int)cls, cut);
            ok = false;
        }
    }
    uint8_t *longer = octo_malloc(n + 1);
    memcpy(longer, orig, n);
    longer[n] = 0;
    write_file(path, longer, n + 1);
    octo_buf_reset(&out);
    rc = octo_blob_get(s, &cid, OCTO_BLOB_ALLOW(cls), &out);
    octo_free(longer);
    write_file(path, orig, n);
    octo_buf_reset(&out);
    int rc2 = octo_blob_get(s, &cid, OCTO_BLOB_ALLOW(cls), &out);
    octo_buf_deinit(&out);
    octo_free(orig);
    CHECK(ok);
    CHECK_ERR(rc, OCTO_EMALFORMED); /* a byte after the body */
    CHECK_OK(rc2);                  /* restored: valid again */
}

static void test_tamper_and_truncate(void)
{
    const char *dir = octo_test_tmpdir("blob-tamper");
    struct octo_blob_store s;
    CHECK_OK(open_store(&s, dir, SMALL_CHUNK));
    const size_t lens[] = {0, 3 * SMALL_CHUNK + 10};
    for (size_t k = 0; k < OCTO_ARRAY_LEN(all_classes) && !octo_test_failed; k++) {
        for (size_t i = 0; i < OCTO_ARRAY_LEN(lens) && !octo_test_failed; i++)
            tamper_all(dir, &s, all_classes[k], lens[i]);
    }
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

/* A corrupt body chunk: the reader fails, sticky, and never reports success. */
static void test_corrupt_stream_sticky(void)
{
    const char *dir = octo_test_tmpdir("blob-sticky");
    struct octo_blob_store s;
    CHECK_OK(open_store(&s, dir, SMALL_CHUNK));
    uint8_t *data = pattern(5 * SMALL_CHUNK, 3);
    struct octo_blob_cid cid;
    int rc = octo_blob_put(&s, OCTO_BLOB_PUBLIC, data, 5 * SMALL_CHUNK, &cid);
    octo_free(data);
    CHECK_OK(rc);
    char path[4096];
    blob_path(dir, OCTO_BLOB_PUBLIC, &cid, path, sizeof(path));
    size_t n;
    uint8_t *raw = (uint8_t *)octo_test_read_file(path, &n);
    raw[n - 1] ^= 1; /* last content byte: detected only by the hash at the end */
    write_file(path, raw, n);
    octo_free(raw);
    struct octo_blob_get g;
    CHECK_OK(octo_blob_get_init(&g, &s, &cid, OCTO_BLOB_ALLOW_DEFAULT, NULL));
    uint8_t buf[256];
    int total = 0;
    for (;;) {
        rc = octo_blob_get_read(&g, buf, sizeof(buf));
        if (rc <= 0)
            break;
        total += rc;
    }
    int again = octo_blob_get_read(&g, buf, sizeof(buf));
    octo_blob_get_deinit(&g);
    CHECK_ERR(rc, OCTO_EDECRYPT);
    CHECK_ERR(again, OCTO_EDECRYPT);
    CHECK_EQ_INT(total, 5 * SMALL_CHUNK);
    CHECK_ERR(octo_blob_get_read(&g, buf, sizeof(buf)), OCTO_ESTATE);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_wrong_key(void)
{
    const char *dir = octo_test_tmpdir("blob-key");
    uint8_t k1[32], k2[32];
    memset(k1, 1, sizeof(k1));
    memset(k2, 2, sizeof(k2));
    struct octo_blob_options o1 = {.key = k1}, o2 = {.key = k2};
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, &o1));
    struct octo_blob_cid enc[3], pub;
    for (int i = 0; i < 3; i++)
        CHECK_OK(octo_blob_put(&s, all_classes[i + 1], "secret data", 11, &enc[i]));
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PUBLIC, "public data", 11, &pub));
    octo_blob_deinit(&s);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, OCTO_BLOB_KEY_FILE);
    CHECK(!file_exists(path)); /* a caller key: no key file */
    CHECK_OK(octo_blob_init(&s, dir, &o2));
    struct octo_buf out;
    octo_buf_init(&out, 64);
    for (int i = 0; i < 3; i++)
        CHECK_ERR(octo_blob_get(&s, &enc[i], OCTO_BLOB_ALLOW_ALL, &out), OCTO_EDECRYPT);
    CHECK_OK(octo_blob_get(&s, &pub, OCTO_BLOB_ALLOW_ALL, &out));
    CHECK_EQ_U64(out.len, 11);
    octo_blob_deinit(&s);
    CHECK_OK(octo_blob_init(&s, dir, &o1));
    octo_buf_reset(&out);
    CHECK_OK(octo_blob_get(&s, &enc[2], OCTO_BLOB_ALLOW_ALL, &out));
    CHECK_MEM(out.data, "secret data", 11);
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_access_by_class(void)
{
    const char *dir = octo_test_tmpdir("blob-access");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid priv, conf, shared, missing;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, "p", 1, &priv));
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_CONFIDENTIAL, "c", 1, &conf));
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, "s", 1, &shared));
    octo_blob_cid_of("missing", 7, &missing);
    struct octo_buf out;
    octo_buf_init(&out, 64);
    CHECK_ERR(octo_blob_get(&s, &priv, OCTO_BLOB_ALLOW_DEFAULT, &out), OCTO_EPERM);
    CHECK_ERR(octo_blob_get(&s, &conf, OCTO_BLOB_ALLOW_DEFAULT, &out), OCTO_EPERM);
    CHECK_ERR(octo_blob_get(&s, &priv, OCTO_BLOB_ALLOW(OCTO_BLOB_CONFIDENTIAL), &out), OCTO_EPERM);
    CHECK_ERR(octo_blob_get(&s, &shared, OCTO_BLOB_ALLOW(OCTO_BLOB_PUBLIC), &out), OCTO_EPERM);
    CHECK_ERR(octo_blob_get(&s, &missing, OCTO_BLOB_ALLOW_ALL, &out), OCTO_ENOTFOUND);
    CHECK_EQ_U64(out.len, 0);
    CHECK_OK(octo_blob_get(&s, &priv, OCTO_BLOB_ALLOW(OCTO_BLOB_PRIVATE), &out));
    CHECK_OK(octo_blob_get(&s, &conf, OCTO_BLOB_ALLOW(OCTO_BLOB_CONFIDENTIAL), &out));
    CHECK_OK(octo_blob_get(&s, &shared, OCTO_BLOB_ALLOW_DEFAULT, &out));
    CHECK_EQ_U64(out.len, 3);
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

/* A PRIVATE blob moved into shared/, with or without its class byte rewritten, never opens. */
static void test_relabel_refused(void)
{
    const char *dir = octo_test_tmpdir("blob-relabel");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid cid;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, "top secret", 10, &cid));
    char from[4096], to[4096];
    blob_path(dir, OCTO_BLOB_PRIVATE, &cid, from, sizeof(from));
    blob_path(dir, OCTO_BLOB_SHARED, &cid, to, sizeof(to));
    CHECK(rename(from, to) == 0);
    struct octo_buf out;
    octo_buf_init(&out, 64);
    CHECK_ERR(octo_blob_get(&s, &cid, OCTO_BLOB_ALLOW_DEFAULT, &out), OCTO_EMALFORMED);
    size_t n;
    uint8_t *raw = (uint8_t *)octo_test_read_file(to, &n);
    CHECK(raw != NULL);
    raw[5] = OCTO_BLOB_SHARED;
    write_file(to, raw, n);
    octo_free(raw);
    CHECK_ERR(octo_blob_get(&s, &cid, OCTO_BLOB_ALLOW_DEFAULT, &out), OCTO_EDECRYPT);
    CHECK_EQ_U64(out.len, 0);
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

/* A crash between write and rename leaves a temp file: open and gc remove it, but not one
 * whose writer is alive (flock held). */
static void test_crash_leftovers(void)
{
    const char *dir = octo_test_tmpdir("blob-crash");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    octo_blob_deinit(&s);
    char t1[4096], t2[4096];
    snprintf(t1, sizeof(t1), "%s/private/.tmp-0123456789abcdef", dir);
    snprintf(t2, sizeof(t2), "%s/public/.tmp-fedcba9876543210", dir);
    write_file(t1, (const uint8_t *)"OCBL partial", 12);
    write_file(t2, (const uint8_t *)"x", 1);
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    CHECK(!file_exists(t1));
    CHECK(!file_exists(t2));
    /* an in-progress put survives gc; abort removes its temp file */
    struct octo_blob_put p;
    CHECK_OK(octo_blob_put_init(&p, &s, OCTO_BLOB_SHARED));
    CHECK_OK(octo_blob_put_update(&p, "abc", 3));
    char tp[4096];
    snprintf(tp, sizeof(tp), "%s/shared/%s", dir, p.tmp);
    CHECK(file_exists(tp));
    struct octo_blob_gc_stats st;
    CHECK_OK(octo_blob_gc(&s, 0, &st));
    CHECK(file_exists(tp));
    CHECK_EQ_U64(st.temps_removed, 0);
    octo_blob_put_abort(&p);
    CHECK(!file_exists(tp));
    octo_blob_put_abort(&p); /* twice is fine */
    /* a leftover appearing while open: gc removes it */
    write_file(t1, (const uint8_t *)"y", 1);
    CHECK_OK(octo_blob_gc(&s, 0, &st));
    CHECK_EQ_U64(st.temps_removed, 1);
    CHECK(!file_exists(t1));
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_size_limit(void)
{
    const char *dir = octo_test_tmpdir("blob-size");
    struct octo_blob_options o = {.size_max = 100, .chunk_size = SMALL_CHUNK};
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, &o));
    uint8_t data[101] = {0};
    struct octo_blob_cid cid;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, data, 100, &cid));
    CHECK_ERR(octo_blob_put(&s, OCTO_BLOB_SHARED, data, 101, &cid), OCTO_ETOOBIG);
    struct octo_blob_put p;
    CHECK_OK(octo_blob_put_init(&p, &s, OCTO_BLOB_PRIVATE));
    CHECK_OK(octo_blob_put_update(&p, data, 60));
    CHECK_ERR(octo_blob_put_update(&p, data, 41), OCTO_ETOOBIG);
    CHECK_ERR(octo_blob_put_update(&p, data, 1), OCTO_ESTATE);
    CHECK_ERR(octo_blob_put_final(&p, &cid), OCTO_ETOOBIG);
    octo_blob_put_abort(&p);
    octo_blob_deinit(&s);
    /* a reader with a lower limit refuses the stored 100-byte blob before reading it */
    o.size_max = 50;
    CHECK_OK(octo_blob_init(&s, dir, &o));
    octo_blob_cid_of(data, 100, &cid);
    struct octo_buf out;
    octo_buf_init(&out, 1024);
    CHECK_ERR(octo_blob_get(&s, &cid, OCTO_BLOB_ALLOW_ALL, &out), OCTO_ETOOBIG);
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    /* an output buffer with a lower ceiling */
    o.size_max = 0;
    CHECK_OK(octo_blob_init(&s, dir, &o));
    octo_buf_init(&out, 99);
    CHECK_ERR(octo_blob_get(&s, &cid, OCTO_BLOB_ALLOW_ALL, &out), OCTO_ETOOBIG);
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_quota(void)
{
    const char *dir = octo_test_tmpdir("blob-quota");
    struct octo_blob_options o = {.quota = 1004, .chunk_size = SMALL_CHUNK};
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, &o));
    uint8_t *data = pattern(2000, 5);
    struct octo_blob_cid a, b;
    int rc1 = octo_blob_put(&s, OCTO_BLOB_PUBLIC, data, 500, &a);       /* 552 on disk */
    int rc2 = octo_blob_put(&s, OCTO_BLOB_PUBLIC, data + 500, 500, &b); /* would pass 1004 */
    int rc3 = octo_blob_put(&s, OCTO_BLOB_PUBLIC, data + 500, 400, &b); /* 452: fits */
    CHECK_OK(rc1);
    CHECK_ERR(rc2, OCTO_ELIMIT);
    CHECK_OK(rc3);
    CHECK_EQ_U64(s.used, 1004);
    CHECK_OK(octo_blob_rm(&s, &a, OCTO_BLOB_PUBLIC, false));
    CHECK_EQ_U64(s.used, 452);
    octo_blob_deinit(&s);
    /* counted again at open */
    CHECK_OK(octo_blob_init(&s, dir, &o));
    CHECK_EQ_U64(s.used, 452);
    /* encrypted: 52 + L + 17 per chunk of 64 */
    CHECK_ERR(octo_blob_put(&s, OCTO_BLOB_SHARED, data, 400, &a), OCTO_ELIMIT); /* 571 */
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, data, 300, &a));               /* 437 */
    CHECK_EQ_U64(s.used, 452 + 437);
    octo_free(data);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_options_and_paths(void)
{
    const char *dir = octo_test_tmpdir("blob-opts");
    struct octo_blob_store s;
    struct octo_blob_options o = {.size_max = OCTO_BLOB_SIZE_MAX + 1};
    CHECK_ERR(octo_blob_init(&s, dir, &o), OCTO_EINVAL);
    octo_blob_deinit(&s);
    o = (struct octo_blob_options){.chunk_size = OCTO_BLOB_CHUNK_MIN - 1};
    CHECK_ERR(octo_blob_init(&s, dir, &o), OCTO_EINVAL);
    o = (struct octo_blob_options){.chunk_size = OCTO_BLOB_CHUNK_MAX + 1};
    CHECK_ERR(octo_blob_init(&s, dir, &o), OCTO_EINVAL);
    CHECK_ERR(octo_blob_init(&s, "", NULL), OCTO_EINVAL);
    static char longdir[OCTO_BLOB_DIR_MAX + 2];
    memset(longdir, 'a', OCTO_BLOB_DIR_MAX + 1);
    CHECK_ERR(octo_blob_init(&s, longdir, NULL), OCTO_ETOOBIG);
    char sub[4096];
    snprintf(sub, sizeof(sub), "%s/no/such/parent", dir);
    CHECK_ERR(octo_blob_init(&s, sub, NULL), OCTO_ENOTFOUND);
    struct octo_blob_store zero;
    memset(&zero, 0, sizeof(zero));
    octo_blob_deinit(&zero); /* tolerated */
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_put p;
    CHECK_ERR(octo_blob_put_init(&p, &s, (enum octo_blob_class)4), OCTO_EINVAL);
    struct octo_blob_cid cid;
    octo_blob_cid_of("x", 1, &cid);
    CHECK_ERR(octo_blob_ref(&s, &cid, (enum octo_blob_class)7), OCTO_EINVAL);
    CHECK_ERR(octo_blob_rm(&s, &cid, (enum octo_blob_class)7, true), OCTO_EINVAL);
    struct octo_blob_info info;
    CHECK_ERR(octo_blob_stat(&s, &cid, (enum octo_blob_class)7, &info), OCTO_EINVAL);
    CHECK_ERR(octo_blob_stat(&s, &cid, OCTO_BLOB_PUBLIC, &info), OCTO_ENOTFOUND);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_key_file(void)
{
    const char *dir = octo_test_tmpdir("blob-keyfile");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid cid;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, "k", 1, &cid));
    octo_blob_deinit(&s);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, OCTO_BLOB_KEY_FILE);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(st.st_size, 32);
    /* reopened: the same key */
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_buf out;
    octo_buf_init(&out, 16);
    CHECK_OK(octo_blob_get(&s, &cid, OCTO_BLOB_ALLOW_ALL, &out));
    octo_buf_deinit(&out);
    octo_blob_deinit(&s);
    CHECK(chmod(path, 0644) == 0);
    CHECK_ERR(octo_blob_init(&s, dir, NULL), OCTO_EPERM);
    CHECK(chmod(path, 0600) == 0);
    size_t n;
    char *key = octo_test_read_file(path, &n);
    write_file(path, (const uint8_t *)key, 31);
    CHECK(chmod(path, 0600) == 0);
    CHECK_ERR(octo_blob_init(&s, dir, NULL), OCTO_EMALFORMED);
    CHECK(unlink(path) == 0);
    char target[4096];
    snprintf(target, sizeof(target), "%s/real.key", dir);
    write_file(target, (const uint8_t *)key, 32);
    octo_free(key);
    CHECK(chmod(target, 0600) == 0);
    CHECK(symlink(target, path) == 0);
    CHECK_ERR(octo_blob_init(&s, dir, NULL), OCTO_EPERM);
    octo_test_rmtree(dir);
}

static void test_refs_and_gc(void)
{
    const char *dir = octo_test_tmpdir("blob-gc");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid a, b, missing;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, "keep me", 7, &a));
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, "drop me", 7, &b));
    octo_blob_cid_of("nope", 4, &missing);
    CHECK_EQ_INT(octo_blob_ref(&s, &a, OCTO_BLOB_SHARED), 1);
    CHECK_EQ_INT(octo_blob_ref(&s, &a, OCTO_BLOB_SHARED), 2);
    CHECK_EQ_INT(octo_blob_unref(&s, &a, OCTO_BLOB_SHARED), 1);
    CHECK_ERR(octo_blob_ref(&s, &missing, OCTO_BLOB_SHARED), OCTO_ENOTFOUND);
    CHECK_ERR(octo_blob_ref(&s, &a, OCTO_BLOB_PUBLIC), OCTO_ENOTFOUND);
    CHECK_ERR(octo_blob_unref(&s, &b, OCTO_BLOB_SHARED), OCTO_ESTATE);
    struct octo_blob_gc_stats st;
    CHECK_OK(octo_blob_gc(&s, 3600, &st)); /* too young */
    CHECK_EQ_U64(st.blobs_removed, 0);
    CHECK_EQ_U64(st.blobs_kept, 2);
    CHECK_OK(octo_blob_gc(&s, 0, &st));
    CHECK_EQ_U64(st.blobs_removed, 1);
    CHECK_EQ_U64(st.blobs_kept, 1);
    struct octo_blob_info info;
    CHECK_OK(octo_blob_stat(&s, &a, OCTO_BLOB_SHARED, &info));
    CHECK_EQ_INT(info.refs, 1);
    CHECK_ERR(octo_blob_stat(&s, &b, OCTO_BLOB_SHARED, &info), OCTO_ENOTFOUND);
    CHECK_ERR(octo_blob_rm(&s, &a, OCTO_BLOB_SHARED, false), OCTO_EBUSY);
    CHECK_EQ_INT(octo_blob_unref(&s, &a, OCTO_BLOB_SHARED), 0);
    char bp[4096], ref[4200];
    blob_path(dir, OCTO_BLOB_SHARED, &a, bp, sizeof(bp));
    snprintf(ref, sizeof(ref), "%s.ref", bp);
    CHECK(!file_exists(ref));
    CHECK_EQ_INT(octo_blob_ref(&s, &a, OCTO_BLOB_SHARED), 1);
    CHECK(file_exists(ref));
    CHECK_OK(octo_blob_rm(&s, &a, OCTO_BLOB_SHARED, true));
    CHECK(!file_exists(ref));
    CHECK_ERR(octo_blob_rm(&s, &a, OCTO_BLOB_SHARED, true), OCTO_ENOTFOUND);
    /* an orphan reference file and a corrupt one */
    write_file(ref, (const uint8_t *)"3\n", 2);
    CHECK_OK(octo_blob_gc(&s, 0, &st));
    CHECK_EQ_U64(st.refs_removed, 1);
    CHECK(!file_exists(ref));
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_SHARED, "keep me", 7, &a));
    const char *bad[] = {"", "\n", "01\n", "1", "x\n", "1000000001\n", "99999999999\n"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        write_file(ref, (const uint8_t *)bad[i], strlen(bad[i]));
        CHECK_ERR(octo_blob_ref(&s, &a, OCTO_BLOB_SHARED), OCTO_EMALFORMED);
    }
    CHECK_OK(octo_blob_gc(&s, 0, &st)); /* a corrupt count keeps the blob */
    CHECK_EQ_U64(st.blobs_kept, 1);
    CHECK_ERR(octo_blob_rm(&s, &a, OCTO_BLOB_SHARED, false), OCTO_EMALFORMED);
    write_file(ref, (const uint8_t *)"1000000000\n", 11);
    CHECK_ERR(octo_blob_ref(&s, &a, OCTO_BLOB_SHARED), OCTO_ELIMIT);
    CHECK_EQ_INT(octo_blob_unref(&s, &a, OCTO_BLOB_SHARED), 999999999);
    CHECK_OK(octo_blob_rm(&s, &a, OCTO_BLOB_SHARED, true));
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

struct ls_seen {
    size_t count;
    uint64_t bytes;
    unsigned classes;
    size_t stop_after;
};

static int ls_cb(void *ctx, const struct octo_blob_info *info)
{
    struct ls_seen *l = ctx;
    l->count++;
    l->bytes += info->size;
    l->classes |= OCTO_BLOB_ALLOW(info->cls);
    return l->stop_after != 0 && l->count == l->stop_after ? 42 : 0;
}

static void test_ls(void)
{
    const char *dir = octo_test_tmpdir("blob-ls");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid cid;
    for (size_t k = 0; k < OCTO_ARRAY_LEN(all_classes); k++)
        CHECK_OK(octo_blob_put(&s, all_classes[k], "twelve bytes", 12, &cid));
    CHECK_EQ_INT(octo_blob_ref(&s, &cid, OCTO_BLOB_PRIVATE), 1);
    /* junk that is not a blob: skipped */
    char junk[4096];
    snprintf(junk, sizeof(junk), "%s/public/notes.txt", dir);
    write_file(junk, (const uint8_t *)"x", 1);
    snprintf(junk, sizeof(junk), "%s/public/%s", dir, CID_EMPTY);
    write_file(junk, (const uint8_t *)"not a header", 12);
    struct ls_seen l = {0};
    CHECK_OK(octo_blob_ls(&s, ls_cb, &l));
    CHECK_EQ_U64(l.count, 4);
    CHECK_EQ_U64(l.bytes, 48);
    CHECK_EQ_INT(l.classes, 0xf);
    struct ls_seen stop = {.stop_after = 2};
    CHECK_EQ_INT(octo_blob_ls(&s, ls_cb, &stop), 42);
    CHECK_EQ_U64(stop.count, 2);
    struct octo_blob_info info;
    CHECK_OK(octo_blob_stat(&s, &cid, OCTO_BLOB_PRIVATE, &info));
    CHECK_EQ_INT(info.refs, 1);
    CHECK_EQ_U64(info.disk_size, OCTO_BLOB_HEADER_LEN + 12 + OCTO_AEAD_ABYTES);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

/* The decoder on a descriptor (the fuzz entry point) and the put state machine. */
static void test_get_fd_and_states(void)
{
    const char *dir = octo_test_tmpdir("blob-fd");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid cid;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_CONFIDENTIAL, "abc", 3, &cid));
    char path[4096];
    blob_path(dir, OCTO_BLOB_CONFIDENTIAL, &cid, path, sizeof(path));
    struct octo_blob_get g;
    struct octo_blob_info info;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERR(octo_blob_get_init_fd(&g, &s, fd, OCTO_BLOB_PRIVATE, &cid, OCTO_BLOB_ALLOW_ALL, NULL),
              OCTO_EMALFORMED);
    fd = open(path, O_RDONLY);
    CHECK_ERR(
        octo_blob_get_init_fd(&g, &s, fd, (enum octo_blob_class)5, &cid, OCTO_BLOB_ALLOW_ALL, NULL),
        OCTO_EINVAL);
    fd = open(path, O_RDONLY);
    CHECK_OK(octo_blob_get_init_fd(&g, &s, fd, OCTO_BLOB_CONFIDENTIAL, &cid, OCTO_BLOB_ALLOW_ALL,
                                   &info));
    CHECK_EQ_U64(info.size, 3);
    uint8_t b[1];
    CHECK_EQ_INT(octo_blob_get_read(&g, b, 1), 1);
    CHECK_EQ_INT(octo_blob_get_read(&g, b, 1), 1);
    CHECK_EQ_INT(octo_blob_get_read(&g, b, 1), 1);
    CHECK_EQ_INT(octo_blob_get_read(&g, b, 1), 0);
    CHECK_EQ_INT(octo_blob_get_read(&g, b, 1), 0);
    octo_blob_get_deinit(&g);
    octo_blob_get_deinit(&g);
    /* a file shorter than the header */
    fd = open(path, O_RDWR);
    CHECK(ftruncate(fd, 10) == 0);
    CHECK_ERR(
        octo_blob_get_init_fd(&g, &s, fd, OCTO_BLOB_CONFIDENTIAL, &cid, OCTO_BLOB_ALLOW_ALL, NULL),
        OCTO_EMALFORMED);
    /* a FIFO named like a blob: refused without blocking */
    struct octo_blob_cid fcid;
    char fifo[4096];
    octo_blob_cid_of("fifo", 4, &fcid);
    blob_path(dir, OCTO_BLOB_PUBLIC, &fcid, fifo, sizeof(fifo));
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_ERR(octo_blob_get_init(&g, &s, &fcid, OCTO_BLOB_ALLOW_ALL, NULL), OCTO_EMALFORMED);
    struct octo_blob_put p;
    memset(&p, 0, sizeof(p));
    CHECK_ERR(octo_blob_put_update(&p, "x", 1), OCTO_ESTATE);
    CHECK_ERR(octo_blob_put_final(&p, &cid), OCTO_ESTATE);
    octo_blob_put_abort(&p);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

static void test_oom(void)
{
    const char *dir = octo_test_tmpdir("blob-oom");
    struct octo_blob_store s;
    CHECK_OK(octo_blob_init(&s, dir, NULL));
    struct octo_blob_cid cid;
    CHECK_OK(octo_blob_put(&s, OCTO_BLOB_PRIVATE, "oom", 3, &cid));
    for (uint64_t n = 1; n <= 3; n++) {
        struct octo_blob_put p;
        octo_alloc_fail_after(n, 1);
        int rc = octo_blob_put_init(&p, &s, OCTO_BLOB_PRIVATE);
        octo_alloc_fail_after(0, 0);
        if (rc == 0)
            octo_blob_put_abort(&p);
        else
            CHECK_ERR(rc, OCTO_ENOMEM);
        struct octo_buf out;
        octo_buf_init(&out, 64);
        octo_alloc_fail_after(n, 1);
        rc = octo_blob_get(&s, &cid, OCTO_BLOB_ALLOW_ALL, &out);
        octo_alloc_fail_after(0, 0);
        octo_buf_deinit(&out);
        if (rc < 0)
            CHECK_ERR(rc, OCTO_ENOMEM);
    }
    /* no temp file left behind by the failed puts */
    struct octo_blob_gc_stats st;
    CHECK_OK(octo_blob_gc(&s, 3600, &st));
    CHECK_EQ_U64(st.temps_removed, 0);
    octo_blob_deinit(&s);
    octo_test_rmtree(dir);
}

int main(void)
{
    if (octo_crypto_init() < 0)
        return 1;
    OCTO_RUN(test_cid_vectors);
    OCTO_RUN(test_cid_parse_errors);
    OCTO_RUN(test_class_names);
    OCTO_RUN(test_round_trips);
    OCTO_RUN(test_empty_blob_cid);
    OCTO_RUN(test_streaming_pieces);
    OCTO_RUN(test_dedup);
    OCTO_RUN(test_encrypted_at_rest);
    OCTO_RUN(test_tamper_and_truncate);
    OCTO_RUN(test_corrupt_stream_sticky);
    OCTO_RUN(test_wrong_key);
    OCTO_RUN(test_access_by_class);
    OCTO_RUN(test_relabel_refused);
    OCTO_RUN(test_crash_leftovers);
    OCTO_RUN(test_size_limit);
    OCTO_RUN(test_quota);
    OCTO_RUN(test_options_and_paths);
    OCTO_RUN(test_key_file);
    OCTO_RUN(test_refs_and_gc);
    OCTO_RUN(test_dedup_checks_existing);
    OCTO_RUN(test_ls);
    OCTO_RUN(test_get_fd_and_states);
    OCTO_RUN(test_oom);
    return octo_test_finish();
}
