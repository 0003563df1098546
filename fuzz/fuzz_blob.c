/*
 * fuzz_blob.c — libFuzzer harness for the blob store's file decoder (exec/blob.h): the stored
 * header, the chunk framing and the streaming verification.
 *
 * Input: byte 0 = the class directory the file is read from (low 2 bits), bytes 1..32 = the
 * SHA-256 the caller expects (the CID's digest), the rest = the stored file, served from a
 * memfd to octo_blob_get_init_fd under a fixed store key (0x42 * 32, the key the seeds in
 * fuzz/seeds/blob/ were made with). Invariants: never more plaintext than the header
 * announced; success only when exactly that many bytes came out and they hash to the expected
 * digest; errors only from the documented set. The whole input is also parsed as CID text,
 * which must round-trip when it parses.
 */
#define _GNU_SOURCE
#include "base/assert.h"
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "exec/blob.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes all of buf to fd; 0 or -1. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static struct octo_blob_store fuzz_store;
static bool fuzz_ready;

static char fuzz_dir[] = "/tmp/octo-fuzz-blob-XXXXXX";

/* Removes the (empty) store directory at exit. */
static void fuzz_cleanup(void)
{
    char path[sizeof(fuzz_dir) + 32];
    octo_blob_deinit(&fuzz_store);
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++) {
        snprintf(path, sizeof(path), "%s/%s", fuzz_dir, octo_blob_class_name(c));
        rmdir(path);
    }
    snprintf(path, sizeof(path), "%s/.lock", fuzz_dir);
    unlink(path);
    rmdir(fuzz_dir);
}

static void fuzz_setup(void)
{
    char *dir = fuzz_dir;
    uint8_t key[OCTO_BLOB_KEY_LEN];
    memset(key, 0x42, sizeof(key));
    OCTO_ASSERT(octo_crypto_init() == 0);
    OCTO_ASSERT(mkdtemp(dir) != NULL);
    struct octo_blob_options o = {.key = key, .chunk_size = OCTO_BLOB_CHUNK_MIN};
    OCTO_ASSERT(octo_blob_init(&fuzz_store, dir, &o) == 0);
    fuzz_ready = true;
    atexit(fuzz_cleanup);
}

static void fuzz_cid_text(const uint8_t *data, size_t size)
{
    struct octo_blob_cid cid;
    if (octo_blob_cid_parse((const char *)data, size, &cid) != 0)
        return;
    char text[OCTO_BLOB_CID_TEXT_MAX];
    OCTO_ASSERT(octo_blob_cid_to_text(&cid, text, sizeof(text)) == OCTO_BLOB_CID_TEXT_LEN);
    OCTO_ASSERT(size == OCTO_BLOB_CID_TEXT_LEN && memcmp(text, data, size) == 0);
}

static bool expected_error(int rc)
{
    return rc == OCTO_EMALFORMED || rc == OCTO_EUNSUPPORTED || rc == OCTO_ETOOBIG ||
           rc == OCTO_EDECRYPT || rc == OCTO_EPERM;
}

static void fuzz_decode(enum octo_blob_class cls, const struct octo_blob_cid *cid,
                        const uint8_t *file, size_t len, size_t piece)
{
    int fd = memfd_create("blob", MFD_CLOEXEC);
    OCTO_ASSERT(fd >= 0);
    OCTO_ASSERT(write_all(fd, file, len) == 0);
    OCTO_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
    struct octo_blob_get g;
    struct octo_blob_info info;
    int rc = octo_blob_get_init_fd(&g, &fuzz_store, fd, cls, cid, OCTO_BLOB_ALLOW_ALL, &info);
    if (rc < 0) {
        OCTO_ASSERT(expected_error(rc));
        return;
    }
    OCTO_ASSERT(info.size <= OCTO_BLOB_SIZE_MAX);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    uint64_t total = 0;
    static uint8_t buf[4096];
    for (;;) {
        rc = octo_blob_get_read(&g, buf, piece);
        if (rc <= 0)
            break;
        OCTO_ASSERT((size_t)rc <= piece);
        octo_sha256_update(&h, buf, (size_t)rc);
        total += (uint64_t)rc;
        OCTO_ASSERT(total <= info.size);
    }
    uint8_t digest[OCTO_SHA256_LEN];
    octo_sha256_final(&h, digest);
    if (rc == 0) {
        OCTO_ASSERT(total == info.size);
        OCTO_ASSERT(memcmp(digest, cid->digest, sizeof(digest)) == 0);
        OCTO_ASSERT(octo_blob_get_read(&g, buf, piece) == 0);
    } else {
        OCTO_ASSERT(expected_error(rc));
        OCTO_ASSERT(octo_blob_get_read(&g, buf, piece) == rc); /* sticky */
    }
    octo_blob_get_deinit(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_ready)
        fuzz_setup();
    fuzz_cid_text(data, size);
    if (size < 1 + OCTO_SHA256_LEN)
        return 0;
    enum octo_blob_class cls = (enum octo_blob_class)(data[0] & 3);
    size_t piece = (size_t)(data[0] >> 2) * 64 + 1; /* 1 .. 4033 bytes per read */
    struct octo_blob_cid cid;
    memcpy(cid.digest, data + 1, OCTO_SHA256_LEN);
    fuzz_decode(cls, &cid, data + 1 + OCTO_SHA256_LEN, size - 1 - OCTO_SHA256_LEN, piece);
    return 0;
}
