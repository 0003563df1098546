/*
 * metrics.h — the Prometheus text exposition format (version 0.0.4), written into a buffer.
 *
 * The node keeps its counters where they are counted (each module's stats struct); a scrape
 * walks them and writes families here. A family is declared once (# HELP and # TYPE), then
 * its samples follow, each with its labels; names and label names are checked against the
 * format's grammar and label values escaped, so whatever a module names, the exposition
 * stays valid for `promtool check metrics`. Counter families end in _total (the writer
 * appends it to the sample names); histograms are written from cumulative bucket counts.
 *
 * Pure: no clock, no I/O; the caller owns the buffer (its ceiling bounds the scrape).
 */
#ifndef OCTO_API_METRICS_H
#define OCTO_API_METRICS_H

#include "base/buf.h"

#include <stddef.h>
#include <stdint.h>

#define OCTO_METRICS_LABELS_MAX 8 /* labels on one sample */

enum octo_metric_type {
    OCTO_METRIC_COUNTER,
    OCTO_METRIC_GAUGE,
    OCTO_METRIC_HISTOGRAM,
};

struct octo_metric_label {
    const char *name, *value;
};

struct octo_metrics {
    struct octo_buf *out;
    char family[128]; /* the family being written */
    enum octo_metric_type type;
    int err; /* the first error; later calls do nothing */
};

void octo_metrics_init(struct octo_metrics *m, struct octo_buf *out);
/* Declares a family: name without the _total a counter's samples get. */
void octo_metrics_family(struct octo_metrics *m, const char *name, enum octo_metric_type type,
                         const char *help);
/* A family of one unlabelled sample (counter or gauge). */
void octo_metrics_single(struct octo_metrics *m, const char *name, enum octo_metric_type type,
                         const char *help, uint64_t value);
/* One sample of the current counter or gauge family. */
void octo_metrics_value(struct octo_metrics *m, const struct octo_metric_label *labels,
                        size_t n_labels, uint64_t value);
void octo_metrics_gauge_i64(struct octo_metrics *m, const struct octo_metric_label *labels,
                            size_t n_labels, int64_t value);
/* A sample of value / 10^decimals (decimals <= 9), written as exact decimal text: counts in
 * microseconds become seconds, the format's base unit, without floating point. */
void octo_metrics_fixed(struct octo_metrics *m, const struct octo_metric_label *labels,
                        size_t n_labels, uint64_t value, unsigned decimals);
/* One histogram of the current family: bounds[i] (in the family's unit, as decimal text, e.g.
 * "0.005") with the cumulative counts[i] of observations <= bounds[i]; the +Inf bucket is
 * `count`; `sum` is given as decimal text too (integers and fixed-point text keep the writer
 * free of floating point). */
void octo_metrics_histogram(struct octo_metrics *m, const struct octo_metric_label *labels,
                            size_t n_labels, const char *const *bounds, const uint64_t *counts,
                            size_t n_bounds, uint64_t count, const char *sum);
/* 0, or the first error: OCTO_EINVAL (a bad name, a sample outside a family of its type),
 * OCTO_ETOOBIG (the buffer's ceiling). */
int octo_metrics_finish(const struct octo_metrics *m);

#endif
