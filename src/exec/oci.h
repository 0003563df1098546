/*
 * oci.h — container isolation: one command run as an OCI bundle by crun (Debian's crun 1.8),
 * supervised like the process sandbox (deadline, output caps, classified outcome).
 *
 * The bundle is a throw-away directory under /tmp: config.json (the spec's argv, envp, cwd,
 * binds; user 65534, no capabilities, noNewPrivileges; pid, network, ipc, uts, mount and
 * cgroup namespaces; a read-only rootfs with /usr bound in read-only, /proc, a /dev tmpfs, a
 * /tmp tmpfs of limits.tmp_bytes; RLIMIT_NOFILE and RLIMIT_FSIZE; a seccomp rule killing the
 * process for the sandbox's never-list, octo_sandbox_kill_list) and rootfs/ with the mount
 * points and the merged-/usr links. The container always gets a fresh network namespace:
 * NET_LOOPBACK is honoured only as far as crun brings lo up (a relaxation, never more network).
 * stdin is not supported (OCTO_EUNSUPPORTED: refused, not dropped).
 *
 * cgroups: on pure v2 hosts crun creates the group (cgroupsPath nested under our own cgroup,
 * linux.resources memory, pids, cpu). crun 1.8 refuses hybrid hosts like this build machine
 * ("cgroups in hybrid mode not supported"), so on v1/hybrid hosts every crun process runs in a
 * private mount namespace with /sys/fs/cgroup/unified detached, with --cgroup-manager=disabled,
 * inside v1 groups made here (memory, pids, and cpu when a quota is asked) under our own path,
 * joined by the crun process before it execs; they also tell OOM and pids-limit kills apart.
 *
 * The runtime is found at run time (OCTO_OCI_RUNTIMES, first executable wins), never assumed.
 */
#ifndef OCTO_EXEC_OCI_H
#define OCTO_EXEC_OCI_H

#include "base/buf.h"
#include "base/err.h"
#include "exec/sandbox.h"

#include <stdbool.h>
#include <stddef.h>

#define OCTO_OCI_CONFIG_MAX (UINT64_C(1) << 20) /* bytes of config.json */
#define OCTO_OCI_ID_MAX 64                      /* container id, NUL included */

/* Where an OCI runtime is looked for, in order. */
#define OCTO_OCI_RUNTIMES                                                                          \
    {                                                                                              \
        "/usr/bin/crun", "/usr/local/bin/crun", "/bin/crun"                                        \
    }

/* Finds crun. Writes its path into path (size bytes). Returns 0, OCTO_ENOTFOUND when none is
 * executable, OCTO_ETOOBIG when path is too small. */
OCTO_MUST_USE int octo_oci_find_runtime(char *path, size_t size);

/* Writes the bundle's config.json for spec (validated, limits with defaults applied in eff)
 * into out (appended; out's max bounds it). id names the container, cgroups_path is used on v2
 * (linux.cgroupsPath + linux.resources); on v1 resources are left to the caller's groups.
 * Returns 0, OCTO_EINVAL for a spec without argv, OCTO_ETOOBIG past out's max, OCTO_ENOMEM. */
OCTO_MUST_USE int octo_oci_config(const struct octo_sandbox_spec *spec,
                                  const struct octo_sandbox_limits *eff, const char *id,
                                  const char *cgroups_path, bool v2, struct octo_buf *out);

/* Runs spec as a container and waits for it: output goes to spec->on_output as it arrives,
 * at most limits.output_bytes per stream. Returns 0 with *out filled — including
 * SETUP_ERROR with out->setup_error saying why when the bundle, the cgroups or crun failed
 * (nothing of the command ran) —, OCTO_EINVAL for a bad spec (same rules as
 * octo_sandbox_run), OCTO_EUNSUPPORTED (out->setup_error says why) when no OCI runtime is
 * installed or the spec asks for stdin. */
OCTO_MUST_USE int octo_oci_run(const struct octo_sandbox_spec *spec,
                               struct octo_sandbox_result *out);

/* Internal (sandbox.c): validates spec as octo_sandbox_run does and fills *eff with the
 * limits after defaults. Returns 0 or OCTO_EINVAL. */
OCTO_MUST_USE int octo__sandbox_check(const struct octo_sandbox_spec *spec,
                                      struct octo_sandbox_limits *eff);

#endif
