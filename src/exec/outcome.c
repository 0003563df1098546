/*
 * outcome.c — names of sandbox outcomes (sandbox.h), shared by the runner, the CLI and logs.
 */
#include "base/assert.h"
#include "exec/sandbox.h"

static const char *const outcome_names[] = {
    "exited",  "signaled", "oom", "pids",        "timeout",   "output",
    "seccomp", "fsize",    "cpu", "setup-error", "cancelled",
};

const char *octo_sandbox_outcome_name(enum octo_sandbox_outcome o)
{
    if ((unsigned)o >= OCTO_ARRAY_LEN(outcome_names))
        return "unknown";
    return outcome_names[o];
}
