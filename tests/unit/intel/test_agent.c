/*
 * test_agent.c — agent manifests (intel/agent.h): what parses and what is refused (unknown
 * keys, names, lengths, a policy the router would refuse), the canonical form and its hash
 * (key order and policy normalized, so two spellings of one manifest hash alike), the
 * registration signature, the request expansion, and version-4 UUIDs (base/uuid.h).
 */
#include "base/assert.h"
#include "base/uuid.h"
#include "intel/agent.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static int parse(const char *json, struct octo_agent_manifest *m, char *err)
{
    return octo_agent_manifest_parse(json, strlen(json), m, err, OCTO_AGENT_ERR_MAX);
}

static void test_parse_and_canonical(void)
{
    struct octo_agent_manifest a, b;
    char err[OCTO_AGENT_ERR_MAX];
    CHECK_OK(parse("{\"model\":\"tiny\",\"name\":\"poet\",\"instructions\":\"Be brief.\","
                   "\"max_tokens\":7,\"provider\":{\"sort\":\"price\"}}",
                   &a, err));
    CHECK_OK(parse("{\"name\":\"poet\",\"max_tokens\":7,\"provider\":{\"sort\":\"price\","
                   "\"allow_fallbacks\":true},\"model\":\"tiny\",\"instructions\":\"Be brief.\"}",
                   &b, err));
    uint8_t ha[32], hb[32];
    char *ca = octo_agent_manifest_canonical(&a, ha), *cb = octo_agent_manifest_canonical(&b, hb);
    CHECK(ca != NULL && cb != NULL && strcmp(ca, cb) == 0 && memcmp(ha, hb, 32) == 0);
    CHECK(strncmp(ca, "{\"name\":\"poet\",\"model\":\"tiny\",\"instructions\":\"Be brief.\"", 56) ==
          0);
    /* the canonical form parses back to itself */
    struct octo_agent_manifest c;
    CHECK_OK(parse(ca, &c, err));
    uint8_t hc[32];
    char *cc = octo_agent_manifest_canonical(&c, hc);
    CHECK(cc != NULL && strcmp(cc, ca) == 0);
    cJSON_free(ca);
    cJSON_free(cb);
    cJSON_free(cc);
    octo_agent_manifest_free(&a);
    octo_agent_manifest_free(&b);
    octo_agent_manifest_free(&c);
}

static void test_refusals(void)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"model\":\"tiny\"}",
        "{\"name\":\"poet\"}",
        "{\"name\":\"po et\",\"model\":\"tiny\"}",
        "{\"name\":\"poet\",\"model\":\"agent:other\"}",
        "{\"name\":\"poet\",\"model\":\"tiny\",\"tools\":[]}",
        "{\"name\":\"poet\",\"model\":\"tiny\",\"max_tokens\":0}",
        "{\"name\":\"poet\",\"model\":\"tiny\",\"max_tokens\":1.5}",
        "{\"name\":\"poet\",\"model\":\"tiny\",\"instructions\":7}",
        "{\"name\":\"poet\",\"model\":\"tiny\",\"provider\":{\"sort\":\"fastest\"}}",
    };
    struct octo_agent_manifest m;
    char err[OCTO_AGENT_ERR_MAX];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        CHECK_EQ_INT(parse(bad[i], &m, err), OCTO_EINVAL);
        CHECK(err[0] != '\0');
        CHECK(m.instructions == NULL && m.description == NULL);
    }
    CHECK_OK(parse("{\"name\":\"poet\",\"model\":\"tiny\",\"tools\":1}", &m, err) == 0 ? -1 : 0);
    CHECK(strstr(err, "tools") != NULL); /* the unknown key is named */
    static char big[OCTO_AGENT_INSTRUCTIONS_MAX + 200];
    int n = snprintf(big, sizeof(big), "{\"name\":\"p\",\"model\":\"t\",\"instructions\":\"%0*d\"}",
                     (int)OCTO_AGENT_INSTRUCTIONS_MAX + 1, 0);
    CHECK_EQ_INT(octo_agent_manifest_parse(big, (size_t)n, &m, err, sizeof(err)), OCTO_ETOOBIG);
    static char huge[OCTO_AGENT_MANIFEST_MAX + 2];
    memset(huge, ' ', sizeof(huge));
    CHECK_EQ_INT(octo_agent_manifest_parse(huge, sizeof(huge), &m, err, sizeof(err)), OCTO_ETOOBIG);
}

static void test_expand(void)
{
    struct octo_agent_manifest m;
    char err[OCTO_AGENT_ERR_MAX];
    CHECK_OK(parse("{\"name\":\"poet\",\"model\":\"tiny\",\"instructions\":\"Rhyme.\","
                   "\"max_tokens\":9,\"provider\":{\"sort\":\"price\"}}",
                   &m, err));
    cJSON *r = cJSON_Parse("{\"model\":\"agent:poet\",\"messages\":[{\"role\":\"user\","
                           "\"content\":\"hi\"}]}");
    CHECK_OK(octo_agent_expand(&m, r));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "model")), "tiny");
    cJSON *msgs = cJSON_GetObjectItem(r, "messages");
    CHECK_EQ_INT(cJSON_GetArraySize(msgs), 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")),
              "system");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "content")),
              "Rhyme.");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "max_tokens")) == 9);
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(r, "provider")));
    cJSON_Delete(r);
    /* the request's own max_tokens and provider win */
    r = cJSON_Parse("{\"model\":\"agent:poet\",\"max_tokens\":3,\"provider\":{\"sort\":"
                    "\"latency\"},\"messages\":[]}");
    CHECK_OK(octo_agent_expand(&m, r));
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "max_tokens")) == 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "provider"), "sort")),
              "latency");
    cJSON_Delete(r);
    r = cJSON_Parse("{\"model\":\"agent:poet\",\"prompt\":\"x\"}");
    CHECK_EQ_INT(octo_agent_expand(&m, r), OCTO_EINVAL);
    cJSON_Delete(r);
    octo_agent_manifest_free(&m);
}

static void test_ids_and_signature(void)
{
    uint8_t rnd[16];
    memset(rnd, 0xff, sizeof(rnd));
    char id[OCTO_UUID_TEXT_LEN + 1];
    octo_uuid_v4(rnd, id);
    CHECK_STR(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    CHECK(octo_uuid_valid(id));
    memset(rnd, 0, sizeof(rnd));
    octo_uuid_v4(rnd, id);
    CHECK_STR(id, "00000000-0000-4000-8000-000000000000");
    CHECK(!octo_uuid_valid("00000000-0000-4000-8000-00000000000"));
    CHECK(!octo_uuid_valid("00000000-0000-4000-8000-00000000000G"));
    CHECK(!octo_uuid_valid("00000000x0000-4000-8000-000000000000"));
    CHECK(!octo_uuid_valid("poet"));
    struct octo_identity node;
    uint8_t seed[32];
    memset(seed, 7, sizeof(seed));
    CHECK_OK(octo_identity_from_seed(&node, seed));
    uint8_t hash[32], sig[64];
    memset(hash, 0x33, sizeof(hash));
    octo_agent_sign(&node, id, hash, sig);
    CHECK_OK(octo_agent_verify(node.pub.bytes, id, hash, sig));
    hash[0] ^= 1;
    CHECK_EQ_INT(octo_agent_verify(node.pub.bytes, id, hash, sig), OCTO_EBADSIG);
    hash[0] ^= 1;
    id[0] = '1';
    CHECK_EQ_INT(octo_agent_verify(node.pub.bytes, id, hash, sig), OCTO_EBADSIG);
    octo_identity_deinit(&node);
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    OCTO_RUN(test_parse_and_canonical);
    OCTO_RUN(test_refusals);
    OCTO_RUN(test_expand);
    OCTO_RUN(test_ids_and_signature);
    return octo_test_finish();
}
