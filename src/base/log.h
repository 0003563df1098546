/*
 * log.h — leveled, module-tagged logging in logfmt or JSON lines.
 *
 *   plain: ts=2026-11-29T18:46:27.123Z level=info module=store msg="opened database" path=/x
 *   json:  {"ts":"2026-11-29T18:46:27.123Z","level":"info","module":"store","msg":"...",...}
 *
 * One process-wide logger, configured once at start-up by the node (level, format, sink,
 * clock). Each line is formatted into a bounded stack buffer (OCTO_LOG_LINE_MAX) and written
 * with one fwrite, so lines from different threads do not interleave. Messages longer than
 * the limit are cut and marked with "...".
 *
 * The module tag is the compile-time OCTO_MODULE of the calling library (set by CMake).
 * Extra fields are key/value string pairs passed as a NULL-terminated list.
 */
#ifndef OCTO_BASE_LOG_H
#define OCTO_BASE_LOG_H

#include "base/clock.h"

#include <stdio.h>

enum octo_log_level {
    OCTO_LOG_TRACE = 0,
    OCTO_LOG_DEBUG = 1,
    OCTO_LOG_INFO = 2,
    OCTO_LOG_WARN = 3,
    OCTO_LOG_ERROR = 4,
    OCTO_LOG_OFF = 5,
};

enum octo_log_format {
    OCTO_LOG_PLAIN = 0,
    OCTO_LOG_JSON = 1,
};

#define OCTO_LOG_LINE_MAX 2048

struct octo_log_config {
    enum octo_log_level level;
    enum octo_log_format format;
    FILE *sink;                     /* NULL = stderr; not closed by the logger */
    const struct octo_clock *clock; /* NULL = timestamps omitted (tests) */
};

void octo_log_configure(const struct octo_log_config *cfg);
enum octo_log_level octo_log_level_get(void);

/* Parses "trace|debug|info|warn|error|off"; OCTO_EINVAL otherwise. */
int octo_log_level_parse(const char *s, enum octo_log_level *out);
const char *octo_log_level_name(enum octo_log_level level);
/* Parses "plain|json"; OCTO_EINVAL otherwise. */
int octo_log_format_parse(const char *s, enum octo_log_format *out);

/* Formats one line into out (NUL-terminated); returns its length. Exposed for tests. */
size_t octo_log_format_line(char *out, size_t out_size, enum octo_log_format format,
                            int64_t wall_ns, int have_time, enum octo_log_level level,
                            const char *module, const char *msg, const char *const *kv);

/* Emits a message; kv is NULL or a NULL-terminated list of key, value, key, value, ... */
void octo_log_write(enum octo_log_level level, const char *module, const char *msg,
                    const char *const *kv);
void octo_logf(enum octo_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifndef OCTO_MODULE
#define OCTO_MODULE "octo"
#endif

#define OCTO_LOG(level, ...)                                                                       \
    do {                                                                                           \
        if ((level) >= octo_log_level_get())                                                       \
            octo_logf((level), OCTO_MODULE, __VA_ARGS__);                                          \
    } while (0)
#define OCTO_TRACE(...) OCTO_LOG(OCTO_LOG_TRACE, __VA_ARGS__)
#define OCTO_DEBUG(...) OCTO_LOG(OCTO_LOG_DEBUG, __VA_ARGS__)
#define OCTO_INFO(...) OCTO_LOG(OCTO_LOG_INFO, __VA_ARGS__)
#define OCTO_WARN(...) OCTO_LOG(OCTO_LOG_WARN, __VA_ARGS__)
#define OCTO_ERROR(...) OCTO_LOG(OCTO_LOG_ERROR, __VA_ARGS__)

#endif
