/*
 * blob.h — the Data Manager's content-addressed blob store.
 *
 * A store is a directory (the node home's data/blobs) holding blobs named by the CIDv1 of
 * their plaintext (multibase base32 lower "b", CID version 1, codec raw 0x55, multihash
 * sha2-256: the IPFS form, "bafkrei..."). Every blob carries its data class (ARCHITECTURE.md
 * §5; the values match enum octo_data_class of intel/router.h): equal content dedups within a
 * class, each class has its own subdirectory, and PRIVATE, CONFIDENTIAL and SHARED blobs are
 * encrypted at rest (crypto/aead.h, libsodium secretstream) under the store key — a 32-byte
 * key given by the caller or kept in <dir>/blob.key (mode 0600, created on first open).
 * PUBLIC blobs are stored plain.
 *
 * Layout of <dir>:
 *   blob.key                     the store key (when the caller passes none)
 *   .lock                        flock()ed around reference updates, rm and gc
 *   public/ shared/ confidential/ private/
 *     <cid>                      one blob (format below)
 *     <cid>.ref                  its reference count, ASCII decimal + "\n" (absent = 0)
 *     .tmp-<16 hex>              a put (or a ref update) in progress; flock()ed by its writer
 *
 * Blob file format, version 1 (integers big-endian):
 *   0  4  magic "OCBL"
 *   4  1  version (1)
 *   5  1  class (0 public, 1 shared, 2 confidential, 3 private): must match the directory
 *   6  2  reserved, 0
 *   8  4  chunk size C: plaintext bytes per chunk (0 for PUBLIC)
 *   12 8  key id: first 8 bytes of BLAKE2b-256 keyed by the store key over "octo-blob-keyid-v1"
 *         (0 for PUBLIC): a wrong key is reported before any decryption
 *   20 24 secretstream header (0 for PUBLIC)
 *   44 8  plaintext length L
 *   52    body. PUBLIC: the L plaintext bytes. Encrypted: max(1, ceil(L / C)) secretstream
 *         chunks; all but the last hold C plaintext bytes, the last holds the rest (0 bytes
 *         only when L = 0) and carries the FINAL tag; each adds OCTO_AEAD_ABYTES.
 *   Nothing may follow the body.
 * Authentication: the stream key of an encrypted blob is BLAKE2b-256 keyed by the store key
 * over "octo-blob-stream-v1" || header[0..20), so changing the magic, version, class, chunk
 * size or key id makes the first chunk fail to open (a PRIVATE blob relabelled SHARED never
 * decrypts); the secretstream authenticates its own header and every chunk, and the length
 * is bound by the position of the FINAL tag and the chunk sizes it implies. (crypto/aead.h
 * has no additional-data input, hence the key binding.) PUBLIC blobs must have the zero
 * fields above zero, and every blob's plaintext must hash to its name: a get that finds a
 * mismatch fails at the end of the stream. Corruption is never returned as valid.
 *
 * Writes are crash-safe: a put writes a temp file in the class directory, fsyncs it, renames
 * it to its CID (never replacing an existing blob: that is a dedup) and fsyncs the directory.
 * A crash leaves at most a temp file, which open and gc remove (unless its writer, which holds
 * an flock on it, is still alive). Reference files are replaced the same way under .lock.
 *
 * Limits: a blob is at most options.size_max plaintext bytes (OCTO_BLOB_SIZE_MAX at most), the
 * store at most options.quota bytes on disk (counted at open, kept up to date by this process;
 * another process writing the same store is seen at the next open), chunk sizes within
 * [OCTO_BLOB_CHUNK_MIN, OCTO_BLOB_CHUNK_MAX], reference counts up to OCTO_BLOB_REFS_MAX.
 *
 * Threading: one store object per thread (no internal locking beyond the flock).
 */
#ifndef OCTO_EXEC_BLOB_H
#define OCTO_EXEC_BLOB_H

#include "base/err.h"
#include "crypto/aead.h"
#include "crypto/hash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_BLOB_SIZE_MAX (UINT64_C(1) << 30)  /* plaintext bytes per blob */
#define OCTO_BLOB_CHUNK_DEFAULT (64u * 1024u)   /* plaintext bytes per encrypted chunk */
#define OCTO_BLOB_CHUNK_MIN 64u                 /* accepted from a file or the options */
#define OCTO_BLOB_CHUNK_MAX OCTO_AEAD_CHUNK_MAX /* 1 MiB */
#define OCTO_BLOB_DIR_MAX 3072                  /* store directory path length */
#define OCTO_BLOB_HEADER_LEN 52
#define OCTO_BLOB_CID_LEN 36      /* binary CID: 0x01 0x55 0x12 0x20 digest[32] */
#define OCTO_BLOB_CID_TEXT_LEN 59 /* "b" + base32 of the binary CID */
#define OCTO_BLOB_CID_TEXT_MAX (OCTO_BLOB_CID_TEXT_LEN + 1)
#define OCTO_BLOB_REFS_MAX 1000000000u
#define OCTO_BLOB_KEY_LEN OCTO_AEAD_KEY_LEN
#define OCTO_BLOB_KEY_FILE "blob.key"

enum octo_blob_class {
    OCTO_BLOB_PUBLIC = 0,
    OCTO_BLOB_SHARED = 1,
    OCTO_BLOB_CONFIDENTIAL = 2,
    OCTO_BLOB_PRIVATE = 3,
};
#define OCTO_BLOB_CLASSES 4

/* Classes a reader may read, as a bit mask. PUBLIC and SHARED are the default; CONFIDENTIAL
 * and PRIVATE must be allowed explicitly. */
#define OCTO_BLOB_ALLOW(c) (1u << (unsigned)(c))
#define OCTO_BLOB_ALLOW_DEFAULT                                                                    \
    (OCTO_BLOB_ALLOW(OCTO_BLOB_PUBLIC) | OCTO_BLOB_ALLOW(OCTO_BLOB_SHARED))
#define OCTO_BLOB_ALLOW_ALL 0xfu

/* A blob's identity: the SHA-256 of its plaintext (the CID's multihash digest). */
struct octo_blob_cid {
    uint8_t digest[OCTO_SHA256_LEN];
};

struct octo_blob_options {
    const uint8_t *key;  /* OCTO_BLOB_KEY_LEN bytes (copied), or NULL: <dir>/blob.key */
    uint64_t size_max;   /* 0: OCTO_BLOB_SIZE_MAX */
    uint64_t quota;      /* bytes on disk for the whole store; 0: unlimited */
    uint32_t chunk_size; /* chunk size of new blobs; 0: OCTO_BLOB_CHUNK_DEFAULT */
};

struct octo_blob_store {
    char dir[OCTO_BLOB_DIR_MAX + 1];
    int root_fd;
    int class_fd[OCTO_BLOB_CLASSES];
    int lock_fd;
    uint8_t key[OCTO_BLOB_KEY_LEN];
    uint8_t key_id[8];
    uint64_t size_max;
    uint64_t quota;
    uint64_t used; /* bytes of blob files on disk */
    uint32_t chunk_size;
    bool open;
};

struct octo_blob_info {
    struct octo_blob_cid cid;
    enum octo_blob_class cls;
    uint64_t size;      /* plaintext length, from the header (not verified by ls/stat) */
    uint64_t disk_size; /* bytes of the file */
    uint32_t refs;
};

struct octo_blob_put {
    struct octo_blob_store *store;
    enum octo_blob_class cls;
    int fd;
    char tmp[32];
    struct octo_sha256 sha;
    struct octo_aead_enc enc;
    uint8_t *chunk; /* encrypted classes: buffered plaintext (chunk_size bytes) */
    uint8_t *ct;    /* encrypted classes: chunk_size + OCTO_AEAD_ABYTES bytes */
    size_t chunk_len;
    uint32_t chunk_size;
    uint64_t total; /* plaintext bytes so far */
    uint64_t disk;  /* file bytes so far, header included */
    uint8_t header[OCTO_BLOB_HEADER_LEN];
    int err;     /* sticky error: a failed put can only be aborted */
    bool active; /* between init and final/abort */
};

struct octo_blob_get {
    int fd;
    enum octo_blob_class cls;
    uint64_t len;  /* plaintext length from the header */
    uint64_t done; /* plaintext bytes decoded so far */
    uint32_t chunk_size;
    uint64_t chunks; /* encrypted: number of chunks */
    uint64_t chunk_index;
    struct octo_aead_dec dec;
    struct octo_sha256 sha;
    uint8_t expect[OCTO_SHA256_LEN];
    uint8_t *in;    /* ciphertext of one chunk (encrypted classes) */
    uint8_t *plain; /* decoded plaintext not yet returned */
    size_t in_cap, plain_cap, plain_len, plain_off;
    int err;       /* sticky error */
    bool verified; /* the end was reached and everything checked */
    bool active;
};

/* ---- CIDs ---- */

/* The CID of in[0..len). */
void octo_blob_cid_of(const void *in, size_t len, struct octo_blob_cid *out);

/* Writes the text form ("bafkrei...", OCTO_BLOB_CID_TEXT_LEN characters + NUL). Returns the
 * length or OCTO_ENOSPACE (out_size < OCTO_BLOB_CID_TEXT_MAX). */
OCTO_MUST_USE int octo_blob_cid_to_text(const struct octo_blob_cid *cid, char *out,
                                        size_t out_size);

/* Parses the text form: exactly OCTO_BLOB_CID_TEXT_LEN characters, prefix 'b', CIDv1, codec
 * raw, multihash sha2-256 of 32 bytes, canonical base32. Errors: OCTO_EMALFORMED,
 * OCTO_EUNSUPPORTED (another version, codec, hash or multibase). */
OCTO_MUST_USE int octo_blob_cid_parse(const char *text, size_t len, struct octo_blob_cid *out);

/* Name of a class ("public", ...), or "?" for another value. */
const char *octo_blob_class_name(enum octo_blob_class c);

/* Parses a class name. Returns 0 or OCTO_EINVAL. */
OCTO_MUST_USE int octo_blob_class_parse(const char *name, enum octo_blob_class *out);

/* ---- the store ---- */

/* Opens (creating what is missing: the directory, its parent must exist, the class
 * directories, the key file) the store in dir, removes stale temp files and counts the bytes
 * in use. opts may be NULL (defaults). Errors: OCTO_EINVAL (bad options), OCTO_ETOOBIG (path
 * longer than OCTO_BLOB_DIR_MAX), OCTO_EPERM (a key file readable by others, a symlink, or a
 * permission error), OCTO_EMALFORMED (a key file not of OCTO_BLOB_KEY_LEN bytes), OCTO_EIO
 * and other errno mappings. On error nothing needs deinit. */
OCTO_MUST_USE int octo_blob_init(struct octo_blob_store *s, const char *dir,
                                 const struct octo_blob_options *opts);

/* Closes the directories and wipes the key. Tolerates a zeroed or failed-init struct. */
void octo_blob_deinit(struct octo_blob_store *s);

/* ---- streaming put ---- */

/* Starts storing a blob of class cls. Errors: OCTO_EINVAL (class), OCTO_ENOMEM, OCTO_ECRYPTO,
 * OCTO_EIO. On error nothing needs cleaning. */
OCTO_MUST_USE int octo_blob_put_init(struct octo_blob_put *p, struct octo_blob_store *s,
                                     enum octo_blob_class cls);

/* Adds data[0..len). Errors: OCTO_ETOOBIG (the blob would exceed size_max), OCTO_ELIMIT (the
 * store quota), OCTO_EIO, OCTO_ESTATE (after an error or outside init..final). After an error
 * the put must be aborted. */
OCTO_MUST_USE int octo_blob_put_update(struct octo_blob_put *p, const void *data, size_t len);

/* Finishes: writes the header, fsyncs, renames the file to its CID (0 is returned for a blob
 * already stored: dedup) and fsyncs the directory; stores the CID in out. The put is over
 * either way (no abort needed). Errors: those of update, OCTO_EIO. */
OCTO_MUST_USE int octo_blob_put_final(struct octo_blob_put *p, struct octo_blob_cid *out);

/* Abandons a put, removing its temp file. Tolerates a finished, failed-init or zeroed put. */
void octo_blob_put_abort(struct octo_blob_put *p);

/* One-shot put of data[0..len). Errors: as init, update and final. */
OCTO_MUST_USE int octo_blob_put(struct octo_blob_store *s, enum octo_blob_class cls,
                                const void *data, size_t len, struct octo_blob_cid *out);

/* ---- streaming get ---- */

/* Opens the blob cid for reading by a caller allowed the classes in `allow`
 * (OCTO_BLOB_ALLOW bits); looks in the allowed class directories, PUBLIC first. info (may be
 * NULL) receives the header's claims. Errors: OCTO_ENOTFOUND, OCTO_EPERM (the blob exists only
 * in classes not allowed), OCTO_EMALFORMED / OCTO_EUNSUPPORTED (bad header), OCTO_ETOOBIG
 * (length over size_max), OCTO_EDECRYPT (another key), OCTO_ENOMEM, OCTO_EIO. On error
 * nothing needs deinit. */
OCTO_MUST_USE int octo_blob_get_init(struct octo_blob_get *g, const struct octo_blob_store *s,
                                     const struct octo_blob_cid *cid, unsigned allow,
                                     struct octo_blob_info *info);

/* As octo_blob_get_init on an open stored file (fd is taken over: on error it is closed and
 * nothing needs deinit) expected to be a blob of class cls holding the content named cid: the
 * decoder the fuzzer drives. Same errors. */
OCTO_MUST_USE int octo_blob_get_init_fd(struct octo_blob_get *g, const struct octo_blob_store *s,
                                        int fd, enum octo_blob_class cls,
                                        const struct octo_blob_cid *cid, unsigned allow,
                                        struct octo_blob_info *info);

/* Reads up to out_size plaintext bytes. Returns the count (> 0), or 0 at the end once the
 * whole file was checked (length, FINAL tag, nothing after the body, SHA-256 equal to the
 * CID). Errors (sticky): OCTO_EMALFORMED (truncated, or bytes after the body), OCTO_EDECRYPT
 * (a chunk failed to open, or the content does not match its CID), OCTO_EIO. Bytes returned
 * before an error must be discarded by the caller. */
OCTO_MUST_USE int octo_blob_get_read(struct octo_blob_get *g, uint8_t *out, size_t out_size);

/* Closes the file and wipes the buffers. Tolerates a zeroed or failed-init struct. */
void octo_blob_get_deinit(struct octo_blob_get *g);

/* One-shot get appending the verified content to out (nothing is appended on error: out is
 * restored to its length). Errors: those of init and read, OCTO_ETOOBIG (out's ceiling). */
OCTO_MUST_USE int octo_blob_get(const struct octo_blob_store *s, const struct octo_blob_cid *cid,
                                unsigned allow, struct octo_buf *out);

/* ---- metadata, references, garbage collection ---- */

/* The header claims, disk size and reference count of the blob cid of class cls.
 * Errors: OCTO_ENOTFOUND, OCTO_EMALFORMED, OCTO_EUNSUPPORTED, OCTO_EIO. */
OCTO_MUST_USE int octo_blob_stat(const struct octo_blob_store *s, const struct octo_blob_cid *cid,
                                 enum octo_blob_class cls, struct octo_blob_info *info);

/* Calls fn for every blob (class order, then directory order); a non-zero return from fn
 * stops the walk and is returned. Files that are not blobs are skipped, blobs with a bad
 * header too. Returns 0 or an OCTO_EIO-style error. */
typedef int (*octo_blob_ls_fn)(void *ctx, const struct octo_blob_info *info);
OCTO_MUST_USE int octo_blob_ls(const struct octo_blob_store *s, octo_blob_ls_fn fn, void *ctx);

/* Adds a reference to a stored blob; returns the new count. Errors: OCTO_ENOTFOUND,
 * OCTO_ELIMIT (OCTO_BLOB_REFS_MAX), OCTO_EMALFORMED (a corrupt ref file), OCTO_EIO. */
OCTO_MUST_USE int octo_blob_ref(struct octo_blob_store *s, const struct octo_blob_cid *cid,
                                enum octo_blob_class cls);

/* Drops a reference; returns the new count. Errors: OCTO_ENOTFOUND (no such blob),
 * OCTO_ESTATE (no reference held), OCTO_EMALFORMED, OCTO_EIO. */
OCTO_MUST_USE int octo_blob_unref(struct octo_blob_store *s, const struct octo_blob_cid *cid,
                                  enum octo_blob_class cls);

/* Removes a blob (and its reference file). Errors: OCTO_ENOTFOUND, OCTO_EBUSY (referenced and
 * not force), OCTO_EIO. */
OCTO_MUST_USE int octo_blob_rm(struct octo_blob_store *s, const struct octo_blob_cid *cid,
                               enum octo_blob_class cls, bool force);

struct octo_blob_gc_stats {
    uint64_t blobs_removed;
    uint64_t bytes_removed;
    uint64_t temps_removed;
    uint64_t refs_removed; /* reference files of absent blobs */
    uint64_t blobs_kept;
};

/* Removes stale temp files, reference files without a blob, and every unreferenced blob
 * whose file is at least min_age_s seconds old (a grace period for blobs put but not yet
 * referenced). stats may be NULL. Errors: OCTO_EIO and other errno mappings. */
OCTO_MUST_USE int octo_blob_gc(struct octo_blob_store *s, uint64_t min_age_s,
                               struct octo_blob_gc_stats *stats);

#endif
