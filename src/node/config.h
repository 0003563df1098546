/*
 * config.h — the node's effective configuration and where each value came from.
 *
 * Sources, lowest to highest precedence: built-in defaults < the INI file
 * ($OCTO_HOME/config.ini) < OCTO_* environment variables < command-line flags. The file
 * format is INI (parsed by Debian's libinih); docs/CONFIG.md lists every key. Unknown
 * sections and keys, bad values and unreadable files are errors that name the file and line
 * (or the variable, or the flag): a typo never silently falls back to a default.
 *
 *   [node]   role = ROLE[,ROLE...]   any of validator, provider, orchestrator, observer
 *            listen = MULTIADDR[, MULTIADDR...]
 *   [log]    level = trace | debug | info | warn | error | off
 *            format = plain | json
 *            file = PATH            (empty: stderr; relative paths are under the home)
 *   [store]  backend = sqlite
 *            path = PATH            (relative paths are under the home)
 */
#ifndef OCTO_NODE_CONFIG_H
#define OCTO_NODE_CONFIG_H

#include "base/log.h"
#include "base/multiaddr.h"
#include "node/fs.h"

#include <stdbool.h>

#define OCTO_CONFIG_FILE "config.ini"
#define OCTO_CONFIG_FILE_MAX (64u * 1024u)
#define OCTO_CONFIG_LINE_MAX 1024
#define OCTO_CONFIG_LISTEN_MAX 8
/* The longest value that fits a config.ini line (libinih reads lines of up to 198
 * characters; "listen = " takes 9 of them). */
#define OCTO_CONFIG_VALUE_MAX 189
#define OCTO_CONFIG_ERR_MAX (OCTO_PATH_MAX + 256)
#define OCTO_DEFAULT_HOME_NAME ".octo"
#define OCTO_DEFAULT_LISTEN "/ip4/0.0.0.0/tcp/4001"

/* A node's roles are a set: these are its bits (struct octo_config.roles). */
enum octo_role {
    OCTO_ROLE_OBSERVER = 1u << 0,     /* follows the chain read-only */
    OCTO_ROLE_VALIDATOR = 1u << 1,    /* votes in consensus */
    OCTO_ROLE_PROVIDER = 1u << 2,     /* advertises models and executes tasks */
    OCTO_ROLE_ORCHESTRATOR = 1u << 3, /* registry, router, verifier and gateway */
};
#define OCTO_ROLES_ALL 0xfu
#define OCTO_ROLES_TEXT_MAX 48 /* "observer,validator,provider,orchestrator" + NUL */

enum octo_config_source {
    OCTO_SRC_DEFAULT = 0,
    OCTO_SRC_FILE = 1,
    OCTO_SRC_ENV = 2,
    OCTO_SRC_FLAG = 3,
};

enum octo_config_key {
    OCTO_CFG_ROLE,
    OCTO_CFG_LISTEN,
    OCTO_CFG_LOG_LEVEL,
    OCTO_CFG_LOG_FORMAT,
    OCTO_CFG_LOG_FILE,
    OCTO_CFG_STORE_BACKEND,
    OCTO_CFG_STORE_PATH,
    OCTO_CFG_KEY_COUNT
};

struct octo_config {
    char home[OCTO_PATH_MAX];
    unsigned roles; /* a non-empty set of enum octo_role bits */
    struct octo_multiaddr listen[OCTO_CONFIG_LISTEN_MAX];
    size_t listen_count;
    enum octo_log_level log_level;
    enum octo_log_format log_format;
    char log_file[OCTO_PATH_MAX]; /* "" = stderr */
    char store_backend[16];
    char store_path[OCTO_PATH_MAX];
    enum octo_config_source source[OCTO_CFG_KEY_COUNT];
};

struct octo_config_error {
    char msg[OCTO_CONFIG_ERR_MAX]; /* one line, no trailing newline */
};

/* Fills defaults. home: the given directory, else $OCTO_HOME from env, else $HOME/.octo.
 * env is a NULL-terminated "NAME=value" array (environ in production, a fixture in tests). */
OCTO_MUST_USE int octo_config_init(struct octo_config *cfg, const char *home_flag, char *const *env,
                                   struct octo_config_error *err);

/* Applies the INI file at path. A missing file is fine when `optional`. Errors (all
 * OCTO_ECONFIG, message "PATH:LINE: ..."): syntax errors, unknown sections/keys, bad values,
 * over-long lines; unreadable file: "PATH: <reason>". */
OCTO_MUST_USE int octo_config_load_file(struct octo_config *cfg, const char *path, bool optional,
                                        struct octo_config_error *err);

/* Applies INI text (len bytes, not NUL-terminated) as if read from a file called name; the
 * same errors as octo_config_load_file, with name in place of the path. */
OCTO_MUST_USE int octo_config_load_text(struct octo_config *cfg, const char *name, const char *text,
                                        size_t len, struct octo_config_error *err);

/* Applies OCTO_ROLE, OCTO_LISTEN, OCTO_LOG_LEVEL, OCTO_LOG_FORMAT, OCTO_LOG_FILE,
 * OCTO_STORE_BACKEND, OCTO_STORE_PATH from env. Errors name the variable. */
OCTO_MUST_USE int octo_config_apply_env(struct octo_config *cfg, char *const *env,
                                        struct octo_config_error *err);

/* Sets one key from a string value with the given source (used for flags); `what` names the
 * origin in error messages (e.g. "--role"). Errors: OCTO_ECONFIG. */
OCTO_MUST_USE int octo_config_set(struct octo_config *cfg, enum octo_config_key key,
                                  const char *value, enum octo_config_source source,
                                  const char *what, struct octo_config_error *err);

/* Convenience: defaults, then $home/config.ini (optional), then env. Flags come after. */
OCTO_MUST_USE int octo_config_load(struct octo_config *cfg, const char *home_flag, char *const *env,
                                   struct octo_config_error *err);

/* Writes the effective configuration as INI text (what `octo init` writes), one listen line
 * per address. OCTO_ETOOBIG when a listen address is too long for a config line
 * (OCTO_CONFIG_VALUE_MAX); values set through octo_config_set always fit. */
OCTO_MUST_USE int octo_config_format(const struct octo_config *cfg, struct octo_buf *out);

/* The name of one role bit ("validator"). */
const char *octo_role_name(enum octo_role role);
/* "validator,orchestrator" (any order, no repeats, at least one) into a set of bits.
 * OCTO_EINVAL otherwise. */
OCTO_MUST_USE int octo_roles_parse(const char *s, unsigned *out);
/* The set as text in a fixed order ("observer,validator,provider,orchestrator"). */
void octo_roles_format(unsigned roles, char out[OCTO_ROLES_TEXT_MAX]);
const char *octo_config_key_name(enum octo_config_key key); /* "node.role" */
const char *octo_config_source_name(enum octo_config_source src);

/* Absolute path of a home-relative setting (store path, log file). */
OCTO_MUST_USE int octo_config_path(const struct octo_config *cfg, const char *rel, char *out,
                                   size_t out_size);

#endif
