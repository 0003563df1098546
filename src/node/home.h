/*
 * home.h — the node home directory (default ~/.octo, $OCTO_HOME, --home):
 *
 *   config.ini        the configuration (INI, see config.h); mode 0644
 *   keys/             mode 0700
 *   keys/node.key     the node identity (keystore format, crypto/keystore.h); mode 0600
 *   data/             mode 0700; data/octo.db is the SQLite store (peerstore, settings)
 *
 * `octo init` is idempotent: it creates what is missing and keeps what exists. An existing
 * key is never replaced without `force`.
 */
#ifndef OCTO_NODE_HOME_H
#define OCTO_NODE_HOME_H

#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "node/config.h"

#include <stdbool.h>

#define OCTO_HOME_KEYS_DIR "keys"
#define OCTO_HOME_KEY_FILE "keys/node.key"
#define OCTO_HOME_DATA_DIR "data"
#define OCTO_PASSPHRASE_MAX 1024

struct octo_home_error {
    char msg[OCTO_PATH_MAX + 256];
};

struct octo_home_init_options {
    bool force;             /* replace an existing key and config */
    const char *passphrase; /* NULL: key stored unencrypted (still 0600) */
    const uint8_t *seed;    /* NULL: random key; else 32 bytes (tests, devnets) */
};

struct octo_home_init_result {
    bool key_created;
    bool config_created;
    struct octo_peerid peer_id;
};

/* Creates or completes the home described by cfg. Errors: OCTO_EPERM, OCTO_EIO, OCTO_EEXIST,
 * OCTO_EDECRYPT (existing encrypted key, wrong passphrase), OCTO_ESTORE; err says which
 * file. */
OCTO_MUST_USE int octo_home_init(const struct octo_config *cfg,
                                 const struct octo_home_init_options *opts,
                                 struct octo_home_init_result *res, struct octo_home_error *err);

/* Loads the node identity from keys/node.key, refusing a key file that is a symlink, not
 * ours or readable by others, or that sits in a directory others can write.
 * OCTO_ENOTFOUND when the home has no key ("run octo init"). */
OCTO_MUST_USE int octo_home_load_identity(const struct octo_config *cfg, const char *passphrase,
                                          struct octo_identity *out, struct octo_home_error *err);

/* Reads a passphrase file (at most OCTO_PASSPHRASE_MAX + 2 bytes in all): its first line,
 * without the line ending, is the passphrase, 1..OCTO_PASSPHRASE_MAX bytes, stored
 * NUL-terminated in out (a secret buffer the caller initialised). */
OCTO_MUST_USE int octo_home_read_passphrase(const char *path, struct octo_buf *out,
                                            struct octo_home_error *err);

/* Path of a file inside the home. */
OCTO_MUST_USE int octo_home_path(const struct octo_config *cfg, const char *rel, char *out,
                                 size_t out_size);

#endif
