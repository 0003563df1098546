/*
 * advert.h — provider adverts: what a provider serves, at what price, where and how isolated,
 * signed by the provider's node key (schema and signature rule: proto/provider.proto).
 *
 * struct octo_advert is a plain value with fixed-size arrays bounded by the OCTO_ADVERT_*
 * maxima below (about 10 KiB; keep one per call, not one per provider: the registry stores a
 * compact form). Strings are NUL-terminated inside their arrays.
 *
 * Producing:  octo_advert_sign     checks the values, encodes canonically, signs.
 * Consuming:  octo_advert_open     size limit, decode, canonical check, key, provider ==
 *                                  key's peer id, values and expiry, then the signature.
 *             octo_advert_validate the value and time checks alone (also used by the registry).
 *
 * Every rejection names a distinct enum octo_advert_reason (octo_advert_reason_str gives the
 * text) alongside the usual negative OCTO_E* class: OCTO_ETOOBIG (size), OCTO_EMALFORMED
 * (not a protobuf of this schema, bad key or multiaddr), OCTO_ENONCANON, OCTO_EBADSIG,
 * OCTO_EPERM (key does not belong to the provider), OCTO_ERANGE (a value out of bounds),
 * OCTO_ETIMEDOUT (expired). Pure: time comes in as unix ms; no allocation survives a call.
 */
#ifndef OCTO_INTEL_ADVERT_H
#define OCTO_INTEL_ADVERT_H

#include "base/err.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_ADVERT_DOMAIN "octo-provider-advert"
#define OCTO_ADVERT_DOMAIN_LEN (sizeof(OCTO_ADVERT_DOMAIN) - 1)

#define OCTO_ADVERT_MODELS_MAX 32
#define OCTO_ADVERT_NAME_MAX 128 /* model name bytes */
#define OCTO_ADVERT_QUANT_MAX 32 /* quantization bytes */
#define OCTO_ADVERT_HASH_LEN 32  /* SHA-256 of the weights */
#define OCTO_ADVERT_ENDPOINTS_MAX 8
#define OCTO_ADVERT_ENDPOINT_MAX 384 /* binary multiaddr bytes (a 253-byte dns name fits) */
#define OCTO_ADVERT_ATTEST_MAX 256
#define OCTO_ADVERT_CONTEXT_MAX (UINT32_C(1) << 24)              /* 16 Mi tokens */
#define OCTO_ADVERT_CONCURRENCY_MAX UINT32_C(65536)              /* tasks at once */
#define OCTO_ADVERT_PRICE_MAX UINT64_C(1000000000000000)         /* 10^6 OCTO per 1M tokens */
#define OCTO_ADVERT_TTL_MAX_MS (UINT64_C(30) * 24 * 3600 * 1000) /* expiry <= now + 30 days */

/* Encoded ProviderAdvert: every field at its maximum stays below this (static-asserted in
 * advert.c); SignedProviderAdvert adds the key, the signature and their tags. */
#define OCTO_ADVERT_BYTES_MAX 12288
#define OCTO_ADVERT_SIGNED_MAX (OCTO_ADVERT_BYTES_MAX + 256)

enum octo_hw_tier {
    OCTO_HW_TIER_CPU = 1,
    OCTO_HW_TIER_GPU_CONSUMER = 2,
    OCTO_HW_TIER_GPU_WORKSTATION = 3,
    OCTO_HW_TIER_GPU_DATACENTER = 4,
};
#define OCTO_HW_TIER_MAX OCTO_HW_TIER_GPU_DATACENTER

/* Ordered: a higher level isolates at least as well as a lower one. */
enum octo_isolation {
    OCTO_ISOLATION_NONE = 0, /* only as "no minimum" in queries; never valid in an advert */
    OCTO_ISOLATION_PROCESS = 1,
    OCTO_ISOLATION_CONTAINER = 2,
    OCTO_ISOLATION_TEE = 3,
};
#define OCTO_ISOLATION_MAX OCTO_ISOLATION_TEE

/* Why an advert was rejected. Values are stable. */
#define OCTO_ADVERT_REASON_MAP(X)                                                                  \
    X(OK, "ok")                                                                                    \
    X(TOO_BIG, "signed advert exceeds the size limit")                                             \
    X(ENVELOPE_MALFORMED, "signed envelope is not a SignedProviderAdvert protobuf")                \
    X(ENVELOPE_NONCANON, "signed envelope is not canonically encoded")                             \
    X(SIG_LENGTH, "signature is not 64 bytes")                                                     \
    X(KEY_INVALID, "public key is not a valid Ed25519 PublicKey protobuf")                         \
    X(ADVERT_MALFORMED, "advert is not a ProviderAdvert protobuf")                                 \
    X(ADVERT_NONCANON, "advert is not canonically encoded")                                        \
    X(PROVIDER_INVALID, "provider is not a valid peer id")                                         \
    X(KEY_MISMATCH, "public key does not belong to the provider")                                  \
    X(BAD_SIGNATURE, "signature does not verify")                                                  \
    X(EXPIRED, "advert has expired")                                                               \
    X(EXPIRY_TOO_FAR, "expiry is further ahead than the maximum lifetime")                         \
    X(NO_MODELS, "advert lists no model")                                                          \
    X(TOO_MANY_MODELS, "advert lists too many models")                                             \
    X(MODEL_NAME, "model name is empty, too long or not printable ASCII")                          \
    X(MODEL_HASH, "weights hash is not 32 bytes")                                                  \
    X(MODEL_QUANT, "quantization is empty, too long or has characters outside [a-z0-9_.-]")        \
    X(MODEL_CONTEXT, "context length is 0 or above the maximum")                                   \
    X(MODEL_DUPLICATE, "the same model and quantization are listed twice")                         \
    X(HW_TIER, "unknown hardware tier")                                                            \
    X(PRICE, "price above the maximum")                                                            \
    X(COUNTRY, "country is not two upper-case letters")                                            \
    X(CONTINENT, "continent is not one of AF AN AS EU NA OC SA")                                   \
    X(ISOLATION, "unknown isolation level")                                                        \
    X(ATTESTATION, "attestation reference too long, or missing for TEE isolation")                 \
    X(CONCURRENCY, "max concurrency is 0 or above the maximum")                                    \
    X(NO_ENDPOINTS, "advert lists no endpoint")                                                    \
    X(TOO_MANY_ENDPOINTS, "advert lists too many endpoints")                                       \
    X(ENDPOINT, "endpoint is not a valid binary multiaddr or is too long")

enum octo_advert_reason {
#define OCTO_ADVERT_REASON_ENUM(name, text) OCTO_ADVERT_##name,
    OCTO_ADVERT_REASON_MAP(OCTO_ADVERT_REASON_ENUM)
#undef OCTO_ADVERT_REASON_ENUM
        OCTO_ADVERT_REASON_COUNT
};

struct octo_advert_model {
    char name[OCTO_ADVERT_NAME_MAX + 1];
    char quant[OCTO_ADVERT_QUANT_MAX + 1];
    uint8_t weights_hash[OCTO_ADVERT_HASH_LEN];
    uint32_t context_len;
};

struct octo_advert_endpoint {
    uint16_t len;
    uint8_t bytes[OCTO_ADVERT_ENDPOINT_MAX];
};

struct octo_advert {
    struct octo_peerid provider;
    uint64_t seq;
    uint64_t price_in_per_mtok;  /* OCTO base units */
    uint64_t price_out_per_mtok; /* OCTO base units */
    uint64_t expiry_ms;          /* unix ms */
    uint32_t max_concurrency;
    uint8_t hw_tier;   /* enum octo_hw_tier */
    uint8_t isolation; /* enum octo_isolation */
    char country[3];   /* "DE" */
    char continent[3]; /* "EU" */
    uint16_t attestation_len;
    uint8_t attestation[OCTO_ADVERT_ATTEST_MAX];
    size_t models_count;
    struct octo_advert_model models[OCTO_ADVERT_MODELS_MAX];
    size_t endpoints_count;
    struct octo_advert_endpoint endpoints[OCTO_ADVERT_ENDPOINTS_MAX];
};

/* Text of a reason; never NULL ("unknown reason" for values out of range). */
const char *octo_advert_reason_str(enum octo_advert_reason reason);

/* Zeroes a (every count 0, every string empty). */
void octo_advert_init(struct octo_advert *a);

/* Checks every value of a except the expiry against now: counts, lengths, string alphabets,
 * ranges, duplicate models, multiaddrs, provider peer id. Returns 0, or OCTO_ERANGE /
 * OCTO_EMALFORMED (bad multiaddr or peer id) with *reason set (reason may be NULL). */
OCTO_MUST_USE int octo_advert_check(const struct octo_advert *a, enum octo_advert_reason *reason);

/* octo_advert_check, then the expiry: expiry_ms > now_ms (else OCTO_ETIMEDOUT, EXPIRED) and
 * expiry_ms - now_ms <= OCTO_ADVERT_TTL_MAX_MS (else OCTO_ERANGE, EXPIRY_TOO_FAR). */
OCTO_MUST_USE int octo_advert_validate(const struct octo_advert *a, uint64_t now_ms,
                                       enum octo_advert_reason *reason);

/* Encodes a as a canonical ProviderAdvert into out[0..out_size); *out_len receives the
 * length. a must pass octo_advert_check (else its error and reason are returned).
 * OCTO_ENOSPACE when out is too small (OCTO_ADVERT_BYTES_MAX always suffices). */
OCTO_MUST_USE int octo_advert_encode(const struct octo_advert *a, uint8_t *out, size_t out_size,
                                     size_t *out_len, enum octo_advert_reason *reason);

/* Decodes a ProviderAdvert (no signature involved) into out, accepting only the canonical
 * encoding, and runs octo_advert_check. Errors: OCTO_ETOOBIG (len > OCTO_ADVERT_BYTES_MAX),
 * OCTO_EMALFORMED, OCTO_ENONCANON, and octo_advert_check's. out is zeroed on error. */
OCTO_MUST_USE int octo_advert_decode(const uint8_t *in, size_t len, struct octo_advert *out,
                                     enum octo_advert_reason *reason);

/* Encodes a and writes a SignedProviderAdvert signed by id into out[0..out_size);
 * *out_len receives the length. Errors: octo_advert_check's; OCTO_EINVAL when a->provider
 * is not id's peer id; OCTO_ENOSPACE (OCTO_ADVERT_SIGNED_MAX always suffices); OCTO_ENOMEM. */
OCTO_MUST_USE int octo_advert_sign(const struct octo_advert *a, const struct octo_identity *id,
                                   uint8_t *out, size_t out_size, size_t *out_len,
                                   enum octo_advert_reason *reason);

/* Opens a SignedProviderAdvert received from the network: checks, in this order, the size
 * limit, the envelope's protobuf and canonical form, the signature length, the public key,
 * the advert (octo_advert_decode), that the key's peer id is the provider, the expiry
 * against now_ms (octo_advert_validate) and last the signature. Fills out on success and
 * zeroes it on error; *reason (may be NULL) says why. Errors: see the file comment;
 * OCTO_ENOMEM. */
OCTO_MUST_USE int octo_advert_open(const uint8_t *in, size_t len, uint64_t now_ms,
                                   struct octo_advert *out, enum octo_advert_reason *reason);

/* Continent code -> index 1..7 (AF AN AS EU NA OC SA in this order), 0 if not one of them. */
unsigned octo_advert_continent_index(const char *code);

#endif
