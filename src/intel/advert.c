/*
 * advert.c — provider adverts: value checks, canonical protobuf encoding, Ed25519 signing and
 * the checked opening of received adverts (contracts in advert.h).
 *
 * Decoding goes through protobuf-c (pb/provider.pb-c.h) with octo_malloc; the
 * canonical check re-packs the message and compares bytes, and walks the nested
 * ProviderModel messages for unknown fields (which the re-pack would reproduce). Every
 * length is checked against its OCTO_ADVERT_* maximum before it is copied into the fixed
 * arrays of struct octo_advert. Cheap checks come first in octo_advert_open; the signature,
 * the one expensive step, runs last, so junk and stale adverts cost no curve operation.
 *
 * Memory: protobuf-c's unpacked messages live only within a call (octo_malloc, freed before
 * return); the encode and verify buffers are on the stack (bounded by OCTO_ADVERT_*_MAX).
 * protobuf-c's unpack returns NULL both for bad input and when an allocation fails, so each
 * unpack goes through a per-call allocator (struct unpack_alloc) that records a failed
 * allocation: out of memory is OCTO_ENOMEM, never mistaken for a malformed advert. The
 * reason reported with OCTO_ENOMEM is the stage's *_MALFORMED one (advert.h has no reason
 * for it); callers must look at the error code.
 */
#include "intel/advert.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/multiaddr.h"
#include "base/multihash.h"
#include "pb/provider.pb-c.h"
#include "wire/pb.h"

#include <string.h>

/* Worst-case encoded sizes, field by field (tag + length prefix + value). */
#define PB_VARINT_MAX 10
#define PB_MODEL_MAX                                                                               \
    ((1 + 2 + OCTO_ADVERT_NAME_MAX) + (1 + 1 + OCTO_ADVERT_HASH_LEN) +                             \
     (1 + 1 + OCTO_ADVERT_QUANT_MAX) + (1 + 5))
#define PB_ADVERT_WORST                                                                            \
    ((1 + 1 + OCTO_PEERID_MAX_BYTES) + (1 + PB_VARINT_MAX) +                                       \
     OCTO_ADVERT_MODELS_MAX * (1 + 2 + PB_MODEL_MAX) + (1 + 1) + 2 * (1 + PB_VARINT_MAX) +         \
     2 * (1 + 1 + 2) + (1 + 1) + (1 + 2 + OCTO_ADVERT_ATTEST_MAX) + (1 + 5) +                      \
     OCTO_ADVERT_ENDPOINTS_MAX * (1 + 2 + OCTO_ADVERT_ENDPOINT_MAX) + (1 + PB_VARINT_MAX))
#define PB_SIGNED_WORST                                                                            \
    ((1 + 2 + OCTO_ADVERT_BYTES_MAX) + (1 + 1 + OCTO_PUBKEY_PB_LEN) +                              \
     (1 + 1 + OCTO_ED25519_SIG_LEN))

_Static_assert(PB_MODEL_MAX < 16384, "model length prefix fits 2 bytes");
_Static_assert(PB_ADVERT_WORST <= OCTO_ADVERT_BYTES_MAX, "advert limit covers the maxima");
_Static_assert(OCTO_ADVERT_BYTES_MAX < 16384, "advert length prefix fits 2 bytes");
_Static_assert(PB_SIGNED_WORST <= OCTO_ADVERT_SIGNED_MAX, "signed limit covers the maxima");
_Static_assert(OCTO_ADVERT_ENDPOINT_MAX <= OCTO_MULTIADDR_MAX_BYTES, "endpoint fits a multiaddr");
_Static_assert(OCTO_ADVERT_MODELS_MAX <= 255, "model count fits a byte");
_Static_assert(OCTO_ADVERT_ATTEST_MAX <= UINT16_MAX, "attestation length fits uint16");

static const char *const reason_text[] = {
#define OCTO_ADVERT_REASON_TEXT(name, text) text,
    OCTO_ADVERT_REASON_MAP(OCTO_ADVERT_REASON_TEXT)
#undef OCTO_ADVERT_REASON_TEXT
};
_Static_assert(OCTO_ARRAY_LEN(reason_text) == OCTO_ADVERT_REASON_COUNT, "one text per reason");

const char *octo_advert_reason_str(enum octo_advert_reason reason)
{
    if ((unsigned)reason >= OCTO_ADVERT_REASON_COUNT)
        return "unknown reason";
    return reason_text[reason];
}

void octo_advert_init(struct octo_advert *a)
{
    OCTO_ASSERT(a != NULL);
    memset(a, 0, sizeof(*a));
}

/* Records the reason (if wanted) and returns err. */
static int reject(enum octo_advert_reason *reason, enum octo_advert_reason why, int err)
{
    OCTO_ASSERT(err < 0);
    if (reason != NULL)
        *reason = why;
    return err;
}

static int accept(enum octo_advert_reason *reason)
{
    if (reason != NULL)
        *reason = OCTO_ADVERT_OK;
    return 0;
}

unsigned octo_advert_continent_index(const char *code)
{
    static const char codes[] = "AFANASEUNAOCSA";
    OCTO_ASSERT(code != NULL);
    if (code[0] == '\0' || code[1] == '\0' || code[2] != '\0')
        return 0;
    for (unsigned i = 0; i < 7; i++) {
        if (code[0] == codes[2 * i] && code[1] == codes[2 * i + 1])
            return i + 1;
    }
    return 0;
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* A NUL-terminated string of 1..max bytes inside an array of max + 1 bytes. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

static bool name_ok(const char *name)
{
    size_t n = bounded_len(name, OCTO_ADVERT_NAME_MAX);
    if (n == 0 || n > OCTO_ADVERT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (name[i] < 0x21 || name[i] > 0x7e)
            return false;
    }
    return true;
}

static bool quant_ok(const char *quant)
{
    size_t n = bounded_len(quant, OCTO_ADVERT_QUANT_MAX);
    if (n == 0 || n > OCTO_ADVERT_QUANT_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = quant[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* A provider peer id: an identity multihash of an Ed25519 PublicKey protobuf, or a sha2-256
 * multihash. The only canonical Ed25519 PublicKey encoding is 08 01 12 20 || 32 key bytes
 * (ident.h), so the key is checked by comparing that prefix: no protobuf unpack (which
 * allocates, and would turn an out-of-memory into a rejection) and no curve-point test
 * (about the cost of a signature check): octo_advert_open verifies a signature with that
 * very key, which rejects invalid points. */
static bool provider_parse(const uint8_t *in, size_t len, struct octo_peerid *out)
{
    static const uint8_t ed25519_prefix[] = {0x08, 0x01, 0x12, 0x20};
    if (len == 0 || len > OCTO_PEERID_MAX_BYTES)
        return false;
    struct octo_multihash mh;
    if (octo_multihash_decode(in, len, &mh) < 0)
        return false;
    if (mh.code == OCTO_MH_IDENTITY) {
        if (mh.digest_len != OCTO_PUBKEY_PB_LEN ||
            memcmp(mh.digest, ed25519_prefix, sizeof(ed25519_prefix)) != 0)
            return false;
    } else if (mh.code != OCTO_MH_SHA2_256 || mh.digest_len != 32) {
        return false;
    }
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
        memcpy(out->bytes, in, len);
        out->len = len;
    }
    return true;
}

static int check_models(const struct octo_advert *a, enum octo_advert_reason *reason)
{
    if (a->models_count == 0)
        return reject(reason, OCTO_ADVERT_NO_MODELS, OCTO_ERANGE);
    if (a->models_count > OCTO_ADVERT_MODELS_MAX)
        return reject(reason, OCTO_ADVERT_TOO_MANY_MODELS, OCTO_ERANGE);
    for (size_t i = 0; i < a->models_count; i++) {
        const struct octo_advert_model *m = &a->models[i];
        if (!name_ok(m->name))
            return reject(reason, OCTO_ADVERT_MODEL_NAME, OCTO_ERANGE);
        if (!quant_ok(m->quant))
            return reject(reason, OCTO_ADVERT_MODEL_QUANT, OCTO_ERANGE);
        if (m->context_len == 0 || m->context_len > OCTO_ADVERT_CONTEXT_MAX)
            return reject(reason, OCTO_ADVERT_MODEL_CONTEXT, OCTO_ERANGE);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(a->models[j].name, m->name) == 0 &&
                strcmp(a->models[j].quant, m->quant) == 0)
                return reject(reason, OCTO_ADVERT_MODEL_DUPLICATE, OCTO_ERANGE);
        }
    }
    return 0;
}

static int check_endpoints(const struct octo_advert *a, enum octo_advert_reason *reason)
{
    if (a->endpoints_count == 0)
        return reject(reason, OCTO_ADVERT_NO_ENDPOINTS, OCTO_ERANGE);
    if (a->endpoints_count > OCTO_ADVERT_ENDPOINTS_MAX)
        return reject(reason, OCTO_ADVERT_TOO_MANY_ENDPOINTS, OCTO_ERANGE);
    for (size_t i = 0; i < a->endpoints_count; i++) {
        const struct octo_advert_endpoint *e = &a->endpoints[i];
        if (e->len == 0 || e->len > OCTO_ADVERT_ENDPOINT_MAX)
            return reject(reason, OCTO_ADVERT_ENDPOINT, OCTO_EMALFORMED);
        struct octo_multiaddr ma;
        if (octo_multiaddr_from_bytes(e->bytes, e->len, &ma) < 0)
            return reject(reason, OCTO_ADVERT_ENDPOINT, OCTO_EMALFORMED);
    }
    return 0;
}

int octo_advert_check(const struct octo_advert *a, enum octo_advert_reason *reason)
{
    OCTO_ASSERT(a != NULL);
    if (!provider_parse(a->provider.bytes, a->provider.len, NULL))
        return reject(reason, OCTO_ADVERT_PROVIDER_INVALID, OCTO_EMALFORMED);
    int rc = check_models(a, reason);
    if (rc < 0)
        return rc;
    if (a->hw_tier < OCTO_HW_TIER_CPU || a->hw_tier > OCTO_HW_TIER_MAX)
        return reject(reason, OCTO_ADVERT_HW_TIER, OCTO_ERANGE);
    if (a->price_in_per_mtok > OCTO_ADVERT_PRICE_MAX ||
        a->price_out_per_mtok > OCTO_ADVERT_PRICE_MAX)
        return reject(reason, OCTO_ADVERT_PRICE, OCTO_ERANGE);
    if (!is_upper(a->country[0]) || !is_upper(a->country[1]) || a->country[2] != '\0')
        return reject(reason, OCTO_ADVERT_COUNTRY, OCTO_ERANGE);
    if (octo_advert_continent_index(a->continent) == 0)
        return reject(reason, OCTO_ADVERT_CONTINENT, OCTO_ERANGE);
    if (a->isolation < OCTO_ISOLATION_PROCESS || a->isolation > OCTO_ISOLATION_MAX)
        return reject(reason, OCTO_ADVERT_ISOLATION, OCTO_ERANGE);
    if (a->attestation_len > OCTO_ADVERT_ATTEST_MAX)
        return reject(reason, OCTO_ADVERT_ATTESTATION, OCTO_ERANGE);
    if (a->isolation == OCTO_ISOLATION_TEE && a->attestation_len == 0)
        return reject(reason, OCTO_ADVERT_ATTESTATION, OCTO_ERANGE);
    if (a->max_concurrency == 0 || a->max_concurrency > OCTO_ADVERT_CONCURRENCY_MAX)
        return reject(reason, OCTO_ADVERT_CONCURRENCY, OCTO_ERANGE);
    rc = check_endpoints(a, reason);
    if (rc < 0)
        return rc;
    return accept(reason);
}

int octo_advert_validate(const struct octo_advert *a, uint64_t now_ms,
                         enum octo_advert_reason *reason)
{
    int rc = octo_advert_check(a, reason);
    if (rc < 0)
        return rc;
    if (a->expiry_ms <= now_ms)
        return reject(reason, OCTO_ADVERT_EXPIRED, OCTO_ETIMEDOUT);
    if (a->expiry_ms - now_ms > OCTO_ADVERT_TTL_MAX_MS)
        return reject(reason, OCTO_ADVERT_EXPIRY_TOO_FAR, OCTO_ERANGE);
    return accept(reason);
}

/* ---- encoding ---- */

/* protobuf-c only reads the message during pack; the casts drop const for its struct types. */
static uint8_t *ro_bytes(const uint8_t *p)
{
    return (uint8_t *)(uintptr_t)p;
}

static char *ro_str(const char *s)
{
    return (char *)(uintptr_t)s;
}

int octo_advert_encode(const struct octo_advert *a, uint8_t *out, size_t out_size, size_t *out_len,
                       enum octo_advert_reason *reason)
{
    OCTO_ASSERT(out != NULL || out_size == 0);
    OCTO_ASSERT(out_len != NULL);
    *out_len = 0;
    int rc = octo_advert_check(a, reason);
    if (rc < 0)
        return rc;
    /* the INIT macro casts protobuf_c_empty_string's const away; the function does not */
    Octo__Pb__ProviderAdvert m;
    octo__pb__provider_advert__init(&m);
    Octo__Pb__ProviderModel models[OCTO_ADVERT_MODELS_MAX];
    Octo__Pb__ProviderModel *model_ptrs[OCTO_ADVERT_MODELS_MAX];
    ProtobufCBinaryData endpoints[OCTO_ADVERT_ENDPOINTS_MAX];
    m.provider.data = ro_bytes(a->provider.bytes);
    m.provider.len = a->provider.len;
    m.seq = a->seq;
    for (size_t i = 0; i < a->models_count; i++) {
        const struct octo_advert_model *src = &a->models[i];
        Octo__Pb__ProviderModel *pm = &models[i];
        octo__pb__provider_model__init(pm);
        pm->name = ro_str(src->name);
        pm->weights_hash.data = ro_bytes(src->weights_hash);
        pm->weights_hash.len = OCTO_ADVERT_HASH_LEN;
        pm->quantization = ro_str(src->quant);
        pm->context_length = src->context_len;
        model_ptrs[i] = pm;
    }
    m.n_models = a->models_count;
    m.models = model_ptrs;
    m.hardware_tier = (Octo__Pb__HardwareTier)a->hw_tier;
    m.price_input_per_mtok = a->price_in_per_mtok;
    m.price_output_per_mtok = a->price_out_per_mtok;
    m.country = ro_str(a->country);
    m.continent = ro_str(a->continent);
    m.isolation = (Octo__Pb__IsolationLevel)a->isolation;
    m.attestation_ref.data = ro_bytes(a->attestation);
    m.attestation_ref.len = a->attestation_len;
    m.max_concurrency = a->max_concurrency;
    for (size_t i = 0; i < a->endpoints_count; i++) {
        endpoints[i].data = ro_bytes(a->endpoints[i].bytes);
        endpoints[i].len = a->endpoints[i].len;
    }
    m.n_endpoints = a->endpoints_count;
    m.endpoints = endpoints;
    m.expiry_ms = a->expiry_ms;
    size_t size = octo__pb__provider_advert__get_packed_size(&m);
    OCTO_ASSERT(size <= OCTO_ADVERT_BYTES_MAX);
    if (size > out_size)
        return OCTO_ENOSPACE;
    size_t packed = octo__pb__provider_advert__pack(&m, out);
    OCTO_ASSERT(packed == size);
    *out_len = packed;
    return 0;
}

/* ---- decoding ---- */

/* Copies a protobuf string of at most max bytes into dst (max + 1 bytes). */
static bool copy_str(char *dst, size_t max, const char *src)
{
    size_t n = bounded_len(src, max);
    if (n > max)
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

static int copy_models(const Octo__Pb__ProviderAdvert *m, struct octo_advert *out,
                       enum octo_advert_reason *reason)
{
    if (m->n_models > OCTO_ADVERT_MODELS_MAX)
        return reject(reason, OCTO_ADVERT_TOO_MANY_MODELS, OCTO_ERANGE);
    for (size_t i = 0; i < m->n_models; i++) {
        const Octo__Pb__ProviderModel *pm = m->models[i];
        struct octo_advert_model *dst = &out->models[i];
        if (pm->base.n_unknown_fields != 0)
            return reject(reason, OCTO_ADVERT_ADVERT_NONCANON, OCTO_ENONCANON);
        if (!copy_str(dst->name, OCTO_ADVERT_NAME_MAX, pm->name))
            return reject(reason, OCTO_ADVERT_MODEL_NAME, OCTO_ERANGE);
        if (!copy_str(dst->quant, OCTO_ADVERT_QUANT_MAX, pm->quantization))
            return reject(reason, OCTO_ADVERT_MODEL_QUANT, OCTO_ERANGE);
        if (pm->weights_hash.len != OCTO_ADVERT_HASH_LEN)
            return reject(reason, OCTO_ADVERT_MODEL_HASH, OCTO_ERANGE);
        memcpy(dst->weights_hash, pm->weights_hash.data, OCTO_ADVERT_HASH_LEN);
        dst->context_len = pm->context_length;
    }
    out->models_count = m->n_models;
    return 0;
}

static int copy_endpoints(const Octo__Pb__ProviderAdvert *m, struct octo_advert *out,
                          enum octo_advert_reason *reason)
{
    if (m->n_endpoints > OCTO_ADVERT_ENDPOINTS_MAX)
        return reject(reason, OCTO_ADVERT_TOO_MANY_ENDPOINTS, OCTO_ERANGE);
    for (size_t i = 0; i < m->n_endpoints; i++) {
        const ProtobufCBinaryData *src = &m->endpoints[i];
        if (src->len == 0 || src->len > OCTO_ADVERT_ENDPOINT_MAX)
            return reject(reason, OCTO_ADVERT_ENDPOINT, OCTO_EMALFORMED);
        memcpy(out->endpoints[i].bytes, src->data, src->len);
        out->endpoints[i].len = (uint16_t)src->len;
    }
    out->endpoints_count = m->n_endpoints;
    return 0;
}

/* Copies the unpacked message into out with every length checked first. */
static int copy_advert(const Octo__Pb__ProviderAdvert *m, struct octo_advert *out,
                       enum octo_advert_reason *reason)
{
    if (!provider_parse(m->provider.data, m->provider.len, &out->provider))
        return reject(reason, OCTO_ADVERT_PROVIDER_INVALID, OCTO_EMALFORMED);
    out->seq = m->seq;
    int rc = copy_models(m, out, reason);
    if (rc < 0)
        return rc;
    if ((int)m->hardware_tier < OCTO_HW_TIER_CPU || (int)m->hardware_tier > OCTO_HW_TIER_MAX)
        return reject(reason, OCTO_ADVERT_HW_TIER, OCTO_ERANGE);
    out->hw_tier = (uint8_t)m->hardware_tier;
    out->price_in_per_mtok = m->price_input_per_mtok;
    out->price_out_per_mtok = m->price_output_per_mtok;
    if (!copy_str(out->country, 2, m->country))
        return reject(reason, OCTO_ADVERT_COUNTRY, OCTO_ERANGE);
    if (!copy_str(out->continent, 2, m->continent))
        return reject(reason, OCTO_ADVERT_CONTINENT, OCTO_ERANGE);
    if ((int)m->isolation < OCTO_ISOLATION_PROCESS || (int)m->isolation > OCTO_ISOLATION_MAX)
        return reject(reason, OCTO_ADVERT_ISOLATION, OCTO_ERANGE);
    out->isolation = (uint8_t)m->isolation;
    if (m->attestation_ref.len > OCTO_ADVERT_ATTEST_MAX)
        return reject(reason, OCTO_ADVERT_ATTESTATION, OCTO_ERANGE);
    if (m->attestation_ref.len > 0)
        memcpy(out->attestation, m->attestation_ref.data, m->attestation_ref.len);
    out->attestation_len = (uint16_t)m->attestation_ref.len;
    out->max_concurrency = m->max_concurrency;
    rc = copy_endpoints(m, out, reason);
    if (rc < 0)
        return rc;
    out->expiry_ms = m->expiry_ms;
    return 0;
}

/* A protobuf-c allocator for one unpack: octo_malloc, plus a record of any failure. */
struct unpack_alloc {
    ProtobufCAllocator pb;
    bool failed;
};

static void *unpack_alloc_fn(void *data, size_t size)
{
    void *p = octo_malloc(size);
    if (p == NULL)
        ((struct unpack_alloc *)data)->failed = true;
    return p;
}

static void unpack_free_fn(void *data, void *ptr)
{
    (void)data;
    octo_free(ptr);
}

static void unpack_alloc_init(struct unpack_alloc *a)
{
    a->pb.alloc = unpack_alloc_fn;
    a->pb.free = unpack_free_fn;
    a->pb.allocator_data = a;
    a->failed = false;
}

int octo_advert_decode(const uint8_t *in, size_t len, struct octo_advert *out,
                       enum octo_advert_reason *reason)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    octo_advert_init(out);
    if (len > OCTO_ADVERT_BYTES_MAX)
        return reject(reason, OCTO_ADVERT_TOO_BIG, OCTO_ETOOBIG);
    struct unpack_alloc pa;
    unpack_alloc_init(&pa);
    Octo__Pb__ProviderAdvert *m = octo__pb__provider_advert__unpack(&pa.pb, len, in);
    if (m == NULL)
        return reject(reason, OCTO_ADVERT_ADVERT_MALFORMED,
                      pa.failed ? OCTO_ENOMEM : OCTO_EMALFORMED);
    uint8_t scratch[OCTO_ADVERT_BYTES_MAX];
    int rc = octo_pb_check_canonical(&m->base, in, len, scratch, sizeof(scratch));
    if (rc < 0)
        rc = reject(reason, OCTO_ADVERT_ADVERT_NONCANON, OCTO_ENONCANON);
    else
        rc = copy_advert(m, out, reason);
    octo__pb__provider_advert__free_unpacked(m, &pa.pb);
    if (rc == 0)
        rc = octo_advert_check(out, reason);
    if (rc < 0)
        octo_advert_init(out);
    return rc;
}

/* ---- signing and opening ---- */

int octo_advert_sign(const struct octo_advert *a, const struct octo_identity *id, uint8_t *out,
                     size_t out_size, size_t *out_len, enum octo_advert_reason *reason)
{
    OCTO_ASSERT(id != NULL);
    OCTO_ASSERT(out_len != NULL);
    *out_len = 0;
    /* the signed message is domain || advert; the advert is encoded in place after it */
    uint8_t msg[OCTO_ADVERT_DOMAIN_LEN + OCTO_ADVERT_BYTES_MAX];
    memcpy(msg, OCTO_ADVERT_DOMAIN, OCTO_ADVERT_DOMAIN_LEN);
    size_t advert_len;
    int rc = octo_advert_encode(a, msg + OCTO_ADVERT_DOMAIN_LEN, OCTO_ADVERT_BYTES_MAX, &advert_len,
                                reason);
    if (rc < 0)
        return rc;
    struct octo_peerid signer;
    octo_peerid_from_pubkey(&id->pub, &signer);
    if (!octo_peerid_equal(&signer, &a->provider))
        return reject(reason, OCTO_ADVERT_KEY_MISMATCH, OCTO_EINVAL);
    uint8_t sig[OCTO_ED25519_SIG_LEN];
    octo_identity_sign(id, msg, OCTO_ADVERT_DOMAIN_LEN + advert_len, sig);
    uint8_t key_pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&id->pub, key_pb);

    Octo__Pb__SignedProviderAdvert env;
    octo__pb__signed_provider_advert__init(&env);
    env.advert.data = msg + OCTO_ADVERT_DOMAIN_LEN;
    env.advert.len = advert_len;
    env.public_key.data = key_pb;
    env.public_key.len = sizeof(key_pb);
    env.signature.data = sig;
    env.signature.len = sizeof(sig);
    size_t size = octo__pb__signed_provider_advert__get_packed_size(&env);
    OCTO_ASSERT(size <= OCTO_ADVERT_SIGNED_MAX);
    if (size > out_size)
        return OCTO_ENOSPACE;
    size_t packed = octo__pb__signed_provider_advert__pack(&env, out);
    OCTO_ASSERT(packed == size);
    *out_len = packed;
    return accept(reason);
}

/* The envelope's Ed25519 PublicKey protobuf, read by its only canonical form
 * (08 01 12 20 || 32 key bytes) like provider_parse: octo_pubkey_decode_for_verify would
 * unpack it, and an out-of-memory there would read as an invalid key. The point itself is
 * checked by the signature verification. */
static bool pubkey_parse(const uint8_t *in, size_t len, struct octo_pubkey *out)
{
    static const uint8_t ed25519_prefix[] = {0x08, 0x01, 0x12, 0x20};
    _Static_assert(sizeof(ed25519_prefix) + sizeof(out->bytes) == OCTO_PUBKEY_PB_LEN,
                   "PublicKey protobuf layout");
    if (len != OCTO_PUBKEY_PB_LEN || memcmp(in, ed25519_prefix, sizeof(ed25519_prefix)) != 0)
        return false;
    memcpy(out->bytes, in + sizeof(ed25519_prefix), sizeof(out->bytes));
    return true;
}

/* Everything after the envelope was unpacked and found canonical. */
static int open_envelope(const Octo__Pb__SignedProviderAdvert *env, uint64_t now_ms,
                         struct octo_advert *out, enum octo_advert_reason *reason)
{
    if (env->signature.len != OCTO_ED25519_SIG_LEN)
        return reject(reason, OCTO_ADVERT_SIG_LENGTH, OCTO_EMALFORMED);
    struct octo_pubkey pub;
    if (!pubkey_parse(env->public_key.data, env->public_key.len, &pub))
        return reject(reason, OCTO_ADVERT_KEY_INVALID, OCTO_EMALFORMED);
    int rc = octo_advert_decode(env->advert.data, env->advert.len, out, reason);
    if (rc < 0)
        return rc;
    struct octo_peerid key_id;
    octo_peerid_from_pubkey(&pub, &key_id);
    if (!octo_peerid_equal(&key_id, &out->provider))
        return reject(reason, OCTO_ADVERT_KEY_MISMATCH, OCTO_EPERM);
    rc = octo_advert_validate(out, now_ms, reason);
    if (rc < 0)
        return rc;
    uint8_t msg[OCTO_ADVERT_DOMAIN_LEN + OCTO_ADVERT_BYTES_MAX];
    OCTO_ASSERT(env->advert.len <= OCTO_ADVERT_BYTES_MAX); /* octo_advert_decode checked */
    memcpy(msg, OCTO_ADVERT_DOMAIN, OCTO_ADVERT_DOMAIN_LEN);
    memcpy(msg + OCTO_ADVERT_DOMAIN_LEN, env->advert.data, env->advert.len);
    if (octo_pubkey_verify(&pub, msg, OCTO_ADVERT_DOMAIN_LEN + env->advert.len,
                           env->signature.data) < 0)
        return reject(reason, OCTO_ADVERT_BAD_SIGNATURE, OCTO_EBADSIG);
    return accept(reason);
}

int octo_advert_open(const uint8_t *in, size_t len, uint64_t now_ms, struct octo_advert *out,
                     enum octo_advert_reason *reason)
{
    OCTO_ASSERT(in != NULL || len == 0);
    OCTO_ASSERT(out != NULL);
    octo_advert_init(out);
    if (len > OCTO_ADVERT_SIGNED_MAX)
        return reject(reason, OCTO_ADVERT_TOO_BIG, OCTO_ETOOBIG);
    struct unpack_alloc pa;
    unpack_alloc_init(&pa);
    Octo__Pb__SignedProviderAdvert *env = octo__pb__signed_provider_advert__unpack(&pa.pb, len, in);
    if (env == NULL)
        return reject(reason, OCTO_ADVERT_ENVELOPE_MALFORMED,
                      pa.failed ? OCTO_ENOMEM : OCTO_EMALFORMED);
    uint8_t scratch[OCTO_ADVERT_SIGNED_MAX];
    int rc = octo_pb_check_canonical(&env->base, in, len, scratch, sizeof(scratch));
    if (rc < 0)
        rc = reject(reason, OCTO_ADVERT_ENVELOPE_NONCANON, OCTO_ENONCANON);
    else
        rc = open_envelope(env, now_ms, out, reason);
    octo__pb__signed_provider_advert__free_unpacked(env, &pa.pb);
    if (rc < 0)
        octo_advert_init(out);
    return rc;
}
