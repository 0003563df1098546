/*
 * fuzz_agent.c — libFuzzer harness for agent manifests (intel/agent.h).
 *
 * The input is parsed as a manifest; an accepted one must give a canonical form that parses
 * again to the same canonical form and hash, and must expand a minimal chat request.
 */
#include "base/assert.h"
#include "intel/agent.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct octo_agent_manifest m, again;
    char err[OCTO_AGENT_ERR_MAX];
    if (octo_agent_manifest_parse((const char *)data, size, &m, err, sizeof(err)) != 0)
        return 0;
    uint8_t h1[32], h2[32];
    char *c1 = octo_agent_manifest_canonical(&m, h1);
    OCTO_ASSERT(c1 != NULL);
    if (strlen(c1) <= OCTO_AGENT_MANIFEST_MAX) {
        OCTO_ASSERT(octo_agent_manifest_parse(c1, strlen(c1), &again, err, sizeof(err)) == 0);
        char *c2 = octo_agent_manifest_canonical(&again, h2);
        OCTO_ASSERT(c2 != NULL && strcmp(c1, c2) == 0 && memcmp(h1, h2, 32) == 0);
        cJSON_free(c2);
        octo_agent_manifest_free(&again);
    }
    cJSON *req = cJSON_Parse("{\"model\":\"agent:x\",\"messages\":[]}");
    OCTO_ASSERT(req != NULL && octo_agent_expand(&m, req) == 0);
    cJSON_Delete(req);
    cJSON_free(c1);
    octo_agent_manifest_free(&m);
    return 0;
}
