/*
 * cgroup.h — the sandbox runner's cgroup handling (internal to octo_exec): finds where our own
 * process sits in the cgroup hierarchies, creates one group per sandbox beneath it with the
 * memory, pids and CPU limits, attaches the sandbox's first process, reads the counters that
 * classify the outcome (OOM kills, pids-limit hits, CPU time, memory peak), kills whatever is
 * left and removes the group.
 *
 * Two layouts (EXECUTION.md §1, §4):
 *   v1 (this build machine, hybrid): one hierarchy per controller under <root>/<controller>;
 *      a sandbox gets one directory in each of memory, pids, cpu (when a CPU quota is asked)
 *      and cpuacct (CPU time), nested under our own path from /proc/self/cgroup.
 *   v2 (stock Debian 12): one unified tree; the sandbox is one directory under our cgroup,
 *      which must have memory and pids (and cpu) in its cgroup.subtree_control. Because of the
 *      no-internal-process rule, when enabling them fails with EBUSY our process is moved into
 *      a leaf "<base>/octo-supervisor" first (as systemd asks of delegated units).
 *
 * Everything takes the cgroupfs mount root and the text of /proc/self/cgroup as inputs, so the
 * path and file logic runs against a fake directory tree in tests (layout.fake: plain files
 * stand in for the kernel's control files and are created on write, removed before rmdir).
 *
 * Memory: fixed-size structs, no heap. Paths longer than OCTO__CG_PATH_MAX are refused.
 */
#ifndef OCTO_EXEC_CGROUP_H
#define OCTO_EXEC_CGROUP_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OCTO__CG_SUPERVISOR_LEAF "octo-supervisor" /* v2: where the supervisor moves itself */
#define OCTO__CG_PATH_MAX 512
#define OCTO__CG_SELF_MAX 8192 /* bytes of /proc/self/cgroup we read */

/* Controller slots (v1: one directory each; v2 uses slot OCTO__CG_MEM for the single dir). */
enum octo__cg_slot {
    OCTO__CG_MEM = 0,
    OCTO__CG_PIDS = 1,
    OCTO__CG_CPU = 2,
    OCTO__CG_CPUACCT = 3,
    OCTO__CG_SLOTS = 4,
};

struct octo__cgroup_layout {
    int version;                                  /* 0 = nothing usable, 1, 2 */
    char base[OCTO__CG_SLOTS][OCTO__CG_PATH_MAX]; /* our own cgroup per slot; "" = absent */
    bool fake;                                    /* tests: plain files, see above */
};

struct octo__cgroup_limits {
    uint64_t mem_bytes; /* > 0 */
    uint32_t pids;      /* > 0 */
    uint32_t cpu_pct;   /* 0 = no quota */
};

struct octo__cgroup {
    const struct octo__cgroup_layout *layout;
    char dir[OCTO__CG_SLOTS][OCTO__CG_PATH_MAX]; /* created directories; "" = none */
    int v2_fd;                                   /* v2: O_DIRECTORY fd (CLONE_INTO_CGROUP) */
};

struct octo__cgroup_stats {
    uint64_t oom_kills; /* memory.events / memory.oom_control "oom_kill" */
    uint64_t pids_max;  /* pids.events "max" */
    uint64_t cpu_ns;    /* 0 if unknown */
    uint64_t mem_peak;  /* 0 if unknown */
};

/* Works out the layout from the cgroupfs mount root (normally "/sys/fs/cgroup") and the text
 * of /proc/self/cgroup. v2 when <root>/cgroup.controllers exists, else v1 when a memory or
 * pids hierarchy line names an existing directory. Returns 0 (version 0 when nothing is
 * usable), OCTO_ETOOBIG for a path over OCTO__CG_PATH_MAX, OCTO_EMALFORMED for a
 * /proc/self/cgroup line without two colons. */
OCTO_MUST_USE int octo__cgroup_discover(const char *mount_root, const char *self_cgroup,
                                        struct octo__cgroup_layout *l);

/* octo__cgroup_discover on the running system ("/sys/fs/cgroup", /proc/self/cgroup).
 * Returns 0 or OCTO_EIO when /proc/self/cgroup cannot be read. */
OCTO_MUST_USE int octo__cgroup_layout_load(struct octo__cgroup_layout *l);

/* Tells which controllers the layout can use (directories present and writable for v1; listed
 * in cgroup.controllers for v2). Any output pointer may be NULL. */
void octo__cgroup_usable(const struct octo__cgroup_layout *l, bool *memory, bool *pids, bool *cpu);

/* Parses "key value" lines (memory.events, pids.events, cpu.stat, memory.oom_control) and
 * stores the value of `key`. Returns 0, OCTO_ENOTFOUND when the key is absent, OCTO_ERANGE
 * for a value that is not a decimal uint64. */
OCTO_MUST_USE int octo__cgroup_parse_key(const char *text, const char *key, uint64_t *out);

/* Creates the sandbox group `name` (one path component) under the layout with the limits.
 * memory and pids are required; cpu only when lim->cpu_pct > 0. On failure nothing is left
 * behind and err (may be NULL) names the step and errno. Returns 0, OCTO_EUNSUPPORTED when a
 * required controller is missing, OCTO_ETOOBIG for an over-long path, or the mapped errno. */
OCTO_MUST_USE int octo__cgroup_create(struct octo__cgroup *cg, const struct octo__cgroup_layout *l,
                                      const char *name, const struct octo__cgroup_limits *lim,
                                      char *err, size_t err_size);

/* Moves process pid into every directory of the group (cgroup.procs). Returns 0 or the mapped
 * errno of the first failure. */
OCTO_MUST_USE int octo__cgroup_attach(const struct octo__cgroup *cg, pid_t pid);

/* SIGKILLs everything in the group (v2 cgroup.kill when present, else each pid listed in
 * cgroup.procs). Best effort. */
void octo__cgroup_kill(const struct octo__cgroup *cg);

/* Kills every process listed in dir/cgroup.procs (read whole), each through a pidfd after
 * re-checking its membership, so a pid reused by another process is never signalled. Returns
 * how many were listed. Shared with the container path's v1 groups. */
size_t octo__cgroup_kill_dir(const char *dir);

/* Reads the counters; unknown ones stay 0. */
void octo__cgroup_read_stats(const struct octo__cgroup *cg, struct octo__cgroup_stats *st);

/* Kills leftovers and removes the group's directories (retrying while they drain, about one
 * second at most). Returns 0 or OCTO_EBUSY when a directory could not be removed. Idempotent;
 * safe on a zeroed struct with v2_fd = -1. */
OCTO_MUST_USE int octo__cgroup_destroy(struct octo__cgroup *cg);

#endif
