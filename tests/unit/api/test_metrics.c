/*
 * test_metrics.c — the Prometheus text writer: exact output for each family type, escaping
 * of help text and label values, refusal of bad names, samples outside a family, histograms
 * that are not cumulative, and the buffer's ceiling. The output is also handed to
 * `promtool check metrics` (the Debian prometheus package's linter) when it is installed.
 */
#include "api/metrics.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char want[] =
    "# HELP octo_x_requests_total requests, by \"kind\"\\nsecond line \\\\ end\n"
    "# TYPE octo_x_requests_total counter\n"
    "octo_x_requests_total 3\n"
    "octo_x_requests_total{kind=\"a\\\"b\\\\c\\nd\",dir=\"in\"} 18446744073709551615\n"
    "# HELP octo_x_open open things\n"
    "# TYPE octo_x_open gauge\n"
    "octo_x_open{pool=\"p1\"} -5\n"
    "octo_x_open{pool=\"p2\"} 1.000250\n"
    "octo_x_open{pool=\"p3\"} 0.05\n"
    "# HELP octo_x_latency_seconds latency\n"
    "# TYPE octo_x_latency_seconds histogram\n"
    "octo_x_latency_seconds_bucket{route=\"/v1\",le=\"0.005\"} 2\n"
    "octo_x_latency_seconds_bucket{route=\"/v1\",le=\"0.1\"} 7\n"
    "octo_x_latency_seconds_bucket{route=\"/v1\",le=\"+Inf\"} 9\n"
    "octo_x_latency_seconds_sum{route=\"/v1\"} 0.731\n"
    "octo_x_latency_seconds_count{route=\"/v1\"} 9\n";

static void write_sample(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_x_requests", OCTO_METRIC_COUNTER,
                        "requests, by \"kind\"\nsecond line \\ end");
    octo_metrics_value(m, NULL, 0, 3);
    struct octo_metric_label l[2] = {{"kind", "a\"b\\c\nd"}, {"dir", "in"}};
    octo_metrics_value(m, l, 2, UINT64_MAX);
    octo_metrics_family(m, "octo_x_open", OCTO_METRIC_GAUGE, "open things");
    struct octo_metric_label p = {"pool", "p1"};
    octo_metrics_gauge_i64(m, &p, 1, -5);
    struct octo_metric_label p2 = {"pool", "p2"}, p3 = {"pool", "p3"};
    octo_metrics_fixed(m, &p2, 1, 1000250, 6);
    octo_metrics_fixed(m, &p3, 1, 5, 2);
    octo_metrics_family(m, "octo_x_latency_seconds", OCTO_METRIC_HISTOGRAM, "latency");
    static const char *const bounds[] = {"0.005", "0.1"};
    static const uint64_t counts[] = {2, 7};
    struct octo_metric_label r = {"route", "/v1"};
    octo_metrics_histogram(m, &r, 1, bounds, counts, 2, 9, "0.731");
}

static void test_exact(void)
{
    struct octo_buf b;
    octo_buf_init(&b, 1 << 16);
    struct octo_metrics m;
    octo_metrics_init(&m, &b);
    write_sample(&m);
    CHECK_EQ_INT(octo_metrics_finish(&m), 0);
    CHECK_EQ_U64(b.len, strlen(want));
    CHECK(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
        fprintf(stderr, "got:\n%.*s", (int)b.len, (const char *)b.data);
    /* promtool, when installed, agrees that it is a valid exposition */
    if (access("/usr/bin/promtool", X_OK) == 0) {
        const char *dir = octo_test_tmpdir("metrics");
        octo_test_write_file(dir, "m.txt", b.data, b.len);
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s/m.txt", dir);
        CHECK_EQ_INT(system(cmd), 0);
        octo_test_rmtree(dir);
    } else {
        fprintf(stderr, "note: promtool not installed; the exact text was checked\n");
    }
    octo_buf_deinit(&b);
}

static int first_error(void (*fn)(struct octo_metrics *m), size_t max)
{
    struct octo_buf b;
    octo_buf_init(&b, max);
    struct octo_metrics m;
    octo_metrics_init(&m, &b);
    fn(&m);
    int rc = octo_metrics_finish(&m);
    octo_buf_deinit(&b);
    return rc;
}

static void bad_name(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo-x", OCTO_METRIC_GAUGE, "h");
}
static void bad_label(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_x", OCTO_METRIC_GAUGE, "h");
    struct octo_metric_label l = {"__reserved", "v"};
    octo_metrics_value(m, &l, 1, 1);
}
static void digit_first(struct octo_metrics *m)
{
    octo_metrics_family(m, "9octo", OCTO_METRIC_GAUGE, "h");
}
static void no_family(struct octo_metrics *m)
{
    octo_metrics_value(m, NULL, 0, 1);
}
static void value_in_histogram(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_h", OCTO_METRIC_HISTOGRAM, "h");
    octo_metrics_value(m, NULL, 0, 1);
}
static void negative_counter(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_c", OCTO_METRIC_COUNTER, "h");
    octo_metrics_gauge_i64(m, NULL, 0, -1);
}
static void not_cumulative(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_h", OCTO_METRIC_HISTOGRAM, "h");
    static const char *const bounds[] = {"1", "2"};
    static const uint64_t counts[] = {5, 4};
    octo_metrics_histogram(m, NULL, 0, bounds, counts, 2, 9, "3");
}
static void bad_bound(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_h", OCTO_METRIC_HISTOGRAM, "h");
    static const char *const bounds[] = {"1\"} 5"};
    static const uint64_t counts[] = {1};
    octo_metrics_histogram(m, NULL, 0, bounds, counts, 1, 1, "1");
}

static void inf_bound(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_h", OCTO_METRIC_HISTOGRAM, "h");
    static const char *const bounds[] = {"+Inf"};
    static const uint64_t counts[] = {1};
    octo_metrics_histogram(m, NULL, 0, bounds, counts, 1, 1, "1");
}
static void junk_sum(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_h", OCTO_METRIC_HISTOGRAM, "h");
    octo_metrics_histogram(m, NULL, 0, NULL, NULL, 0, 1, "1.2.3");
}
static void le_label(struct octo_metrics *m)
{
    octo_metrics_family(m, "octo_h", OCTO_METRIC_HISTOGRAM, "h");
    struct octo_metric_label l = {"le", "x"};
    octo_metrics_histogram(m, &l, 1, NULL, NULL, 0, 1, "1");
}

static void test_refusals(void)
{
    CHECK_EQ_INT(first_error(inf_bound, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(junk_sum, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(le_label, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(bad_name, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(bad_label, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(digit_first, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(no_family, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(value_in_histogram, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(negative_counter, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(not_cumulative, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(bad_bound, 4096), OCTO_EINVAL);
    CHECK_EQ_INT(first_error(write_sample, 100), OCTO_ETOOBIG);
    CHECK_EQ_INT(first_error(write_sample, 1 << 16), 0);
}

int main(void)
{
    OCTO_RUN(test_exact);
    OCTO_RUN(test_refusals);
    return octo_test_finish();
}
