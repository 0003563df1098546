/*
 * fuzz_advert.c — libFuzzer harness for provider adverts and the registry.
 *
 * The input is opened as a SignedProviderAdvert (at the fixed time the seeds were signed
 * for): a success must give an advert that validates and re-encodes; a failure must name a
 * reason and leave the output zeroed. The input is also decoded as a bare ProviderAdvert:
 * a success must re-encode to exactly the input bytes (only canonical encodings are
 * accepted), and is then stored in a small registry, looked up, rebuilt (equal to the
 * decoded advert), queried for each of its models, and removed, leaving nothing behind.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "crypto/ident.h"
#include "intel/advert.h"
#include "intel/registry.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW_MS UINT64_C(1800000000000) /* tests/unit/intel/test_advert.c NOW_MS */

static struct octo_advert advert;
static struct octo_advert again;
static uint8_t encoded[OCTO_ADVERT_BYTES_MAX];

static void fuzz_open(const uint8_t *data, size_t size)
{
    enum octo_advert_reason why = OCTO_ADVERT_REASON_COUNT;
    int rc = octo_advert_open(data, size, FUZZ_NOW_MS, &advert, &why);
    OCTO_ASSERT((unsigned)why < OCTO_ADVERT_REASON_COUNT);
    if (rc < 0) {
        OCTO_ASSERT(why != OCTO_ADVERT_OK);
        OCTO_ASSERT(advert.models_count == 0 && advert.provider.len == 0);
        return;
    }
    OCTO_ASSERT(rc == 0 && why == OCTO_ADVERT_OK);
    OCTO_ASSERT(octo_advert_validate(&advert, FUZZ_NOW_MS, NULL) == 0);
    size_t len;
    OCTO_ASSERT(octo_advert_encode(&advert, encoded, sizeof(encoded), &len, NULL) == 0);
}

static int count_cb(void *ctx, const struct octo_registry_candidate *c)
{
    (void)c;
    (*(int *)ctx)++;
    return 0;
}

static void fuzz_registry(void)
{
    struct octo_registry reg;
    struct octo_registry_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.providers_max = 4;
    cfg.models_max = OCTO_ADVERT_MODELS_MAX;
    OCTO_ASSERT(octo_registry_init(&reg, &cfg) == 0);
    uint32_t index;
    /* an expired or too-far advert is refused; use a time at which it is valid */
    uint64_t now = advert.expiry_ms > 0 ? advert.expiry_ms - 1 : 0;
    int rc = octo_registry_upsert(&reg, &advert, now, &index, NULL);
    if (rc == OCTO_REGISTRY_INSERTED) {
        uint32_t found;
        OCTO_ASSERT(octo_registry_find(&reg, &advert.provider, &found) != NULL);
        OCTO_ASSERT(found == index);
        OCTO_ASSERT(octo_registry_advert(&reg, index, &again) == 0);
        OCTO_ASSERT(memcmp(&again, &advert, sizeof(advert)) == 0);
        for (size_t i = 0; i < advert.models_count; i++) {
            struct octo_registry_query q = {advert.models[i].name, advert.isolation, advert.country,
                                            advert.continent};
            int seen = 0;
            int n = octo_registry_query(&reg, &q, count_cb, &seen);
            OCTO_ASSERT(n >= 1 && n == seen);
        }
        OCTO_ASSERT(octo_registry_upsert(&reg, &advert, now, NULL, NULL) == OCTO_REGISTRY_STALE);
        OCTO_ASSERT(octo_registry_remove(&reg, &advert.provider) == 0);
        struct octo_registry_stats st;
        octo_registry_stats(&reg, &st);
        OCTO_ASSERT(st.providers == 0 && st.models == 0 && st.postings == 0);
    } else {
        OCTO_ASSERT(rc < 0); /* the time check failed: expiry beyond the lifetime is fine */
    }
    octo_registry_deinit(&reg);
}

static void fuzz_decode(const uint8_t *data, size_t size)
{
    enum octo_advert_reason why = OCTO_ADVERT_REASON_COUNT;
    int rc = octo_advert_decode(data, size, &advert, &why);
    OCTO_ASSERT((unsigned)why < OCTO_ADVERT_REASON_COUNT);
    if (rc < 0) {
        OCTO_ASSERT(why != OCTO_ADVERT_OK);
        OCTO_ASSERT(advert.models_count == 0);
        return;
    }
    size_t len;
    OCTO_ASSERT(octo_advert_encode(&advert, encoded, sizeof(encoded), &len, NULL) == 0);
    OCTO_ASSERT(len == size);
    OCTO_ASSERT(memcmp(encoded, data, size) == 0);
    OCTO_ASSERT(octo_advert_decode(encoded, len, &again, NULL) == 0);
    OCTO_ASSERT(memcmp(&again, &advert, sizeof(advert)) == 0);
    fuzz_registry();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        OCTO_ASSERT(octo_crypto_init() == 0);
        initialised = 1;
    }
    fuzz_open(data, size);
    fuzz_decode(data, size);
    return 0;
}
