/*
 * policy.h — the routing policy's JSON form: OpenRouter's `provider` object with CipherOcto's
 * extensions, parsed into struct octo_route_policy (router.h) plus the strategy, and written
 * back; and the router's explain record as JSON for error bodies.
 *
 * The input is the value of the request's "provider" key (error messages call it "provider").
 * Keys, all optional; null means "not given" (the default):
 *
 *   order, only, ignore   arrays of peer ids (text: base58 "12D3KooW..." or CIDv1 "bafz..."),
 *                         at most OCTO_ROUTE_LIST_MAX each; [] is the same as absent
 *   allow_fallbacks       bool, default true
 *   sort                  "price" | "throughput" | "latency", or OpenRouter's object form
 *                         {"by": <one of those>, "partition": <ignored>}
 *   max_price             {"prompt": N, "completion": N}: integer OCTO base units per 1M input /
 *                         output tokens (not OpenRouter's USD). N is a JSON number whose value
 *                         is an integer from 1 to OCTO_POLICY_INT_MAX (2^53 - 1, the largest
 *                         integer every JSON reader holds exactly): fractions, negatives,
 *                         larger values and 0 are rejected — 0 would read as "no limit" in
 *                         struct octo_route_policy, while OpenRouter means "free only", so
 *                         it is refused rather than silently opened. Omit the key for no limit.
 *   quantizations         array of [a-z0-9_.-]{1,32} strings (the advert alphabet), <= 32
 *   data_collection       "allow" (default) | "deny"
 *   zdr                   bool: zero data retention required
 *   require_parameters    bool
 *   privacy               data class "public" (default) | "shared" | "confidential" | "private"
 *   isolation_min         "none" (default) | "process" | "container" | "tee"
 *   region                object {"country": "DE", "continent": "EU"}, either or both. An
 *                         object, not a bare string: AF, AS, NA and SA are both ISO 3166
 *                         countries and continent codes. country: two upper-case letters;
 *                         continent: AF AN AS EU NA OC SA.
 *   min_reputation        integer percent 0..100; or min_reputation_bp, integer basis points
 *                         0..10000 (not both)
 *   verify                verification level: 0..OCTO_POLICY_VERIFY_MAX or its name "none",
 *                         "attestation" (TEE quote), "fingerprint" (activation fingerprint),
 *                         "sampled" (sampled recompute), "redundant" (k-of-n execution),
 *                         "reexec" (the orchestrator re-runs the task on another provider with
 *                         the deterministic engine and compares the bits)
 *   strategy              "cost" (default) | "speed" | "quality" | "privacy" | "geo";
 *                         "geo" needs a region
 *
 * OpenRouter keys this router does not implement are accepted with any value, not acted on,
 * and reported in octo_policy.ignored: enforce_distillable_text, preferred_min_throughput,
 * preferred_max_latency, experimental, sort.partition, max_price.request, max_price.image,
 * max_price.audio. Any other key, at any level, is an error ("provider.foo: unknown key"), as
 * is a key given twice: a typo must not silently open a policy.
 *
 * Limits, checked on the raw bytes before anything is allocated: OCTO_POLICY_JSON_MAX bytes,
 * nesting OCTO_POLICY_DEPTH_MAX, at most OCTO_ROUTE_LIST_MAX entries in any array and
 * OCTO_POLICY_MEMBERS_MAX in any object, strings at most OCTO_POLICY_STRING_MAX raw bytes,
 * no control characters and no \u0000 escape.
 *
 * Memory: the parse holds a cJSON tree (through octo_malloc) for the duration of the call.
 * cJSON's allocator hooks are process-global: the first parse installs octo_malloc/octo_free
 * wrappers (once, atomically) — the same allocator the CLI installs — and the process must not
 * install others. Writing (to_json, explain_json) allocates nothing.
 */
#ifndef OCTO_INTEL_POLICY_H
#define OCTO_INTEL_POLICY_H

#include "base/err.h"
#include "intel/router.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_POLICY_JSON_MAX 16384  /* input bytes; octo_policy_to_json always fits in this */
#define OCTO_POLICY_DEPTH_MAX 4     /* nested objects/arrays, the provider object is depth 1 */
#define OCTO_POLICY_MEMBERS_MAX 32  /* keys in any one object */
#define OCTO_POLICY_STRING_MAX 128  /* raw bytes of any string between its quotes */
#define OCTO_POLICY_ERR_MAX 192     /* an error buffer this size always holds the message */
#define OCTO_POLICY_EXPLAIN_MAX 640 /* octo_policy_explain_json always fits in this */
#define OCTO_POLICY_INT_MAX UINT64_C(9007199254740991) /* 2^53 - 1 */
#define OCTO_POLICY_VERIFY_REEXEC 5 /* the answer is re-run and compared (node/gateway.c) */
#define OCTO_POLICY_VERIFY_MAX 5

/* Bits of octo_policy.ignored: OpenRouter keys that were present (and not null) but are not
 * implemented by this router. */
enum {
    OCTO_POLICY_IGNORED_DISTILLABLE = 1u << 0,    /* enforce_distillable_text */
    OCTO_POLICY_IGNORED_MIN_THROUGHPUT = 1u << 1, /* preferred_min_throughput */
    OCTO_POLICY_IGNORED_MAX_LATENCY = 1u << 2,    /* preferred_max_latency */
    OCTO_POLICY_IGNORED_EXPERIMENTAL = 1u << 3,   /* experimental */
    OCTO_POLICY_IGNORED_SORT_PARTITION = 1u << 4, /* sort.partition */
    OCTO_POLICY_IGNORED_PRICE_REQUEST = 1u << 5,  /* max_price.request */
    OCTO_POLICY_IGNORED_PRICE_IMAGE = 1u << 6,    /* max_price.image */
    OCTO_POLICY_IGNORED_PRICE_AUDIO = 1u << 7,    /* max_price.audio */
};
#define OCTO_POLICY_IGNORED_COUNT 8

struct octo_policy {
    struct octo_route_policy route;
    enum octo_route_strategy strategy;
    uint32_t ignored; /* OCTO_POLICY_IGNORED_* bits (parse output only; not written back) */
};

/* Installs the counted allocator as cJSON's, once per process (the parser does it itself);
 * a program whose first cJSON use is elsewhere calls it before, so that no cJSON block made
 * by malloc is freed through the counted allocator. */
void octo_policy_json_init(void);

/* Defaults: octo_route_policy_init, strategy cost, nothing ignored. */
void octo_policy_init(struct octo_policy *p);

/* Parses the JSON provider object json[0..len) (need not be NUL-terminated) into *out.
 * Returns 0; OCTO_ETOOBIG when len > OCTO_POLICY_JSON_MAX; OCTO_EINVAL for anything else the
 * caller sent wrong (syntax, a limit, a type, a value, an unknown or repeated key, a policy
 * octo_route_policy_check rejects); OCTO_ENOMEM. On an error *out holds the defaults and, when
 * err_cap > 0, err receives a NUL-terminated message naming the field, e.g.
 * "provider.max_price.prompt: must be an integer from 1 to 9007199254740991" (truncated to
 * err_cap; OCTO_POLICY_ERR_MAX always suffices); on success err is "". Key names in
 * messages are reduced to [A-Za-z0-9_.-] (others become '?'), so the message can be put in a
 * JSON string as it is. err may be NULL when err_cap is 0. */
OCTO_MUST_USE int octo_policy_parse(const char *json, size_t len, struct octo_policy *out,
                                    char *err, size_t err_cap);

/* Writes p as a canonical JSON provider object (fixed key order; every key except sort,
 * max_price and region, which appear only when set; peer ids in base58) that
 * octo_policy_parse reads back equal. NUL-terminates. Returns the length (without the NUL);
 * OCTO_ENOSPACE when cap is too small (OCTO_POLICY_JSON_MAX always suffices); OCTO_EINVAL when
 * p cannot be written as a valid policy (octo_route_policy_check fails, a count above
 * OCTO_ROUTE_LIST_MAX, a peer id that is not an Ed25519 identity or sha2-256 multihash (its
 * key's curve point is left to parse), a quantization outside the alphabet, a continent not
 * in the list,
 * verify > OCTO_POLICY_VERIFY_MAX, an unknown strategy, geo without a region, a price above
 * OCTO_POLICY_INT_MAX). */
OCTO_MUST_USE int octo_policy_to_json(const struct octo_policy *p, char *buf, size_t cap);

/* Writes the explain counts as a JSON object with the struct's field names in the struct's
 * order: {"considered":N,"removed_only":N,...,"removed_not_in_order":N,"eligible":N}.
 * NUL-terminates. Returns the length, or OCTO_ENOSPACE (OCTO_POLICY_EXPLAIN_MAX always
 * suffices). */
OCTO_MUST_USE int octo_policy_explain_json(const struct octo_route_explain *e, char *buf,
                                           size_t cap);

/* True when a and b mean the same policy: every field of route (strings and lists compared by
 * content, not by the bytes after a string's NUL) and the strategy. `ignored` is not compared. */
bool octo_policy_equal(const struct octo_policy *a, const struct octo_policy *b);

/* Key name of one OCTO_POLICY_IGNORED_* bit ("experimental", "max_price.request", ...), or
 * NULL when bit is not exactly one known bit. */
const char *octo_policy_ignored_name(uint32_t bit);

/* Name of a verification level ("none", "attestation", ...), NULL above
 * OCTO_POLICY_VERIFY_MAX. */
const char *octo_policy_verify_name(unsigned level);

#endif
