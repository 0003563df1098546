/*
 * agent.c — agent manifests, their canonical form and hash, ids, signatures and the request
 * expansion (agent.h). Every string is bounded before it is copied; the policy goes through
 * the router's own parser, so an agent cannot hold a policy a request could not.
 */
#include "intel/agent.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "crypto/hash.h"

#include <stdio.h>
#include <string.h>

static const char agent_tag[] = "OCTO-AGENT-v1";

static int fail(char *err, size_t cap, const char *msg)
{
    if (err != NULL && cap > 0)
        snprintf(err, cap, "%s", msg);
    return OCTO_EINVAL;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > OCTO_AGENT_NAME_MAX || octo_uuid_valid(s))
        return false; /* a UUID-shaped name would be taken for an agent id */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* An optional string member of at most max bytes, copied (NULL when absent). */
static int take_text(const cJSON *o, const char *key, size_t max, char **out, char *err, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return fail(err, cap, "instructions and description are strings");
    size_t n = strlen(v->valuestring);
    if (n > max) {
        snprintf(err, cap, "%s: at most %zu bytes", key, max);
        return OCTO_ETOOBIG;
    }
    *out = octo_malloc(n + 1);
    if (*out == NULL)
        return OCTO_ENOMEM;
    memcpy(*out, v->valuestring, n + 1);
    return 0;
}

static int parse_members(const cJSON *o, struct octo_agent_manifest *m, char *err, size_t cap)
{
    static const char *const known[] = {"name",        "model",      "instructions",
                                        "description", "max_tokens", "provider"};
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
            ok = it->string != NULL && strcmp(it->string, known[i]) == 0;
        if (!ok) {
            snprintf(err, cap, "unknown key: %.64s", it->string != NULL ? it->string : "?");
            return OCTO_EINVAL;
        }
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    if (!cJSON_IsString(name) || !name_ok(name->valuestring))
        return fail(err, cap, "name: 1..64 characters of A-Z a-z 0-9 . _ -");
    if (!cJSON_IsString(model) || model->valuestring[0] == '\0' ||
        strlen(model->valuestring) > OCTO_AGENT_MODEL_MAX ||
        strncmp(model->valuestring, OCTO_AGENT_PREFIX, strlen(OCTO_AGENT_PREFIX)) == 0)
        return fail(err, cap, "model: a model name (1..128 bytes, not another agent)");
    memcpy(m->name, name->valuestring, strlen(name->valuestring) + 1);
    memcpy(m->model, model->valuestring, strlen(model->valuestring) + 1);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "max_tokens");
    if (mt != NULL) {
        if (!cJSON_IsNumber(mt) || !(mt->valuedouble >= 1) ||
            mt->valuedouble > OCTO_AGENT_MAX_TOKENS_MAX ||
            (double)(uint32_t)mt->valuedouble != mt->valuedouble)
            return fail(err, cap, "max_tokens: an integer 1..32768");
        m->max_tokens = (uint32_t)mt->valuedouble;
    }
    int rc = take_text(o, "instructions", OCTO_AGENT_INSTRUCTIONS_MAX, &m->instructions, err, cap);
    if (rc == 0)
        rc = take_text(o, "description", OCTO_AGENT_DESCRIPTION_MAX, &m->description, err, cap);
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(o, "provider");
    if (rc == 0 && pol != NULL) {
        char *text = cJSON_PrintUnformatted(pol);
        char perr[OCTO_POLICY_ERR_MAX];
        rc = text == NULL ? OCTO_ENOMEM
                          : octo_policy_parse(text, strlen(text), &m->policy, perr, sizeof(perr));
        cJSON_free(text);
        if (rc == OCTO_ENOMEM)
            return rc;
        if (rc != 0) {
            snprintf(err, cap, "provider: %.120s", perr);
            return OCTO_EINVAL;
        }
        m->has_policy = true;
    }
    return rc;
}

int octo_agent_manifest_parse(const char *json, size_t len, struct octo_agent_manifest *out,
                              char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if (len > OCTO_AGENT_MANIFEST_MAX) {
        snprintf(err, err_size, "the manifest is over %u bytes", OCTO_AGENT_MANIFEST_MAX);
        return OCTO_ETOOBIG;
    }
    octo_policy_json_init(); /* before the first cJSON block: the policy parser's allocator */
    cJSON *o = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return fail(err, err_size, "the manifest is not a JSON object");
    }
    int rc = parse_members(o, out, err, err_size);
    cJSON_Delete(o);
    if (rc != 0)
        octo_agent_manifest_free(out);
    return rc;
}

void octo_agent_manifest_free(struct octo_agent_manifest *m)
{
    octo_free(m->instructions);
    octo_free(m->description);
    m->instructions = m->description = NULL;
}

/* The policy's canonical JSON as a cJSON item, or NULL. */
static cJSON *policy_item(const struct octo_policy *pol)
{
    char *pj = octo_malloc(OCTO_POLICY_JSON_MAX);
    cJSON *p = pj != NULL && octo_policy_to_json(pol, pj, OCTO_POLICY_JSON_MAX) >= 0
                   ? cJSON_Parse(pj)
                   : NULL;
    octo_free(pj);
    return p;
}

char *octo_agent_manifest_canonical(const struct octo_agent_manifest *m, uint8_t hash[32])
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    bool ok = cJSON_AddStringToObject(o, "name", m->name) != NULL &&
              cJSON_AddStringToObject(o, "model", m->model) != NULL;
    if (ok && m->instructions != NULL)
        ok = cJSON_AddStringToObject(o, "instructions", m->instructions) != NULL;
    if (ok && m->description != NULL)
        ok = cJSON_AddStringToObject(o, "description", m->description) != NULL;
    if (ok && m->max_tokens != 0)
        ok = cJSON_AddNumberToObject(o, "max_tokens", m->max_tokens) != NULL;
    if (ok && m->has_policy) {
        cJSON *p = policy_item(&m->policy);
        ok = p != NULL && cJSON_AddItemToObject(o, "provider", p);
        if (!ok)
            cJSON_Delete(p);
    }
    char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (s != NULL)
        octo_sha256(s, strlen(s), hash);
    return s;
}

static size_t agent_message(const char uuid[OCTO_AGENT_ID_LEN + 1], const uint8_t hash[32],
                            uint8_t *msg)
{
    size_t n = sizeof(agent_tag) - 1;
    memcpy(msg, agent_tag, n);
    memcpy(msg + n, uuid, OCTO_AGENT_ID_LEN);
    memcpy(msg + n + OCTO_AGENT_ID_LEN, hash, 32);
    return n + OCTO_AGENT_ID_LEN + 32;
}

void octo_agent_sign(const struct octo_identity *id, const char uuid[OCTO_AGENT_ID_LEN + 1],
                     const uint8_t hash[32], uint8_t sig[64])
{
    uint8_t msg[sizeof(agent_tag) + OCTO_AGENT_ID_LEN + 32];
    octo_identity_sign(id, msg, agent_message(uuid, hash, msg), sig);
}

int octo_agent_verify(const uint8_t key[32], const char uuid[OCTO_AGENT_ID_LEN + 1],
                      const uint8_t hash[32], const uint8_t sig[64])
{
    uint8_t msg[sizeof(agent_tag) + OCTO_AGENT_ID_LEN + 32];
    struct octo_pubkey pk;
    memcpy(pk.bytes, key, 32);
    return octo_pubkey_verify(&pk, msg, agent_message(uuid, hash, msg), sig) == 0 ? 0
                                                                                  : OCTO_EBADSIG;
}

int octo_agent_expand(const struct octo_agent_manifest *m, cJSON *request)
{
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(request, "messages");
    if (!cJSON_IsArray(msgs))
        return OCTO_EINVAL;
    cJSON *model = cJSON_CreateString(m->model);
    if (model == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(request, "model", model)) {
        cJSON_Delete(model);
        return OCTO_ENOMEM;
    }
    if (m->instructions != NULL && m->instructions[0] != '\0') {
        cJSON *sys = cJSON_CreateObject();
        if (sys == NULL || cJSON_AddStringToObject(sys, "role", "system") == NULL ||
            cJSON_AddStringToObject(sys, "content", m->instructions) == NULL ||
            !cJSON_InsertItemInArray(msgs, 0, sys)) {
            cJSON_Delete(sys);
            return OCTO_ENOMEM;
        }
    }
    /* a member set to null is not given (as the request parser reads it): the agent's applies */
    static const char *const defaults[] = {"max_tokens", "max_completion_tokens", "provider"};
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(request, defaults[i])))
            cJSON_DeleteItemFromObjectCaseSensitive(request, defaults[i]);
    if (m->max_tokens != 0 && cJSON_GetObjectItemCaseSensitive(request, "max_tokens") == NULL &&
        cJSON_GetObjectItemCaseSensitive(request, "max_completion_tokens") == NULL &&
        cJSON_AddNumberToObject(request, "max_tokens", m->max_tokens) == NULL)
        return OCTO_ENOMEM;
    if (m->has_policy && cJSON_GetObjectItemCaseSensitive(request, "provider") == NULL) {
        cJSON *p = policy_item(&m->policy);
        if (p == NULL || !cJSON_AddItemToObject(request, "provider", p)) {
            cJSON_Delete(p);
            return OCTO_ENOMEM;
        }
    }
    return 0;
}
