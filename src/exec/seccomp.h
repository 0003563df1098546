/*
 * seccomp.h — the sandbox's syscall policy (internal to octo_exec), compiled with libseccomp
 * into a classic-BPF program in the parent so that the sandboxed child only has to hand it to
 * the kernel (one raw seccomp() call, no allocation).
 *
 * Policy (EXECUTION.md §4): default ERRNO(EPERM); KILL_PROCESS for the never-list (ptrace,
 * process_vm_*, bpf, perf_event_open, userfaultfd, keyctl/add_key/request_key, kexec, module
 * loading, io_uring, mount and the new mount API, umount2, pivot_root, chroot, unshare, setns,
 * open_by_handle_at, and clone with any CLONE_NEW* bit); clone3 -> ERRNO(ENOSYS) so libc falls
 * back to clone; socket/socketpair only AF_UNIX (plus AF_INET/AF_INET6 sockets when loopback
 * networking is allowed); ioctl TIOCSTI and TIOCLINUX denied comparing the low 32 bits; a
 * static allowlist sized for coreutils, sh and python3. Non-native architectures (i386, x32)
 * are killed by libseccomp's architecture check.
 *
 * The two programs (with and without inet) are built once per process on first use and kept
 * in static storage, guarded by a mutex; callers get a read-only view.
 */
#ifndef OCTO_EXEC_SECCOMP_H
#define OCTO_EXEC_SECCOMP_H

#include "base/err.h"

#include <linux/filter.h>
#include <stdbool.h>

/* Returns the compiled program for the policy (allow_inet: AF_INET/AF_INET6 sockets too).
 * *prog points at static storage valid for the life of the process. Returns 0,
 * OCTO_ECONFIG when libseccomp rejects the policy, OCTO_ETOOBIG when the program exceeds
 * BPF_MAXINSNS, OCTO_EIO when exporting fails. */
OCTO_MUST_USE int octo__seccomp_program(bool allow_inet, const struct sock_fprog **prog);

/* Returns the compiled ioctl guard (TIOCSTI / TIOCLINUX refused on the low 32 bits), a
 * second filter the child loads with the program above. Same errors as the program. */
OCTO_MUST_USE int octo__seccomp_guard(const struct sock_fprog **prog);

#endif
