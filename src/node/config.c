/*
 * config.c — loading and layering the node configuration (see config.h for the format).
 *
 * Every key is described once in `keys[]` (section, name, environment variable); the file,
 * environment and flag paths all end in set_value(), so a value is validated the same way
 * whatever its source. The INI text is read whole (bounded by OCTO_CONFIG_FILE_MAX) and fed
 * to libinih line by line through our own reader, which counts lines so that handler errors
 * carry the right line number and rejects lines longer than libinih's buffer instead of
 * letting them be split.
 */
#include "node/config.h"

#include "base/assert.h"
#include "base/err.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key_def {
    enum octo_config_key key;
    const char *section;
    const char *name;
    const char *env;
};

static const struct key_def keys[OCTO_CFG_KEY_COUNT] = {
    {OCTO_CFG_ROLE, "node", "role", "OCTO_ROLE"},
    {OCTO_CFG_LISTEN, "node", "listen", "OCTO_LISTEN"},
    {OCTO_CFG_LOG_LEVEL, "log", "level", "OCTO_LOG_LEVEL"},
    {OCTO_CFG_LOG_FORMAT, "log", "format", "OCTO_LOG_FORMAT"},
    {OCTO_CFG_LOG_FILE, "log", "file", "OCTO_LOG_FILE"},
    {OCTO_CFG_STORE_BACKEND, "store", "backend", "OCTO_STORE_BACKEND"},
    {OCTO_CFG_STORE_PATH, "store", "path", "OCTO_STORE_PATH"},
};

static const char *const role_names[] = {"observer", "validator", "provider", "orchestrator"};

const char *octo_role_name(enum octo_role role)
{
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(role_names); i++)
        if ((unsigned)role == 1u << i)
            return role_names[i];
    OCTO_ASSERT(!"not one role bit");
    return "";
}

int octo_roles_parse(const char *s, unsigned *out)
{
    unsigned set = 0;
    while (*s != '\0') {
        size_t n = strcspn(s, ",");
        unsigned bit = 0;
        for (unsigned i = 0; i < OCTO_ARRAY_LEN(role_names); i++)
            if (strlen(role_names[i]) == n && memcmp(s, role_names[i], n) == 0)
                bit = 1u << i;
        if (bit == 0 || (set & bit) != 0)
            return OCTO_EINVAL;
        set |= bit;
        s += n;
        if (*s == ',' && *++s == '\0')
            return OCTO_EINVAL; /* a trailing comma */
    }
    if (set == 0)
        return OCTO_EINVAL;
    *out = set;
    return 0;
}

void octo_roles_format(unsigned roles, char out[OCTO_ROLES_TEXT_MAX])
{
    size_t off = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(role_names); i++) {
        if ((roles & (1u << i)) == 0)
            continue;
        int n = snprintf(out + off, OCTO_ROLES_TEXT_MAX - off, "%s%s", off != 0 ? "," : "",
                         role_names[i]);
        OCTO_ASSERT(n > 0 && (size_t)n < OCTO_ROLES_TEXT_MAX - off);
        off += (size_t)n;
    }
}

const char *octo_config_key_name(enum octo_config_key key)
{
    static char names[OCTO_CFG_KEY_COUNT][32];
    OCTO_ASSERT((unsigned)key < OCTO_CFG_KEY_COUNT);
    if (names[key][0] == '\0')
        snprintf(names[key], sizeof(names[key]), "%s.%s", keys[key].section, keys[key].name);
    return names[key];
}

const char *octo_config_source_name(enum octo_config_source src)
{
    static const char *const names[] = {"default", "file", "env", "flag"};
    OCTO_ASSERT((unsigned)src < OCTO_ARRAY_LEN(names));
    return names[src];
}

static int errorf(struct octo_config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int errorf(struct octo_config_error *err, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return OCTO_ECONFIG;
}

/* Values must survive a trip through config.ini: no control characters, no ';' (an INI
 * comment), and short enough for one line. */
static int check_text(const char *value, char *detail, size_t detail_size)
{
    for (const char *p = value; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == ';') {
            snprintf(detail, detail_size, "invalid character 0x%02x in value", c);
            return OCTO_ECONFIG;
        }
    }
    if (strlen(value) > OCTO_CONFIG_VALUE_MAX) {
        snprintf(detail, detail_size, "value too long (limit %d characters)",
                 OCTO_CONFIG_VALUE_MAX);
        return OCTO_ECONFIG;
    }
    return 0;
}

static int copy_str(char *dst, size_t dst_size, const char *value, char *detail, size_t detail_size)
{
    if (check_text(value, detail, detail_size) < 0)
        return OCTO_ECONFIG;
    size_t len = strlen(value);
    if (len >= dst_size) {
        snprintf(detail, detail_size, "value too long (%zu bytes, limit %zu)", len, dst_size - 1);
        return OCTO_ECONFIG;
    }
    memcpy(dst, value, len + 1);
    return 0;
}

static const char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Parses a comma-separated multiaddr list, appending to cfg->listen. */
static int append_listen(struct octo_config *cfg, const char *value, char *detail,
                         size_t detail_size)
{
    char list[OCTO_CONFIG_LINE_MAX];
    if (strlen(value) >= sizeof(list)) {
        snprintf(detail, detail_size, "value too long");
        return OCTO_ECONFIG;
    }
    snprintf(list, sizeof(list), "%s", value);
    char *p = list;
    while (p != NULL) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        const char *item = trim(p);
        p = comma != NULL ? comma + 1 : NULL;
        if (*item == '\0') {
            if (p == NULL && comma == NULL)
                break; /* empty value: no listen addresses */
            snprintf(detail, detail_size, "empty entry in address list");
            return OCTO_ECONFIG;
        }
        if (cfg->listen_count >= OCTO_CONFIG_LISTEN_MAX) {
            snprintf(detail, detail_size, "too many listen addresses (limit %d)",
                     OCTO_CONFIG_LISTEN_MAX);
            return OCTO_ECONFIG;
        }
        if (check_text(item, detail, detail_size) < 0)
            return OCTO_ECONFIG;
        int rc = octo_multiaddr_from_text(item, &cfg->listen[cfg->listen_count]);
        if (rc < 0) {
            snprintf(detail, detail_size, "invalid multiaddr '%.200s': %s", item,
                     octo_strerror(rc));
            return OCTO_ECONFIG;
        }
        cfg->listen_count++;
    }
    return 0;
}

/* Validates and stores one value; on error writes a reason (without location) to detail. */
static int set_value(struct octo_config *cfg, enum octo_config_key key, const char *value,
                     bool append, char *detail, size_t detail_size)
{
    switch (key) {
    case OCTO_CFG_ROLE:
        if (octo_roles_parse(value, &cfg->roles) == 0)
            return 0;
        snprintf(detail, detail_size,
                 "invalid value '%.64s' (expected roles from validator, provider, orchestrator "
                 "and observer, comma-separated)",
                 value);
        return OCTO_ECONFIG;
    case OCTO_CFG_LISTEN:
        if (!append)
            cfg->listen_count = 0;
        return append_listen(cfg, value, detail, detail_size);
    case OCTO_CFG_LOG_LEVEL:
        if (octo_log_level_parse(value, &cfg->log_level) == 0)
            return 0;
        snprintf(detail, detail_size,
                 "invalid value '%.64s' (expected trace, debug, info, warn, error or off)", value);
        return OCTO_ECONFIG;
    case OCTO_CFG_LOG_FORMAT:
        if (octo_log_format_parse(value, &cfg->log_format) == 0)
            return 0;
        snprintf(detail, detail_size, "invalid value '%.64s' (expected plain or json)", value);
        return OCTO_ECONFIG;
    case OCTO_CFG_LOG_FILE:
        return copy_str(cfg->log_file, sizeof(cfg->log_file), value, detail, detail_size);
    case OCTO_CFG_STORE_BACKEND:
        if (strcmp(value, "sqlite") == 0)
            return copy_str(cfg->store_backend, sizeof(cfg->store_backend), value, detail,
                            detail_size);
        snprintf(detail, detail_size, "unsupported backend '%.64s' (supported: sqlite)", value);
        return OCTO_ECONFIG;
    case OCTO_CFG_STORE_PATH:
        if (*value == '\0') {
            snprintf(detail, detail_size, "empty path");
            return OCTO_ECONFIG;
        }
        return copy_str(cfg->store_path, sizeof(cfg->store_path), value, detail, detail_size);
    case OCTO_CFG_KEY_COUNT:
        break;
    }
    OCTO_UNREACHABLE();
}

int octo_config_set(struct octo_config *cfg, enum octo_config_key key, const char *value,
                    enum octo_config_source source, const char *what, struct octo_config_error *err)
{
    char detail[512];
    bool append = source == OCTO_SRC_FLAG && cfg->source[key] == OCTO_SRC_FLAG;
    if (set_value(cfg, key, value, append, detail, sizeof(detail)) < 0)
        return errorf(err, "%s: %s", what, detail);
    cfg->source[key] = source;
    return 0;
}

static const char *env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = env; e != NULL && *e != NULL; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    }
    return NULL;
}

int octo_config_init(struct octo_config *cfg, const char *home_flag, char *const *env,
                     struct octo_config_error *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->roles = OCTO_ROLE_OBSERVER;
    cfg->log_level = OCTO_LOG_INFO;
    cfg->log_format = OCTO_LOG_PLAIN;
    snprintf(cfg->store_backend, sizeof(cfg->store_backend), "sqlite");
    snprintf(cfg->store_path, sizeof(cfg->store_path), "data/octo.db");
    OCTO_ASSERT(octo_multiaddr_from_text(OCTO_DEFAULT_LISTEN, &cfg->listen[0]) == 0);
    cfg->listen_count = 1;

    const char *home_env = env_get(env, "OCTO_HOME");
    const char *user_home = env_get(env, "HOME");
    int n;
    if (home_flag != NULL && *home_flag != '\0')
        n = snprintf(cfg->home, sizeof(cfg->home), "%s", home_flag);
    else if (home_env != NULL && *home_env != '\0')
        n = snprintf(cfg->home, sizeof(cfg->home), "%s", home_env);
    else if (user_home != NULL && *user_home != '\0')
        n = snprintf(cfg->home, sizeof(cfg->home), "%s/%s", user_home, OCTO_DEFAULT_HOME_NAME);
    else
        return errorf(err, "no home directory: set --home, OCTO_HOME or HOME");
    if (n < 0 || (size_t)n >= sizeof(cfg->home))
        return errorf(err, "home directory path too long");
    return 0;
}

/* ---- INI file ---- */

struct ini_state {
    struct octo_config *cfg;
    const char *path;
    const char *text; /* remaining input */
    size_t left;
    int line;      /* number of the line last handed to libinih */
    int err_line;  /* first line with an error, 0 if none */
    bool too_long; /* the reader refused an over-long line */
    bool seen[OCTO_CFG_KEY_COUNT];
    struct octo_config_error *err;
};

static char *ini_reader_fn(char *str, int num, void *stream)
{
    struct ini_state *st = stream;
    if (st->left == 0 || st->too_long)
        return NULL;
    const char *nl = memchr(st->text, '\n', st->left);
    size_t len = nl != NULL ? (size_t)(nl - st->text) + 1 : st->left;
    st->line++;
    if (len >= (size_t)num || len >= OCTO_CONFIG_LINE_MAX) {
        st->too_long = true;
        if (st->err_line == 0) {
            st->err_line = st->line;
            errorf(st->err, "%s:%d: line too long (limit %d characters)", st->path, st->line,
                   num - 2);
        }
        return NULL;
    }
    memcpy(str, st->text, len);
    str[len] = '\0';
    st->text += len;
    st->left -= len;
    return str;
}

static int ini_handler_fn(void *user, const char *section, const char *name, const char *value)
{
    struct ini_state *st = user;
    if (st->err_line != 0)
        return 1; /* report only the first error */
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(keys); i++) {
        if (strcmp(section, keys[i].section) != 0 || strcmp(name, keys[i].name) != 0)
            continue;
        char detail[512];
        bool append = keys[i].key == OCTO_CFG_LISTEN && st->seen[i];
        if (set_value(st->cfg, keys[i].key, value, append, detail, sizeof(detail)) < 0) {
            st->err_line = st->line;
            errorf(st->err, "%s:%d: [%s] %s: %s", st->path, st->line, section, name, detail);
            return 0;
        }
        st->seen[i] = true;
        st->cfg->source[keys[i].key] = OCTO_SRC_FILE;
        return 1;
    }
    st->err_line = st->line;
    bool known_section = false;
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(keys); i++)
        known_section = known_section || strcmp(section, keys[i].section) == 0;
    if (known_section)
        errorf(st->err, "%s:%d: unknown key '%s' in section [%s]", st->path, st->line, name,
               section);
    else if (*section == '\0')
        errorf(st->err, "%s:%d: key '%s' outside any section", st->path, st->line, name);
    else
        errorf(st->err, "%s:%d: unknown section [%s]", st->path, st->line, section);
    return 0;
}

int octo_config_load_text(struct octo_config *cfg, const char *name, const char *text, size_t len,
                          struct octo_config_error *err)
{
    if (len > OCTO_CONFIG_FILE_MAX)
        return errorf(err, "%s: file too large (%zu bytes, limit %u)", name, len,
                      OCTO_CONFIG_FILE_MAX);
    if (memchr(text, '\0', len) != NULL)
        return errorf(err, "%s: not a text file (contains NUL bytes)", name);
    struct ini_state st = {.cfg = cfg, .path = name, .text = text, .left = len, .err = err};
    int line = ini_parse_stream(ini_reader_fn, &st, ini_handler_fn, &st);
    if (st.err_line != 0)
        return OCTO_ECONFIG;
    if (line > 0)
        return errorf(err, "%s:%d: syntax error (expected [section] or key = value)", name, line);
    if (line < 0)
        return errorf(err, "%s: cannot parse", name);
    return 0;
}

int octo_config_load_file(struct octo_config *cfg, const char *path, bool optional,
                          struct octo_config_error *err)
{
    struct octo_buf text;
    struct octo_fs_error ferr;
    octo_buf_init(&text, OCTO_CONFIG_FILE_MAX);
    int rc = octo_fs_read(path, &text, &ferr);
    if (rc == OCTO_ENOTFOUND && optional)
        rc = 0;
    else if (rc < 0)
        rc = errorf(err, "%s", ferr.msg);
    else
        rc = octo_config_load_text(cfg, path, text.len != 0 ? (const char *)text.data : "",
                                   text.len, err);
    octo_buf_deinit(&text);
    return rc;
}

int octo_config_apply_env(struct octo_config *cfg, char *const *env, struct octo_config_error *err)
{
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(keys); i++) {
        const char *value = env_get(env, keys[i].env);
        if (value == NULL)
            continue;
        char what[64];
        snprintf(what, sizeof(what), "environment variable %s", keys[i].env);
        int rc = octo_config_set(cfg, keys[i].key, value, OCTO_SRC_ENV, what, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int octo_config_load(struct octo_config *cfg, const char *home_flag, char *const *env,
                     struct octo_config_error *err)
{
    int rc = octo_config_init(cfg, home_flag, env, err);
    if (rc < 0)
        return rc;
    char path[OCTO_PATH_MAX];
    if (octo_fs_join(path, sizeof(path), cfg->home, OCTO_CONFIG_FILE) < 0)
        return errorf(err, "home directory path too long");
    rc = octo_config_load_file(cfg, path, true, err);
    if (rc < 0)
        return rc;
    return octo_config_apply_env(cfg, env, err);
}

int octo_config_path(const struct octo_config *cfg, const char *rel, char *out, size_t out_size)
{
    return octo_fs_join(out, out_size, cfg->home, rel);
}

int octo_config_format(const struct octo_config *cfg, struct octo_buf *out)
{
    char roles[OCTO_ROLES_TEXT_MAX];
    octo_roles_format(cfg->roles, roles);
    int rc = octo_buf_appendf(out,
                              "# octo configuration (INI). Precedence: flag > OCTO_* "
                              "environment > this file > default.\n"
                              "[node]\nrole = %s\n",
                              roles);
    if (rc == 0 && cfg->listen_count == 0)
        rc = octo_buf_append_str(out, "listen =\n");
    /* one line per address: repeated listen lines add up when read back */
    for (size_t i = 0; rc == 0 && i < cfg->listen_count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        int n = octo_multiaddr_to_text(&cfg->listen[i], text, sizeof(text));
        OCTO_ASSERT(n > 0);
        if (n > OCTO_CONFIG_VALUE_MAX)
            return OCTO_ETOOBIG;
        rc = octo_buf_appendf(out, "listen = %s\n", text);
    }
    if (rc == 0)
        rc = octo_buf_appendf(out,
                              "\n[log]\nlevel = %s\nformat = %s\nfile =%s%s\n\n"
                              "[store]\nbackend = %s\npath = %s\n",
                              octo_log_level_name(cfg->log_level),
                              cfg->log_format == OCTO_LOG_JSON ? "json" : "plain",
                              cfg->log_file[0] != '\0' ? " " : "", cfg->log_file,
                              cfg->store_backend, cfg->store_path);
    return rc;
}
