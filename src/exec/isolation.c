/*
 * isolation.c — dispatch over the isolation levels (isolation.h).
 *
 * TEE: the devices a confidential guest would have (/dev/sev-guest, /dev/tdx_guest) are
 * probed only to word the reason; with or without them the answer is OCTO_EUNSUPPORTED
 * because no attested TEE runtime exists in this build. ZK is refused unconditionally.
 */
#include "exec/isolation.h"

#include "base/assert.h"
#include "exec/oci.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const level_names[] = {"process", "container", "tee", "zk"};

const char *octo_isolation_name(enum octo_isolation_level level)
{
    if ((unsigned)level >= OCTO_ARRAY_LEN(level_names))
        return "unknown";
    return level_names[level];
}

int octo_isolation_parse(const char *name, enum octo_isolation_level *level)
{
    OCTO_ASSERT(level != NULL);
    for (size_t i = 0; name != NULL && i < OCTO_ARRAY_LEN(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = (enum octo_isolation_level)i;
            return 0;
        }
    }
    return OCTO_EINVAL;
}

static void say(char *reason, size_t size, const char *text)
{
    if (reason != NULL && size > 0)
        snprintf(reason, size, "%s", text);
}

static int tee_reason(char *reason, size_t size)
{
    bool device = access("/dev/sev-guest", F_OK) == 0 || access("/dev/tdx_guest", F_OK) == 0;
    if (device)
        say(reason, size,
            "a TEE guest device is present but no attested TEE runtime exists in this build");
    else
        say(reason, size,
            "no TEE: no /dev/sev-guest or /dev/tdx_guest; running in a TEE needs this node "
            "itself inside a confidential VM");
    return OCTO_EUNSUPPORTED;
}

static int process_reason(char *reason, size_t size)
{
    if (geteuid() != 0) {
        say(reason, size, "the process sandbox needs root (two-range uid map, cgroups)");
        return OCTO_EUNSUPPORTED;
    }
    struct octo_sandbox_features f;
    if (octo_sandbox_probe(&f) != 0) {
        say(reason, size, "cannot probe the host's isolation features");
        return OCTO_EUNSUPPORTED;
    }
    if (!(f.user_ns && f.mount_ns && f.pid_ns && f.net_ns && f.ipc_ns && f.uts_ns && f.seccomp &&
          f.cgroup_memory && f.cgroup_pids)) {
        say(reason, size, "a namespace, seccomp, or the memory/pids cgroup is missing");
        return OCTO_EUNSUPPORTED;
    }
    return 0;
}

int octo_isolation_available(enum octo_isolation_level level, char *reason, size_t reason_size)
{
    char path[256];
    switch (level) {
    case OCTO_ISOLATION_PROCESS:
        return process_reason(reason, reason_size);
    case OCTO_ISOLATION_CONTAINER:
        if (octo_oci_find_runtime(path, sizeof(path)) == 0)
            return 0;
        say(reason, reason_size, "no OCI runtime: crun is not installed");
        return OCTO_EUNSUPPORTED;
    case OCTO_ISOLATION_TEE:
        return tee_reason(reason, reason_size);
    case OCTO_ISOLATION_ZK:
        say(reason, reason_size, "zk is declared unsupported: there is no zero-knowledge back end");
        return OCTO_EUNSUPPORTED;
    }
    return OCTO_EINVAL;
}

/* Fills out for a level that cannot run: SETUP_ERROR, nothing ran. */
static int refuse(struct octo_sandbox_result *out, int (*why)(char *, size_t))
{
    memset(out, 0, sizeof(*out));
    out->outcome = OCTO_SANDBOX_SETUP_ERROR;
    return why(out->setup_error, sizeof(out->setup_error));
}

static int zk_reason(char *reason, size_t size)
{
    return octo_isolation_available(OCTO_ISOLATION_ZK, reason, size);
}

int octo_isolation_run_pooled(enum octo_isolation_level level, struct octo_sandbox_pool *pool,
                              const struct octo_sandbox_spec *spec, struct octo_sandbox_result *out)
{
    OCTO_ASSERT(out != NULL);
    switch (level) {
    case OCTO_ISOLATION_PROCESS:
        return pool != NULL ? octo_sandbox_pool_run(pool, spec, out) : octo_sandbox_run(spec, out);
    case OCTO_ISOLATION_CONTAINER:
        return octo_oci_run(spec, out);
    case OCTO_ISOLATION_TEE:
        return refuse(out, tee_reason);
    case OCTO_ISOLATION_ZK:
        return refuse(out, zk_reason);
    }
    return OCTO_EINVAL;
}

int octo_isolation_run(enum octo_isolation_level level, const struct octo_sandbox_spec *spec,
                       struct octo_sandbox_result *out)
{
    return octo_isolation_run_pooled(level, NULL, spec, out);
}
