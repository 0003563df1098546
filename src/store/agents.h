/*
 * agents.h — registered agents (intel/agent.h) on the storage interface: one row per agent,
 * owned by the API key that registered it, with its canonical manifest, the manifest's hash
 * and the registering node's signature over (uuid, hash).
 *
 * Names are unique per owner (a UNIQUE constraint decides, so two gateways racing on a name
 * cannot both win); an owner holds at most OCTO_AGENTS_PER_OWNER_MAX agents, counted in the
 * insert's own transaction. Nothing here reads a clock or draws randomness.
 */
#ifndef OCTO_STORE_AGENTS_H
#define OCTO_STORE_AGENTS_H

#include "base/buf.h"
#include "base/uuid.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_AGENTS_PER_OWNER_MAX 256u
#define OCTO_AGENT_STORE_OWNER_MAX 64
#define OCTO_AGENT_STORE_NAME_MAX 64
#define OCTO_AGENT_STORE_MANIFEST_MAX 16384u

struct octo_agent_rec {
    char id[OCTO_UUID_TEXT_LEN + 1];
    char owner[OCTO_AGENT_STORE_OWNER_MAX + 1];
    char name[OCTO_AGENT_STORE_NAME_MAX + 1];
    uint8_t manifest_hash[32];
    uint8_t registrar[32]; /* the node key that signed */
    uint8_t sig[64];
    uint64_t created_ms;
};

/* Inserts an agent with its canonical manifest (<= OCTO_AGENT_STORE_MANIFEST_MAX bytes). Errors:
 * OCTO_EINVAL (a field out of shape), OCTO_EEXIST (the owner has an agent of that name, or the
 * id is taken), OCTO_ELIMIT (the owner holds OCTO_AGENTS_PER_OWNER_MAX), store errors. */
OCTO_MUST_USE int octo_agent_insert(struct octo_store *s, const struct octo_agent_rec *rec,
                                    const char *manifest, size_t len);

/* The owner's agent by id (a UUID) or name: its record, and its manifest into manifest (reset
 * first; may be NULL). OCTO_ENOTFOUND when the owner has none such. */
OCTO_MUST_USE int octo_agent_get(struct octo_store *s, const char *owner, const char *id_or_name,
                                 struct octo_agent_rec *out, struct octo_buf *manifest);

typedef int (*octo_agent_fn)(void *ctx, const struct octo_agent_rec *rec, const char *manifest,
                             size_t len);
/* The owner's agents by name, at most OCTO_AGENTS_PER_OWNER_MAX; fn's non-zero return stops. */
OCTO_MUST_USE int octo_agent_list(struct octo_store *s, const char *owner, octo_agent_fn fn,
                                  void *ctx);

/* Removes the owner's agent (by id or name). OCTO_ENOTFOUND when there is none. */
OCTO_MUST_USE int octo_agent_delete(struct octo_store *s, const char *owner,
                                    const char *id_or_name);

#endif
