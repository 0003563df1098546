/*
 * blob.c — the content-addressed blob store: CIDs, the store directory and key, streaming
 * put and get, references, ls, rm and gc. The on-disk format and the crash-safety rules are
 * in blob.h.
 *
 * Put: a temp file ".tmp-<hex>" is created in the class directory and flock()ed (so a
 * concurrent gc leaves it alone), a placeholder header is written, the body follows as data
 * arrives (encrypted classes buffer one chunk, so the last chunk can carry the FINAL tag),
 * and final rewrites the header with the length, fsyncs, renames without replacing
 * (renameat2 RENAME_NOREPLACE: an existing blob of the same CID and class is a dedup) and
 * fsyncs the directory.
 *
 * Get: the header is decoded and checked against the limits before anything is allocated;
 * the body is then read chunk by chunk, every chunk authenticated (encrypted classes), the
 * plaintext hashed as it streams; the end checks the FINAL tag position, that the file ends
 * there, and that the hash equals the CID.
 */
#include "exec/blob.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/base32.h"
#include "base/endian.h"
#include "base/mem.h"
#include "base/multihash.h"
#include "crypto/random.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOB_VERSION 1
#define TMP_PREFIX ".tmp-"
#define REF_SUFFIX ".ref"
#define REF_FILE_MAX 16 /* "1000000000\n" and some slack */

/* The decoded fixed header (layout in blob.h). */
struct blob_header {
    enum octo_blob_class cls;
    uint32_t chunk_size;
    uint8_t key_id[8];
    uint8_t stream_header[OCTO_AEAD_HEADER_LEN];
    uint64_t len;
};

static int scan_store(struct octo_blob_store *s);

static const uint8_t blob_magic[4] = {'O', 'C', 'B', 'L'};
static const char *const class_names[OCTO_BLOB_CLASSES] = {"public", "shared", "confidential",
                                                           "private"};

/* ---- small helpers ---- */

static int sys_err(void)
{
    int e = errno;
    return e == 0 ? OCTO_EIO : octo_err_from_errno(e);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? sys_err() : OCTO_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads until len bytes or end of file; returns the count or an error. */
static int read_full(int fd, uint8_t *p, size_t len)
{
    size_t got = 0;
    OCTO_ASSERT(len <= INT32_MAX);
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sys_err();
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (int)got;
}

static int fsync_fd(int fd)
{
    return fsync(fd) == 0 ? 0 : sys_err();
}

/* Creates and flock()s a fresh temp file ".tmp-<16 hex>" in dfd, its name stored in
 * name[TMP_NAME_MAX]; returns the descriptor or an error. */
#define TMP_NAME_MAX 32
static int create_temp(int dfd, char name[TMP_NAME_MAX])
{
    uint8_t rnd[8];
    octo_random_bytes(rnd, sizeof(rnd));
    int n = snprintf(name, TMP_NAME_MAX, "%s", TMP_PREFIX);
    for (size_t i = 0; i < sizeof(rnd); i++)
        n += snprintf(name + n, TMP_NAME_MAX - (size_t)n, "%02x", rnd[i]);
    int fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return sys_err();
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int rc = sys_err();
        OCTO_IGNORE(unlinkat(dfd, name, 0));
        close(fd);
        return rc;
    }
    return fd;
}

/* ---- CIDs and classes ---- */

void octo_blob_cid_of(const void *in, size_t len, struct octo_blob_cid *out)
{
    octo_sha256(in, len, out->digest);
}

static void cid_binary(const struct octo_blob_cid *cid, uint8_t out[OCTO_BLOB_CID_LEN])
{
    out[0] = 0x01; /* CID version 1 */
    out[1] = 0x55; /* codec raw */
    out[2] = OCTO_MH_SHA2_256;
    out[3] = OCTO_SHA256_LEN;
    memcpy(out + 4, cid->digest, OCTO_SHA256_LEN);
}

int octo_blob_cid_to_text(const struct octo_blob_cid *cid, char *out, size_t out_size)
{
    uint8_t bin[OCTO_BLOB_CID_LEN];
    if (out_size < OCTO_BLOB_CID_TEXT_MAX)
        return OCTO_ENOSPACE;
    cid_binary(cid, bin);
    int n = octo_multibase_encode('b', bin, sizeof(bin), out, out_size);
    OCTO_ASSERT(n == OCTO_BLOB_CID_TEXT_LEN);
    return n;
}

int octo_blob_cid_parse(const char *text, size_t len, struct octo_blob_cid *out)
{
    uint8_t bin[OCTO_BLOB_CID_LEN + 8];
    if (len == 0 || text[0] != 'b') {
        if (len > 0 && (text[0] == 'z' || text[0] == 'B' || text[0] == 'f' || text[0] == 'Q'))
            return OCTO_EUNSUPPORTED;
        return OCTO_EMALFORMED;
    }
    if (len != OCTO_BLOB_CID_TEXT_LEN)
        return OCTO_EMALFORMED;
    int n = octo_base32_decode(text + 1, len - 1, bin, sizeof(bin));
    if (n < 0)
        return OCTO_EMALFORMED;
    if (n != OCTO_BLOB_CID_LEN)
        return OCTO_EMALFORMED;
    if (bin[0] != 0x01 || bin[1] != 0x55 || bin[2] != OCTO_MH_SHA2_256)
        return OCTO_EUNSUPPORTED;
    if (bin[3] != OCTO_SHA256_LEN)
        return OCTO_EMALFORMED;
    memcpy(out->digest, bin + 4, OCTO_SHA256_LEN);
    return 0;
}

const char *octo_blob_class_name(enum octo_blob_class c)
{
    if ((unsigned)c >= OCTO_BLOB_CLASSES)
        return "?";
    return class_names[c];
}

int octo_blob_class_parse(const char *name, enum octo_blob_class *out)
{
    for (unsigned i = 0; i < OCTO_BLOB_CLASSES; i++) {
        if (strcmp(name, class_names[i]) == 0) {
            *out = (enum octo_blob_class)i;
            return 0;
        }
    }
    return OCTO_EINVAL;
}

/* ---- header ---- */

static void header_encode(uint8_t h[OCTO_BLOB_HEADER_LEN], const struct blob_header *hd)
{
    memset(h, 0, OCTO_BLOB_HEADER_LEN);
    memcpy(h, blob_magic, sizeof(blob_magic));
    h[4] = BLOB_VERSION;
    h[5] = (uint8_t)hd->cls;
    octo_store_be32(h + 8, hd->chunk_size);
    memcpy(h + 12, hd->key_id, sizeof(hd->key_id));
    memcpy(h + 20, hd->stream_header, sizeof(hd->stream_header));
    octo_store_be64(h + 44, hd->len);
}

static int header_decode(const uint8_t h[OCTO_BLOB_HEADER_LEN], struct blob_header *out)
{
    if (memcmp(h, blob_magic, sizeof(blob_magic)) != 0)
        return OCTO_EMALFORMED;
    if (h[4] != BLOB_VERSION)
        return OCTO_EUNSUPPORTED;
    if (h[5] >= OCTO_BLOB_CLASSES || h[6] != 0 || h[7] != 0)
        return OCTO_EMALFORMED;
    out->cls = (enum octo_blob_class)h[5];
    out->chunk_size = octo_load_be32(h + 8);
    memcpy(out->key_id, h + 12, sizeof(out->key_id));
    memcpy(out->stream_header, h + 20, sizeof(out->stream_header));
    out->len = octo_load_be64(h + 44);
    if (out->len > OCTO_BLOB_SIZE_MAX)
        return OCTO_ETOOBIG;
    if (out->cls == OCTO_BLOB_PUBLIC) {
        if (out->chunk_size != 0 || !octo_all_zero(h + 12, 32))
            return OCTO_EMALFORMED;
    } else if (out->chunk_size < OCTO_BLOB_CHUNK_MIN || out->chunk_size > OCTO_BLOB_CHUNK_MAX) {
        return OCTO_EMALFORMED;
    }
    return 0;
}

static uint64_t chunk_count(uint64_t len, uint32_t chunk_size)
{
    OCTO_ASSERT(chunk_size > 0);
    uint64_t n = len / chunk_size + (len % chunk_size != 0);
    return n == 0 ? 1 : n;
}

static uint64_t disk_size_of(enum octo_blob_class cls, uint64_t len, uint32_t chunk_size)
{
    if (cls == OCTO_BLOB_PUBLIC)
        return OCTO_BLOB_HEADER_LEN + len;
    return OCTO_BLOB_HEADER_LEN + len + chunk_count(len, chunk_size) * OCTO_AEAD_ABYTES;
}

/* BLAKE2b-256 keyed by the store key over msg. */
static int derive(uint8_t out[32], const uint8_t *msg, size_t len,
                  const uint8_t key[OCTO_BLOB_KEY_LEN])
{
    return octo_blake2b(out, 32, msg, len, key, OCTO_BLOB_KEY_LEN) < 0 ? OCTO_ECRYPTO : 0;
}

/* The stream key of an encrypted blob: bound to the store key and header[0..20). */
static int stream_key(const struct octo_blob_store *s, const uint8_t h[OCTO_BLOB_HEADER_LEN],
                      uint8_t out[OCTO_AEAD_KEY_LEN])
{
    static const char domain[] = "octo-blob-stream-v1";
    uint8_t msg[sizeof(domain) - 1 + 20];
    memcpy(msg, domain, sizeof(domain) - 1);
    memcpy(msg + sizeof(domain) - 1, h, 20);
    return derive(out, msg, sizeof(msg), s->key);
}

/* ---- the store ---- */

static int load_key(struct octo_blob_store *s)
{
    int fd = openat(s->root_fd, OCTO_BLOB_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? OCTO_EPERM : sys_err();
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = sys_err();
    else if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid())
        rc = OCTO_EPERM;
    else if (st.st_size != OCTO_BLOB_KEY_LEN)
        rc = OCTO_EMALFORMED;
    else if (read_full(fd, s->key, OCTO_BLOB_KEY_LEN) != OCTO_BLOB_KEY_LEN)
        rc = OCTO_EMALFORMED;
    close(fd);
    return rc;
}

/* Writes a fresh key to a temp file and renames it into place without replacing: a crash
 * never leaves a short key file, and a concurrent creator wins cleanly (OCTO_EEXIST). */
static int create_key(struct octo_blob_store *s)
{
    char tmp[TMP_NAME_MAX];
    int fd = create_temp(s->root_fd, tmp);
    if (fd < 0)
        return fd;
    octo_aead_keygen(s->key);
    int rc = write_all(fd, s->key, OCTO_BLOB_KEY_LEN);
    if (rc == 0)
        rc = fsync_fd(fd);
    if (rc == 0 &&
        renameat2(s->root_fd, tmp, s->root_fd, OCTO_BLOB_KEY_FILE, RENAME_NOREPLACE) != 0)
        rc = sys_err();
    if (rc < 0)
        OCTO_IGNORE(unlinkat(s->root_fd, tmp, 0));
    close(fd);
    return rc < 0 ? rc : fsync_fd(s->root_fd);
}

static int setup_key(struct octo_blob_store *s, const uint8_t *key)
{
    if (key != NULL) {
        memcpy(s->key, key, OCTO_BLOB_KEY_LEN);
    } else {
        int rc = load_key(s);
        if (rc == OCTO_ENOTFOUND) {
            rc = create_key(s);
            if (rc == OCTO_EEXIST) /* created concurrently */
                rc = load_key(s);
        }
        if (rc < 0)
            return rc;
    }
    static const char domain[] = "octo-blob-keyid-v1";
    uint8_t id[32];
    int rc = derive(id, (const uint8_t *)domain, sizeof(domain) - 1, s->key);
    memcpy(s->key_id, id, sizeof(s->key_id));
    return rc;
}

static int open_dirs(struct octo_blob_store *s)
{
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST)
        return sys_err();
    s->root_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0)
        return sys_err();
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++) {
        if (mkdirat(s->root_fd, class_names[c], 0700) != 0 && errno != EEXIST)
            return sys_err();
        s->class_fd[c] =
            openat(s->root_fd, class_names[c], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s->class_fd[c] < 0)
            return sys_err();
    }
    s->lock_fd = openat(s->root_fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    return s->lock_fd < 0 ? sys_err() : 0;
}

static int apply_options(struct octo_blob_store *s, const struct octo_blob_options *o)
{
    s->size_max = OCTO_BLOB_SIZE_MAX;
    s->chunk_size = OCTO_BLOB_CHUNK_DEFAULT;
    s->quota = 0;
    if (o == NULL)
        return 0;
    if (o->size_max > OCTO_BLOB_SIZE_MAX)
        return OCTO_EINVAL;
    if (o->size_max != 0)
        s->size_max = o->size_max;
    if (o->chunk_size != 0) {
        if (o->chunk_size < OCTO_BLOB_CHUNK_MIN || o->chunk_size > OCTO_BLOB_CHUNK_MAX)
            return OCTO_EINVAL;
        s->chunk_size = o->chunk_size;
    }
    s->quota = o->quota;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_all(struct octo_blob_store *s)
{
    close_fd(&s->root_fd);
    close_fd(&s->lock_fd);
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++)
        close_fd(&s->class_fd[c]);
}

int octo_blob_init(struct octo_blob_store *s, const char *dir, const struct octo_blob_options *opts)
{
    memset(s, 0, sizeof(*s));
    s->root_fd = s->lock_fd = -1;
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++)
        s->class_fd[c] = -1;
    int rc = apply_options(s, opts);
    if (rc < 0)
        return rc;
    size_t n = strlen(dir);
    if (n == 0)
        return OCTO_EINVAL;
    if (n > OCTO_BLOB_DIR_MAX)
        return OCTO_ETOOBIG;
    memcpy(s->dir, dir, n + 1);
    rc = open_dirs(s);
    if (rc == 0)
        rc = setup_key(s, opts != NULL ? opts->key : NULL);
    if (rc == 0)
        rc = scan_store(s);
    if (rc < 0) {
        close_all(s);
        octo_wipe(s->key, sizeof(s->key));
        return rc;
    }
    s->open = true;
    return 0;
}

void octo_blob_deinit(struct octo_blob_store *s)
{
    if (s->open)
        close_all(s);
    octo_wipe(s->key, sizeof(s->key));
    s->open = false;
}

/* ---- streaming put ---- */

static int put_fail(struct octo_blob_put *p, int rc)
{
    if (p->err == 0)
        p->err = rc;
    return rc;
}

/* Creates and locks the temp file. */
static int put_open_temp(struct octo_blob_put *p)
{
    p->fd = create_temp(p->store->class_fd[p->cls], p->tmp);
    return p->fd < 0 ? p->fd : 0;
}

static int put_setup_crypto(struct octo_blob_put *p)
{
    struct octo_blob_store *s = p->store;
    p->chunk_size = s->chunk_size;
    p->chunk = octo_malloc(p->chunk_size);
    p->ct = octo_malloc((size_t)p->chunk_size + OCTO_AEAD_ABYTES);
    if (p->chunk == NULL || p->ct == NULL)
        return OCTO_ENOMEM;
    struct blob_header hd = {.cls = p->cls, .chunk_size = p->chunk_size};
    memcpy(hd.key_id, s->key_id, sizeof(hd.key_id));
    header_encode(p->header, &hd);
    uint8_t key[OCTO_AEAD_KEY_LEN];
    int rc = stream_key(s, p->header, key);
    if (rc == 0)
        rc = octo_aead_enc_init(&p->enc, key, p->header + 20);
    octo_wipe(key, sizeof(key));
    return rc;
}

int octo_blob_put_init(struct octo_blob_put *p, struct octo_blob_store *s, enum octo_blob_class cls)
{
    OCTO_ASSERT(s->open);
    memset(p, 0, sizeof(*p));
    p->fd = -1;
    if ((unsigned)cls >= OCTO_BLOB_CLASSES)
        return OCTO_EINVAL;
    p->store = s;
    p->cls = cls;
    octo_sha256_init(&p->sha);
    int rc = 0;
    if (cls == OCTO_BLOB_PUBLIC) {
        struct blob_header hd = {.cls = cls};
        header_encode(p->header, &hd);
    } else {
        rc = put_setup_crypto(p);
    }
    if (rc == 0)
        rc = put_open_temp(p);
    if (rc == 0)
        rc = write_all(p->fd, p->header, sizeof(p->header));
    if (rc < 0) {
        p->active = true;
        octo_blob_put_abort(p);
        return rc;
    }
    p->disk = OCTO_BLOB_HEADER_LEN;
    p->active = true;
    return 0;
}

/* Encrypts and writes the buffered chunk. */
static int put_flush(struct octo_blob_put *p, bool final)
{
    int n = octo_aead_enc_push(&p->enc, p->chunk, p->chunk_len, final, p->ct,
                               (size_t)p->chunk_size + OCTO_AEAD_ABYTES);
    if (n < 0)
        return n;
    int rc = write_all(p->fd, p->ct, (size_t)n);
    if (rc < 0)
        return rc;
    p->disk += (uint64_t)n;
    octo_wipe(p->chunk, p->chunk_len);
    p->chunk_len = 0;
    return 0;
}

static int put_check_limits(const struct octo_blob_put *p, size_t len)
{
    const struct octo_blob_store *s = p->store;
    if (len > s->size_max || p->total > s->size_max - len)
        return OCTO_ETOOBIG;
    uint64_t disk = disk_size_of(p->cls, p->total + len, p->chunk_size);
    if (s->quota != 0 && (s->used > s->quota || disk > s->quota - s->used))
        return OCTO_ELIMIT;
    return 0;
}

int octo_blob_put_update(struct octo_blob_put *p, const void *data, size_t len)
{
    if (!p->active || p->err != 0)
        return OCTO_ESTATE;
    int rc = put_check_limits(p, len);
    if (rc < 0)
        return put_fail(p, rc);
    octo_sha256_update(&p->sha, data, len);
    p->total += len;
    if (p->cls == OCTO_BLOB_PUBLIC) {
        rc = write_all(p->fd, data, len);
        if (rc < 0)
            return put_fail(p, rc);
        p->disk += len;
        return 0;
    }
    const uint8_t *in = data;
    while (len > 0) {
        if (p->chunk_len == p->chunk_size) {
            rc = put_flush(p, false);
            if (rc < 0)
                return put_fail(p, rc);
        }
        size_t take = p->chunk_size - p->chunk_len;
        if (take > len)
            take = len;
        memcpy(p->chunk + p->chunk_len, in, take);
        p->chunk_len += take;
        in += take;
        len -= take;
    }
    return 0;
}

/* Header with the length, fsync, rename without replacing, directory fsync. */

/* True when the blob already stored as `name` is a sound copy of the one being put: its header
 * decodes to the same class, store key and plaintext length and the file has the expected
 * size. Its mtime is renewed, so gc's grace period covers this put too. */
static bool existing_sound(const struct octo_blob_put *p, int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    uint8_t h[OCTO_BLOB_HEADER_LEN];
    struct blob_header hd;
    struct stat st;
    bool ok = read_full(fd, h, sizeof(h)) == OCTO_BLOB_HEADER_LEN && header_decode(h, &hd) == 0 &&
              hd.cls == p->cls && hd.len == p->total &&
              octo_ct_equal(hd.key_id, p->store->key_id, sizeof(hd.key_id)) &&
              fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == p->disk;
    if (ok)
        ok = futimens(fd, NULL) == 0;
    close(fd);
    return ok;
}

static int put_commit(struct octo_blob_put *p, const struct octo_blob_cid *cid)
{
    octo_store_be64(p->header + 44, p->total);
    ssize_t w = pwrite(p->fd, p->header, sizeof(p->header), 0);
    if (w != (ssize_t)sizeof(p->header))
        return w < 0 ? sys_err() : OCTO_EIO;
    int rc = fsync_fd(p->fd);
    if (rc < 0)
        return rc;
    char name[OCTO_BLOB_CID_TEXT_MAX];
    OCTO_ASSERT(octo_blob_cid_to_text(cid, name, sizeof(name)) > 0);
    int dfd = p->store->class_fd[p->cls];
    if (renameat2(dfd, p->tmp, dfd, name, RENAME_NOREPLACE) != 0) {
        if (errno != EEXIST)
            return sys_err();
        /* dedup, if the stored file is a sound copy: right header (class, key, length) and
         * size; a damaged or foreign one (e.g. written under a lost key) is replaced */
        if (existing_sound(p, dfd, name))
            return 1; /* the temp file is removed by the caller */
        if (renameat(dfd, p->tmp, dfd, name) != 0)
            return sys_err();
    }
    p->tmp[0] = '\0';
    rc = fsync_fd(dfd);
    if (rc == 0)
        p->store->used += p->disk;
    return rc;
}

int octo_blob_put_final(struct octo_blob_put *p, struct octo_blob_cid *out)
{
    if (!p->active || p->err != 0) {
        int err = p->active ? p->err : OCTO_ESTATE;
        octo_blob_put_abort(p);
        return err;
    }
    int rc = 0;
    if (p->cls != OCTO_BLOB_PUBLIC)
        rc = put_flush(p, true);
    struct octo_blob_cid cid;
    octo_sha256_final(&p->sha, cid.digest);
    if (rc == 0)
        rc = put_commit(p, &cid);
    octo_blob_put_abort(p); /* releases everything; removes the temp file unless renamed */
    if (rc < 0)
        return rc;
    *out = cid;
    return 0;
}

void octo_blob_put_abort(struct octo_blob_put *p)
{
    if (!p->active)
        return;
    if (p->fd >= 0) {
        if (p->tmp[0] != '\0')
            OCTO_IGNORE(unlinkat(p->store->class_fd[p->cls], p->tmp, 0));
        close(p->fd);
        p->fd = -1;
    }
    if (p->chunk != NULL)
        octo_free_secret(p->chunk);
    if (p->ct != NULL)
        octo_free(p->ct);
    p->chunk = p->ct = NULL;
    octo_aead_enc_deinit(&p->enc);
    octo_wipe(&p->sha, sizeof(p->sha));
    p->active = false;
}

int octo_blob_put(struct octo_blob_store *s, enum octo_blob_class cls, const void *data, size_t len,
                  struct octo_blob_cid *out)
{
    struct octo_blob_put p;
    int rc = octo_blob_put_init(&p, s, cls);
    if (rc < 0)
        return rc;
    rc = octo_blob_put_update(&p, data, len);
    if (rc < 0) {
        octo_blob_put_abort(&p);
        return rc;
    }
    return octo_blob_put_final(&p, out);
}

/* ---- streaming get ---- */

static int get_fail(struct octo_blob_get *g, int rc)
{
    if (g->err == 0)
        g->err = rc;
    return g->err;
}

static int get_setup_crypto(struct octo_blob_get *g, const struct octo_blob_store *s,
                            const uint8_t h[OCTO_BLOB_HEADER_LEN], const struct blob_header *hd)
{
    if (!octo_ct_equal(hd->key_id, s->key_id, sizeof(s->key_id)))
        return OCTO_EDECRYPT;
    g->chunks = chunk_count(g->len, g->chunk_size);
    g->in_cap = (size_t)g->chunk_size + OCTO_AEAD_ABYTES;
    g->plain_cap = g->chunk_size;
    g->in = octo_malloc(g->in_cap);
    if (g->in == NULL)
        return OCTO_ENOMEM;
    uint8_t key[OCTO_AEAD_KEY_LEN];
    int rc = stream_key(s, h, key);
    if (rc == 0)
        rc = octo_aead_dec_init(&g->dec, key, hd->stream_header);
    octo_wipe(key, sizeof(key));
    return rc;
}

static int get_setup(struct octo_blob_get *g, const struct octo_blob_store *s,
                     enum octo_blob_class cls, unsigned allow, struct octo_blob_info *info)
{
    uint8_t h[OCTO_BLOB_HEADER_LEN];
    struct blob_header hd;
    int n = read_full(g->fd, h, sizeof(h));
    if (n < 0)
        return n;
    if (n != OCTO_BLOB_HEADER_LEN)
        return OCTO_EMALFORMED;
    int rc = header_decode(h, &hd);
    if (rc < 0)
        return rc;
    if (hd.cls != cls)
        return OCTO_EMALFORMED;
    if ((allow & OCTO_BLOB_ALLOW(cls)) == 0)
        return OCTO_EPERM;
    if (hd.len > s->size_max)
        return OCTO_ETOOBIG;
    struct stat st;
    if (fstat(g->fd, &st) != 0)
        return sys_err();
    /* the file must be exactly as long as its header says: truncation or padding is caught
     * here, before anything is sized from the header's length */
    if ((uint64_t)st.st_size != disk_size_of(cls, hd.len, hd.chunk_size))
        return OCTO_EMALFORMED;
    g->cls = cls;
    g->len = hd.len;
    g->chunk_size = hd.chunk_size;
    if (info != NULL) {
        info->cls = cls;
        info->size = hd.len;
        info->disk_size = (uint64_t)st.st_size;
    }
    if (cls != OCTO_BLOB_PUBLIC)
        rc = get_setup_crypto(g, s, h, &hd);
    else
        g->plain_cap = s->chunk_size;
    if (rc < 0)
        return rc;
    g->plain = octo_malloc(g->plain_cap);
    return g->plain == NULL ? OCTO_ENOMEM : 0;
}

int octo_blob_get_init_fd(struct octo_blob_get *g, const struct octo_blob_store *s, int fd,
                          enum octo_blob_class cls, const struct octo_blob_cid *cid, unsigned allow,
                          struct octo_blob_info *info)
{
    OCTO_ASSERT(s->open);
    memset(g, 0, sizeof(*g));
    g->fd = fd;
    g->active = true;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        octo_blob_get_deinit(g);
        return OCTO_EMALFORMED;
    }
    if ((unsigned)cls >= OCTO_BLOB_CLASSES) {
        octo_blob_get_deinit(g);
        return OCTO_EINVAL;
    }
    memcpy(g->expect, cid->digest, sizeof(g->expect));
    octo_sha256_init(&g->sha);
    if (info != NULL) {
        memset(info, 0, sizeof(*info));
        info->cid = *cid;
    }
    int rc = get_setup(g, s, cls, allow, info);
    if (rc < 0) {
        octo_blob_get_deinit(g);
        return rc;
    }
    return 0;
}

int octo_blob_get_init(struct octo_blob_get *g, const struct octo_blob_store *s,
                       const struct octo_blob_cid *cid, unsigned allow, struct octo_blob_info *info)
{
    char name[OCTO_BLOB_CID_TEXT_MAX];
    OCTO_ASSERT(octo_blob_cid_to_text(cid, name, sizeof(name)) > 0);
    bool denied = false;
    memset(g, 0, sizeof(*g));
    g->fd = -1;
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++) {
        int fd = openat(s->class_fd[c], name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            if (errno != ENOENT)
                return sys_err();
            continue;
        }
        if ((allow & OCTO_BLOB_ALLOW(c)) == 0) {
            close(fd);
            denied = true;
            continue;
        }
        return octo_blob_get_init_fd(g, s, fd, (enum octo_blob_class)c, cid, allow, info);
    }
    return denied ? OCTO_EPERM : OCTO_ENOTFOUND;
}

/* Reads and decodes the next chunk into g->plain. */
static int get_next_encrypted(struct octo_blob_get *g)
{
    bool last = g->chunk_index + 1 == g->chunks;
    uint64_t want = last ? g->len - g->done : g->chunk_size;
    OCTO_ASSERT(want <= g->chunk_size);
    size_t ct_len = (size_t)want + OCTO_AEAD_ABYTES;
    int n = read_full(g->fd, g->in, ct_len);
    if (n < 0)
        return n;
    if ((size_t)n != ct_len)
        return OCTO_EMALFORMED; /* truncated */
    bool final = false;
    int m = octo_aead_dec_pull(&g->dec, g->in, ct_len, g->plain, g->plain_cap, &final);
    if (m < 0)
        return m == OCTO_EDECRYPT || m == OCTO_ESTATE ? OCTO_EDECRYPT : m;
    if ((uint64_t)m != want || final != last)
        return OCTO_EDECRYPT;
    g->chunk_index++;
    return m;
}

static int get_next_plain(struct octo_blob_get *g)
{
    uint64_t rest = g->len - g->done;
    size_t want = rest < g->plain_cap ? (size_t)rest : g->plain_cap;
    int n = read_full(g->fd, g->plain, want);
    if (n < 0)
        return n;
    return (size_t)n != want ? OCTO_EMALFORMED : n;
}

/* End of the body: nothing may follow it, and the content must match its CID. */
static int get_verify_end(struct octo_blob_get *g)
{
    uint8_t extra;
    int n = read_full(g->fd, &extra, 1);
    if (n < 0)
        return n;
    if (n != 0)
        return OCTO_EMALFORMED;
    if (g->cls != OCTO_BLOB_PUBLIC && octo_aead_dec_finish(&g->dec) < 0)
        return OCTO_EDECRYPT;
    uint8_t digest[OCTO_SHA256_LEN];
    octo_sha256_final(&g->sha, digest);
    if (!octo_ct_equal(digest, g->expect, sizeof(digest)))
        return OCTO_EDECRYPT;
    g->verified = true;
    return 0;
}

int octo_blob_get_read(struct octo_blob_get *g, uint8_t *out, size_t out_size)
{
    OCTO_ASSERT(out_size > 0);
    if (!g->active)
        return OCTO_ESTATE;
    if (g->err != 0)
        return g->err;
    if (g->plain_off == g->plain_len) {
        if (g->verified)
            return 0;
        bool more = g->cls == OCTO_BLOB_PUBLIC ? g->done < g->len : g->chunk_index < g->chunks;
        if (!more) {
            int rc = get_verify_end(g);
            return rc < 0 ? get_fail(g, rc) : 0;
        }
        int n = g->cls == OCTO_BLOB_PUBLIC ? get_next_plain(g) : get_next_encrypted(g);
        if (n < 0)
            return get_fail(g, n);
        octo_sha256_update(&g->sha, g->plain, (size_t)n);
        g->done += (uint64_t)n;
        g->plain_len = (size_t)n;
        g->plain_off = 0;
        if (n == 0) /* the empty FINAL chunk of an empty blob */
            return octo_blob_get_read(g, out, out_size);
    }
    size_t take = g->plain_len - g->plain_off;
    if (take > out_size)
        take = out_size;
    if (take > INT32_MAX)
        take = INT32_MAX;
    memcpy(out, g->plain + g->plain_off, take);
    g->plain_off += take;
    return (int)take;
}

void octo_blob_get_deinit(struct octo_blob_get *g)
{
    if (!g->active)
        return;
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    if (g->in != NULL)
        octo_free(g->in);
    if (g->plain != NULL) {
        octo_wipe(g->plain, g->plain_cap);
        octo_free(g->plain);
    }
    g->in = g->plain = NULL;
    octo_aead_dec_deinit(&g->dec);
    octo_wipe(&g->sha, sizeof(g->sha));
    g->active = false;
}

int octo_blob_get(const struct octo_blob_store *s, const struct octo_blob_cid *cid, unsigned allow,
                  struct octo_buf *out)
{
    struct octo_blob_get g;
    struct octo_blob_info info;
    size_t start = out->len;
    int rc = octo_blob_get_init(&g, s, cid, allow, &info);
    if (rc < 0)
        return rc;
    if (info.size > out->max - out->len)
        rc = OCTO_ETOOBIG;
    if (rc == 0)
        rc = octo_buf_reserve(out, (size_t)info.size);
    while (rc == 0) {
        uint8_t spare; /* the header's length bounds the output: never written */
        bool room = out->cap > out->len;
        uint8_t *dst = room ? out->data + out->len : &spare;
        int n = octo_blob_get_read(&g, dst, room ? out->cap - out->len : 1);
        if (n <= 0) {
            rc = n;
            break;
        }
        if (!room) {
            rc = OCTO_EMALFORMED;
            break;
        }
        out->len += (size_t)n;
    }
    octo_blob_get_deinit(&g);
    if (rc < 0 && out->len > start) {
        octo_wipe(out->data + start, out->len - start);
        out->len = start;
    }
    return rc;
}

/* ---- directory walks ---- */

typedef int (*walk_fn)(struct octo_blob_store *s, unsigned cls, const char *name, void *ctx);

/* Calls fn for every entry of a class directory but "." and ".."; stops at a non-zero return. */
static int walk_class(const struct octo_blob_store *s, unsigned cls, walk_fn fn, void *ctx)
{
    int fd = openat(s->class_fd[cls], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_err();
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int rc = sys_err();
        close(fd);
        return rc;
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        const struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                rc = sys_err();
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        rc = fn((struct octo_blob_store *)(uintptr_t)s, cls, e->d_name, ctx);
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}

static bool name_is_temp(const char *name)
{
    return strncmp(name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0;
}

/* A blob file name: exactly a canonical CID. */
static bool name_is_blob(const char *name, struct octo_blob_cid *cid)
{
    size_t n = strlen(name);
    return n == OCTO_BLOB_CID_TEXT_LEN && octo_blob_cid_parse(name, n, cid) == 0;
}

/* A reference file name: "<cid>.ref". */
static bool name_is_ref(const char *name, struct octo_blob_cid *cid)
{
    size_t n = strlen(name);
    return n == OCTO_BLOB_CID_TEXT_LEN + sizeof(REF_SUFFIX) - 1 &&
           strcmp(name + OCTO_BLOB_CID_TEXT_LEN, REF_SUFFIX) == 0 &&
           octo_blob_cid_parse(name, OCTO_BLOB_CID_TEXT_LEN, cid) == 0;
}

/* Removes a temp file unless its writer still holds its flock. Returns 1 if removed. */
static int remove_stale_temp(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? 0 : sys_err();
    int rc = 0;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        if (unlinkat(dfd, name, 0) == 0)
            rc = 1;
        else if (errno != ENOENT)
            rc = sys_err();
    }
    close(fd);
    return rc;
}

static int scan_entry(struct octo_blob_store *s, unsigned cls, const char *name, void *ctx)
{
    (void)ctx;
    struct octo_blob_cid cid;
    if (name_is_temp(name)) {
        int rc = remove_stale_temp(s->class_fd[cls], name);
        return rc < 0 ? rc : 0;
    }
    struct stat st;
    if (name_is_blob(name, &cid) &&
        fstatat(s->class_fd[cls], name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
        s->used += (uint64_t)st.st_size;
    return 0;
}

/* At open: removes stale temp files and counts the bytes in use. */
static int scan_store(struct octo_blob_store *s)
{
    s->used = 0;
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++) {
        int rc = walk_class(s, c, scan_entry, NULL);
        if (rc != 0)
            return rc;
        rc = fsync_fd(s->class_fd[c]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- reference files ---- */

static int store_lock(const struct octo_blob_store *s)
{
    while (flock(s->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return sys_err();
    }
    return 0;
}

static void store_unlock(const struct octo_blob_store *s)
{
    OCTO_IGNORE(flock(s->lock_fd, LOCK_UN));
}

struct names {
    char blob[OCTO_BLOB_CID_TEXT_MAX];
    char ref[OCTO_BLOB_CID_TEXT_MAX + sizeof(REF_SUFFIX)];
};

static void make_names(const struct octo_blob_cid *cid, struct names *n)
{
    OCTO_ASSERT(octo_blob_cid_to_text(cid, n->blob, sizeof(n->blob)) > 0);
    snprintf(n->ref, sizeof(n->ref), "%s%s", n->blob, REF_SUFFIX);
}

/* Parses a reference file: 1..10 digits without a leading zero, then "\n". */
static int parse_refs(const char *text, size_t len, uint32_t *count)
{
    if (len < 2 || len > 11 || text[len - 1] != '\n' || text[0] == '0')
        return OCTO_EMALFORMED;
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return OCTO_EMALFORMED;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    if (v > OCTO_BLOB_REFS_MAX)
        return OCTO_EMALFORMED;
    *count = (uint32_t)v;
    return 0;
}

/* The reference count in file name of class dir cls (0 when absent). */
static int ref_read(const struct octo_blob_store *s, unsigned cls, const char *name,
                    uint32_t *count)
{
    *count = 0;
    int fd = openat(s->class_fd[cls], name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? 0 : sys_err();
    char text[REF_FILE_MAX];
    int n = read_full(fd, (uint8_t *)text, sizeof(text));
    close(fd);
    if (n < 0)
        return n;
    return parse_refs(text, (size_t)n, count);
}

/* Replaces the reference file atomically (removes it for 0). Called under the store lock. */
static int ref_write(const struct octo_blob_store *s, unsigned cls, const char *name,
                     uint32_t count)
{
    int dfd = s->class_fd[cls];
    if (count == 0) {
        if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT)
            return sys_err();
        return fsync_fd(dfd);
    }
    char tmp[TMP_NAME_MAX];
    int fd = create_temp(dfd, tmp);
    if (fd < 0)
        return fd;
    char text[REF_FILE_MAX];
    int len = snprintf(text, sizeof(text), "%" PRIu32 "\n", count);
    int rc = write_all(fd, (const uint8_t *)text, (size_t)len);
    if (rc == 0)
        rc = fsync_fd(fd);
    if (rc == 0 && renameat(dfd, tmp, dfd, name) != 0)
        rc = sys_err();
    if (rc < 0)
        OCTO_IGNORE(unlinkat(dfd, tmp, 0));
    close(fd);
    return rc < 0 ? rc : fsync_fd(dfd);
}

/* 0 when the blob file exists (a regular file), OCTO_ENOTFOUND if not. */
static int blob_stat(const struct octo_blob_store *s, unsigned cls, const char *name,
                     struct stat *st)
{
    if (fstatat(s->class_fd[cls], name, st, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_err();
    return S_ISREG(st->st_mode) ? 0 : OCTO_EMALFORMED;
}

/* Adds delta (+1 or -1) to a blob's reference count under the store lock. */
static int ref_change(struct octo_blob_store *s, const struct octo_blob_cid *cid,
                      enum octo_blob_class cls, int delta)
{
    OCTO_ASSERT(s->open);
    if ((unsigned)cls >= OCTO_BLOB_CLASSES)
        return OCTO_EINVAL;
    struct names n;
    make_names(cid, &n);
    int rc = store_lock(s);
    if (rc < 0)
        return rc;
    struct stat st;
    uint32_t count = 0;
    rc = blob_stat(s, cls, n.blob, &st);
    if (rc == 0)
        rc = ref_read(s, cls, n.ref, &count);
    if (rc == 0 && delta > 0 && count >= OCTO_BLOB_REFS_MAX)
        rc = OCTO_ELIMIT;
    if (rc == 0 && delta < 0 && count == 0)
        rc = OCTO_ESTATE;
    if (rc == 0) {
        count = delta > 0 ? count + 1 : count - 1;
        rc = ref_write(s, cls, n.ref, count);
    }
    store_unlock(s);
    return rc < 0 ? rc : (int)count;
}

int octo_blob_ref(struct octo_blob_store *s, const struct octo_blob_cid *cid,
                  enum octo_blob_class cls)
{
    return ref_change(s, cid, cls, 1);
}

int octo_blob_unref(struct octo_blob_store *s, const struct octo_blob_cid *cid,
                    enum octo_blob_class cls)
{
    return ref_change(s, cid, cls, -1);
}

int octo_blob_rm(struct octo_blob_store *s, const struct octo_blob_cid *cid,
                 enum octo_blob_class cls, bool force)
{
    OCTO_ASSERT(s->open);
    if ((unsigned)cls >= OCTO_BLOB_CLASSES)
        return OCTO_EINVAL;
    struct names n;
    make_names(cid, &n);
    int rc = store_lock(s);
    if (rc < 0)
        return rc;
    struct stat st;
    uint32_t count = 0;
    rc = blob_stat(s, cls, n.blob, &st);
    if (rc == 0)
        rc = ref_read(s, cls, n.ref, &count);
    if (rc == OCTO_EMALFORMED && force)
        rc = 0;
    if (rc == 0 && count > 0 && !force)
        rc = OCTO_EBUSY;
    if (rc == 0 && unlinkat(s->class_fd[cls], n.blob, 0) != 0)
        rc = sys_err();
    if (rc == 0 && unlinkat(s->class_fd[cls], n.ref, 0) != 0 && errno != ENOENT)
        rc = sys_err();
    if (rc == 0) {
        uint64_t size = (uint64_t)st.st_size;
        s->used -= size < s->used ? size : s->used;
        rc = fsync_fd(s->class_fd[cls]);
    }
    store_unlock(s);
    return rc;
}

/* ---- stat and ls ---- */

static int info_of(const struct octo_blob_store *s, unsigned cls, const char *name,
                   const struct octo_blob_cid *cid, struct octo_blob_info *info)
{
    int fd = openat(s->class_fd[cls], name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return sys_err();
    uint8_t h[OCTO_BLOB_HEADER_LEN];
    struct blob_header hd;
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? 0 : sys_err();
    if (rc == 0 && !S_ISREG(st.st_mode))
        rc = OCTO_EMALFORMED;
    if (rc == 0) {
        int n = read_full(fd, h, sizeof(h));
        rc = n < 0 ? n : n == (int)sizeof(h) ? header_decode(h, &hd) : OCTO_EMALFORMED;
    }
    close(fd);
    if (rc == 0 && hd.cls != (enum octo_blob_class)cls)
        rc = OCTO_EMALFORMED;
    if (rc < 0)
        return rc;
    char ref[OCTO_BLOB_CID_TEXT_MAX + sizeof(REF_SUFFIX)];
    snprintf(ref, sizeof(ref), "%s%s", name, REF_SUFFIX);
    memset(info, 0, sizeof(*info));
    info->cid = *cid;
    info->cls = hd.cls;
    info->size = hd.len;
    info->disk_size = (uint64_t)st.st_size;
    return ref_read(s, cls, ref, &info->refs);
}

int octo_blob_stat(const struct octo_blob_store *s, const struct octo_blob_cid *cid,
                   enum octo_blob_class cls, struct octo_blob_info *info)
{
    OCTO_ASSERT(s->open);
    if ((unsigned)cls >= OCTO_BLOB_CLASSES)
        return OCTO_EINVAL;
    struct names n;
    make_names(cid, &n);
    return info_of(s, cls, n.blob, cid, info);
}

struct ls_ctx {
    octo_blob_ls_fn fn;
    void *ctx;
};

static int ls_entry(struct octo_blob_store *s, unsigned cls, const char *name, void *ctx)
{
    const struct ls_ctx *l = ctx;
    struct octo_blob_cid cid;
    struct octo_blob_info info;
    if (!name_is_blob(name, &cid) || info_of(s, cls, name, &cid, &info) < 0)
        return 0;
    return l->fn(l->ctx, &info);
}

int octo_blob_ls(const struct octo_blob_store *s, octo_blob_ls_fn fn, void *ctx)
{
    OCTO_ASSERT(s->open);
    struct ls_ctx l = {fn, ctx};
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++) {
        int rc = walk_class(s, c, ls_entry, &l);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- garbage collection ---- */

struct gc_ctx {
    struct octo_blob_gc_stats st;
    time_t now;
    uint64_t min_age_s;
};

static int gc_blob(struct octo_blob_store *s, unsigned cls, const char *name, struct gc_ctx *g)
{
    struct stat st;
    uint32_t refs = 0;
    char ref[OCTO_BLOB_CID_TEXT_MAX + sizeof(REF_SUFFIX)];
    snprintf(ref, sizeof(ref), "%s%s", name, REF_SUFFIX);
    int rc = blob_stat(s, cls, name, &st);
    if (rc == 0)
        rc = ref_read(s, cls, ref, &refs);
    if (rc == OCTO_ENOTFOUND)
        return 0;
    uint64_t age = st.st_mtime < g->now ? (uint64_t)(g->now - st.st_mtime) : 0;
    if (rc < 0 || refs > 0 || age < g->min_age_s) { /* a corrupt ref file keeps the blob */
        g->st.blobs_kept++;
        return 0;
    }
    if (unlinkat(s->class_fd[cls], name, 0) != 0)
        return errno == ENOENT ? 0 : sys_err();
    uint64_t size = (uint64_t)st.st_size;
    s->used -= size < s->used ? size : s->used;
    g->st.blobs_removed++;
    g->st.bytes_removed += size;
    return 0;
}

static int gc_entry(struct octo_blob_store *s, unsigned cls, const char *name, void *ctx)
{
    struct gc_ctx *g = ctx;
    struct octo_blob_cid cid;
    int dfd = s->class_fd[cls];
    if (name_is_temp(name)) {
        int rc = remove_stale_temp(dfd, name);
        if (rc > 0)
            g->st.temps_removed++;
        return rc < 0 ? rc : 0;
    }
    if (name_is_blob(name, &cid))
        return gc_blob(s, cls, name, g);
    if (name_is_ref(name, &cid)) {
        struct stat st;
        char blob[OCTO_BLOB_CID_TEXT_MAX];
        memcpy(blob, name, OCTO_BLOB_CID_TEXT_LEN);
        blob[OCTO_BLOB_CID_TEXT_LEN] = '\0';
        if (fstatat(dfd, blob, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT &&
            unlinkat(dfd, name, 0) == 0)
            g->st.refs_removed++;
    }
    return 0;
}

int octo_blob_gc(struct octo_blob_store *s, uint64_t min_age_s, struct octo_blob_gc_stats *stats)
{
    OCTO_ASSERT(s->open);
    struct gc_ctx g = {.now = time(NULL), .min_age_s = min_age_s};
    int rc = store_lock(s);
    if (rc < 0)
        return rc;
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES && rc == 0; c++) {
        rc = walk_class(s, c, gc_entry, &g);
        if (rc == 0)
            rc = fsync_fd(s->class_fd[c]);
    }
    store_unlock(s);
    if (stats != NULL)
        *stats = g.st;
    return rc;
}
