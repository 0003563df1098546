/*
 * settings.h — the node's persistent key/value settings on the storage interface.
 *
 * Keys are 1..OCTO_SETTINGS_KEY_MAX bytes of printable ASCII without spaces (0x21..0x7e),
 * e.g. "node.identity.created"; values are opaque blobs of 0..OCTO_SETTINGS_VALUE_MAX bytes.
 * At most OCTO_SETTINGS_COUNT_MAX keys exist (a new key beyond it is OCTO_ETOOBIG).
 * Settings are not for secrets: private keys live in their own 0600 files (crypto/keystore).
 *
 * Every call works alone or inside a transaction the caller opened (a write transaction for
 * set/delete). Needs the node schema (octo_store_migrate_node).
 */
#ifndef OCTO_STORE_SETTINGS_H
#define OCTO_STORE_SETTINGS_H

#include "base/buf.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_SETTINGS_KEY_MAX 128
#define OCTO_SETTINGS_VALUE_MAX (64u * 1024u)
#define OCTO_SETTINGS_COUNT_MAX 4096

/*
 * Reads a value into out, replacing its contents (out keeps its own ceiling, out->max).
 * Errors: OCTO_ENOTFOUND (no such key), OCTO_EINVAL (bad key), OCTO_ETOOBIG (the value does
 * not fit out->max, or a stored value exceeds OCTO_SETTINGS_VALUE_MAX), OCTO_ENOMEM, store
 * errors. After any error out is empty (for OCTO_EINVAL on the key: unchanged).
 */
OCTO_MUST_USE int octo_settings_get(struct octo_store *s, const char *key, struct octo_buf *out);

/*
 * Sets (inserts or replaces) a value; val may be NULL when len is 0.
 * Errors: OCTO_EINVAL (bad key, NULL val with len > 0), OCTO_ETOOBIG (len over
 * OCTO_SETTINGS_VALUE_MAX, or a new key when OCTO_SETTINGS_COUNT_MAX exist), OCTO_EBUSY,
 * OCTO_ESTATE (inside a read transaction), store errors.
 */
OCTO_MUST_USE int octo_settings_set(struct octo_store *s, const char *key, const void *val,
                                    size_t len);

/* Deletes a key. Errors: OCTO_ENOTFOUND, OCTO_EINVAL, OCTO_EBUSY, OCTO_ESTATE (inside a read
 * transaction), store errors. */
OCTO_MUST_USE int octo_settings_delete(struct octo_store *s, const char *key);

/* Called by list for each setting, valid during the call; a negative return stops the
 * listing and is returned by list. */
typedef int (*octo_settings_list_fn)(const char *key, const uint8_t *val, size_t len, void *ctx);

/* Lists every setting in bytewise key order. Returns the number listed or the callback's
 * error / store errors. The callback must not call into the store. */
OCTO_MUST_USE int octo_settings_list(struct octo_store *s, octo_settings_list_fn fn, void *ctx);

#endif
