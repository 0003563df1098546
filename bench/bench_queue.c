/*
 * bench_queue.c — the task queue (intel/queue.h) in steady state with 10,000 tasks in flight
 * and a backlog of 1,000 queued tasks over 8 priorities, next to a reference measured in the
 * same run: a plain array ring FIFO of the same task records (push + pop), the cheapest
 * possible queue with no ordering, index or limits.
 *
 * One cycle = enqueue a fresh task, dequeue the next one in dispatch order, finish (done) the
 * oldest in-flight task, so the in-flight count and the backlog stay constant. Figures:
 *   enqueue_to_dispatch_p50/p99  ns from the start of enqueue to the return of dequeue,
 *                                sampled per cycle (includes one clock read, as the reference);
 *   cycles_per_s                 full cycles (3 queue operations) per second;
 *   *_reference_fifo             the same on the ring FIFO (push + pop).
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "bench.h"
#include "intel/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN_FLIGHT 10000
#define BACKLOG 1000
#define FIFO_LEN 16384 /* power of two above IN_FLIGHT + BACKLOG */

struct state {
    struct octo_queue q;
    uint64_t ring[IN_FLIGHT]; /* keys of in-flight tasks, oldest at head */
    uint32_t head;
    uint64_t key_next;
    struct octo_queue_task fifo[FIFO_LEN];
    uint32_t fifo_head, fifo_tail;
};

static void make_task(struct octo_queue_task *t, uint64_t key)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->id, &key, sizeof(key));
    t->id[15] = 0x5a;
    t->priority = (uint8_t)((key * 5) % 8);
    t->deadline = OCTO_NS_PER_S * 3600 + key; /* far away: nothing expires */
    t->value = key;
}

static uint64_t key_of(const struct octo_queue_task *t)
{
    uint64_t key;
    memcpy(&key, t->id, sizeof(key));
    return key;
}

static void enqueue_next(struct state *s)
{
    struct octo_queue_task t;
    make_task(&t, s->key_next++);
    if (octo_queue_enqueue(&s->q, &t, 1) != 0)
        abort();
}

/* Finishes the oldest in-flight task and records the newly dispatched one in its place. */
static void rotate(struct state *s, const struct octo_queue_task *dispatched)
{
    struct octo_queue_task t;
    make_task(&t, s->ring[s->head]);
    if (octo_queue_done(&s->q, t.id, NULL) != 0)
        abort();
    s->ring[s->head] = key_of(dispatched);
    s->head = (s->head + 1) % IN_FLIGHT;
}

static void setup(struct state *s)
{
    memset(s, 0, sizeof(*s));
    if (octo_queue_init(&s->q, NULL) != 0)
        abort();
    struct octo_queue_task t;
    for (uint32_t i = 0; i < IN_FLIGHT; i++) {
        enqueue_next(s);
        if (octo_queue_dequeue(&s->q, 1, &t) != 0)
            abort();
        s->ring[i] = key_of(&t);
    }
    for (uint32_t i = 0; i < BACKLOG; i++)
        enqueue_next(s);
    for (uint32_t i = 0; i < BACKLOG; i++) {
        make_task(&s->fifo[s->fifo_tail], i);
        s->fifo_tail = (s->fifo_tail + 1) & (FIFO_LEN - 1);
    }
}

static void queue_cycles(void *ctx, uint64_t iters)
{
    struct state *s = ctx;
    struct octo_queue_task t;
    for (uint64_t i = 0; i < iters; i++) {
        enqueue_next(s);
        if (octo_queue_dequeue(&s->q, 2, &t) != 0)
            abort();
        rotate(s, &t);
    }
}

static void fifo_push(struct state *s)
{
    make_task(&s->fifo[s->fifo_tail], s->key_next++);
    s->fifo_tail = (s->fifo_tail + 1) & (FIFO_LEN - 1);
}

static void fifo_pop(struct state *s, struct octo_queue_task *out)
{
    *out = s->fifo[s->fifo_head];
    s->fifo_head = (s->fifo_head + 1) & (FIFO_LEN - 1);
}

static void fifo_cycles(void *ctx, uint64_t iters)
{
    struct state *s = ctx;
    struct octo_queue_task t;
    for (uint64_t i = 0; i < iters; i++) {
        fifo_push(s);
        fifo_pop(s, &t);
        octo_bench_sink(&t, sizeof(t));
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "queue", argc, argv);
    struct state *s = octo_malloc(sizeof(*s));
    if (s == NULL)
        abort();
    setup(s);

    size_t samples = b.quick ? 20000 : 200000;
    uint64_t *lat = octo_calloc(samples, sizeof(*lat));
    uint64_t *ref = octo_calloc(samples, sizeof(*ref));
    if (lat == NULL || ref == NULL)
        abort();
    struct octo_queue_task t;
    for (size_t i = 0; i < samples; i++) {
        uint64_t t0 = octo_bench_now_ns();
        enqueue_next(s);
        if (octo_queue_dequeue(&s->q, 2, &t) != 0)
            abort();
        lat[i] = octo_bench_now_ns() - t0;
        rotate(s, &t);

        t0 = octo_bench_now_ns();
        fifo_push(s);
        fifo_pop(s, &t);
        ref[i] = octo_bench_now_ns() - t0;
        octo_bench_sink(&t, sizeof(t));
    }
    qsort(lat, samples, sizeof(*lat), cmp_u64);
    qsort(ref, samples, sizeof(*ref), cmp_u64);

    char params[96];
    snprintf(params, sizeof(params), "\"in_flight\":%d,\"backlog\":%d,\"samples\":%zu", IN_FLIGHT,
             BACKLOG, samples);
    octo_bench_report(&b, "enqueue_to_dispatch_p50", (double)lat[samples / 2], "ns", params);
    octo_bench_report(&b, "enqueue_to_dispatch_p99", (double)lat[samples * 99 / 100], "ns", params);
    octo_bench_report(&b, "enqueue_to_dispatch_p50_reference_fifo", (double)ref[samples / 2], "ns",
                      params);
    octo_bench_report(&b, "enqueue_to_dispatch_p99_reference_fifo", (double)ref[samples * 99 / 100],
                      "ns", params);

    double ns_queue = octo_bench_measure(&b, queue_cycles, s);
    double ns_fifo = octo_bench_measure(&b, fifo_cycles, s);
    octo_bench_report(&b, "cycles_per_s", 1e9 / ns_queue, "cycle/s", params);
    octo_bench_report(&b, "ops_per_s", 3e9 / ns_queue, "op/s", params);
    octo_bench_report(&b, "cycles_per_s_reference_fifo", 1e9 / ns_fifo, "cycle/s", params);

    struct octo_queue_counts c;
    octo_queue_counts(&s->q, &c);
    if (c.in_flight != IN_FLIGHT || c.queued != BACKLOG)
        abort();
    octo_free(lat);
    octo_free(ref);
    octo_queue_deinit(&s->q);
    octo_free(s);
    return 0;
}
