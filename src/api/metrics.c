/*
 * metrics.c — Prometheus text exposition (metrics.h).
 *
 * Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and may not
 * start with "__"; HELP text escapes backslash and newline, label values also the double
 * quote. A family's samples must follow its declaration, which is what promtool checks too.
 */
#include "api/metrics.h"

#include "base/assert.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool name_ok(const char *s, bool label)
{
    if (s == NULL || *s == '\0' || strlen(s) >= 100 || (label && s[0] == '_' && s[1] == '_'))
        return false;
    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

/* A number as the format writes it: [-]digits[.digits][e[+-]digits], or +Inf/-Inf when inf_ok
 * (a sum may be infinite; a bucket bound may not be +Inf, which the writer adds itself). */
static bool number_ok(const char *s, bool inf_ok)
{
    if (s == NULL || strlen(s) > 40)
        return false;
    if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0)
        return inf_ok;
    size_t i = s[0] == '-' ? 1 : 0, d = strspn(s + i, "0123456789");
    if (d == 0)
        return false;
    i += d;
    if (s[i] == '.') {
        d = strspn(s + i + 1, "0123456789");
        if (d == 0)
            return false;
        i += 1 + d;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-')
            i++;
        d = strspn(s + i, "0123456789");
        if (d == 0)
            return false;
        i += d;
    }
    return s[i] == '\0';
}

static void fail(struct octo_metrics *m, int err)
{
    if (m->err == 0)
        m->err = err;
}

static void put(struct octo_metrics *m, const char *s)
{
    if (m->err == 0 && octo_buf_append_str(m->out, s) != 0)
        fail(m, OCTO_ETOOBIG);
}

/* Text with backslash, newline (and for label values the double quote) escaped. */
static void put_escaped(struct octo_metrics *m, const char *s, bool quote)
{
    for (const char *p = s; *p != '\0' && m->err == 0; p++) {
        const char *e = *p == '\\'           ? "\\\\"
                        : *p == '\n'         ? "\\n"
                        : quote && *p == '"' ? "\\\""
                                             : NULL;
        if (e != NULL) {
            put(m, e);
        } else if (octo_buf_append_byte(m->out, (uint8_t)*p) != 0) {
            fail(m, OCTO_ETOOBIG);
        }
    }
}

void octo_metrics_init(struct octo_metrics *m, struct octo_buf *out)
{
    memset(m, 0, sizeof(*m));
    m->out = out;
}

void octo_metrics_family(struct octo_metrics *m, const char *name, enum octo_metric_type type,
                         const char *help)
{
    if (!name_ok(name, false) || strlen(name) + 8 > sizeof(m->family)) {
        fail(m, OCTO_EINVAL);
        return;
    }
    snprintf(m->family, sizeof(m->family), "%s%s", name,
             type == OCTO_METRIC_COUNTER ? "_total" : "");
    m->type = type;
    static const char *const names[] = {"counter", "gauge", "histogram"};
    put(m, "# HELP ");
    put(m, m->family);
    put(m, " ");
    put_escaped(m, help, false);
    put(m, "\n# TYPE ");
    put(m, m->family);
    put(m, " ");
    put(m, names[type]);
    put(m, "\n");
}

/* name{labels[,extra="v"]} */
static void put_series(struct octo_metrics *m, const char *suffix,
                       const struct octo_metric_label *labels, size_t n, const char *extra_name,
                       const char *extra_value)
{
    if (n > OCTO_METRICS_LABELS_MAX) {
        fail(m, OCTO_EINVAL);
        return;
    }
    put(m, m->family);
    put(m, suffix);
    if (n == 0 && extra_name == NULL)
        return;
    put(m, "{");
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(labels[i].name, true) || labels[i].value == NULL) {
            fail(m, OCTO_EINVAL);
            return;
        }
        put(m, i > 0 ? "," : "");
        put(m, labels[i].name);
        put(m, "=\"");
        put_escaped(m, labels[i].value, true);
        put(m, "\"");
    }
    if (extra_name != NULL) {
        put(m, n > 0 ? "," : "");
        put(m, extra_name);
        put(m, "=\"");
        put(m, extra_value);
        put(m, "\"");
    }
    put(m, "}");
}

static bool in_family(struct octo_metrics *m, bool histogram)
{
    if (m->family[0] == '\0' || (m->type == OCTO_METRIC_HISTOGRAM) != histogram) {
        fail(m, OCTO_EINVAL);
        return false;
    }
    return m->err == 0;
}

void octo_metrics_value(struct octo_metrics *m, const struct octo_metric_label *labels,
                        size_t n_labels, uint64_t value)
{
    if (!in_family(m, false))
        return;
    put_series(m, "", labels, n_labels, NULL, NULL);
    char v[32];
    snprintf(v, sizeof(v), " %" PRIu64 "\n", value);
    put(m, v);
}

void octo_metrics_single(struct octo_metrics *m, const char *name, enum octo_metric_type type,
                         const char *help, uint64_t value)
{
    octo_metrics_family(m, name, type, help);
    octo_metrics_value(m, NULL, 0, value);
}

void octo_metrics_gauge_i64(struct octo_metrics *m, const struct octo_metric_label *labels,
                            size_t n_labels, int64_t value)
{
    if (!in_family(m, false) || m->type != OCTO_METRIC_GAUGE) {
        fail(m, OCTO_EINVAL);
        return;
    }
    put_series(m, "", labels, n_labels, NULL, NULL);
    char v[32];
    snprintf(v, sizeof(v), " %" PRId64 "\n", value);
    put(m, v);
}

void octo_metrics_fixed(struct octo_metrics *m, const struct octo_metric_label *labels,
                        size_t n_labels, uint64_t value, unsigned decimals)
{
    if (decimals > 9) {
        fail(m, OCTO_EINVAL);
        return;
    }
    if (!in_family(m, false))
        return;
    uint64_t scale = 1;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    put_series(m, "", labels, n_labels, NULL, NULL);
    char v[48];
    if (decimals == 0)
        snprintf(v, sizeof(v), " %" PRIu64 "\n", value);
    else
        snprintf(v, sizeof(v), " %" PRIu64 ".%0*" PRIu64 "\n", value / scale, (int)decimals,
                 value % scale);
    put(m, v);
}

void octo_metrics_histogram(struct octo_metrics *m, const struct octo_metric_label *labels,
                            size_t n_labels, const char *const *bounds, const uint64_t *counts,
                            size_t n_bounds, uint64_t count, const char *sum)
{
    if (!in_family(m, true))
        return;
    for (size_t i = 0; i < n_bounds; i++)
        if (!number_ok(bounds[i], false))
            fail(m, OCTO_EINVAL);
    if (!number_ok(sum, true))
        fail(m, OCTO_EINVAL);
    for (size_t i = 0; i < n_labels; i++)
        if (labels[i].name != NULL && strcmp(labels[i].name, "le") == 0)
            fail(m, OCTO_EINVAL); /* the writer's own bucket label */
    char v[32];
    for (size_t i = 0; i < n_bounds; i++) {
        if (i > 0 && counts[i] < counts[i - 1]) { /* cumulative, or it is not a histogram */
            fail(m, OCTO_EINVAL);
            return;
        }
        put_series(m, "_bucket", labels, n_labels, "le", bounds[i]);
        snprintf(v, sizeof(v), " %" PRIu64 "\n", counts[i]);
        put(m, v);
    }
    if (n_bounds > 0 && count < counts[n_bounds - 1]) {
        fail(m, OCTO_EINVAL);
        return;
    }
    put_series(m, "_bucket", labels, n_labels, "le", "+Inf");
    snprintf(v, sizeof(v), " %" PRIu64 "\n", count);
    put(m, v);
    put_series(m, "_sum", labels, n_labels, NULL, NULL);
    put(m, " ");
    put(m, sum);
    put(m, "\n");
    put_series(m, "_count", labels, n_labels, NULL, NULL);
    put(m, v);
}

int octo_metrics_finish(const struct octo_metrics *m)
{
    return m->err;
}
