/*
 * home.c — creating and reading the node home (layout in home.h).
 *
 * Order of `init`: directories, then the key (the one thing that must never be lost or
 * silently replaced), then the config, then the store, which records the node's peer id.
 * Each file is written atomically (node/fs.c), so a crash at any point leaves either the old
 * or the new file, and a re-run of init completes the rest.
 */
#include "node/home.h"

#include "base/assert.h"
#include "base/mem.h"
#include "crypto/keystore.h"
#include "node/sysclock.h"
#include "store/settings.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int errorf(struct octo_home_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errorf(struct octo_home_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

static int fs_error(struct octo_home_error *err, int code, const struct octo_fs_error *ferr)
{
    return errorf(err, code, "%s", ferr->msg);
}

int octo_home_path(const struct octo_config *cfg, const char *rel, char *out, size_t out_size)
{
    return octo_fs_join(out, out_size, cfg->home, rel);
}

/* The home must not be writable by others (it holds keys/); keys/ and data/ are ours alone:
 * existing ones are tightened to 0700. */
static int secure_dirs(const struct octo_config *cfg, bool create, struct octo_home_error *err)
{
    static const char *const dirs[] = {"", OCTO_HOME_KEYS_DIR, OCTO_HOME_DATA_DIR};
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(dirs); i++) {
        char path[OCTO_PATH_MAX];
        struct octo_fs_error ferr;
        /* the home itself by its own name (no trailing '/' in messages) */
        if (dirs[i][0] == '\0')
            memcpy(path, cfg->home, sizeof(cfg->home));
        else if (octo_home_path(cfg, dirs[i], path, sizeof(path)) < 0)
            return errorf(err, OCTO_ETOOBIG, "%s: path too long", cfg->home);
        int rc = create ? octo_fs_mkdir_p(path, 0700, &ferr) : 0;
        if (rc == 0)
            rc = octo_fs_secure_dir(path, i != 0, &ferr);
        if (rc < 0)
            return fs_error(err, rc, &ferr);
    }
    return 0;
}

static int write_key(const char *path, const struct octo_identity *id, const char *passphrase,
                     bool replace, struct octo_home_error *err)
{
    struct octo_buf file;
    octo_buf_init_secret(&file, OCTO_KEYSTORE_FILE_MAX);
    int rc = octo_keystore_encode(id, passphrase, NULL, &file);
    if (rc < 0) {
        octo_buf_deinit(&file);
        return errorf(err, rc, "%s: cannot encode key: %s", path, octo_strerror(rc));
    }
    struct octo_fs_error ferr;
    rc = octo_fs_write_atomic(path, file.data, file.len, 0600, !replace, &ferr);
    octo_buf_deinit(&file);
    if (rc < 0)
        return fs_error(err, rc, &ferr);
    return 0;
}

static int make_key(const struct octo_config *cfg, const struct octo_home_init_options *opts,
                    struct octo_identity *id, bool *created, struct octo_home_error *err)
{
    char path[OCTO_PATH_MAX];
    if (octo_home_path(cfg, OCTO_HOME_KEY_FILE, path, sizeof(path)) < 0)
        return errorf(err, OCTO_ETOOBIG, "%s: path too long", cfg->home);
    int exists = octo_fs_exists(path);
    if (exists < 0)
        return errorf(err, exists, "%s: %s", path, octo_strerror(exists));
    *created = false;
    if (exists && !opts->force)
        return octo_home_load_identity(cfg, opts->passphrase, id, err);
    int rc =
        opts->seed != NULL ? octo_identity_from_seed(id, opts->seed) : octo_identity_generate(id);
    if (rc < 0)
        return errorf(err, rc, "cannot create a key: %s", octo_strerror(rc));
    rc = write_key(path, id, opts->passphrase, exists != 0, err);
    if (rc < 0) {
        octo_identity_deinit(id);
        return rc;
    }
    *created = true;
    return 0;
}

static int make_config(const struct octo_config *cfg, bool force, bool *created,
                       struct octo_home_error *err)
{
    char path[OCTO_PATH_MAX];
    if (octo_home_path(cfg, OCTO_CONFIG_FILE, path, sizeof(path)) < 0)
        return errorf(err, OCTO_ETOOBIG, "%s: path too long", cfg->home);
    *created = false;
    if (octo_fs_exists(path) == 1 && !force)
        return 0;
    struct octo_buf text;
    octo_buf_init(&text, OCTO_CONFIG_FILE_MAX);
    int rc = octo_config_format(cfg, &text);
    struct octo_fs_error ferr;
    if (rc == 0)
        rc = octo_fs_write_atomic(path, text.data, text.len, 0644, false, &ferr);
    else
        snprintf(ferr.msg, sizeof(ferr.msg), "%s: %s", path, octo_strerror(rc));
    octo_buf_deinit(&text);
    if (rc < 0)
        return fs_error(err, rc, &ferr);
    *created = true;
    return 0;
}

static int record_in_store(const struct octo_config *cfg, const struct octo_peerid *pid,
                           struct octo_home_error *err)
{
    char path[OCTO_PATH_MAX];
    if (octo_config_path(cfg, cfg->store_path, path, sizeof(path)) < 0)
        return errorf(err, OCTO_ETOOBIG, "%s: path too long", cfg->store_path);
    struct octo_store *store = NULL;
    int rc = octo_store_open_sqlite(&store, path, NULL);
    if (rc < 0) {
        errorf(err, rc, "%s: cannot open store: %s", path,
               store != NULL ? octo_store_errmsg(store) : octo_strerror(rc));
        goto out;
    }
    rc = octo_store_migrate_node_at(store,
                                    octo_clock_wall(octo_sysclock()) / (int64_t)OCTO_NS_PER_MS);
    if (rc < 0) {
        errorf(err, rc, "%s: cannot migrate store: %s", path, octo_store_errmsg(store));
        goto out;
    }
    char text[OCTO_PEERID_TEXT_MAX];
    int n = octo_peerid_to_base58(pid, text, sizeof(text));
    OCTO_ASSERT(n > 0);
    rc = octo_settings_set(store, "node.peer_id", text, (size_t)n);
    if (rc < 0)
        errorf(err, rc, "%s: cannot write settings: %s", path, octo_store_errmsg(store));
out:
    if (store != NULL)
        octo_store_close(store);
    return rc;
}

int octo_home_init(const struct octo_config *cfg, const struct octo_home_init_options *opts,
                   struct octo_home_init_result *res, struct octo_home_error *err)
{
    memset(res, 0, sizeof(*res));
    int rc = secure_dirs(cfg, true, err);
    if (rc < 0)
        return rc;
    struct octo_identity id;
    rc = make_key(cfg, opts, &id, &res->key_created, err);
    if (rc < 0)
        return rc;
    octo_peerid_from_pubkey(&id.pub, &res->peer_id);
    octo_identity_deinit(&id);
    rc = make_config(cfg, opts->force, &res->config_created, err);
    if (rc < 0)
        return rc;
    return record_in_store(cfg, &res->peer_id, err);
}

int octo_home_load_identity(const struct octo_config *cfg, const char *passphrase,
                            struct octo_identity *out, struct octo_home_error *err)
{
    char path[OCTO_PATH_MAX];
    if (octo_home_path(cfg, OCTO_HOME_KEY_FILE, path, sizeof(path)) < 0)
        return errorf(err, OCTO_ETOOBIG, "%s: path too long", cfg->home);
    struct octo_fs_error ferr;
    struct octo_buf file;
    octo_buf_init_secret(&file, OCTO_KEYSTORE_FILE_MAX);
    int rc = octo_fs_read_private(path, &file, &ferr);
    if (rc == OCTO_ENOTFOUND) {
        octo_buf_deinit(&file);
        return errorf(err, rc, "%s: no node key (run 'octo init' first)", path);
    }
    if (rc == 0)
        rc = secure_dirs(cfg, false, err) < 0 ? OCTO_EPERM : 0;
    else
        fs_error(err, rc, &ferr);
    if (rc < 0) {
        octo_buf_deinit(&file);
        return rc;
    }
    rc = octo_keystore_decode(file.data, file.len, passphrase, out);
    octo_buf_deinit(&file);
    if (rc == OCTO_EPERM)
        return errorf(err, rc, "%s: key is passphrase-protected (use --passphrase-file)", path);
    if (rc == OCTO_EDECRYPT)
        return errorf(err, rc, "%s: wrong passphrase or corrupted key file", path);
    if (rc < 0)
        return errorf(err, rc, "%s: invalid key file: %s", path, octo_strerror(rc));
    return 0;
}

int octo_home_read_passphrase(const char *path, struct octo_buf *out, struct octo_home_error *err)
{
    struct octo_fs_error ferr;
    size_t max = out->max;
    out->max = OCTO_PASSPHRASE_MAX + 2 < max ? OCTO_PASSPHRASE_MAX + 2 : max;
    int rc = octo_fs_read(path, out, &ferr);
    out->max = max;
    if (rc == OCTO_ETOOBIG)
        return errorf(err, rc, "%s: passphrase file too large (limit %d bytes)", path,
                      OCTO_PASSPHRASE_MAX);
    if (rc < 0)
        return fs_error(err, rc, &ferr);
    if (out->len == 0)
        return errorf(err, OCTO_EINVAL, "%s: empty passphrase", path);
    uint8_t *nl = memchr(out->data, '\n', out->len);
    size_t len = nl != NULL ? (size_t)(nl - out->data) : out->len;
    if (len > 0 && out->data[len - 1] == '\r')
        len--;
    octo_wipe(out->data + len, out->len - len);
    out->len = len;
    if (len == 0)
        return errorf(err, OCTO_EINVAL, "%s: empty passphrase", path);
    if (len > OCTO_PASSPHRASE_MAX)
        return errorf(err, OCTO_ETOOBIG, "%s: passphrase longer than %d bytes", path,
                      OCTO_PASSPHRASE_MAX);
    if (memchr(out->data, '\0', len) != NULL)
        return errorf(err, OCTO_EINVAL, "%s: passphrase contains a NUL byte", path);
    out->data[len] = '\0';
    return 0;
}
