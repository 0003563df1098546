/*
 * wal.h — an append-only log of records, synced on demand: what the consensus core asks to
 * persist (its own votes and proposals, certificates) goes here before the message that
 * carries it is sent.
 *
 * Record: len u32 (big-endian) | check [4] (the first 4 bytes of SHA-256 of the data) | data.
 * Opening replays every whole, intact record in order and cuts the file after the last one:
 * a record torn by a crash (short, or with a bad check) and anything after it is dropped,
 * which is safe because nothing was sent on the strength of a record that was not synced.
 * Compaction rewrites the file with the records a filter keeps (temp file, fsync, rename,
 * directory fsync), so the log never holds more than the views still open.
 */
#ifndef OCTO_NODE_WAL_H
#define OCTO_NODE_WAL_H

#include "base/err.h"
#include "node/fs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_WAL_RECORD_MAX (2u * 1024u * 1024u)

struct octo_wal {
    int fd;
    uint64_t size;
    bool dirty; /* appended since the last sync */
    char path[OCTO_PATH_MAX];
    uint64_t syncs, records;
};

/* A record's callback: nonzero stops the replay; a negative value makes open fail with it,
 * a positive one opens the log without reading (or cutting) the rest. */
typedef int (*octo_wal_record_fn)(void *ctx, const uint8_t *data, size_t len);

/* Opens (creating, mode 0600) the log at path and replays its records into fn. Errors:
 * OCTO_EIO (with errno in the log), a negative value fn returned. */
OCTO_MUST_USE int octo_wal_open(struct octo_wal *w, const char *path, octo_wal_record_fn fn,
                                void *ctx);
/* Appends one record (not yet durable). Errors: OCTO_ETOOBIG, OCTO_EIO. */
OCTO_MUST_USE int octo_wal_append(struct octo_wal *w, const uint8_t *data, size_t len);
/* Makes every appended record durable (fdatasync when something was appended). */
OCTO_MUST_USE int octo_wal_sync(struct octo_wal *w);
/* Rewrites the log keeping the records for which keep(ctx, data, len) is true. */
typedef bool (*octo_wal_keep_fn)(void *ctx, const uint8_t *data, size_t len);
OCTO_MUST_USE int octo_wal_compact(struct octo_wal *w, octo_wal_keep_fn keep, void *ctx);
void octo_wal_close(struct octo_wal *w);

#endif
