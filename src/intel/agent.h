/*
 * agent.h — agents (the Agent Manager's unit): a named, registered recipe for tasks. A user
 * registers an agent's manifest once and then sends tasks to it (`"model": "agent:NAME"`):
 * the gateway expands each request with the agent's model, instructions (a system message
 * before the user's messages), default max_tokens and routing policy (a request's own, when
 * given and not null, win). Pure: parsing, the
 * canonical form and its hash, the expansion, the id and the registration signature; storing
 * agents is store/agents.h's business.
 *
 * Manifest (JSON object; unknown keys are refused, so a typo never passes silently):
 *   name          1..OCTO_AGENT_NAME_MAX bytes of [A-Za-z0-9._-], not shaped like a UUID (an
 *                 id), unique per API key
 *   model         the model its tasks run on (1..OCTO_AGENT_MODEL_MAX bytes)
 *   instructions  the system message (0..OCTO_AGENT_INSTRUCTIONS_MAX bytes), optional
 *   description   free text (0..OCTO_AGENT_DESCRIPTION_MAX bytes), optional
 *   max_tokens    default for its tasks, 1..32768, optional
 *   provider      a routing policy object (intel/policy.h), optional
 *
 * Identity (ARCHITECTURE.md: Agent ID = UUIDv4 + creator signature over (uuid, manifest hash)):
 * the manifest hash is SHA-256 of the canonical JSON (the keys above in that order, absent
 * optional keys left out, the policy in its own canonical form); the signature is Ed25519 by
 * the registering node over "OCTO-AGENT-v1" | uuid (36 bytes of text) | manifest hash.
 */
#ifndef OCTO_INTEL_AGENT_H
#define OCTO_INTEL_AGENT_H

#include "base/err.h"
#include "base/uuid.h"
#include "crypto/ident.h"
#include "intel/policy.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_AGENT_ID_LEN OCTO_UUID_TEXT_LEN /* a version-4 UUID (base/uuid.h) */
#define OCTO_AGENT_NAME_MAX 64
#define OCTO_AGENT_MODEL_MAX 128
#define OCTO_AGENT_INSTRUCTIONS_MAX (8u << 10)
#define OCTO_AGENT_DESCRIPTION_MAX 1024u
#define OCTO_AGENT_MANIFEST_MAX (16u << 10) /* bytes of a manifest's JSON, as sent or canonical */
#define OCTO_AGENT_MAX_TOKENS_MAX 32768u
#define OCTO_AGENT_ERR_MAX 160
#define OCTO_AGENT_PREFIX "agent:" /* a request's model naming an agent */

struct octo_agent_manifest {
    char name[OCTO_AGENT_NAME_MAX + 1];
    char model[OCTO_AGENT_MODEL_MAX + 1];
    char *instructions;  /* owned (NULL: none) */
    char *description;   /* owned (NULL: none) */
    uint32_t max_tokens; /* 0: none */
    bool has_policy;
    struct octo_policy policy;
};

/* Parses and checks a manifest. 0, or OCTO_EINVAL / OCTO_ETOOBIG with the reason in err
 * (err_size >= OCTO_AGENT_ERR_MAX holds it), OCTO_ENOMEM. Free with octo_agent_manifest_free. */
OCTO_MUST_USE int octo_agent_manifest_parse(const char *json, size_t len,
                                            struct octo_agent_manifest *out, char *err,
                                            size_t err_size);
void octo_agent_manifest_free(struct octo_agent_manifest *m);

/* The canonical JSON (NUL-terminated, to cJSON_free) and its SHA-256, or NULL (no memory). */
char *octo_agent_manifest_canonical(const struct octo_agent_manifest *m, uint8_t hash[32]);

/* The registration signature over (uuid, manifest hash), and its check. */
void octo_agent_sign(const struct octo_identity *id, const char uuid[OCTO_AGENT_ID_LEN + 1],
                     const uint8_t hash[32], uint8_t sig[64]);
OCTO_MUST_USE int octo_agent_verify(const uint8_t key[32], const char uuid[OCTO_AGENT_ID_LEN + 1],
                                    const uint8_t hash[32], const uint8_t sig[64]);

/* Expands a chat request (a parsed /v1/chat/completions body) for the agent: "model" becomes
 * the agent's, its instructions go first as a system message, max_tokens and "provider" are
 * the agent's unless the request gives its own. OCTO_EINVAL when the request has no messages
 * array; OCTO_ENOMEM. */
OCTO_MUST_USE int octo_agent_expand(const struct octo_agent_manifest *m, cJSON *request);

#endif
