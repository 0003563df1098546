/*
 * cmd_exec.c — `octo exec [--isolation process|container|tee|zk] [--mem BYTES] [--pids N]
 * [--timeout S] [--net none|loopback] -- CMD ARGS...`: runs one command at the chosen isolation
 * level, passes its stdout/stderr through as they arrive, and reports the classified outcome;
 * and `octo exec --check [--json]`: the isolation features of this host.
 *
 * This file only parses flags and reports: the levels live in the exec module behind
 * octo_isolation_run (exec/isolation.h) — `process` (default) is the process sandbox,
 * `container` an OCI bundle run by crun (exec/oci.h; the container always gets a fresh network
 * namespace), `tee` and `zk` are refused with the module's reason as a usage error on this
 * host — never a silent downgrade to a weaker level.
 *
 * Exit status mirrors the outcome (documented in the help text):
 *   the command's own exit code when it exited; 128+N when killed by signal N (also SIGXFSZ and
 *   SIGXCPU, as shells report them); 120 setup error (nothing ran); 121 out of memory; 122 pids
 *   limit; 123 output cap; 124 timeout; 125 seccomp kill; 2 usage error (nothing ran).
 * Unless the command exited, one line "octo: exec: <outcome> (<detail>)" goes to stderr.
 *
 * Limits: at most OCTO_ARGS_POSITIONAL_MAX words of command (the CLI parser's limit), memory up
 * to EXEC_MEM_MAX, pids up to EXEC_PIDS_MAX, timeouts up to EXEC_TIMEOUT_S_MAX.
 */
#include "base/alloc.h"
#include "cli/cli.h"
#include "exec/isolation.h"
#include "exec/sandbox.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_MEM_MAX (UINT64_C(1) << 40)
#define EXEC_PIDS_MAX 65536u
#define EXEC_TIMEOUT_S_MAX 86400u

enum {
    EXEC_EXIT_SETUP = 120,
    EXEC_EXIT_OOM = 121,
    EXEC_EXIT_PIDS = 122,
    EXEC_EXIT_OUTPUT = 123,
    EXEC_EXIT_TIMEOUT = 124,
    EXEC_EXIT_SECCOMP = 125,
    EXEC_EXIT_SIGNAL_BASE = 128,
};

static const struct octo_flag exec_flags[] = {
    {"isolation", 0, true, false, "LEVEL", "process (default), container, tee or zk"},
    {"mem", 0, true, false, "BYTES", "memory limit, K/M/G suffixes (default 256M)"},
    {"pids", 0, true, false, "N", "process limit (default 64)"},
    {"timeout", 0, true, false, "S", "wall-clock limit in seconds (default 30)"},
    {"net", 0, true, false, "MODE", "none (default) or loopback"},
    {"check", 0, false, false, NULL, "print the isolation features of this host"},
    {"json", 0, false, false, NULL, "with --check: print one JSON object"},
    {NULL, 0, false, false, NULL, NULL},
};

struct exec_opts {
    enum octo_isolation_level level;
    struct octo_sandbox_limits limits;
    enum octo_sandbox_net net;
    const char *argv[OCTO_ARGS_POSITIONAL_MAX + 1];
};

/* Parses a positive byte count with an optional K, M or G suffix (powers of 1024) not above
 * max. Returns 0 or -1. */
static int parse_bytes(const char *s, uint64_t max, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || v == 0)
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift != 0)
        end++;
    if (*end != '\0' || v > (max >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    return octo_cli_parse_u64(s, max, out) == 0 && *out > 0 ? 0 : -1;
}

/* "64 MiB", "1 GiB", "1000 bytes". */
static void format_bytes(uint64_t v, char *out, size_t size)
{
    if (v != 0 && v % (UINT64_C(1) << 30) == 0)
        snprintf(out, size, "%llu GiB", (unsigned long long)(v >> 30));
    else if (v != 0 && v % (UINT64_C(1) << 20) == 0)
        snprintf(out, size, "%llu MiB", (unsigned long long)(v >> 20));
    else if (v != 0 && v % 1024 == 0)
        snprintf(out, size, "%llu KiB", (unsigned long long)(v >> 10));
    else
        snprintf(out, size, "%llu bytes", (unsigned long long)v);
}

static int parse_opts(struct octo_cli *cli, struct exec_opts *o)
{
    memset(o, 0, sizeof(*o));
    const char *isolation = octo_args_get(&cli->args, "isolation");
    o->level = OCTO_ISOLATION_PROCESS;
    if (isolation != NULL && octo_isolation_parse(isolation, &o->level) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "flag --isolation: expected process, container, tee or zk");
    uint64_t v;
    const char *s = octo_args_get(&cli->args, "mem");
    if (s != NULL && parse_bytes(s, EXEC_MEM_MAX, &o->limits.mem_bytes) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "flag --mem: expected a byte count (K, M, G suffixes) up to 1T");
    s = octo_args_get(&cli->args, "pids");
    if (s != NULL) {
        if (parse_count(s, EXEC_PIDS_MAX, &v) < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --pids: expected 1..%u",
                                 EXEC_PIDS_MAX);
        o->limits.pids = (uint32_t)v;
    }
    s = octo_args_get(&cli->args, "timeout");
    if (s != NULL) {
        if (parse_count(s, EXEC_TIMEOUT_S_MAX, &v) < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --timeout: expected 1..%u seconds",
                                 EXEC_TIMEOUT_S_MAX);
        o->limits.wall_ms = v * 1000;
    }
    s = octo_args_get(&cli->args, "net");
    if (s != NULL && strcmp(s, "none") != 0 && strcmp(s, "loopback") != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --net: expected none or loopback");
    o->net =
        s != NULL && strcmp(s, "loopback") == 0 ? OCTO_SANDBOX_NET_LOOPBACK : OCTO_SANDBOX_NET_NONE;
    if (cli->args.positional_count == 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo exec [FLAGS] -- CMD [ARGS...]");
    for (size_t i = 0; i < cli->args.positional_count; i++)
        o->argv[i] = cli->args.positional[i];
    /* defaults, for the messages */
    if (o->limits.mem_bytes == 0)
        o->limits.mem_bytes = OCTO_SANDBOX_MEM_DEFAULT;
    if (o->limits.pids == 0)
        o->limits.pids = OCTO_SANDBOX_PIDS_DEFAULT;
    if (o->limits.wall_ms == 0)
        o->limits.wall_ms = OCTO_SANDBOX_WALL_MS_DEFAULT;
    o->limits.output_bytes = OCTO_SANDBOX_OUTPUT_DEFAULT;
    return OCTO_EXIT_OK;
}

/* --- reporting --- */

static void pass_output(void *ctx, int stream, const uint8_t *data, size_t len)
{
    struct octo_cli *cli = ctx;
    FILE *f = stream == 2 ? cli->err : cli->out;
    if (fwrite(data, 1, len, f) == len)
        fflush(f);
}

/* Prints the outcome line (unless the command exited) and returns the exit status. */
static int report(struct octo_cli *cli, const struct octo_sandbox_limits *lim,
                  const struct octo_sandbox_result *r)
{
    char size[32];
    const char *name = octo_sandbox_outcome_name(r->outcome);
    switch (r->outcome) {
    case OCTO_SANDBOX_EXITED:
        return r->exit_code;
    case OCTO_SANDBOX_SIGNALED:
        octo_cli_fail(cli, 0, "exec: %s (signal %d)", name, r->signal);
        return EXEC_EXIT_SIGNAL_BASE + (r->signal & 0x7f);
    case OCTO_SANDBOX_OOM:
        format_bytes(lim->mem_bytes, size, sizeof(size));
        octo_cli_fail(cli, 0, "exec: %s (memory limit %s)", name, size);
        return EXEC_EXIT_OOM;
    case OCTO_SANDBOX_PIDS:
        octo_cli_fail(cli, 0, "exec: %s (limit %u processes)", name, (unsigned)lim->pids);
        return EXEC_EXIT_PIDS;
    case OCTO_SANDBOX_TIMEOUT:
        octo_cli_fail(cli, 0, "exec: %s (deadline %llu s)", name,
                      (unsigned long long)(lim->wall_ms / 1000));
        return EXEC_EXIT_TIMEOUT;
    case OCTO_SANDBOX_OUTPUT:
        format_bytes(lim->output_bytes, size, sizeof(size));
        octo_cli_fail(cli, 0, "exec: %s (cap %s per stream)", name, size);
        return EXEC_EXIT_OUTPUT;
    case OCTO_SANDBOX_SECCOMP:
        octo_cli_fail(cli, 0, "exec: %s (forbidden system call, signal %d)", name, r->signal);
        return EXEC_EXIT_SECCOMP;
    case OCTO_SANDBOX_FSIZE:
        octo_cli_fail(cli, 0, "exec: %s (file size limit, signal %d)", name, SIGXFSZ);
        return EXEC_EXIT_SIGNAL_BASE + SIGXFSZ;
    case OCTO_SANDBOX_CPU:
        octo_cli_fail(cli, 0, "exec: %s (CPU time limit, signal %d)", name, SIGXCPU);
        return EXEC_EXIT_SIGNAL_BASE + SIGXCPU;
    case OCTO_SANDBOX_SETUP_ERROR:
        octo_cli_fail(cli, 0, "exec: %s (%.160s)", name, r->setup_error);
        return EXEC_EXIT_SETUP;
    case OCTO_SANDBOX_CANCELLED: /* `octo exec` sets no cancel descriptor */
        break;
    }
    octo_cli_fail(cli, 0, "exec: unknown outcome %d", (int)r->outcome);
    return EXEC_EXIT_SETUP;
}

/* Runs the command at the chosen level through the isolation interface. A level this host
 * cannot offer is a usage error naming the reason; nothing ran (never a downgrade). */
static int run_isolated(struct octo_cli *cli, struct exec_opts *o)
{
    struct octo_sandbox_spec spec = {
        .argv = o->argv,
        .net = o->net,
        .limits = o->limits,
        .on_output = pass_output,
        .ctx = cli,
    };
    struct octo_sandbox_result r;
    int rc = octo_isolation_run(o->level, &spec, &r);
    if (rc == OCTO_EUNSUPPORTED)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "exec: isolation '%s' is unsupported on this "
                             "host (%.160s)",
                             octo_isolation_name(o->level), r.setup_error);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "exec: invalid command or limits: %s",
                             octo_strerror(rc));
    return report(cli, &o->limits, &r);
}

/* --- --check --- */

static bool process_ready(const struct octo_sandbox_features *f)
{
    return f->user_ns && f->mount_ns && f->pid_ns && f->net_ns && f->ipc_ns && f->uts_ns &&
           f->seccomp && f->cgroup_memory && f->cgroup_pids;
}

static bool level_ok(enum octo_isolation_level level)
{
    return octo_isolation_available(level, NULL, 0) == 0;
}

static int check_json(struct octo_cli *cli, const struct octo_sandbox_features *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *ns = cJSON_AddObjectToObject(o, "namespaces");
    cJSON *cg = cJSON_AddObjectToObject(o, "cgroup");
    cJSON *iso = cJSON_AddObjectToObject(o, "isolation");
    if (o == NULL || ns == NULL || cg == NULL || iso == NULL) {
        cJSON_Delete(o);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    bool ok = cJSON_AddBoolToObject(ns, "user", f->user_ns) &&
              cJSON_AddBoolToObject(ns, "mount", f->mount_ns) &&
              cJSON_AddBoolToObject(ns, "pid", f->pid_ns) &&
              cJSON_AddBoolToObject(ns, "net", f->net_ns) &&
              cJSON_AddBoolToObject(ns, "ipc", f->ipc_ns) &&
              cJSON_AddBoolToObject(ns, "uts", f->uts_ns) &&
              cJSON_AddBoolToObject(ns, "cgroup", f->cgroup_ns) &&
              cJSON_AddNumberToObject(cg, "version", f->cgroup_version) &&
              cJSON_AddBoolToObject(cg, "memory", f->cgroup_memory) &&
              cJSON_AddBoolToObject(cg, "pids", f->cgroup_pids) &&
              cJSON_AddBoolToObject(cg, "cpu", f->cgroup_cpu) &&
              cJSON_AddStringToObject(cg, "base", f->cgroup_base) &&
              cJSON_AddBoolToObject(cg, "clone_into_cgroup", f->clone_into_cgroup) &&
              cJSON_AddBoolToObject(o, "seccomp", f->seccomp) &&
              cJSON_AddNumberToObject(o, "landlock_abi", f->landlock_abi) &&
              cJSON_AddStringToObject(o, "oci_runtime", f->oci_runtime) &&
              cJSON_AddBoolToObject(o, "tpm", f->tpm) &&
              cJSON_AddBoolToObject(iso, "process", process_ready(f)) &&
              cJSON_AddBoolToObject(iso, "container", level_ok(OCTO_ISOLATION_CONTAINER)) &&
              cJSON_AddBoolToObject(iso, "tee", level_ok(OCTO_ISOLATION_TEE)) &&
              cJSON_AddBoolToObject(iso, "zk", level_ok(OCTO_ISOLATION_ZK));
    if (!ok) {
        cJSON_Delete(o);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    return octo_cli_print_json(cli, o);
}

static const char *yn(bool b)
{
    return b ? "yes" : "no";
}

static int run_check(struct octo_cli *cli)
{
    struct octo_sandbox_features f;
    int rc = octo_sandbox_probe(&f);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "exec: cannot probe the host: %s",
                             octo_strerror(rc));
    if (octo_args_has(&cli->args, "json"))
        return check_json(cli, &f);
    FILE *out = cli->out;
    fprintf(out, "namespaces     user %s, mount %s, pid %s, net %s, ipc %s, uts %s, cgroup %s\n",
            yn(f.user_ns), yn(f.mount_ns), yn(f.pid_ns), yn(f.net_ns), yn(f.ipc_ns), yn(f.uts_ns),
            yn(f.cgroup_ns));
    if (f.cgroup_version == 0)
        fprintf(out, "cgroup         none usable\n");
    else
        fprintf(out, "cgroup         v%d: memory %s, pids %s, cpu %s (under %s)\n",
                f.cgroup_version, yn(f.cgroup_memory), yn(f.cgroup_pids), yn(f.cgroup_cpu),
                f.cgroup_base[0] != '\0' ? f.cgroup_base : "?");
    fprintf(out, "clone3 cgroup  %s\n", yn(f.clone_into_cgroup));
    fprintf(out, "seccomp        %s\n", yn(f.seccomp));
    if (f.landlock_abi > 0)
        fprintf(out, "landlock       ABI %d\n", f.landlock_abi);
    else
        fprintf(out, "landlock       no\n");
    fprintf(out, "oci runtime    %s\n", f.oci_runtime[0] != '\0' ? f.oci_runtime : "none");
    fprintf(out, "tpm            %s\n", yn(f.tpm));
    fprintf(out, "isolation      process %s, container %s, tee %s, zk %s\n", yn(process_ready(&f)),
            yn(level_ok(OCTO_ISOLATION_CONTAINER)), yn(level_ok(OCTO_ISOLATION_TEE)),
            yn(level_ok(OCTO_ISOLATION_ZK)));
    return OCTO_EXIT_OK;
}

static int run_exec(struct octo_cli *cli)
{
    if (octo_args_has(&cli->args, "check")) {
        if (cli->args.positional_count != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "exec: --check takes no command");
        return run_check(cli);
    }
    if (octo_args_has(&cli->args, "json"))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "exec: --json goes with --check");
    struct exec_opts o;
    int status = parse_opts(cli, &o);
    if (status != OCTO_EXIT_OK)
        return status;
    return run_isolated(cli, &o);
}

const struct octo_cli_cmd octo_cmd_exec = {
    .name = "exec",
    .run = run_exec,
    .flags = exec_flags,
    .needs_config = false,
    .usage =
        "exec [--isolation process|container|tee|zk] [--mem BYTES] [--pids N] [--timeout S]\n"
        "                 [--net none|loopback] -- CMD [ARGS...]   |   exec --check [--json]\n\n"
        "exit status: the command's own; 128+N if killed by signal N; 120 sandbox setup\n"
        "error; 121 out of memory; 122 pids limit; 123 output cap; 124 timeout; 125 seccomp\n"
        "kill; 2 usage error",
    .summary = "run a command in the sandbox (or --check the host's isolation features)",
};
