/*
 * test_advert.c — provider adverts: encode/decode and sign/open round trips, every
 * validation reason through both the value check and the network path (adverts packed and
 * signed here without the checks), envelope-level rejections, every single-bit flip of a
 * signed advert, wrong keys, expiry boundaries, output-size errors.
 *
 * With OCTO_ADVERT_SEED_DIR set, also writes the fuzz seeds (fuzz/seeds/advert/).
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/multiaddr.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "intel/advert.h"
#include "pb/provider.pb-c.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS UINT64_C(1800000000000) /* the fuzz harness opens seeds at this time too */
#define HOUR_MS UINT64_C(3600000)

static struct octo_identity ident_a;
static struct octo_identity ident_b;

static void make_identity(struct octo_identity *id, uint8_t fill)
{
    uint8_t seed[OCTO_ED25519_SEED_LEN];
    memset(seed, fill, sizeof(seed));
    OCTO_ASSERT(octo_identity_from_seed(id, seed) == 0);
}

static void add_endpoint(struct octo_advert *a, const char *text)
{
    struct octo_multiaddr ma;
    OCTO_ASSERT(octo_multiaddr_from_text(text, &ma) == 0);
    OCTO_ASSERT(ma.len <= OCTO_ADVERT_ENDPOINT_MAX);
    struct octo_advert_endpoint *e = &a->endpoints[a->endpoints_count++];
    memcpy(e->bytes, ma.bytes, ma.len);
    e->len = (uint16_t)ma.len;
}

static void add_model(struct octo_advert *a, const char *name, const char *quant, uint32_t ctx)
{
    struct octo_advert_model *m = &a->models[a->models_count++];
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->quant, sizeof(m->quant), "%s", quant);
    for (size_t i = 0; i < OCTO_ADVERT_HASH_LEN; i++)
        m->weights_hash[i] = (uint8_t)(i * 7 + a->models_count);
    m->context_len = ctx;
}

/* A valid advert of id's provider. */
static void sample(struct octo_advert *a, const struct octo_identity *id)
{
    octo_advert_init(a);
    octo_peerid_from_pubkey(&id->pub, &a->provider);
    a->seq = 7;
    add_model(a, "meta-llama/Llama-3.1-8B-Instruct", "q4_k_m", 131072);
    add_model(a, "mistralai/Mistral-7B-v0.3", "f16", 32768);
    a->hw_tier = OCTO_HW_TIER_GPU_DATACENTER;
    a->price_in_per_mtok = 150000000;  /* 0.15 OCTO */
    a->price_out_per_mtok = 600000000; /* 0.6 OCTO */
    memcpy(a->country, "DE", 3);
    memcpy(a->continent, "EU", 3);
    a->isolation = OCTO_ISOLATION_TEE;
    memcpy(a->attestation, "sev-snp:report:0001", 19);
    a->attestation_len = 19;
    a->max_concurrency = 16;
    add_endpoint(a, "/ip4/192.0.2.7/tcp/4001");
    add_endpoint(a, "/dns4/gpu.example.org/tcp/443/wss");
    a->expiry_ms = NOW_MS + HOUR_MS;
}

/* ---- packing without checks (what a hostile or buggy peer could send) ---- */

static uint8_t big_zeros[OCTO_MULTIADDR_MAX_BYTES];

struct raw_strings {
    char names[OCTO_ADVERT_MODELS_MAX][OCTO_ADVERT_NAME_MAX + 2];
    char quants[OCTO_ADVERT_MODELS_MAX][OCTO_ADVERT_QUANT_MAX + 2];
    char country[4];
    char continent[4];
};

static void bounded_copy(char *dst, const char *src, size_t src_size)
{
    size_t n = 0;
    while (n < src_size && src[n] != '\0')
        n++;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Packs a ProviderAdvert from a as it stands (counts beyond the arrays repeat entries;
 * lengths beyond the arrays point at zeros). Returns the length. */
static size_t raw_pack(const struct octo_advert *a, uint8_t *out)
{
    static struct raw_strings s;
    Octo__Pb__ProviderAdvert m;
    octo__pb__provider_advert__init(&m);
    static Octo__Pb__ProviderModel models[64];
    static Octo__Pb__ProviderModel *ptrs[64];
    static ProtobufCBinaryData eps[64];
    OCTO_ASSERT(a->models_count <= 64 && a->endpoints_count <= 64);
    m.provider.data = (uint8_t *)(uintptr_t)a->provider.bytes;
    m.provider.len = a->provider.len;
    m.seq = a->seq;
    for (size_t i = 0; i < a->models_count; i++) {
        const struct octo_advert_model *src = &a->models[i % OCTO_ADVERT_MODELS_MAX];
        octo__pb__provider_model__init(&models[i]);
        bounded_copy(s.names[i % OCTO_ADVERT_MODELS_MAX], src->name, sizeof(src->name));
        bounded_copy(s.quants[i % OCTO_ADVERT_MODELS_MAX], src->quant, sizeof(src->quant));
        models[i].name = s.names[i % OCTO_ADVERT_MODELS_MAX];
        models[i].quantization = s.quants[i % OCTO_ADVERT_MODELS_MAX];
        models[i].weights_hash.data = (uint8_t *)(uintptr_t)src->weights_hash;
        models[i].weights_hash.len = OCTO_ADVERT_HASH_LEN;
        models[i].context_length = src->context_len;
        ptrs[i] = &models[i];
    }
    m.n_models = a->models_count;
    m.models = ptrs;
    m.hardware_tier = (Octo__Pb__HardwareTier)a->hw_tier;
    m.price_input_per_mtok = a->price_in_per_mtok;
    m.price_output_per_mtok = a->price_out_per_mtok;
    bounded_copy(s.country, a->country, sizeof(a->country));
    bounded_copy(s.continent, a->continent, sizeof(a->continent));
    m.country = s.country;
    m.continent = s.continent;
    m.isolation = (Octo__Pb__IsolationLevel)a->isolation;
    m.attestation_ref.data = a->attestation_len > OCTO_ADVERT_ATTEST_MAX
                                 ? big_zeros
                                 : (uint8_t *)(uintptr_t)a->attestation;
    m.attestation_ref.len = a->attestation_len;
    m.max_concurrency = a->max_concurrency;
    for (size_t i = 0; i < a->endpoints_count; i++) {
        const struct octo_advert_endpoint *e = &a->endpoints[i % OCTO_ADVERT_ENDPOINTS_MAX];
        eps[i].data =
            e->len > OCTO_ADVERT_ENDPOINT_MAX ? big_zeros : (uint8_t *)(uintptr_t)e->bytes;
        eps[i].len = e->len;
    }
    m.n_endpoints = a->endpoints_count;
    m.endpoints = eps;
    m.expiry_ms = a->expiry_ms;
    size_t size = octo__pb__provider_advert__get_packed_size(&m);
    OCTO_ASSERT(size <= 2 * OCTO_ADVERT_SIGNED_MAX);
    return octo__pb__provider_advert__pack(&m, out);
}

/* Wraps advert bytes in an envelope signed by id (sig_len lets a test cut the signature). */
static size_t raw_envelope(const uint8_t *advert, size_t advert_len, const struct octo_identity *id,
                           size_t sig_len, uint8_t *out)
{
    static uint8_t msg[OCTO_ADVERT_DOMAIN_LEN + 2 * OCTO_ADVERT_SIGNED_MAX];
    memcpy(msg, OCTO_ADVERT_DOMAIN, OCTO_ADVERT_DOMAIN_LEN);
    memcpy(msg + OCTO_ADVERT_DOMAIN_LEN, advert, advert_len);
    uint8_t sig[OCTO_ED25519_SIG_LEN];
    octo_identity_sign(id, msg, OCTO_ADVERT_DOMAIN_LEN + advert_len, sig);
    uint8_t key[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&id->pub, key);
    Octo__Pb__SignedProviderAdvert env;
    octo__pb__signed_provider_advert__init(&env);
    env.advert.data = (uint8_t *)(uintptr_t)advert;
    env.advert.len = advert_len;
    env.public_key.data = key;
    env.public_key.len = sizeof(key);
    env.signature.data = sig;
    env.signature.len = sig_len;
    return octo__pb__signed_provider_advert__pack(&env, out);
}

static size_t raw_sign(const struct octo_advert *a, const struct octo_identity *id, uint8_t *out)
{
    static uint8_t advert[2 * OCTO_ADVERT_SIGNED_MAX];
    size_t len = raw_pack(a, advert);
    return raw_envelope(advert, len, id, OCTO_ED25519_SIG_LEN, out);
}

static uint8_t signed_buf[4 * OCTO_ADVERT_SIGNED_MAX];

/* Last occurrence of needle in buf (the envelope's key comes after the provider id, which
 * embeds the same key bytes), or NULL. */
static uint8_t *find_last(uint8_t *buf, size_t len, const void *needle, size_t n)
{
    for (size_t i = len >= n ? len - n + 1 : 0; i-- > 0;) {
        if (memcmp(buf + i, needle, n) == 0)
            return buf + i;
    }
    return NULL;
}

/* ---- tests ---- */

static void test_reason_strings(void)
{
    for (int i = 0; i < OCTO_ADVERT_REASON_COUNT; i++) {
        const char *s = octo_advert_reason_str((enum octo_advert_reason)i);
        CHECK(s != NULL && s[0] != '\0');
        for (int j = 0; j < i; j++)
            CHECK(strcmp(s, octo_advert_reason_str((enum octo_advert_reason)j)) != 0);
    }
    CHECK_STR(octo_advert_reason_str(OCTO_ADVERT_REASON_COUNT), "unknown reason");
    CHECK_STR(octo_advert_reason_str(OCTO_ADVERT_OK), "ok");
}

static void test_continent_index(void)
{
    const char *codes[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    for (unsigned i = 0; i < 7; i++)
        CHECK_EQ_INT(octo_advert_continent_index(codes[i]), i + 1);
    CHECK_EQ_INT(octo_advert_continent_index(""), 0);
    CHECK_EQ_INT(octo_advert_continent_index("E"), 0);
    CHECK_EQ_INT(octo_advert_continent_index("eu"), 0);
    CHECK_EQ_INT(octo_advert_continent_index("EUR"), 0);
    CHECK_EQ_INT(octo_advert_continent_index("XX"), 0);
}

static void test_encode_decode_roundtrip(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    uint8_t buf[OCTO_ADVERT_BYTES_MAX];
    size_t len;
    enum octo_advert_reason why = OCTO_ADVERT_TOO_BIG;
    CHECK_OK(octo_advert_encode(&a, buf, sizeof(buf), &len, &why));
    CHECK_EQ_INT(why, OCTO_ADVERT_OK);
    CHECK_OK(octo_advert_decode(buf, len, &b, &why));
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    /* deterministic: re-encoding gives the same bytes */
    uint8_t again[OCTO_ADVERT_BYTES_MAX];
    size_t again_len;
    CHECK_OK(octo_advert_encode(&b, again, sizeof(again), &again_len, NULL));
    CHECK_EQ_U64(again_len, len);
    CHECK_MEM(again, buf, len);
    /* the raw packer agrees with the encoder on a valid advert */
    uint8_t raw[OCTO_ADVERT_BYTES_MAX];
    CHECK_EQ_U64(raw_pack(&a, raw), len);
    CHECK_MEM(raw, buf, len);
    /* too small an output */
    CHECK_ERR(octo_advert_encode(&a, buf, len - 1, &again_len, NULL), OCTO_ENOSPACE);
    CHECK_EQ_U64(again_len, 0);
    /* too long an input */
    CHECK_ERR(octo_advert_decode(buf, OCTO_ADVERT_BYTES_MAX + 1, &b, &why), OCTO_ETOOBIG);
    CHECK_EQ_INT(why, OCTO_ADVERT_TOO_BIG);
    CHECK_EQ_U64(b.models_count, 0);
}

static void test_maximal_advert(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    a.models_count = 0;
    a.endpoints_count = 0;
    for (size_t i = 0; i < OCTO_ADVERT_MODELS_MAX; i++) {
        add_model(&a, "x", "q", OCTO_ADVERT_CONTEXT_MAX);
        memset(a.models[i].name, 'A' + (int)(i % 26), OCTO_ADVERT_NAME_MAX);
        a.models[i].name[0] = (char)('0' + i / 10);
        a.models[i].name[1] = (char)('0' + i % 10);
        memset(a.models[i].quant, 'z', OCTO_ADVERT_QUANT_MAX);
    }
    char dns[OCTO_MULTIADDR_DNS_MAX + 64];
    for (size_t i = 0; i < OCTO_ADVERT_ENDPOINTS_MAX; i++) {
        int n = snprintf(dns, sizeof(dns), "/dns/%c", (char)('a' + i));
        for (int k = 1; k < OCTO_MULTIADDR_DNS_MAX; k++)
            dns[n++] = 'h';
        snprintf(dns + n, sizeof(dns) - (size_t)n, "/tcp/65535/wss");
        add_endpoint(&a, dns);
    }
    memset(a.attestation, 0xab, OCTO_ADVERT_ATTEST_MAX);
    a.attestation_len = OCTO_ADVERT_ATTEST_MAX;
    a.price_in_per_mtok = OCTO_ADVERT_PRICE_MAX;
    a.price_out_per_mtok = OCTO_ADVERT_PRICE_MAX;
    a.max_concurrency = OCTO_ADVERT_CONCURRENCY_MAX;
    a.seq = UINT64_MAX;
    a.expiry_ms = NOW_MS + OCTO_ADVERT_TTL_MAX_MS;
    CHECK_OK(octo_advert_validate(&a, NOW_MS, NULL));
    size_t len;
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, NULL));
    CHECK(len <= OCTO_ADVERT_SIGNED_MAX);
    printf("  maximal signed advert: %zu bytes (limit %d)\n", len, OCTO_ADVERT_SIGNED_MAX);
    enum octo_advert_reason why;
    CHECK_OK(octo_advert_open(signed_buf, len, NOW_MS, &b, &why));
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

static void test_sign_open_roundtrip(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    size_t len;
    enum octo_advert_reason why = OCTO_ADVERT_TOO_BIG;
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, &why));
    CHECK_EQ_INT(why, OCTO_ADVERT_OK);
    why = OCTO_ADVERT_TOO_BIG;
    CHECK_OK(octo_advert_open(signed_buf, len, NOW_MS, &b, &why));
    CHECK_EQ_INT(why, OCTO_ADVERT_OK);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    CHECK_OK(octo_advert_open(signed_buf, len, NOW_MS, &b, NULL)); /* reason optional */
    /* signing is deterministic (Ed25519) */
    static uint8_t second[OCTO_ADVERT_SIGNED_MAX];
    size_t len2;
    CHECK_OK(octo_advert_sign(&a, &ident_a, second, sizeof(second), &len2, NULL));
    CHECK_EQ_U64(len2, len);
    CHECK_MEM(second, signed_buf, len);
    CHECK_ERR(octo_advert_sign(&a, &ident_a, second, len - 1, &len2, NULL), OCTO_ENOSPACE);
    CHECK_EQ_U64(len2, 0);
}

static void test_expiry(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    size_t len;
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, NULL));
    enum octo_advert_reason why;
    CHECK_OK(octo_advert_open(signed_buf, len, a.expiry_ms - 1, &b, &why));
    CHECK_ERR(octo_advert_open(signed_buf, len, a.expiry_ms, &b, &why), OCTO_ETIMEDOUT);
    CHECK_EQ_INT(why, OCTO_ADVERT_EXPIRED);
    CHECK_EQ_U64(b.models_count, 0); /* zeroed on error */
    CHECK_ERR(octo_advert_open(signed_buf, len, UINT64_MAX, &b, &why), OCTO_ETIMEDOUT);
    /* an advert signed too far ahead */
    CHECK_OK(octo_advert_open(signed_buf, len, a.expiry_ms - OCTO_ADVERT_TTL_MAX_MS, &b, &why));
    CHECK_ERR(octo_advert_open(signed_buf, len, a.expiry_ms - OCTO_ADVERT_TTL_MAX_MS - 1, &b, &why),
              OCTO_ERANGE);
    CHECK_EQ_INT(why, OCTO_ADVERT_EXPIRY_TOO_FAR);
    CHECK_ERR(octo_advert_open(signed_buf, len, 0, &b, &why), OCTO_ERANGE);
    /* validate alone */
    CHECK_OK(octo_advert_validate(&a, NOW_MS, &why));
    a.expiry_ms = 0;
    CHECK_ERR(octo_advert_validate(&a, 0, &why), OCTO_ETIMEDOUT);
    CHECK_EQ_INT(why, OCTO_ADVERT_EXPIRED);
}

/* One invalid value: how to make it and what it must be rejected with. */
struct bad_case {
    const char *what;
    void (*mutate)(struct octo_advert *a);
    enum octo_advert_reason why;
    int err;
};

static void m_provider_empty(struct octo_advert *a)
{
    a->provider.len = 0;
}
static void m_provider_garbage(struct octo_advert *a)
{
    a->provider.bytes[0] = 0x77; /* unknown multihash code */
}
static void m_provider_badkey(struct octo_advert *a)
{
    a->provider.bytes[3] = 0x02; /* secp256k1 key type inside the identity multihash */
}
static void m_no_models(struct octo_advert *a)
{
    a->models_count = 0;
}
static void m_too_many_models(struct octo_advert *a)
{
    a->models_count = 0;
    for (size_t i = 0; i < OCTO_ADVERT_MODELS_MAX; i++) {
        add_model(a, "m", "q", 8);
        a->models[i].name[1] = (char)('a' + i % 26);
        a->models[i].name[2] = (char)('a' + i / 26);
    }
    a->models_count = OCTO_ADVERT_MODELS_MAX + 1;
}
static void m_name_empty(struct octo_advert *a)
{
    a->models[1].name[0] = '\0';
}
static void m_name_space(struct octo_advert *a)
{
    a->models[1].name[4] = ' ';
}
static void m_name_nonascii(struct octo_advert *a)
{
    a->models[0].name[2] = (char)0xc3;
}
static void m_name_long(struct octo_advert *a)
{
    memset(a->models[0].name, 'n', OCTO_ADVERT_NAME_MAX + 1);
}
static void m_quant_empty(struct octo_advert *a)
{
    a->models[0].quant[0] = '\0';
}
static void m_quant_upper(struct octo_advert *a)
{
    a->models[0].quant[0] = 'Q';
}
static void m_quant_long(struct octo_advert *a)
{
    memset(a->models[0].quant, 'q', OCTO_ADVERT_QUANT_MAX + 1);
}
static void m_context_zero(struct octo_advert *a)
{
    a->models[0].context_len = 0;
}
static void m_context_big(struct octo_advert *a)
{
    a->models[0].context_len = OCTO_ADVERT_CONTEXT_MAX + 1;
}
static void m_duplicate(struct octo_advert *a)
{
    a->models[1] = a->models[0];
    a->models[1].context_len = 4096; /* same name and quantization, other values */
}
static void m_hw_zero(struct octo_advert *a)
{
    a->hw_tier = 0;
}
static void m_hw_big(struct octo_advert *a)
{
    a->hw_tier = OCTO_HW_TIER_MAX + 1;
}
static void m_price_in(struct octo_advert *a)
{
    a->price_in_per_mtok = OCTO_ADVERT_PRICE_MAX + 1;
}
static void m_price_out(struct octo_advert *a)
{
    a->price_out_per_mtok = UINT64_MAX;
}
static void m_country_lower(struct octo_advert *a)
{
    memcpy(a->country, "de", 3);
}
static void m_country_digit(struct octo_advert *a)
{
    memcpy(a->country, "D1", 3);
}
static void m_country_empty(struct octo_advert *a)
{
    memset(a->country, 0, 3);
}
static void m_country_long(struct octo_advert *a)
{
    memcpy(a->country, "DEU", 3); /* no room for the NUL: three letters */
}
static void m_continent_unknown(struct octo_advert *a)
{
    memcpy(a->continent, "XX", 3);
}
static void m_continent_lower(struct octo_advert *a)
{
    memcpy(a->continent, "eu", 3);
}
static void m_continent_empty(struct octo_advert *a)
{
    memset(a->continent, 0, 3);
}
static void m_isolation_zero(struct octo_advert *a)
{
    a->isolation = 0;
}
static void m_isolation_big(struct octo_advert *a)
{
    a->isolation = OCTO_ISOLATION_MAX + 1;
}
static void m_tee_no_attestation(struct octo_advert *a)
{
    a->attestation_len = 0;
}
static void m_attestation_long(struct octo_advert *a)
{
    a->attestation_len = OCTO_ADVERT_ATTEST_MAX + 1;
}
static void m_concurrency_zero(struct octo_advert *a)
{
    a->max_concurrency = 0;
}
static void m_concurrency_big(struct octo_advert *a)
{
    a->max_concurrency = OCTO_ADVERT_CONCURRENCY_MAX + 1;
}
static void m_no_endpoints(struct octo_advert *a)
{
    a->endpoints_count = 0;
}
static void m_too_many_endpoints(struct octo_advert *a)
{
    while (a->endpoints_count < OCTO_ADVERT_ENDPOINTS_MAX)
        add_endpoint(a, "/ip6/2001:db8::1/udp/4001/quic-v1");
    a->endpoints_count = OCTO_ADVERT_ENDPOINTS_MAX + 1;
}
static void m_endpoint_garbage(struct octo_advert *a)
{
    a->endpoints[1].bytes[0] = 0x7f; /* unknown protocol code */
}
static void m_endpoint_truncated(struct octo_advert *a)
{
    a->endpoints[0].len--; /* cuts the tcp port */
}
static void m_endpoint_empty(struct octo_advert *a)
{
    a->endpoints[0].len = 0;
}
static void m_endpoint_long(struct octo_advert *a)
{
    a->endpoints[0].len = OCTO_ADVERT_ENDPOINT_MAX + 1;
}
static void m_expired(struct octo_advert *a)
{
    a->expiry_ms = NOW_MS;
}
static void m_expiry_far(struct octo_advert *a)
{
    a->expiry_ms = NOW_MS + OCTO_ADVERT_TTL_MAX_MS + 1;
}

#define BAD(fn, why, err)                                                                          \
    {                                                                                              \
#fn, fn, OCTO_ADVERT_##why, err                                                            \
    }
static const struct bad_case bad_cases[] = {
    BAD(m_provider_empty, PROVIDER_INVALID, OCTO_EMALFORMED),
    BAD(m_provider_garbage, PROVIDER_INVALID, OCTO_EMALFORMED),
    BAD(m_provider_badkey, PROVIDER_INVALID, OCTO_EMALFORMED),
    BAD(m_no_models, NO_MODELS, OCTO_ERANGE),
    BAD(m_too_many_models, TOO_MANY_MODELS, OCTO_ERANGE),
    BAD(m_name_empty, MODEL_NAME, OCTO_ERANGE),
    BAD(m_name_space, MODEL_NAME, OCTO_ERANGE),
    BAD(m_name_nonascii, MODEL_NAME, OCTO_ERANGE),
    BAD(m_name_long, MODEL_NAME, OCTO_ERANGE),
    BAD(m_quant_empty, MODEL_QUANT, OCTO_ERANGE),
    BAD(m_quant_upper, MODEL_QUANT, OCTO_ERANGE),
    BAD(m_quant_long, MODEL_QUANT, OCTO_ERANGE),
    BAD(m_context_zero, MODEL_CONTEXT, OCTO_ERANGE),
    BAD(m_context_big, MODEL_CONTEXT, OCTO_ERANGE),
    BAD(m_duplicate, MODEL_DUPLICATE, OCTO_ERANGE),
    BAD(m_hw_zero, HW_TIER, OCTO_ERANGE),
    BAD(m_hw_big, HW_TIER, OCTO_ERANGE),
    BAD(m_price_in, PRICE, OCTO_ERANGE),
    BAD(m_price_out, PRICE, OCTO_ERANGE),
    BAD(m_country_lower, COUNTRY, OCTO_ERANGE),
    BAD(m_country_digit, COUNTRY, OCTO_ERANGE),
    BAD(m_country_empty, COUNTRY, OCTO_ERANGE),
    BAD(m_country_long, COUNTRY, OCTO_ERANGE),
    BAD(m_continent_unknown, CONTINENT, OCTO_ERANGE),
    BAD(m_continent_lower, CONTINENT, OCTO_ERANGE),
    BAD(m_continent_empty, CONTINENT, OCTO_ERANGE),
    BAD(m_isolation_zero, ISOLATION, OCTO_ERANGE),
    BAD(m_isolation_big, ISOLATION, OCTO_ERANGE),
    BAD(m_tee_no_attestation, ATTESTATION, OCTO_ERANGE),
    BAD(m_attestation_long, ATTESTATION, OCTO_ERANGE),
    BAD(m_concurrency_zero, CONCURRENCY, OCTO_ERANGE),
    BAD(m_concurrency_big, CONCURRENCY, OCTO_ERANGE),
    BAD(m_no_endpoints, NO_ENDPOINTS, OCTO_ERANGE),
    BAD(m_too_many_endpoints, TOO_MANY_ENDPOINTS, OCTO_ERANGE),
    BAD(m_endpoint_garbage, ENDPOINT, OCTO_EMALFORMED),
    BAD(m_endpoint_truncated, ENDPOINT, OCTO_EMALFORMED),
    BAD(m_endpoint_empty, ENDPOINT, OCTO_EMALFORMED),
    BAD(m_endpoint_long, ENDPOINT, OCTO_EMALFORMED),
    BAD(m_expired, EXPIRED, OCTO_ETIMEDOUT),
    BAD(m_expiry_far, EXPIRY_TOO_FAR, OCTO_ERANGE),
};

static void test_every_validation_error(void)
{
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct octo_advert a, b;
        sample(&a, &ident_a);
        c->mutate(&a);
        enum octo_advert_reason why = OCTO_ADVERT_OK;
        int rc = octo_advert_validate(&a, NOW_MS, &why);
        if (rc != c->err || why != c->why) {
            octo_test_fail_at(__FILE__, __LINE__, "%s: validate gave %d/%s", c->what, rc,
                              octo_advert_reason_str(why));
            return;
        }
        bool time_only = c->why == OCTO_ADVERT_EXPIRED || c->why == OCTO_ADVERT_EXPIRY_TOO_FAR;
        /* the producer refuses to encode or sign what the check rejects */
        uint8_t buf[OCTO_ADVERT_BYTES_MAX];
        size_t len = 1;
        if (!time_only) {
            CHECK_ERR(octo_advert_check(&a, &why), c->err);
            CHECK_ERR(octo_advert_encode(&a, buf, sizeof(buf), &len, &why), c->err);
            CHECK_EQ_INT(why, c->why);
            CHECK_EQ_U64(len, 0);
            CHECK_ERR(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, &why),
                      c->err);
        }
        /* and the network path rejects it with the same reason when a peer sends it */
        len = raw_sign(&a, &ident_a, signed_buf);
        why = OCTO_ADVERT_OK;
        rc = octo_advert_open(signed_buf, len, NOW_MS, &b, &why);
        if (rc != c->err || why != c->why) {
            octo_test_fail_at(__FILE__, __LINE__, "%s: open gave %d/%s", c->what, rc,
                              octo_advert_reason_str(why));
            return;
        }
        CHECK_EQ_U64(b.models_count, 0);
    }
}

static void test_boundaries_accepted(void)
{
    struct octo_advert a;
    sample(&a, &ident_a);
    a.models[0].context_len = OCTO_ADVERT_CONTEXT_MAX;
    a.models[1].context_len = 1;
    a.price_in_per_mtok = 0;
    a.price_out_per_mtok = OCTO_ADVERT_PRICE_MAX;
    a.max_concurrency = 1;
    memcpy(a.country, "ZZ", 3);
    memcpy(a.continent, "AN", 3);
    a.isolation = OCTO_ISOLATION_PROCESS;
    memset(a.attestation, 0, sizeof(a.attestation));
    a.attestation_len = 0;
    a.hw_tier = OCTO_HW_TIER_CPU;
    a.seq = 0;
    /* the same name twice with different quantizations is fine */
    a.models[1] = a.models[0];
    memset(a.models[1].quant, 0, sizeof(a.models[1].quant));
    memcpy(a.models[1].quant, "f16", 4);
    memset(a.models[0].name, '~', OCTO_ADVERT_NAME_MAX);
    memset(a.models[1].name, '~', OCTO_ADVERT_NAME_MAX);
    enum octo_advert_reason why;
    CHECK_OK(octo_advert_validate(&a, NOW_MS, &why));
    size_t len;
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, &why));
    struct octo_advert b;
    CHECK_OK(octo_advert_open(signed_buf, len, NOW_MS, &b, &why));
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    /* a sha2-256 peer id is a valid provider for the value check (it cannot be opened) */
    uint8_t mh[34] = {0x12, 0x20};
    memset(mh + 2, 0x5a, 32);
    CHECK_OK(octo_peerid_from_bytes(mh, sizeof(mh), &a.provider));
    CHECK_OK(octo_advert_check(&a, &why));
    len = raw_sign(&a, &ident_a, signed_buf);
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_EPERM);
    CHECK_EQ_INT(why, OCTO_ADVERT_KEY_MISMATCH);
}

static void test_wrong_key(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    size_t len;
    enum octo_advert_reason why;
    /* the signer refuses to sign another provider's advert */
    CHECK_ERR(octo_advert_sign(&a, &ident_b, signed_buf, sizeof(signed_buf), &len, &why),
              OCTO_EINVAL);
    CHECK_EQ_INT(why, OCTO_ADVERT_KEY_MISMATCH);
    /* a peer that signs A's advert with B's key */
    len = raw_sign(&a, &ident_b, signed_buf);
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_EPERM);
    CHECK_EQ_INT(why, OCTO_ADVERT_KEY_MISMATCH);
    /* A's signature with B's key in the envelope: the key does not belong to A */
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, &why));
    uint8_t key_a[OCTO_PUBKEY_PB_LEN], key_b[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&ident_a.pub, key_a);
    octo_pubkey_encode(&ident_b.pub, key_b);
    uint8_t *at = find_last(signed_buf, len, key_a, sizeof(key_a));
    CHECK(at != NULL);
    memcpy(at, key_b, sizeof(key_b));
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_EPERM);
    CHECK_EQ_INT(why, OCTO_ADVERT_KEY_MISMATCH);
    /* B's advert under B's key, but with A's signature bytes: bad signature */
    struct octo_advert ab;
    sample(&ab, &ident_b);
    static uint8_t other[OCTO_ADVERT_SIGNED_MAX];
    size_t other_len;
    CHECK_OK(octo_advert_sign(&ab, &ident_b, other, sizeof(other), &other_len, &why));
    CHECK_EQ_U64(other_len, len);
    memcpy(other + other_len - OCTO_ED25519_SIG_LEN, signed_buf + len - OCTO_ED25519_SIG_LEN,
           OCTO_ED25519_SIG_LEN);
    CHECK_ERR(octo_advert_open(other, other_len, NOW_MS, &b, &why), OCTO_EBADSIG);
    CHECK_EQ_INT(why, OCTO_ADVERT_BAD_SIGNATURE);
}

static void test_every_bit_flip_rejected(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    size_t len;
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, NULL));
    unsigned reasons[OCTO_ADVERT_REASON_COUNT] = {0};
    for (size_t bit = 0; bit < 8 * len; bit++) {
        signed_buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        enum octo_advert_reason why = OCTO_ADVERT_OK;
        int rc = octo_advert_open(signed_buf, len, NOW_MS, &b, &why);
        signed_buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (rc >= 0 || why == OCTO_ADVERT_OK) {
            octo_test_fail_at(__FILE__, __LINE__, "bit %zu flipped and accepted", bit);
            return;
        }
        CHECK_EQ_U64(b.models_count, 0);
        reasons[why]++;
    }
    CHECK_OK(octo_advert_open(signed_buf, len, NOW_MS, &b, NULL));
    printf("  %zu bit flips of a %zu-byte advert, rejected as:", 8 * len, len);
    for (int i = 0; i < OCTO_ADVERT_REASON_COUNT; i++) {
        if (reasons[i] != 0)
            printf(" %s=%u", octo_advert_reason_str((enum octo_advert_reason)i), reasons[i]);
    }
    printf("\n");
    CHECK(reasons[OCTO_ADVERT_BAD_SIGNATURE] > 0);
    /* truncation at every length */
    for (size_t cut = 0; cut < len; cut++) {
        enum octo_advert_reason why = OCTO_ADVERT_OK;
        CHECK(octo_advert_open(signed_buf, cut, NOW_MS, &b, &why) < 0);
        CHECK(why != OCTO_ADVERT_OK);
    }
}

static void test_envelope_errors(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    enum octo_advert_reason why;
    /* size limit before anything else */
    static uint8_t huge[OCTO_ADVERT_SIGNED_MAX + 1];
    CHECK_ERR(octo_advert_open(huge, sizeof(huge), NOW_MS, &b, &why), OCTO_ETOOBIG);
    CHECK_EQ_INT(why, OCTO_ADVERT_TOO_BIG);
    /* not a protobuf */
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    CHECK_ERR(octo_advert_open(junk, sizeof(junk), NOW_MS, &b, &why), OCTO_EMALFORMED);
    CHECK_EQ_INT(why, OCTO_ADVERT_ENVELOPE_MALFORMED);
    /* an empty envelope: no signature */
    CHECK_ERR(octo_advert_open(junk, 0, NOW_MS, &b, &why), OCTO_EMALFORMED);
    CHECK_EQ_INT(why, OCTO_ADVERT_SIG_LENGTH);
    /* unknown field appended to a valid envelope */
    size_t len;
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, NULL));
    signed_buf[len] = 0x78; /* field 15, varint */
    signed_buf[len + 1] = 0x01;
    CHECK_ERR(octo_advert_open(signed_buf, len + 2, NOW_MS, &b, &why), OCTO_ENONCANON);
    CHECK_EQ_INT(why, OCTO_ADVERT_ENVELOPE_NONCANON);
    /* fields out of order: the signature first */
    static uint8_t reordered[OCTO_ADVERT_SIGNED_MAX];
    size_t sig_field = 2 + OCTO_ED25519_SIG_LEN;
    memcpy(reordered, signed_buf + len - sig_field, sig_field);
    memcpy(reordered + sig_field, signed_buf, len - sig_field);
    CHECK_ERR(octo_advert_open(reordered, len, NOW_MS, &b, &why), OCTO_ENONCANON);
    CHECK_EQ_INT(why, OCTO_ADVERT_ENVELOPE_NONCANON);
    /* short signature */
    static uint8_t advert[OCTO_ADVERT_BYTES_MAX];
    size_t advert_len = raw_pack(&a, advert);
    len = raw_envelope(advert, advert_len, &ident_a, OCTO_ED25519_SIG_LEN - 1, signed_buf);
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_EMALFORMED);
    CHECK_EQ_INT(why, OCTO_ADVERT_SIG_LENGTH);
    /* bad public key: an RSA key type */
    len = raw_envelope(advert, advert_len, &ident_a, OCTO_ED25519_SIG_LEN, signed_buf);
    uint8_t key_a[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&ident_a.pub, key_a);
    uint8_t *at = find_last(signed_buf, len, key_a, sizeof(key_a));
    CHECK(at != NULL);
    at[1] = 0x00;
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_EMALFORMED);
    CHECK_EQ_INT(why, OCTO_ADVERT_KEY_INVALID);
    /* advert bytes that are not a ProviderAdvert */
    len = raw_envelope(junk, sizeof(junk), &ident_a, OCTO_ED25519_SIG_LEN, signed_buf);
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_EMALFORMED);
    CHECK_EQ_INT(why, OCTO_ADVERT_ADVERT_MALFORMED);
    /* advert above its own limit inside an envelope below the signed limit */
    static uint8_t big_advert[OCTO_ADVERT_BYTES_MAX + 1];
    len = raw_envelope(big_advert, sizeof(big_advert), &ident_a, OCTO_ED25519_SIG_LEN, signed_buf);
    CHECK(len <= OCTO_ADVERT_SIGNED_MAX);
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_ETOOBIG);
    CHECK_EQ_INT(why, OCTO_ADVERT_TOO_BIG);
    /* signature over the advert without the domain string */
    uint8_t sig[OCTO_ED25519_SIG_LEN];
    octo_identity_sign(&ident_a, advert, advert_len, sig);
    len = raw_envelope(advert, advert_len, &ident_a, OCTO_ED25519_SIG_LEN, signed_buf);
    memcpy(signed_buf + len - OCTO_ED25519_SIG_LEN, sig, sizeof(sig));
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_EBADSIG);
    CHECK_EQ_INT(why, OCTO_ADVERT_BAD_SIGNATURE);
}

static void test_advert_noncanonical(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    enum octo_advert_reason why;
    static uint8_t advert[OCTO_ADVERT_BYTES_MAX + 16];
    size_t advert_len = raw_pack(&a, advert);
    /* unknown top-level field, properly signed */
    advert[advert_len] = 0x78;
    advert[advert_len + 1] = 0x01;
    size_t len = raw_envelope(advert, advert_len + 2, &ident_a, OCTO_ED25519_SIG_LEN, signed_buf);
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_ENONCANON);
    CHECK_EQ_INT(why, OCTO_ADVERT_ADVERT_NONCANON);
    CHECK_ERR(octo_advert_decode(advert, advert_len + 2, &b, &why), OCTO_ENONCANON);
    /* an explicit default: seq = 0 written out */
    uint8_t zero_seq[OCTO_ADVERT_BYTES_MAX + 16];
    size_t provider_field = 2 + a.provider.len;
    memcpy(zero_seq, advert, provider_field);
    zero_seq[provider_field] = 0x10; /* field 2, varint */
    zero_seq[provider_field + 1] = 0x00;
    a.seq = 0;
    advert_len = raw_pack(&a, advert);
    memcpy(zero_seq + provider_field + 2, advert + provider_field, advert_len - provider_field);
    CHECK_OK(octo_advert_decode(advert, advert_len, &b, &why));
    CHECK_ERR(octo_advert_decode(zero_seq, advert_len + 2, &b, &why), OCTO_ENONCANON);
    CHECK_EQ_INT(why, OCTO_ADVERT_ADVERT_NONCANON);
    /* a non-minimal varint: seq = 7 as 87 00 */
    a.seq = 7;
    advert_len = raw_pack(&a, advert);
    CHECK(advert[provider_field] == 0x10 && advert[provider_field + 1] == 0x07);
    memcpy(zero_seq, advert, provider_field + 1);
    zero_seq[provider_field + 1] = 0x87;
    zero_seq[provider_field + 2] = 0x00;
    memcpy(zero_seq + provider_field + 3, advert + provider_field + 2,
           advert_len - provider_field - 2);
    CHECK_ERR(octo_advert_decode(zero_seq, advert_len + 1, &b, &why), OCTO_ENONCANON);
    /* an unknown field inside a model (the top-level re-pack would reproduce it) */
    Octo__Pb__ProviderAdvert *m = octo__pb__provider_advert__unpack(NULL, advert_len, advert);
    CHECK(m != NULL);
    uint8_t one = 1;
    ProtobufCMessageUnknownField uf = {
        .tag = 15, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = &one};
    m->models[1]->base.n_unknown_fields = 1;
    m->models[1]->base.unknown_fields = &uf;
    size_t packed = octo__pb__provider_advert__pack(m, zero_seq);
    m->models[1]->base.n_unknown_fields = 0;
    m->models[1]->base.unknown_fields = NULL;
    /* a wrong-length weights hash */
    m->models[0]->weights_hash.len = 31;
    size_t short_hash_len = octo__pb__provider_advert__pack(m, advert);
    octo__pb__provider_advert__free_unpacked(m, NULL);
    CHECK_EQ_U64(packed, advert_len + 2);
    CHECK_ERR(octo_advert_decode(zero_seq, packed, &b, &why), OCTO_ENONCANON);
    CHECK_EQ_INT(why, OCTO_ADVERT_ADVERT_NONCANON);
    len = raw_envelope(advert, short_hash_len, &ident_a, OCTO_ED25519_SIG_LEN, signed_buf);
    CHECK_ERR(octo_advert_open(signed_buf, len, NOW_MS, &b, &why), OCTO_ERANGE);
    CHECK_EQ_INT(why, OCTO_ADVERT_MODEL_HASH);
    /* an embedded NUL in a model name is not canonical (protobuf-c strings end at NUL) */
    a.models[0].name[3] = '\0';
    advert_len = raw_pack(&a, advert);
    uint8_t *name_at = find_last(advert, advert_len, "met", 3);
    CHECK(name_at != NULL);
    CHECK_EQ_INT(name_at[-1], 3);
    /* make the length 5 and append "\0a" into the name: rebuild by hand */
    size_t off = (size_t)(name_at - advert);
    memcpy(zero_seq, advert, off + 3);
    zero_seq[off - 1] = 5;
    zero_seq[off + 3] = 0;
    zero_seq[off + 4] = 'a';
    memcpy(zero_seq + off + 5, advert + off + 3, advert_len - off - 3);
    /* the enclosing model's length grows by 2 too */
    size_t model_len_at = off - 3;
    CHECK_EQ_INT(zero_seq[model_len_at - 1], 0x1a);
    zero_seq[model_len_at] = (uint8_t)(zero_seq[model_len_at] + 2);
    CHECK(octo_advert_decode(zero_seq, advert_len + 2, &b, &why) < 0);
    CHECK_EQ_INT(why, OCTO_ADVERT_ADVERT_NONCANON);
}

static void test_no_leaks_on_error_paths(void)
{
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    struct octo_advert a, b;
    sample(&a, &ident_a);
    size_t len;
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, NULL));
    uint64_t n = 1;
    for (; n < 64; n++) {
        enum octo_advert_reason why = OCTO_ADVERT_OK;
        octo_alloc_fail_after(n, 1);
        int rc = octo_advert_open(signed_buf, len, NOW_MS, &b, &why);
        octo_alloc_fail_after(0, 0);
        if (rc == 0)
            break;
        /* out of memory is told apart from a malformed advert */
        CHECK_ERR(rc, OCTO_ENOMEM);
        CHECK(why == OCTO_ADVERT_ENVELOPE_MALFORMED || why == OCTO_ADVERT_ADVERT_MALFORMED);
        CHECK_EQ_INT(b.models_count, 0);
    }
    CHECK(n > 2); /* both the envelope and the advert unpack were made to fail */
    octo_alloc_stats(&after);
    CHECK_EQ_U64(after.bytes_live, before.bytes_live);
}

static void test_decode_out_of_memory(void)
{
    struct octo_advert a, b;
    sample(&a, &ident_a);
    uint8_t enc[OCTO_ADVERT_BYTES_MAX];
    size_t len;
    CHECK_OK(octo_advert_encode(&a, enc, sizeof(enc), &len, NULL));
    struct octo_alloc_stats before, after;
    octo_alloc_stats(&before);
    enum octo_advert_reason why = OCTO_ADVERT_OK;
    octo_alloc_fail_after(1, 1);
    int rc = octo_advert_decode(enc, len, &b, &why);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    CHECK_EQ_INT(why, OCTO_ADVERT_ADVERT_MALFORMED);
    /* one failure in the middle of the unpack (after some blocks were taken) */
    octo_alloc_fail_after(3, 0);
    rc = octo_advert_decode(enc, len, &b, &why);
    octo_alloc_fail_after(0, 0);
    CHECK_ERR(rc, OCTO_ENOMEM);
    /* with memory, the same bytes decode; junk is still malformed, not ENOMEM */
    CHECK_OK(octo_advert_decode(enc, len, &b, &why));
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    CHECK_ERR(octo_advert_decode(junk, sizeof(junk), &b, &why), OCTO_EMALFORMED);
    octo_alloc_stats(&after);
    CHECK_EQ_U64(after.bytes_live, before.bytes_live);
}

/* Writes fuzz seeds when OCTO_ADVERT_SEED_DIR is set (run by hand; not a check). */
static void test_write_seeds(void)
{
    const char *dir = getenv("OCTO_ADVERT_SEED_DIR");
    if (dir == NULL)
        return;
    struct octo_advert a;
    size_t len;
    sample(&a, &ident_a);
    CHECK_OK(octo_advert_sign(&a, &ident_a, signed_buf, sizeof(signed_buf), &len, NULL));
    octo_test_write_file(dir, "valid_tee", signed_buf, len);
    octo_test_write_file(dir, "truncated", signed_buf, len / 2);
    signed_buf[len / 3] ^= 0x10;
    octo_test_write_file(dir, "corrupted", signed_buf, len);
    sample(&a, &ident_b);
    a.isolation = OCTO_ISOLATION_CONTAINER;
    a.attestation_len = 0;
    a.models_count = 1;
    memcpy(a.country, "US", 3);
    memcpy(a.continent, "NA", 3);
    CHECK_OK(octo_advert_sign(&a, &ident_b, signed_buf, sizeof(signed_buf), &len, NULL));
    octo_test_write_file(dir, "valid_container", signed_buf, len);
    uint8_t buf[OCTO_ADVERT_BYTES_MAX];
    CHECK_OK(octo_advert_encode(&a, buf, sizeof(buf), &len, NULL));
    octo_test_write_file(dir, "bare_advert", buf, len);
    a.models_count = 0;
    len = raw_sign(&a, &ident_b, signed_buf);
    octo_test_write_file(dir, "no_models", signed_buf, len);
    printf("  seeds written to %s\n", dir);
}

int main(void)
{
    OCTO_ASSERT(octo_crypto_init() == 0);
    make_identity(&ident_a, 0x11);
    make_identity(&ident_b, 0x22);
    OCTO_RUN(test_reason_strings);
    OCTO_RUN(test_continent_index);
    OCTO_RUN(test_encode_decode_roundtrip);
    OCTO_RUN(test_maximal_advert);
    OCTO_RUN(test_sign_open_roundtrip);
    OCTO_RUN(test_expiry);
    OCTO_RUN(test_every_validation_error);
    OCTO_RUN(test_boundaries_accepted);
    OCTO_RUN(test_wrong_key);
    OCTO_RUN(test_every_bit_flip_rejected);
    OCTO_RUN(test_envelope_errors);
    OCTO_RUN(test_advert_noncanonical);
    OCTO_RUN(test_no_leaks_on_error_paths);
    OCTO_RUN(test_decode_out_of_memory);
    OCTO_RUN(test_write_seeds);
    octo_identity_deinit(&ident_a);
    octo_identity_deinit(&ident_b);
    return octo_test_finish();
}
