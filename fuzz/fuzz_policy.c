/*
 * fuzz_policy.c — libFuzzer harness for the routing policy's JSON form (intel/policy.h).
 *
 * The input is parsed as a provider object. A rejection must be one of the documented codes,
 * leave the defaults in the output and give a non-empty printable message. An accepted
 * policy must be written back by octo_policy_to_json within OCTO_POLICY_JSON_MAX, read back
 * equal (parse(to_json(p)) == p), and written again byte for byte the same (the output is
 * canonical). The first bytes also serve as an explain record whose JSON must fit
 * OCTO_POLICY_EXPLAIN_MAX.
 */
#include "base/assert.h"
#include "crypto/ident.h"
#include "intel/policy.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char err[OCTO_POLICY_ERR_MAX];
static char out1[OCTO_POLICY_JSON_MAX];
static char out2[OCTO_POLICY_JSON_MAX];

static void check_rejection(int rc, const struct octo_policy *p)
{
    OCTO_ASSERT(rc == OCTO_EINVAL || rc == OCTO_ETOOBIG || rc == OCTO_ENOMEM);
    struct octo_policy def;
    octo_policy_init(&def);
    OCTO_ASSERT(octo_policy_equal(p, &def) && p->ignored == 0);
    size_t n = strlen(err);
    OCTO_ASSERT(n > 0 && n < sizeof(err));
    for (size_t i = 0; i < n; i++)
        OCTO_ASSERT(err[i] >= 0x20 && err[i] < 0x7f);
}

static void check_round_trip(const struct octo_policy *p)
{
    OCTO_ASSERT(err[0] == '\0');
    int len = octo_policy_to_json(p, out1, sizeof(out1));
    OCTO_ASSERT(len > 0 && (size_t)len < sizeof(out1) && (size_t)len == strlen(out1));
    struct octo_policy back;
    int rc = octo_policy_parse(out1, (size_t)len, &back, err, sizeof(err));
    OCTO_ASSERT(rc == 0);
    OCTO_ASSERT(octo_policy_equal(p, &back));
    OCTO_ASSERT(back.ignored == 0);
    int len2 = octo_policy_to_json(&back, out2, sizeof(out2));
    OCTO_ASSERT(len2 == len && memcmp(out1, out2, (size_t)len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        OCTO_ASSERT(octo_crypto_init() == 0);
        initialised = 1;
    }
    struct octo_policy p;
    int rc = octo_policy_parse((const char *)data, size, &p, err, sizeof(err));
    if (rc < 0)
        check_rejection(rc, &p);
    else
        check_round_trip(&p);

    struct octo_route_explain e;
    memset(&e, 0, sizeof(e));
    memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
    char ex[OCTO_POLICY_EXPLAIN_MAX];
    int n = octo_policy_explain_json(&e, ex, sizeof(ex));
    OCTO_ASSERT(n > 0 && (size_t)n < sizeof(ex));
    return 0;
}
