/*
 * sandbox.h — the Secure Execution Runtime's process sandbox: runs one command contained in
 * its own user, mount, pid, net, ipc, uts and cgroup namespaces, on a minimal read-only root
 * (pivot_root; only the declared binds, a fresh /proc, a size-capped /tmp), with every
 * capability dropped, no_new_privs, a libseccomp allowlist (deny by default, kill for the
 * dangerous calls), rlimits, cgroup limits for memory, pids and CPU (cgroup v1 and v2, nested
 * under the node's own cgroup), a wall-clock deadline, caps on stdout/stderr bytes, and no
 * inherited descriptors. The supervisor classifies the outcome.
 *
 * Recipe and facts: ../shared/design/EXECUTION.md §4 (runner), §5 (escape catalogue). Runs as
 * root (the node's execution service) or unprivileged where user namespaces are allowed; the
 * features the host offers are probed at run time (octo_sandbox_probe), and a sandbox that
 * cannot set up a required protection fails closed (OCTO_SANDBOX_SETUP_ERROR), never runs the
 * command unprotected.
 *
 * Threading: octo_sandbox_run blocks the calling thread until the command ends (the node calls
 * it from a worker thread). It forks; it is safe in a multi-threaded process because the child
 * only makes async-signal-safe calls before execve (everything it needs is prepared first).
 */
#ifndef OCTO_EXEC_SANDBOX_H
#define OCTO_EXEC_SANDBOX_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_SANDBOX_BINDS_MAX 16
#define OCTO_SANDBOX_ARGS_MAX 256
#define OCTO_SANDBOX_ENV_MAX 64
#define OCTO_SANDBOX_PATH_MAX 4096
#define OCTO_SANDBOX_UID 1000 /* the workload's uid inside the sandbox (nobody outside) */

/* Defaults applied to 0 fields of struct octo_sandbox_limits. */
#define OCTO_SANDBOX_MEM_DEFAULT (UINT64_C(256) << 20)
#define OCTO_SANDBOX_PIDS_DEFAULT 64u
#define OCTO_SANDBOX_WALL_MS_DEFAULT 30000u
#define OCTO_SANDBOX_OUTPUT_DEFAULT (UINT64_C(1) << 20) /* per stream */
#define OCTO_SANDBOX_FSIZE_DEFAULT (UINT64_C(64) << 20)
#define OCTO_SANDBOX_TMP_DEFAULT (UINT64_C(64) << 20)
#define OCTO_SANDBOX_NOFILE_DEFAULT 256u

/* Maxima: a spec asking for more is refused with OCTO_EINVAL (added by the runner). */
#define OCTO_SANDBOX_MEM_MAX (UINT64_C(64) << 30)
#define OCTO_SANDBOX_PIDS_MAX 65536u
#define OCTO_SANDBOX_CPU_PCT_MAX 25600u
#define OCTO_SANDBOX_WALL_MS_MAX (UINT64_C(24) * 3600 * 1000)
#define OCTO_SANDBOX_OUTPUT_MAX (UINT64_C(1) << 30)
#define OCTO_SANDBOX_FSIZE_MAX (UINT64_C(1) << 40)
#define OCTO_SANDBOX_TMP_MAX (UINT64_C(64) << 30)
#define OCTO_SANDBOX_NOFILE_MAX 65536u
#define OCTO_SANDBOX_STDIN_MAX (UINT64_C(1) << 30)

enum octo_sandbox_net {
    OCTO_SANDBOX_NET_NONE = 0,     /* a fresh netns with lo down: no network at all */
    OCTO_SANDBOX_NET_LOOPBACK = 1, /* a fresh netns with lo up: 127.0.0.1 only */
};

struct octo_sandbox_bind {
    const char *src; /* host path (absolute) */
    const char *dst; /* path inside the sandbox (absolute) */
    bool writable;   /* default read-only */
};

struct octo_sandbox_limits {
    uint64_t mem_bytes;    /* cgroup memory limit (no swap) */
    uint32_t pids;         /* cgroup pids.max */
    uint32_t cpu_pct;      /* CPU quota in percent of one core (100 = one core); 0 = none */
    uint64_t wall_ms;      /* wall-clock deadline */
    uint64_t output_bytes; /* cap on each of stdout and stderr */
    uint64_t fsize_bytes;  /* RLIMIT_FSIZE */
    uint64_t tmp_bytes;    /* size of the /tmp tmpfs */
    uint32_t nofile;       /* RLIMIT_NOFILE */
};

/* Where the command's output goes: called from the supervisor as bytes arrive (stream 1 =
 * stdout, 2 = stderr), at most limits.output_bytes per stream in total. */
typedef void (*octo_sandbox_output_fn)(void *ctx, int stream, const uint8_t *data, size_t len);

/* Interactive stdin: bytes the caller queues while the command runs, typically from its
 * on_output callback (which runs on the supervising thread, so no locking is needed). The
 * supervisor writes queued bytes as the command reads them and closes the command's stdin once
 * the feed is closed and drained. Caller-owned (init/deinit); exclusive with stdin_data. */
struct octo_sandbox_feed {
    struct octo_buf buf; /* queued bytes; buf[off..len) not yet written */
    size_t off;
    bool closed; /* no more bytes will be queued */
};

/* max: most bytes queued at once (<= OCTO_SANDBOX_STDIN_MAX); secret: wipe them once written. */
void octo_sandbox_feed_init(struct octo_sandbox_feed *f, size_t max, bool secret);
void octo_sandbox_feed_deinit(struct octo_sandbox_feed *f);
/* Queues data. OCTO_ETOOBIG past max, OCTO_ENOMEM, OCTO_ESTATE once closed. */
OCTO_MUST_USE int octo_sandbox_feed_push(struct octo_sandbox_feed *f, const uint8_t *data,
                                         size_t len);
/* Marks the end of input: the command reads EOF after the queued bytes. */
void octo_sandbox_feed_close(struct octo_sandbox_feed *f);

struct octo_sandbox_spec {
    const char *const *argv;   /* argv[0] is the program (absolute inside the sandbox, or
                                  looked up in /usr/bin, /bin) */
    const char *const *envp;   /* NULL: a scrubbed default (PATH, HOME=/tmp, LANG=C.UTF-8) */
    const char *cwd;           /* inside the sandbox; NULL = /tmp */
    const uint8_t *stdin_data; /* fed to the command's stdin, or NULL for /dev/null */
    size_t stdin_len;
    struct octo_sandbox_feed *stdin_feed; /* interactive stdin instead (process level only) */
    struct octo_sandbox_bind binds[OCTO_SANDBOX_BINDS_MAX]; /* extra binds beyond /usr */
    size_t binds_count;
    enum octo_sandbox_net net;
    struct octo_sandbox_limits limits; /* 0 fields take the defaults above */
    octo_sandbox_output_fn on_output;  /* NULL: output is discarded (still counted) */
    void *ctx;
    /* Another thread's way to stop the run: when this descriptor becomes readable (an eventfd
     * written, a pipe written or closed) the supervisor kills the sandbox (CANCELLED). 0 or
     * negative: none (0 is stdin, never a cancel descriptor). */
    int cancel_fd;
};

/* How the command ended. */
enum octo_sandbox_outcome {
    OCTO_SANDBOX_EXITED = 0,      /* exit_code holds its status */
    OCTO_SANDBOX_SIGNALED = 1,    /* killed by `signal` (not one of the causes below) */
    OCTO_SANDBOX_OOM = 2,         /* the memory limit killed it */
    OCTO_SANDBOX_PIDS = 3,        /* it hit the pids limit (and then ended) */
    OCTO_SANDBOX_TIMEOUT = 4,     /* killed at the wall-clock deadline */
    OCTO_SANDBOX_OUTPUT = 5,      /* killed at the output cap */
    OCTO_SANDBOX_SECCOMP = 6,     /* killed by the seccomp filter (SIGSYS) */
    OCTO_SANDBOX_FSIZE = 7,       /* killed by SIGXFSZ (file size limit) */
    OCTO_SANDBOX_CPU = 8,         /* killed by SIGXCPU (CPU time backstop) */
    OCTO_SANDBOX_SETUP_ERROR = 9, /* the sandbox could not be set up: nothing ran */
    OCTO_SANDBOX_CANCELLED = 10,  /* killed because spec.cancel_fd became readable */
};

struct octo_sandbox_result {
    enum octo_sandbox_outcome outcome;
    int exit_code;                       /* EXITED */
    int signal;                          /* SIGNALED, SECCOMP, ... */
    uint64_t wall_ns;                    /* from start to the last process gone */
    uint64_t cpu_ns;                     /* CPU time of the sandbox (cgroup), 0 if unknown */
    uint64_t mem_peak_bytes;             /* 0 if unknown */
    uint64_t stdout_bytes, stderr_bytes; /* produced (up to the cap) */
    char setup_error[160];               /* SETUP_ERROR: which step failed and why */
};

/* What this host supports (for `octo exec --check` and for failing closed). */
struct octo_sandbox_features {
    bool user_ns, mount_ns, pid_ns, net_ns, ipc_ns, uts_ns, cgroup_ns;
    int cgroup_version; /* 1 (v1 memory/pids/cpu hierarchies), 2 (unified), 0 none usable */
    bool cgroup_memory, cgroup_pids, cgroup_cpu; /* controllers we can use, nested under ours */
    bool seccomp;                                /* seccomp filter mode */
    int landlock_abi;                            /* 0 = none */
    bool clone_into_cgroup;                      /* clone3(CLONE_INTO_CGROUP) (v2, 5.7+) */
    char oci_runtime[64];                        /* "crun 1.8.1" / "runc ..." or "" */
    bool tpm;                                    /* /dev/tpm0 or /dev/tpmrm0 */
    char cgroup_base[OCTO_SANDBOX_PATH_MAX];     /* where our sandboxes' cgroups go */
};

/* Fills *f by probing the running kernel (forks short-lived children to try namespaces).
 * Returns 0 or OCTO_EIO. */
OCTO_MUST_USE int octo_sandbox_probe(struct octo_sandbox_features *f);

/* Runs spec in a fresh sandbox and waits for it. Returns 0 with *out filled — whatever the
 * command did, including SETUP_ERROR (then nothing ran) — or OCTO_EINVAL for a bad spec
 * (too many binds/args, relative paths, a limit above its maximum). */
OCTO_MUST_USE int octo_sandbox_run(const struct octo_sandbox_spec *spec,
                                   struct octo_sandbox_result *out);

/* The system calls the sandbox's seccomp policy kills the process for (the never-list of
 * EXECUTION.md §4), by libseccomp name; *count receives their number. Shared with the OCI
 * container path, which puts the same list into its config. */
const char *const *octo_sandbox_kill_list(size_t *count);

/* The system calls the policy allows without conditions (the container path uses the same
 * allowlist), and the CLONE_NEW* bits clone may not carry. */
const char *const *octo_sandbox_allow_list(size_t *count);
uint64_t octo_sandbox_clone_ns_mask(void);

/* Name of an outcome ("exited", "oom", ...). */
const char *octo_sandbox_outcome_name(enum octo_sandbox_outcome o);

#endif
