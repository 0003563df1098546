/*
 * pool.h — the warm pool: sandboxes (sandbox.h) prepared ahead of time, so that a task starts
 * in a fraction of a cold start (EXECUTION.md §3: a cold namespaced sandbox costs 15-20 ms, most
 * of it mounts, cgroups and user maps).
 *
 * A prepared sandbox has done everything that does not depend on the task: clone3 with the
 * user, mount, pid, net, ipc and uts namespaces, the uid/gid maps, its cgroup created (with the
 * template's limits) and joined, the cgroup namespace unshared, the read-only root built with
 * /tmp and a fresh /proc mounted (no binds: see below), pivot_root done, loopback up when the
 * template asks for it. Its init then waits on a pipe. Taking one for a task:
 *   1. the supervisor writes the task's cgroup limits (memory, pids, CPU quota) into its group;
 *   2. sends the task (program, arguments, environment, cwd, rlimits, whether stdin is fed);
 *   3. the sandbox does the last steps exactly as a cold run does — forks the command, which
 *      sets up stdio, rlimits, drops every privilege, loads seccomp and execs;
 *   4. the supervisor runs the same supervision and classification as octo_sandbox_run
 *      (deadline and output caps start when the task is sent).
 * A pooled sandbox is used once, never reused: after its run it is torn down (its cgroup
 * removed) and a fresh one is prepared in its place by the pool's refill thread.
 *
 * Binds: prepared sandboxes have none, and a task with binds runs cold. A bind resolved at
 * preparation could, by the time the task comes, show a directory the host path no longer
 * names (a previous tenant's, renamed away), so binds are always resolved at run time.
 * What must match the template (else the task runs cold, counted in cold_mismatch; documented
 * choice: the caller still gets a correct run, only without the speed-up): no binds, the net
 * mode, the /tmp size (limits.tmp_bytes after defaults) and whether a CPU quota is set at all
 * (its value may differ). Everything else —
 * memory, pids, CPU quota value, deadline, output caps, file size, nofile, argv, envp, cwd,
 * stdin — is per task. An empty pool also runs cold (cold_empty).
 *
 * Threading: one refill thread per pool prepares the sandboxes (it is their parent: a prepared
 * sandbox dies with it, PR_SET_PDEATHSIG). octo_sandbox_pool_run may be called from several
 * threads at once; each call blocks its caller like octo_sandbox_run. deinit must not race
 * with runs.
 *
 * Memory: the pool struct is caller-allocated (no heap for the slots); one heap copy of the
 * template's strings; per prepared sandbox ~4 KiB of supervisor state plus six descriptors.
 */
#ifndef OCTO_EXEC_POOL_H
#define OCTO_EXEC_POOL_H

#include "base/err.h"
#include "exec/sandbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_SANDBOX_POOL_MAX 64        /* prepared sandboxes per pool */
#define OCTO_SANDBOX_POOL_FILL_MS 30000 /* init waits at most this long for the first fill */

/* Counters (monotonic since init) and the current number of prepared sandboxes. */
struct octo_sandbox_pool_stats {
    uint64_t warm_runs;        /* tasks run in a prepared sandbox */
    uint64_t cold_empty;       /* run cold: no prepared sandbox was ready */
    uint64_t cold_mismatch;    /* run cold: binds/net/tmp/cpu-quota differ from the template */
    uint64_t cold_unusable;    /* run cold: the taken sandbox could not accept the task */
    uint64_t prepared;         /* sandboxes prepared (initial fill and refills) */
    uint64_t prepare_failures; /* preparations that failed */
    size_t ready;              /* prepared and waiting now */
};

struct octo__sandbox_warm;
struct octo__pool_template;

struct octo_sandbox_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t refill;
    bool started, stop;
    size_t max;
    struct octo__sandbox_warm *ready[OCTO_SANDBOX_POOL_MAX]; /* FIFO, ready[0] oldest */
    size_t count;
    struct octo__sandbox_warm *spent[OCTO_SANDBOX_POOL_MAX]; /* used, torn down by refill */
    size_t spent_count;
    struct octo__pool_template *tmpl;
    struct octo_sandbox_pool_stats stats;
    int error;        /* last preparation error (0 = none) */
    char reason[160]; /* and why */
};

/* Starts a pool of `max` (1..OCTO_SANDBOX_POOL_MAX) prepared sandboxes built from template:
 * its net mode and limits are used; its argv, envp, cwd, stdin and on_output are ignored (argv
 * may be NULL). Blocks until the pool is full (the refill thread prepares them).
 * Returns 0; OCTO_EINVAL for max out of range or a bad template (same rules as
 * octo_sandbox_run); OCTO_EUNSUPPORTED for a template with binds, or when sandboxes cannot be
 * prepared here (not root, no
 * usable cgroup hierarchy; pool->reason says why); OCTO_EIO when a preparation failed
 * (reason); OCTO_ETIMEDOUT when the fill took over OCTO_SANDBOX_POOL_FILL_MS; OCTO_ENOMEM. On
 * failure nothing is left running and the pool needs no deinit. */
OCTO_MUST_USE int octo_sandbox_pool_init(struct octo_sandbox_pool *pool, size_t max,
                                         const struct octo_sandbox_spec *template_spec);

/* Started mode: like octo_sandbox_pool_init, but each prepared sandbox also starts the
 * template's own command (argv, envp, cwd, with the template's limits), which then waits,
 * blocked on its stdin (a pipe), for its task. A task is then only its input: a spec runs warm
 * when it names the same command (argv, envp, cwd, equal rlimits: file size, nofile and the CPU
 * backstop) besides the rules above, and its stdin (data or feed; none = EOF) goes to the
 * waiting command. This is the pool for a fixed engine — the Privacy Containers' worker, a model
 * server — whose per-task cost then excludes fork, seccomp load and exec. Output the command
 * writes before its task arrives counts as the task's. A command that ended while it waited
 * is discarded (the task runs cold, counted in cold_unusable). Same returns as
 * octo_sandbox_pool_init; the template's argv must be set. */
OCTO_MUST_USE int octo_sandbox_pool_init_started(struct octo_sandbox_pool *pool, size_t max,
                                                 const struct octo_sandbox_spec *template_spec);

/* Runs spec like octo_sandbox_run — same contract, same result — in a prepared sandbox when
 * one is ready and spec matches the template (see above), else cold. The used sandbox is
 * replaced in the background. Returns 0 with *out filled, or OCTO_EINVAL for a bad spec. */
OCTO_MUST_USE int octo_sandbox_pool_run(struct octo_sandbox_pool *pool,
                                        const struct octo_sandbox_spec *spec,
                                        struct octo_sandbox_result *out);

/* Waits until the pool is full again (every used sandbox replaced and torn down) or
 * timeout_ms passes. Returns 0 or OCTO_ETIMEDOUT. For benchmarks and tests. */
OCTO_MUST_USE int octo_sandbox_pool_wait_full(struct octo_sandbox_pool *pool, uint64_t timeout_ms);

/* Copies the counters. */
void octo_sandbox_pool_stats(struct octo_sandbox_pool *pool, struct octo_sandbox_pool_stats *st);

/* Stops the refill thread, kills and reaps every prepared sandbox and removes their cgroups.
 * Idempotent; safe on a zeroed struct. No run may be in progress. */
void octo_sandbox_pool_deinit(struct octo_sandbox_pool *pool);

/* ---- internal: prepared-sandbox primitives (sandbox.c), used by pool.c only ------------- */

#define OCTO__SANDBOX_TASK_MAX 65536 /* bytes of a task's strings (path, cwd, argv, envp) */

/* Prepares one sandbox from the template (argv may be NULL). On failure err (may be NULL)
 * says why. Returns 0 with *out set; OCTO_EINVAL (bad template), OCTO_EUNSUPPORTED (not root,
 * no cgroups), OCTO_EIO (a setup step failed), OCTO_ENOMEM. */
OCTO_MUST_USE int octo__sandbox_warm_prepare(const struct octo_sandbox_spec *template_spec,
                                             bool started, struct octo__sandbox_warm **out,
                                             char *err, size_t err_size);

/* Whether a sandbox prepared from template_spec can run spec. Returns 0 (yes), OCTO_EINVAL
 * (spec is invalid for any run), OCTO_EUNSUPPORTED (valid, but must run cold). */
OCTO_MUST_USE int octo__sandbox_warm_accepts(const struct octo_sandbox_spec *template_spec,
                                             bool started, const struct octo_sandbox_spec *spec);

/* Runs spec (accepted, see above) in w and supervises it. w is spent either way: the caller
 * discards it. Returns 0 with *out filled; OCTO_EAGAIN when nothing ran (the cgroup limits
 * could not be set, the sandbox was gone): run cold instead; OCTO_EINVAL for a bad spec. */
OCTO_MUST_USE int octo__sandbox_warm_run(struct octo__sandbox_warm *w,
                                         const struct octo_sandbox_spec *spec,
                                         struct octo_sandbox_result *out);

/* Kills and reaps w's processes, removes its cgroup, frees it. NULL is a no-op. */
void octo__sandbox_warm_discard(struct octo__sandbox_warm *w);

#endif
