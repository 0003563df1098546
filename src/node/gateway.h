/*
 * gateway.h — the orchestrator role of a node: the durable provider registry fed by signed
 * adverts, the task scheduler (intel/sched.h: router, load balancer, health, failover, queue)
 * and the OpenAI-compatible gateway on the node's HTTP API.
 *
 *   POST /v1/chat/completions, /v1/completions   (API key) the OpenAI request (api/openai.h),
 *        with the routing policy object under "provider" (intel/policy.h); answered whole or
 *        as Server-Sent Events (stream: true), the usage chunk last when asked, then [DONE]
 *   GET  /v1/models                               (API key) the models registered providers
 *                                                 serve
 *   GET  /api/v1/providers                        (API key) the registry with health and load
 *   GET  /api/v1/tasks[?limit=N&before=MS]        (API key) that key's tasks, newest first
 *   GET  /api/v1/tasks/ID                         (API key) a task of that key: state, attempts,
 *                                                 provider, charge and, once done, the answer
 *
 * A request's path: key check (401/429), parse (400; a policy asking for the CONFIDENTIAL or
 * PRIVATE class too: those must reach the provider's sandbox sealed by the client, and the
 * gateway refuses to hold them in plaintext, before anything is recorded), model lookup (404
 * model_not_found),
 * policy, submit to the scheduler (503 when full) -> DISPATCH: a /octo/task/1.0.0 stream to the
 * provider (dialled through its advert's endpoints when not connected), ASSIGN, TOKEN frames
 * forwarded as they come (a streamed answer starts with the first one) -> RESULT: the attempt
 * succeeded, the scheduler's DONE carries the charge, the key is charged once, the answer ends.
 * A provider that fails (ERROR with retry, a reset stream, a dead connection, no answer within
 * the attempt timeout) is reported and the scheduler tries the next candidate. Text a retry
 * produces is compared with what the client already has: the common prefix is not sent again
 * (the deterministic engine repeats itself), and a retry that diverges from it ends the answer
 * with an error rather than a spliced text.
 *
 * On a chain (a settler, node/settle.h), the payer escrows each accepted task; a RESULT must
 * carry the provider's ledger receipt, checked before the task may succeed on it (signature,
 * task, payer and orchestrator, provider, SHA-256 of the text received, tokens, price at the
 * provider's advertised prices); succeeded tasks' receipts go to the SETTLE batches, failed
 * tasks' escrows are refunded after they expire. At start, the tasks that finished within an
 * escrow's lifetime are reconciled with the ledger: an escrow still open gets its receipt
 * settled (from the record) or is refunded, so a restart leaves nothing escrowed hanging.
 *
 * Every answer carries x-octo-task (the task id), x-octo-route (provider, attempts, strategy);
 * whole answers also x-octo-gateway-overhead-us: the request's time in this node minus the
 * time from sending ASSIGN to receiving RESULT of the attempt that answered.
 *
 * Durability: a task's record (store/tasks.h: the kind and the client's canonical body, the key
 * that pays, the deadline) is written when it is first dispatched, in one commit with its
 * RUNNING state, before anything is acknowledged to the client (a streamed answer's headers,
 * with the task id, come with the first text) and before a provider sees it. The answer, the
 * SUCCEEDED state and the key's charge are written under the record's charge-once condition
 * right after the answer is handed to the HTTP server, for every task that finished in that
 * loop turn in one transaction (group commit). At start, unfinished records are handed to the
 * scheduler again (their clients are gone: the answer is kept for GET /api/v1/tasks/ID), so an
 * orchestrator killed with kill -9 loses no acknowledged task and charges none twice (a task
 * answered just before the crash runs again and is charged then).
 *
 * Limits: OCTO_GATEWAY_TASKS_MAX requests in flight (503 past it), OCTO_GATEWAY_TEXT_MAX bytes
 * of answer text per task, OCTO_GATEWAY_DEADLINE_MS per task. Single-threaded (the loop).
 */
#ifndef OCTO_NODE_GATEWAY_H
#define OCTO_NODE_GATEWAY_H

#include "api/api.h"
#include "base/clock.h"
#include "crypto/ident.h"
#include "net/net.h"
#include "store/store.h"

struct octo_settler;

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define OCTO_GATEWAY_TASKS_MAX 4096u
/* Answer text kept per task: its JSON (escaped up to 6x) must fit a task record's 1 MiB. */
#define OCTO_GATEWAY_TEXT_MAX (160u * 1024u)
#define OCTO_GATEWAY_DEADLINE_MS 120000u
#define OCTO_GATEWAY_PROVIDERS_MAX 1024u
#define OCTO_GATEWAY_ADVERT_STREAMS_MAX 256u
#define OCTO_GATEWAY_RECOVER_PAGE 64u          /* task records read at a time at start */
#define OCTO_GATEWAY_RECOVER_BYTES (32u << 20) /* ... and at most about this many bytes */
#define OCTO_GATEWAY_ADVERT_WAIT_MS 10000u     /* an advert stream must deliver by then */
#define OCTO_GATEWAY_EXPIRE_EVERY_S 10u        /* expired adverts leave this often */
#define OCTO_GATEWAY_CHARGE_RETRY_MS 100u      /* a busy database: the charges wait this long */
#define OCTO_GATEWAY_ESCROW_MARGIN_MS 600000u  /* an escrow outlives its task's deadline */
#define OCTO_GATEWAY_SEALED_INPUT_DEFAULT (64u << 10) /* a sealed TASK frame's size, default */
/* ... and at most: its base64 in JSON must fit a request body (OCTO_HTTP_BODY_MAX) */
#define OCTO_GATEWAY_SEALED_INPUT_MAX (OCTO_HTTP_BODY_MAX / 4u * 3u - 4096u)
#define OCTO_GATEWAY_REEXEC_TRIES 4u /* re-runs started for one verify "reexec" task, at most */
#define OCTO_GATEWAY_REEXEC_RUN_MS 60000u /* one re-run answers by then, or the next is asked */
#define OCTO_GATEWAY_REEXEC_MS 180000u    /* the verdict comes by then, or is inconclusive */

struct octo_gateway_config {
    uv_loop_t *loop;
    struct octo_net *net; /* started */
    struct octo_store *store;
    struct octo_api *api; /* the gateway's routes are added to it */
    const struct octo_clock *clock;
    struct octo_settler *settler;         /* escrows and settlements on the ledger, or NULL */
    const struct octo_identity *identity; /* the node's: countersigns commitments (or NULL) */
};

struct octo_gateway_stats {
    uint64_t requests, rejected, submitted, succeeded, failed, expired, cancelled;
    uint64_t dispatched, attempts_failed, attempts_refused, diverged, tokens_in, tokens_out,
        charged;
    uint64_t adverts_accepted, adverts_refused, adverts_expired, frames_bad, recovered;
    uint64_t usage_clamped;   /* results whose token counts exceeded what the request allows */
    uint64_t reconciled;      /* receipts sent to the settlement again after a restart */
    uint64_t receipts_bad;    /* results refused for their receipt */
    uint64_t commitments_bad; /* results refused for their execution commitment */
    uint64_t sealed;          /* sealed tasks accepted (POST /api/v1/sealed) */
    uint64_t reexec_verified, reexec_refuted, reexec_inconclusive, reexec_failed_runs;
    uint32_t verifying; /* succeeded tasks whose answer waits for its re-runs' verdict */
    uint64_t agents_registered, agent_tasks; /* POST /api/v1/agents; requests naming one */
    uint32_t in_flight;
};

struct octo_gateway;

/* Loads the stored adverts, registers the protocols and routes. Errors: store errors,
 * OCTO_ENOSPACE (the API's route table), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_gateway_start(struct octo_gateway **out,
                                     const struct octo_gateway_config *cfg);
/* Ends requests in flight (their clients get an error), stops timers (before the net shuts
 * down). */
void octo_gateway_stop(struct octo_gateway *g);
void octo_gateway_destroy(struct octo_gateway *g);

const struct octo_gateway_stats *octo_gateway_stats(const struct octo_gateway *g);
/* Providers in the registry now. */
uint32_t octo_gateway_providers(const struct octo_gateway *g);

#endif
