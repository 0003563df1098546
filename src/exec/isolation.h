/*
 * isolation.h — the isolation levels of the Secure Execution Runtime behind one call:
 *   PROCESS    the process sandbox (sandbox.h), optionally through a warm pool (pool.h);
 *   CONTAINER  an OCI bundle run by crun (oci.h), found at run time;
 *   TEE        attested execution in a trusted execution environment. Unsupported unless an
 *              attested TEE runtime exists — none does in this build. A TEE run means the node
 *              itself runs inside a confidential VM (SEV-SNP guest with /dev/sev-guest, TDX guest
 *              with /dev/tdx_guest) and attests to its verifier; a node on an ordinary host
 *              cannot offer it, whatever devices it probes;
 *   ZK         declared unsupported (verifiable computation is a different claim; no back end).
 * A level that cannot run returns OCTO_EUNSUPPORTED with the reason in result->setup_error and
 * runs nothing: never a silent downgrade to a weaker level.
 */
#ifndef OCTO_EXEC_ISOLATION_H
#define OCTO_EXEC_ISOLATION_H

#include "base/err.h"
#include "exec/pool.h"
#include "exec/sandbox.h"

#include <stdbool.h>
#include <stddef.h>

enum octo_isolation_level {
    OCTO_ISOLATION_PROCESS = 0,
    OCTO_ISOLATION_CONTAINER = 1,
    OCTO_ISOLATION_TEE = 2,
    OCTO_ISOLATION_ZK = 3,
};

#define OCTO_ISOLATION_REASON_MAX 160 /* bytes of a reason, NUL included */

/* Name of a level ("process", "container", "tee", "zk"; "unknown" otherwise). */
const char *octo_isolation_name(enum octo_isolation_level level);

/* Parses a level name (exact, lower case). Returns 0 or OCTO_EINVAL. */
OCTO_MUST_USE int octo_isolation_parse(const char *name, enum octo_isolation_level *level);

/* Whether this host can run `level`, without running anything. Writes why not into reason
 * (reason_size bytes, may be NULL) when it cannot. Returns 0 (available),
 * OCTO_EUNSUPPORTED, or OCTO_EINVAL for an unknown level. PROCESS is available when the
 * probe finds the namespaces, seccomp and memory and pids cgroups and we are root. */
OCTO_MUST_USE int octo_isolation_available(enum octo_isolation_level level, char *reason,
                                           size_t reason_size);

/* Runs spec at `level` and waits for it (contracts of octo_sandbox_run / octo_oci_run).
 * Returns 0 with *out filled (SETUP_ERROR included: nothing ran), OCTO_EINVAL for a bad spec
 * or an unknown level, OCTO_EUNSUPPORTED when the level cannot run here (out->outcome is
 * SETUP_ERROR and out->setup_error says why; nothing ran). */
OCTO_MUST_USE int octo_isolation_run(enum octo_isolation_level level,
                                     const struct octo_sandbox_spec *spec,
                                     struct octo_sandbox_result *out);

/* octo_isolation_run, with PROCESS going through pool (warm start; cold fallback as
 * octo_sandbox_pool_run documents) when pool is not NULL. Other levels ignore pool. */
OCTO_MUST_USE int octo_isolation_run_pooled(enum octo_isolation_level level,
                                            struct octo_sandbox_pool *pool,
                                            const struct octo_sandbox_spec *spec,
                                            struct octo_sandbox_result *out);

#endif
