/*
 * test_policy.c — the routing policy's JSON form: every key with its accepted and rejected
 * values and the exact error messages, OpenRouter keys ignored but reported, unknown and
 * repeated keys refused, the named limits (size, depth, entries, keys, string length, control
 * characters), out of memory at every allocation, the error buffer, round trips
 * parse(to_json(p)) == p for hand-made, maximal and random policies, to_json's refusals and
 * truncation, and the explain record's JSON.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/rng.h"
#include "crypto/ident.h"
#include "intel/policy.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

/* Ed25519 peer id in both text forms (tests/unit/crypto/test_ident.c) and a sha2-256 one. */
#define PID_B58 "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"
#define PID_CID "bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny"
#define PID_QM "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"

static char err[OCTO_POLICY_ERR_MAX];
static char big[OCTO_POLICY_JSON_MAX + 64];

static int parse(const char *json, struct octo_policy *p)
{
    return octo_policy_parse(json, strlen(json), p, err, sizeof(err));
}

/* Parses json expecting rc and the exact message; returns 0 when both match. */
static int expect(const char *json, int rc_want, const char *msg_want)
{
    struct octo_policy p, def;
    int rc = parse(json, &p);
    octo_policy_init(&def);
    if (rc != rc_want || strcmp(err, msg_want) != 0 || !octo_policy_equal(&p, &def) ||
        p.ignored != 0) {
        printf("    %s\n      rc %d want %d, \"%s\" want \"%s\"\n", json, rc, rc_want, err,
               msg_want);
        return -1;
    }
    return 0;
}

static void test_defaults(void)
{
    struct octo_policy p, def;
    octo_policy_init(&def);
    CHECK_EQ_INT(def.strategy, OCTO_ROUTE_COST);
    CHECK(def.route.allow_fallbacks);
    CHECK_OK(parse("{}", &p));
    CHECK_STR(err, "");
    CHECK(octo_policy_equal(&p, &def));
    CHECK_EQ_INT(p.ignored, 0);
    CHECK_OK(parse(" \n\t{ }\r\n ", &p));
    /* null is "not given"; empty lists are the same as absent */
    CHECK_OK(parse("{\"order\":null,\"only\":[],\"ignore\":[],\"quantizations\":[],"
                   "\"sort\":null,\"max_price\":null,\"region\":null,\"strategy\":null}",
                   &p));
    CHECK(octo_policy_equal(&p, &def));
}

static void test_every_key(void)
{
    struct octo_policy p;
    struct octo_peerid a, q;
    CHECK_OK(octo_peerid_from_text(PID_B58, &a));
    CHECK_OK(octo_peerid_from_text(PID_QM, &q));
    CHECK_OK(parse("{\"order\":[\"" PID_B58 "\",\"" PID_QM "\"],\"only\":[\"" PID_CID "\"],"
                   "\"ignore\":[\"" PID_QM "\"],\"allow_fallbacks\":false,\"sort\":\"latency\","
                   "\"max_price\":{\"prompt\":150,\"completion\":9007199254740991},"
                   "\"quantizations\":[\"q4_k_m\",\"fp8\"],\"data_collection\":\"deny\","
                   "\"zdr\":true,\"require_parameters\":true,\"privacy\":\"confidential\","
                   "\"isolation_min\":\"container\",\"region\":{\"country\":\"DE\","
                   "\"continent\":\"EU\"},\"min_reputation\":85,\"verify\":\"sampled\","
                   "\"strategy\":\"privacy\"}",
                   &p));
    const struct octo_route_policy *r = &p.route;
    CHECK_EQ_INT(r->order_count, 2);
    CHECK(octo_peerid_equal(&r->order[0], &a));
    CHECK(octo_peerid_equal(&r->order[1], &q));
    CHECK_EQ_INT(r->only_count, 1);
    CHECK(octo_peerid_equal(&r->only[0], &a)); /* the CID form of the same id */
    CHECK_EQ_INT(r->ignore_count, 1);
    CHECK(!r->allow_fallbacks);
    CHECK_EQ_INT(r->sort, OCTO_SORT_LATENCY);
    CHECK_EQ_U64(r->max_price_in, 150);
    CHECK_EQ_U64(r->max_price_out, OCTO_POLICY_INT_MAX);
    CHECK_EQ_INT(r->quantizations_count, 2);
    CHECK_STR(r->quantizations[0], "q4_k_m");
    CHECK_STR(r->quantizations[1], "fp8");
    CHECK(r->deny_data_collection && r->zdr && r->require_parameters);
    CHECK_EQ_INT(r->privacy, OCTO_DATA_CONFIDENTIAL);
    CHECK_EQ_INT(r->isolation_min, OCTO_ISOLATION_CONTAINER);
    CHECK_STR(r->country, "DE");
    CHECK_STR(r->continent, "EU");
    CHECK_EQ_INT(r->min_reputation_bp, 8500);
    CHECK_EQ_INT(r->verify, 3);
    CHECK_EQ_INT(p.strategy, OCTO_ROUTE_PRIVACY);
    CHECK_EQ_INT(p.ignored, 0);

    /* the other values of each enumeration */
    CHECK_OK(parse("{\"sort\":\"price\",\"data_collection\":\"allow\",\"privacy\":\"private\","
                   "\"isolation_min\":\"tee\",\"verify\":0,\"strategy\":\"speed\"}",
                   &p));
    CHECK_EQ_INT(p.route.sort, OCTO_SORT_PRICE);
    CHECK(!p.route.deny_data_collection);
    CHECK_EQ_INT(p.route.privacy, OCTO_DATA_PRIVATE);
    CHECK_EQ_INT(p.route.isolation_min, OCTO_ISOLATION_TEE);
    CHECK_EQ_INT(p.route.verify, 0);
    CHECK_EQ_INT(p.strategy, OCTO_ROUTE_SPEED);
    CHECK_OK(parse("{\"sort\":{\"by\":\"throughput\"},\"privacy\":\"shared\","
                   "\"isolation_min\":\"process\",\"verify\":4,\"strategy\":\"quality\"}",
                   &p));
    CHECK_EQ_INT(p.route.sort, OCTO_SORT_THROUGHPUT);
    CHECK_EQ_INT(p.route.privacy, OCTO_DATA_SHARED);
    CHECK_EQ_INT(p.route.isolation_min, OCTO_ISOLATION_PROCESS);
    CHECK_EQ_INT(p.route.verify, 4);
    CHECK_EQ_INT(p.strategy, OCTO_ROUTE_QUALITY);
    CHECK_OK(parse("{\"strategy\":\"geo\",\"region\":{\"continent\":\"AS\"},\"verify\":"
                   "\"redundant\",\"min_reputation_bp\":9950,\"max_price\":{\"completion\":7}}",
                   &p));
    CHECK_EQ_INT(p.strategy, OCTO_ROUTE_GEO);
    CHECK_STR(p.route.country, "");
    CHECK_STR(p.route.continent, "AS");
    CHECK_EQ_INT(p.route.verify, 4);
    CHECK_EQ_INT(p.route.min_reputation_bp, 9950);
    CHECK_EQ_U64(p.route.max_price_in, 0);
    CHECK_EQ_U64(p.route.max_price_out, 7);
    CHECK_OK(parse("{\"strategy\":\"geo\",\"region\":{\"country\":\"NA\"}}", &p));
    CHECK_STR(p.route.country, "NA"); /* Namibia: the object says which one is meant */
    CHECK_OK(parse("{\"strategy\":\"cost\",\"allow_fallbacks\":true,\"zdr\":false}", &p));
    CHECK_EQ_INT(p.strategy, OCTO_ROUTE_COST);
    CHECK(p.route.allow_fallbacks && !p.route.zdr);
}

static void test_numbers(void)
{
    struct octo_policy p;
    const char *m = "provider.max_price.prompt: must be an integer from 1 to 9007199254740991";
    CHECK_OK(expect("{\"max_price\":{\"prompt\":1.5}}", OCTO_EINVAL, m));
    CHECK_OK(expect("{\"max_price\":{\"prompt\":-1}}", OCTO_EINVAL, m));
    CHECK_OK(expect("{\"max_price\":{\"prompt\":0}}", OCTO_EINVAL, m)); /* 0 is not "free" */
    CHECK_OK(expect("{\"max_price\":{\"prompt\":9007199254740992}}", OCTO_EINVAL, m));
    CHECK_OK(expect("{\"max_price\":{\"prompt\":1e300}}", OCTO_EINVAL, m));
    CHECK_OK(expect("{\"max_price\":{\"prompt\":1e999}}", OCTO_EINVAL, m)); /* infinity */
    CHECK_OK(expect("{\"max_price\":{\"prompt\":\"5\"}}", OCTO_EINVAL, m));
    CHECK_OK(expect("{\"max_price\":{\"prompt\":true}}", OCTO_EINVAL, m));
    CHECK_OK(expect("{\"max_price\":{\"completion\":0.0001}}", OCTO_EINVAL,
                    "provider.max_price.completion: must be an integer from 1 to "
                    "9007199254740991"));
    CHECK_OK(expect("{\"max_price\":5}", OCTO_EINVAL,
                    "provider.max_price: must be an object {\"prompt\": N, \"completion\": N}"));
    /* integral values in other spellings are the same integers */
    CHECK_OK(parse("{\"max_price\":{\"prompt\":1e3,\"completion\":2.0}}", &p));
    CHECK_EQ_U64(p.route.max_price_in, 1000);
    CHECK_EQ_U64(p.route.max_price_out, 2);
    CHECK_OK(parse("{\"max_price\":{\"prompt\":9007199254740991,\"completion\":1}}", &p));
    CHECK_EQ_U64(p.route.max_price_in, UINT64_C(9007199254740991));

    CHECK_OK(parse("{\"min_reputation\":0}", &p));
    CHECK_EQ_INT(p.route.min_reputation_bp, 0);
    CHECK_OK(parse("{\"min_reputation\":100}", &p));
    CHECK_EQ_INT(p.route.min_reputation_bp, 10000);
    CHECK_OK(parse("{\"min_reputation_bp\":10000}", &p));
    CHECK_EQ_INT(p.route.min_reputation_bp, 10000);
    CHECK_OK(expect("{\"min_reputation\":101}", OCTO_EINVAL,
                    "provider.min_reputation: must be an integer from 0 to 100"));
    CHECK_OK(expect("{\"min_reputation\":50.5}", OCTO_EINVAL,
                    "provider.min_reputation: must be an integer from 0 to 100"));
    CHECK_OK(expect("{\"min_reputation_bp\":10001}", OCTO_EINVAL,
                    "provider.min_reputation_bp: must be an integer from 0 to 10000"));
    CHECK_OK(expect("{\"min_reputation\":5,\"min_reputation_bp\":500}", OCTO_EINVAL,
                    "provider.min_reputation: give min_reputation or min_reputation_bp, not "
                    "both"));
    CHECK_OK(
        expect("{\"verify\":6}", OCTO_EINVAL, "provider.verify: must be an integer from 0 to 5"));
    CHECK_OK(expect("{\"verify\":\"strong\"}", OCTO_EINVAL,
                    "provider.verify: must be 0 to 5 or one of \"none\", \"attestation\", "
                    "\"fingerprint\", \"sampled\", \"redundant\", \"reexec\""));
    CHECK_OK(expect("{\"verify\":[1]}", OCTO_EINVAL,
                    "provider.verify: must be 0 to 5 or one of \"none\", \"attestation\", "
                    "\"fingerprint\", \"sampled\", \"redundant\", \"reexec\""));
}

static void test_bad_values(void)
{
    CHECK_OK(expect("{\"order\":\"" PID_B58 "\"}", OCTO_EINVAL,
                    "provider.order: must be an array of peer ids"));
    CHECK_OK(expect("{\"only\":[\"" PID_B58 "\",\"12D3KooWnotapeer\"]}", OCTO_EINVAL,
                    "provider.only[1]: must be a peer id (base58 or CIDv1 text)"));
    CHECK_OK(expect("{\"ignore\":[7]}", OCTO_EINVAL,
                    "provider.ignore[0]: must be a peer id (base58 or CIDv1 text)"));
    CHECK_OK(expect("{\"allow_fallbacks\":\"false\"}", OCTO_EINVAL,
                    "provider.allow_fallbacks: must be true or false"));
    CHECK_OK(expect("{\"zdr\":1}", OCTO_EINVAL, "provider.zdr: must be true or false"));
    CHECK_OK(expect("{\"require_parameters\":null,\"require_parameters\":0}", OCTO_EINVAL,
                    "provider.require_parameters: key given twice"));
    CHECK_OK(expect("{\"sort\":\"exacto\"}", OCTO_EINVAL,
                    "provider.sort: must be one of \"price\", \"throughput\", \"latency\""));
    CHECK_OK(expect("{\"sort\":{\"partition\":\"model\"}}", OCTO_EINVAL,
                    "provider.sort: the object form needs \"by\""));
    CHECK_OK(expect("{\"sort\":{\"by\":\"price\",\"how\":1}}", OCTO_EINVAL,
                    "provider.sort.how: unknown key"));
    CHECK_OK(expect("{\"quantizations\":[\"fp8\",\"FP8\"]}", OCTO_EINVAL,
                    "provider.quantizations[1]: must be 1 to 32 characters of [a-z0-9_.-]"));
    CHECK_OK(expect("{\"quantizations\":[\"\"]}", OCTO_EINVAL,
                    "provider.quantizations[0]: must be 1 to 32 characters of [a-z0-9_.-]"));
    CHECK_OK(expect("{\"quantizations\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}", OCTO_EINVAL,
                    "provider.quantizations[0]: must be 1 to 32 characters of [a-z0-9_.-]"));
    CHECK_OK(expect("{\"quantizations\":\"fp8\"}", OCTO_EINVAL,
                    "provider.quantizations: must be an array of strings"));
    CHECK_OK(expect("{\"data_collection\":\"maybe\"}", OCTO_EINVAL,
                    "provider.data_collection: must be one of \"allow\", \"deny\""));
    CHECK_OK(expect("{\"privacy\":\"secret\"}", OCTO_EINVAL,
                    "provider.privacy: must be one of \"public\", \"shared\", "
                    "\"confidential\", \"private\""));
    CHECK_OK(expect("{\"isolation_min\":\"vm\"}", OCTO_EINVAL,
                    "provider.isolation_min: must be one of \"none\", \"process\", "
                    "\"container\", \"tee\""));
    CHECK_OK(expect("{\"strategy\":\"cheapest\"}", OCTO_EINVAL,
                    "provider.strategy: must be one of \"cost\", \"speed\", \"quality\", "
                    "\"privacy\", \"geo\""));
    CHECK_OK(expect("{\"strategy\":\"Cost\"}", OCTO_EINVAL,
                    "provider.strategy: must be one of \"cost\", \"speed\", \"quality\", "
                    "\"privacy\", \"geo\""));
    CHECK_OK(expect("{\"strategy\":\"geo\"}", OCTO_EINVAL,
                    "provider.strategy: \"geo\" needs provider.region"));
    CHECK_OK(expect("{\"strategy\":\"geo\",\"region\":{}}", OCTO_EINVAL,
                    "provider.strategy: \"geo\" needs provider.region"));
    const char *country = "provider.region.country: must be an ISO 3166-1 alpha-2 code (two "
                          "upper-case letters)";
    CHECK_OK(expect("{\"region\":{\"country\":\"de\"}}", OCTO_EINVAL, country));
    CHECK_OK(expect("{\"region\":{\"country\":\"DEU\"}}", OCTO_EINVAL, country));
    CHECK_OK(expect("{\"region\":{\"country\":\"D\"}}", OCTO_EINVAL, country));
    CHECK_OK(expect("{\"region\":{\"country\":49}}", OCTO_EINVAL, country));
    const char *cont = "provider.region.continent: must be one of AF, AN, AS, EU, NA, OC, SA";
    CHECK_OK(expect("{\"region\":{\"continent\":\"XX\"}}", OCTO_EINVAL, cont));
    CHECK_OK(expect("{\"region\":{\"continent\":\"EUR\"}}", OCTO_EINVAL, cont));
    CHECK_OK(expect("{\"region\":{\"continent\":\"eu\"}}", OCTO_EINVAL, cont));
    CHECK_OK(expect("{\"region\":\"DE\"}", OCTO_EINVAL,
                    "provider.region: must be an object {\"country\": \"DE\", \"continent\": "
                    "\"EU\"}"));
    CHECK_OK(expect("{\"region\":{\"city\":\"Berlin\"}}", OCTO_EINVAL,
                    "provider.region.city: unknown key"));
}

static void test_unknown_and_ignored(void)
{
    struct octo_policy p;
    CHECK_OK(expect("{\"orders\":[]}", OCTO_EINVAL, "provider.orders: unknown key"));
    CHECK_OK(expect("{\"Order\":[]}", OCTO_EINVAL, "provider.Order: unknown key"));
    CHECK_OK(expect("{\"max_price\":{\"prompts\":1}}", OCTO_EINVAL,
                    "provider.max_price.prompts: unknown key"));
    /* key names in messages are reduced to a safe alphabet */
    CHECK_OK(expect("{\"a\\\"b<\\u00e9>\":1}", OCTO_EINVAL, "provider.a?b????: unknown key"));
    CHECK_OK(expect("{\"zdr\":true,\"zdr\":true}", OCTO_EINVAL, "provider.zdr: key given twice"));
    CHECK_OK(expect("{\"region\":{\"country\":\"DE\",\"country\":\"FR\"}}", OCTO_EINVAL,
                    "provider.region.country: key given twice"));

    CHECK_OK(parse("{\"enforce_distillable_text\":true,\"preferred_min_throughput\":{\"p90\":"
                   "55.5},\"preferred_max_latency\":3.2,\"experimental\":{\"any\":[1,{\"x\":"
                   "null}]},\"sort\":{\"by\":\"price\",\"partition\":\"none\"},\"max_price\":{"
                   "\"prompt\":3,\"request\":0.5,\"image\":\"x\",\"audio\":[]},\"zdr\":true}",
                   &p));
    CHECK_EQ_INT(p.ignored, (1u << OCTO_POLICY_IGNORED_COUNT) - 1);
    CHECK_EQ_INT(p.route.sort, OCTO_SORT_PRICE);
    CHECK_EQ_U64(p.route.max_price_in, 3);
    CHECK(p.route.zdr);
    CHECK_OK(parse("{\"experimental\":null,\"max_price\":{\"request\":null}}", &p));
    CHECK_EQ_INT(p.ignored, 0); /* null is "not given" */
    CHECK_OK(parse("{\"preferred_max_latency\":1}", &p));
    CHECK_EQ_INT(p.ignored, OCTO_POLICY_IGNORED_MAX_LATENCY);

    for (unsigned i = 0; i < OCTO_POLICY_IGNORED_COUNT; i++)
        CHECK(octo_policy_ignored_name(1u << i) != NULL);
    CHECK_STR(octo_policy_ignored_name(OCTO_POLICY_IGNORED_EXPERIMENTAL), "experimental");
    CHECK_STR(octo_policy_ignored_name(OCTO_POLICY_IGNORED_PRICE_REQUEST), "max_price.request");
    CHECK(octo_policy_ignored_name(0) == NULL);
    CHECK(octo_policy_ignored_name(3) == NULL);
    CHECK(octo_policy_ignored_name(1u << OCTO_POLICY_IGNORED_COUNT) == NULL);
    CHECK_STR(octo_policy_verify_name(0), "none");
    CHECK_STR(octo_policy_verify_name(1), "attestation");
    CHECK_STR(octo_policy_verify_name(OCTO_POLICY_VERIFY_MAX - 1), "redundant");
    CHECK_STR(octo_policy_verify_name(OCTO_POLICY_VERIFY_REEXEC), "reexec");
    CHECK(octo_policy_verify_name(OCTO_POLICY_VERIFY_MAX + 1) == NULL);
}

/* Writes a list of n copies of item into big as {"key":[item,...]}. */
static void make_list(const char *key, const char *item, size_t n)
{
    size_t len = (size_t)snprintf(big, sizeof(big), "{\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(big + len, sizeof(big) - len, "%s%s", i ? "," : "", item);
    snprintf(big + len, sizeof(big) - len, "]}");
}

static void test_syntax_and_limits(void)
{
    struct octo_policy p;
    CHECK_OK(expect("", OCTO_EINVAL, "provider: malformed JSON near byte 0"));
    CHECK_OK(expect("{", OCTO_EINVAL, "provider: malformed JSON near byte 0")); /* cJSON's */
    CHECK_OK(expect("{\"a\":}", OCTO_EINVAL, "provider: malformed JSON near byte 5"));
    CHECK_OK(expect("{\"zdr\":tru}", OCTO_EINVAL, "provider: malformed JSON near byte 7"));
    CHECK_OK(expect("{} {}", OCTO_EINVAL, "provider: unexpected data after the object at byte 3"));
    CHECK_OK(expect("[]", OCTO_EINVAL, "provider: must be a JSON object"));
    CHECK_OK(expect("\"cost\"", OCTO_EINVAL, "provider: must be a JSON object"));
    CHECK_OK(expect("null", OCTO_EINVAL, "provider: must be a JSON object"));
    CHECK_OK(
        expect("{\"zdr\":true}\x01", OCTO_EINVAL, "provider: control character in the JSON text"));
    CHECK_OK(expect("{\"a\x7f\x01\":1}", OCTO_EINVAL, "provider: control character in a string"));
    CHECK_OK(expect("{\"quantizations\":[\"fp8\\u0000x\"]}", OCTO_EINVAL,
                    "provider.quantizations: \\u0000 is not allowed in a string"));
    /* an embedded NUL byte: the length, not the NUL, ends the input */
    static const char nul[] = "{\"zdr\":true}\0garbage";
    CHECK_ERR(octo_policy_parse(nul, sizeof(nul) - 1, &p, err, sizeof(err)), OCTO_EINVAL);
    CHECK_STR(err, "provider: control character in the JSON text");
    /* input that is not NUL-terminated is fine */
    static const char exact[7] = {'{', '"', 'z', '"', ':', '1', '}'};
    CHECK_ERR(octo_policy_parse(exact, sizeof(exact), &p, err, sizeof(err)), OCTO_EINVAL);
    CHECK_STR(err, "provider.z: unknown key");

    /* depth: the provider object is level 1; level 5 is refused before parsing */
    CHECK_OK(parse("{\"experimental\":{\"a\":{\"b\":[]}}}", &p));
    CHECK_OK(expect("{\"experimental\":{\"a\":{\"b\":[[]]}}}", OCTO_EINVAL,
                    "provider.experimental.a.b: nested deeper than 4 levels"));
    CHECK_OK(expect("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", OCTO_EINVAL,
                    "provider: nested deeper than 4 levels"));

    /* list lengths */
    make_list("order", "\"" PID_B58 "\"", OCTO_ROUTE_LIST_MAX);
    CHECK_OK(parse(big, &p));
    CHECK_EQ_INT(p.route.order_count, OCTO_ROUTE_LIST_MAX);
    make_list("order", "\"" PID_B58 "\"", OCTO_ROUTE_LIST_MAX + 1);
    CHECK_OK(expect(big, OCTO_EINVAL, "provider.order: more than 32 entries"));
    make_list("quantizations", "\"fp8\"", OCTO_ROUTE_LIST_MAX + 1);
    CHECK_OK(expect(big, OCTO_EINVAL, "provider.quantizations: more than 32 entries"));
    make_list("experimental", "0", 1000);
    CHECK_OK(expect(big, OCTO_EINVAL, "provider.experimental: more than 32 entries"));
    /* keys per object */
    size_t len = (size_t)snprintf(big, sizeof(big), "{\"experimental\":{");
    for (int i = 0; i < OCTO_POLICY_MEMBERS_MAX + 1; i++)
        len += (size_t)snprintf(big + len, sizeof(big) - len, "%s\"k%d\":%d", i ? "," : "", i, i);
    snprintf(big + len, sizeof(big) - len, "}}");
    CHECK_OK(expect(big, OCTO_EINVAL, "provider.experimental: more than 32 keys"));
    /* string length */
    char s[300];
    memset(s, 'a', sizeof(s));
    snprintf(big, sizeof(big), "{\"experimental\":\"%.*s\"}", OCTO_POLICY_STRING_MAX, s);
    CHECK_OK(parse(big, &p));
    snprintf(big, sizeof(big), "{\"experimental\":\"%.*s\"}", OCTO_POLICY_STRING_MAX + 1, s);
    CHECK_OK(expect(big, OCTO_EINVAL, "provider: string longer than 128 bytes"));
    snprintf(big, sizeof(big), "{\"%.*s\":1}", 200, s);
    CHECK_OK(expect(big, OCTO_EINVAL, "provider: string longer than 128 bytes"));
    /* total size: refused before anything else (whitespace padding is still counted) */
    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[OCTO_POLICY_JSON_MAX - 1] = '}';
    CHECK_OK(octo_policy_parse(big, OCTO_POLICY_JSON_MAX, &p, err, sizeof(err)));
    big[OCTO_POLICY_JSON_MAX - 1] = ' ';
    big[OCTO_POLICY_JSON_MAX] = '}';
    CHECK_ERR(octo_policy_parse(big, OCTO_POLICY_JSON_MAX + 1, &p, err, sizeof(err)), OCTO_ETOOBIG);
    CHECK_STR(err, "provider: longer than 16384 bytes");
}

static void test_err_buffer(void)
{
    struct octo_policy p;
    const char *bad = "{\"max_price\":{\"prompt\":-3}}";
    CHECK_ERR(octo_policy_parse(bad, strlen(bad), &p, NULL, 0), OCTO_EINVAL);
    char small[12];
    memset(small, 'x', sizeof(small));
    CHECK_ERR(octo_policy_parse(bad, strlen(bad), &p, small, sizeof(small)), OCTO_EINVAL);
    CHECK_STR(small, "provider.ma"); /* truncated, terminated */
    char one[1] = {'x'};
    CHECK_ERR(octo_policy_parse(bad, strlen(bad), &p, one, 1), OCTO_EINVAL);
    CHECK_EQ_INT(one[0], '\0');
    /* a partly applied policy is reset on error */
    CHECK_ERR(parse("{\"zdr\":true,\"privacy\":\"private\",\"experimental\":1,\"bogus\":1}", &p),
              OCTO_EINVAL);
    struct octo_policy def;
    octo_policy_init(&def);
    CHECK(octo_policy_equal(&p, &def));
    CHECK_EQ_INT(p.ignored, 0);
    CHECK_OK(octo_policy_parse("{}", 2, &p, NULL, 0));
}

static void test_out_of_memory(void)
{
    const char *json = "{\"order\":[\"" PID_B58 "\"],\"max_price\":{\"prompt\":5},"
                       "\"quantizations\":[\"fp8\",\"int4\"],\"region\":{\"country\":\"JP\"}}";
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    struct octo_policy p;
    uint64_t n = 1;
    for (; n < 200; n++) {
        octo_alloc_fail_after(n, 1);
        int rc = parse(json, &p);
        octo_alloc_fail_after(0, 0);
        if (rc == 0)
            break;
        if (rc == OCTO_EINVAL) {
            /* the peer-id parser (crypto/peerid.c) unpacks the key with protobuf-c and reports
             * its out-of-memory as a malformed id: a 400 instead of a 500, still fail-closed */
            CHECK_STR(err, "provider.order[0]: must be a peer id (base58 or CIDv1 text)");
            continue;
        }
        CHECK_ERR(rc, OCTO_ENOMEM);
        CHECK_STR(err, "provider: out of memory");
    }
    CHECK(n > 10 && n < 200); /* the copy, then every node of the tree failed once */
    CHECK_EQ_U64(p.route.max_price_in, 5);
    octo_alloc_stats(&after);
    CHECK_EQ_U64(after.bytes_live, before.bytes_live);
    CHECK_EQ_U64(after.allocs_live, before.allocs_live);
}

static void check_round_trip_of(const struct octo_policy *p, int *fails)
{
    static char out[OCTO_POLICY_JSON_MAX];
    struct octo_policy back;
    int len = octo_policy_to_json(p, out, sizeof(out));
    if (len <= 0 || (size_t)len != strlen(out) ||
        octo_policy_parse(out, (size_t)len, &back, err, sizeof(err)) != 0 ||
        !octo_policy_equal(p, &back)) {
        printf("    round trip failed (%d): %s\n    %s\n", len, out, err);
        (*fails)++;
    }
}

static void test_round_trip_fixed(void)
{
    struct octo_policy p;
    char out[OCTO_POLICY_JSON_MAX];
    octo_policy_init(&p);
    int len = octo_policy_to_json(&p, out, sizeof(out));
    CHECK_STR(out, "{\"order\":[],\"only\":[],\"ignore\":[],\"allow_fallbacks\":true,"
                   "\"quantizations\":[],\"data_collection\":\"allow\",\"zdr\":false,"
                   "\"require_parameters\":false,\"privacy\":\"public\",\"isolation_min\":"
                   "\"none\",\"min_reputation\":0,\"verify\":\"none\",\"strategy\":\"cost\"}");
    CHECK_EQ_INT(len, strlen(out));

    CHECK_OK(parse("{\"strategy\":\"geo\",\"only\":[\"" PID_CID "\"],\"region\":{\"continent\":"
                   "\"OC\",\"country\":\"AU\"},\"sort\":{\"by\":\"throughput\"},\"max_price\":{"
                   "\"completion\":12},\"min_reputation_bp\":1234,\"verify\":1,"
                   "\"quantizations\":[\"bf16\"],\"data_collection\":\"deny\"}",
                   &p));
    len = octo_policy_to_json(&p, out, sizeof(out));
    CHECK_STR(out, "{\"order\":[],\"only\":[\"" PID_B58 "\"],\"ignore\":[],\"allow_fallbacks\":"
                   "true,\"sort\":\"throughput\",\"max_price\":{\"completion\":12},"
                   "\"quantizations\":[\"bf16\"],\"data_collection\":\"deny\",\"zdr\":false,"
                   "\"require_parameters\":false,\"privacy\":\"public\",\"isolation_min\":"
                   "\"none\",\"region\":{\"country\":\"AU\",\"continent\":\"OC\"},"
                   "\"min_reputation_bp\":1234,\"verify\":\"attestation\",\"strategy\":\"geo\"}");
    int fails = 0;
    check_round_trip_of(&p, &fails);
    CHECK_EQ_INT(fails, 0);
    /* ENOSPACE for every buffer shorter than length + NUL, empty string left behind */
    for (size_t cap = 0; cap <= (size_t)len; cap++) {
        char *b = octo_malloc(cap + 1);
        CHECK(b != NULL);
        b[0] = 'x';
        int rc = octo_policy_to_json(&p, cap ? b : NULL, cap);
        bool ok = rc == OCTO_ENOSPACE && (cap == 0 || b[0] == '\0');
        octo_free(b);
        CHECK(ok);
    }
    CHECK_EQ_INT(octo_policy_to_json(&p, out, (size_t)len + 1), len);
}

static void fill_max(struct octo_policy *p)
{
    octo_policy_init(p);
    struct octo_route_policy *r = &p->route;
    for (size_t i = 0; i < OCTO_ROUTE_LIST_MAX; i++) {
        /* sha2-256 ids: 34 bytes; identity Ed25519 ids from seeds: 38 bytes */
        struct octo_identity id;
        uint8_t seed[OCTO_ED25519_SEED_LEN];
        memset(seed, (int)i + 1, sizeof(seed));
        OCTO_ASSERT(octo_identity_from_seed(&id, seed) == 0);
        octo_peerid_from_pubkey(&id.pub, &r->order[i]);
        octo_identity_deinit(&id);
        OCTO_ASSERT(octo_peerid_from_text(PID_QM, &r->only[i]) == 0);
        r->ignore[i] = r->order[i];
        memset(r->quantizations[i], 'q', OCTO_ROUTE_QUANT_LEN_MAX);
        r->quantizations[i][OCTO_ROUTE_QUANT_LEN_MAX] = '\0';
    }
    r->order_count = r->only_count = r->ignore_count = r->quantizations_count = OCTO_ROUTE_LIST_MAX;
    r->allow_fallbacks = false;
    r->sort = OCTO_SORT_LATENCY;
    r->max_price_in = r->max_price_out = OCTO_POLICY_INT_MAX;
    r->deny_data_collection = r->zdr = r->require_parameters = true;
    r->privacy = OCTO_DATA_CONFIDENTIAL;
    r->isolation_min = OCTO_ISOLATION_CONTAINER;
    memcpy(r->country, "ZZ", 3);
    memcpy(r->continent, "AN", 3);
    r->min_reputation_bp = 9999;
    r->verify = OCTO_POLICY_VERIFY_MAX;
    p->strategy = OCTO_ROUTE_GEO;
}

static void test_round_trip_max(void)
{
    struct octo_policy p;
    fill_max(&p);
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    int len = octo_policy_to_json(&p, big, OCTO_POLICY_JSON_MAX);
    octo_alloc_stats(&after);
    CHECK_EQ_U64(after.allocs_total, before.allocs_total); /* writing allocates nothing */
    CHECK(len > 0 && len < OCTO_POLICY_JSON_MAX);
    printf("    maximal policy: %d bytes of JSON (limit %d)\n", len, OCTO_POLICY_JSON_MAX);
    int fails = 0;
    check_round_trip_of(&p, &fails);
    CHECK_EQ_INT(fails, 0);
}

static void test_round_trip_random(void)
{
    static const char *const countries[] = {"", "DE", "US", "JP"};
    static const char *const continents[] = {"", "EU", "NA", "AS", "AF"};
    struct octo_policy max, p;
    fill_max(&max);
    struct octo_rng rng;
    octo_rng_init(&rng, 2024);
    int fails = 0;
    for (int it = 0; it < 2000; it++) {
        octo_policy_init(&p);
        struct octo_route_policy *r = &p.route;
        r->order_count = (size_t)octo_rng_below(&rng, 4);
        r->only_count = (size_t)octo_rng_below(&rng, 3);
        r->ignore_count = (size_t)octo_rng_below(&rng, 3);
        r->quantizations_count = (size_t)octo_rng_below(&rng, 3);
        for (size_t i = 0; i < OCTO_ROUTE_LIST_MAX; i++) {
            r->order[i] = max.route.order[octo_rng_below(&rng, OCTO_ROUTE_LIST_MAX)];
            r->only[i] = max.route.only[0];
            r->ignore[i] = max.route.order[octo_rng_below(&rng, OCTO_ROUTE_LIST_MAX)];
            snprintf(r->quantizations[i], sizeof(r->quantizations[i]), "q%u",
                     (unsigned)octo_rng_below(&rng, 100));
        }
        r->allow_fallbacks = octo_rng_below(&rng, 2);
        r->sort = (enum octo_route_sort)octo_rng_below(&rng, 4);
        r->max_price_in = octo_rng_below(&rng, 2) ? octo_rng_below(&rng, 1u << 30) : 0;
        r->max_price_out =
            octo_rng_below(&rng, 2) ? OCTO_POLICY_INT_MAX - octo_rng_below(&rng, 9) : 0;
        r->deny_data_collection = octo_rng_below(&rng, 2);
        r->zdr = octo_rng_below(&rng, 2);
        r->require_parameters = octo_rng_below(&rng, 2);
        r->privacy = (enum octo_data_class)octo_rng_below(&rng, 4);
        r->isolation_min = (enum octo_isolation)octo_rng_below(&rng, 4);
        snprintf(r->country, sizeof(r->country), "%s", countries[octo_rng_below(&rng, 4)]);
        snprintf(r->continent, sizeof(r->continent), "%s", continents[octo_rng_below(&rng, 5)]);
        r->min_reputation_bp = (uint16_t)octo_rng_below(&rng, 10001);
        r->verify = (uint8_t)octo_rng_below(&rng, OCTO_POLICY_VERIFY_MAX + 1);
        p.strategy = (enum octo_route_strategy)octo_rng_below(&rng, 5);
        if (p.strategy == OCTO_ROUTE_GEO && r->country[0] == '\0' && r->continent[0] == '\0')
            memcpy(r->country, "FR", 3);
        check_round_trip_of(&p, &fails);
    }
    CHECK_EQ_INT(fails, 0);
}

static void test_to_json_refusals(void)
{
    struct octo_policy p;
    char out[OCTO_POLICY_JSON_MAX];
    struct octo_policy good;
    fill_max(&good);
    CHECK(octo_policy_to_json(&good, out, sizeof(out)) > 0);

    p = good;

    memcpy(p.route.quantizations[3], "Q8", 3);
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    memset(p.route.quantizations[3], 'q', sizeof(p.route.quantizations[3]));
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL); /* unterminated */
    p = good;
    p.route.quantizations[0][0] = '\0';
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.verify = OCTO_POLICY_VERIFY_MAX + 1;
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.order_count = OCTO_ROUTE_LIST_MAX + 1;
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.max_price_in = OCTO_POLICY_INT_MAX + 1;
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.min_reputation_bp = 10001;
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    memcpy(p.route.continent, "ZZ", 3);
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    memcpy(p.route.country, "de", 3);
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.country[0] = '\0';
    p.route.continent[0] = '\0';
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL); /* geo, no region */
    p.strategy = OCTO_ROUTE_COST;
    CHECK(octo_policy_to_json(&p, out, sizeof(out)) > 0);
    p = good;
    p.strategy = (enum octo_route_strategy)5;
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.privacy = (enum octo_data_class)4;
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.only[5].len = OCTO_PEERID_MAX_BYTES + 1;
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
    p = good;
    p.route.ignore[2].bytes[0] = 0x55; /* not a multihash parse would accept */
    CHECK_ERR(octo_policy_to_json(&p, out, sizeof(out)), OCTO_EINVAL);
}

static void test_equal(void)
{
    struct octo_policy a, b;
    fill_max(&a);
    b = a;
    CHECK(octo_policy_equal(&a, &b));
    /* bytes after a string's NUL and `ignored` do not matter */
    memcpy(b.route.quantizations[1], "ab\0zzzz", 8);
    memcpy(a.route.quantizations[1], "ab\0yyyy", 8);
    b.route.country[2] = '\0';
    b.ignored = 5;
    CHECK(octo_policy_equal(&a, &b));
    b = a;
    b.route.order[31].bytes[20] ^= 1;
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.only_count--;
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.quantizations[31][0] = 'r';
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.max_price_out--;
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.zdr = false;
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.continent[1] = 'F';
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.min_reputation_bp--;
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.verify--;
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.strategy = OCTO_ROUTE_COST;
    CHECK(!octo_policy_equal(&a, &b));
    b = a;
    b.route.order_count = OCTO_ROUTE_LIST_MAX + 1;
    a.route.order_count = OCTO_ROUTE_LIST_MAX + 1;
    CHECK(!octo_policy_equal(&a, &b)); /* not a policy */
}

static void test_explain_json(void)
{
    struct octo_route_explain e;
    memset(&e, 0, sizeof(e));
    uint32_t *fields[] = {&e.considered,         &e.removed_only,         &e.removed_ignore,
                          &e.removed_data_class, &e.removed_isolation,    &e.removed_region,
                          &e.removed_price,      &e.removed_quantization, &e.removed_data_policy,
                          &e.removed_parameters, &e.removed_reputation,   &e.removed_unavailable,
                          &e.removed_capacity,   &e.removed_not_in_order, &e.eligible};
    for (uint32_t i = 0; i < OCTO_ARRAY_LEN(fields); i++)
        *fields[i] = i == 0 ? 10 : i;
    char out[OCTO_POLICY_EXPLAIN_MAX];
    int len = octo_policy_explain_json(&e, out, sizeof(out));
    CHECK_STR(out, "{\"considered\":10,\"removed_only\":1,\"removed_ignore\":2,"
                   "\"removed_data_class\":3,\"removed_isolation\":4,\"removed_region\":5,"
                   "\"removed_price\":6,\"removed_quantization\":7,\"removed_data_policy\":8,"
                   "\"removed_parameters\":9,\"removed_reputation\":10,"
                   "\"removed_unavailable\":11,\"removed_capacity\":12,"
                   "\"removed_not_in_order\":13,\"eligible\":14}");
    CHECK_EQ_INT(len, strlen(out));
    memset(&e, 0xff, sizeof(e));
    len = octo_policy_explain_json(&e, out, sizeof(out));
    CHECK(len > 0 && (size_t)len < sizeof(out));
    CHECK(strstr(out, "\"eligible\":4294967295}") != NULL);
    CHECK_ERR(octo_policy_explain_json(&e, out, (size_t)len), OCTO_ENOSPACE);
    CHECK_EQ_INT(out[0], '\0');
    CHECK_ERR(octo_policy_explain_json(&e, NULL, 0), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_policy_explain_json(&e, out, (size_t)len + 1), len);
}

int main(void)
{
    if (octo_crypto_init() != 0)
        return 1;
    OCTO_RUN(test_defaults);
    OCTO_RUN(test_every_key);
    OCTO_RUN(test_numbers);
    OCTO_RUN(test_bad_values);
    OCTO_RUN(test_unknown_and_ignored);
    OCTO_RUN(test_syntax_and_limits);
    OCTO_RUN(test_err_buffer);
    OCTO_RUN(test_out_of_memory);
    OCTO_RUN(test_round_trip_fixed);
    OCTO_RUN(test_round_trip_max);
    OCTO_RUN(test_round_trip_random);
    OCTO_RUN(test_to_json_refusals);
    OCTO_RUN(test_equal);
    OCTO_RUN(test_explain_json);
    return octo_test_finish();
}
