/*
 * log.c — the logger. Formatting is a pure function (octo_log_format_line) so that tests can
 * check both formats byte for byte; octo_log_write adds the clock and the sink.
 *
 * Quoting: logfmt values are bare when they contain only safe characters, otherwise quoted
 * with \" \\ \n \t escapes; JSON strings escape quotes, backslashes and control characters
 * as RFC 8259 requires.
 */
#include "base/log.h"

#include "base/assert.h"
#include "base/err.h"

#include <stdarg.h>
#include <string.h>

static struct octo_log_config g_log = {
    .level = OCTO_LOG_INFO,
    .format = OCTO_LOG_PLAIN,
    .sink = NULL,
    .clock = NULL,
};

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "off"};

void octo_log_configure(const struct octo_log_config *cfg)
{
    OCTO_ASSERT(cfg->level <= OCTO_LOG_OFF);
    g_log = *cfg;
}

enum octo_log_level octo_log_level_get(void)
{
    return g_log.level;
}

const char *octo_log_level_name(enum octo_log_level level)
{
    OCTO_ASSERT(level <= OCTO_LOG_OFF);
    return level_names[level];
}

int octo_log_level_parse(const char *s, enum octo_log_level *out)
{
    for (unsigned i = 0; i < OCTO_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum octo_log_level)i;
            return 0;
        }
    }
    return OCTO_EINVAL;
}

int octo_log_format_parse(const char *s, enum octo_log_format *out)
{
    if (strcmp(s, "plain") == 0) {
        *out = OCTO_LOG_PLAIN;
        return 0;
    }
    if (strcmp(s, "json") == 0) {
        *out = OCTO_LOG_JSON;
        return 0;
    }
    return OCTO_EINVAL;
}

/* A bounded writer: keeps appending until full, then remembers that it was cut. */
struct line {
    char *p;
    size_t len;
    size_t cap; /* usable bytes, excluding the NUL and the "...\n" reserve */
    int cut;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len) {
        n = l->cap - l->len;
        l->cut = 1;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_hex_escape(struct line *l, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    put(l, esc, sizeof(esc));
}

static void put_json_string(struct line *l, const char *s)
{
    put(l, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"')
            put(l, "\\\"", 2);
        else if (c == '\\')
            put(l, "\\\\", 2);
        else if (c == '\n')
            put(l, "\\n", 2);
        else if (c == '\t')
            put(l, "\\t", 2);
        else if (c < 0x20 || c == 0x7f)
            put_hex_escape(l, c);
        else
            put(l, s, 1);
    }
    put(l, "\"", 1);
}

static int logfmt_bare(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return 0;
    }
    return 1;
}

static void put_logfmt_value(struct line *l, const char *s)
{
    if (logfmt_bare(s)) {
        puts_(l, s);
        return;
    }
    put_json_string(l, s); /* JSON escaping is a valid logfmt quoted value */
}

static void put_field(struct line *l, enum octo_log_format format, int first, const char *key,
                      const char *value)
{
    if (format == OCTO_LOG_JSON) {
        if (!first)
            put(l, ",", 1);
        put_json_string(l, key);
        put(l, ":", 1);
        put_json_string(l, value);
    } else {
        if (!first)
            put(l, " ", 1);
        puts_(l, key);
        put(l, "=", 1);
        put_logfmt_value(l, value);
    }
}

size_t octo_log_format_line(char *out, size_t out_size, enum octo_log_format format,
                            int64_t wall_ns, int have_time, enum octo_log_level level,
                            const char *module, const char *msg, const char *const *kv)
{
    OCTO_ASSERT(out_size >= 64);
    struct line l = {.p = out, .len = 0, .cap = out_size - 6, .cut = 0};
    int first = 1;
    if (format == OCTO_LOG_JSON)
        put(&l, "{", 1);
    if (have_time) {
        char ts[OCTO_RFC3339_LEN];
        octo_time_format_rfc3339(wall_ns, ts, sizeof(ts));
        put_field(&l, format, first, "ts", ts);
        first = 0;
    }
    put_field(&l, format, first, "level", octo_log_level_name(level));
    put_field(&l, format, 0, "module", module);
    put_field(&l, format, 0, "msg", msg);
    for (const char *const *p = kv; p != NULL && p[0] != NULL && p[1] != NULL; p += 2)
        put_field(&l, format, 0, p[0], p[1]);
    if (format == OCTO_LOG_JSON && !l.cut)
        put(&l, "}", 1);
    if (l.cut) {
        /* the reserve guarantees room for the marker; JSON lines stay one line, marked. */
        memcpy(l.p + l.len, "...", 3);
        l.len += 3;
    }
    l.p[l.len++] = '\n';
    l.p[l.len] = '\0';
    return l.len;
}

void octo_log_write(enum octo_log_level level, const char *module, const char *msg,
                    const char *const *kv)
{
    if (level < g_log.level || level >= OCTO_LOG_OFF)
        return;
    char line[OCTO_LOG_LINE_MAX];
    int64_t now = g_log.clock != NULL ? octo_clock_wall(g_log.clock) : 0;
    size_t n = octo_log_format_line(line, sizeof(line), g_log.format, now, g_log.clock != NULL,
                                    level, module, msg, kv);
    FILE *sink = g_log.sink != NULL ? g_log.sink : stderr;
    fwrite(line, 1, n, sink);
    fflush(sink);
}

void octo_logf(enum octo_log_level level, const char *module, const char *fmt, ...)
{
    char msg[OCTO_LOG_LINE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    octo_log_write(level, module, msg, NULL);
}
