/*
 * providers.c — verified adverts: store first, then the in-memory registry (see providers.h).
 */
#include "node/providers.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"

#include <string.h>

int octo_providers_accept(struct octo_provstore *ps, struct octo_sched *s,
                          const uint8_t *signed_advert, size_t len, uint64_t now_ms, octo_tick now,
                          enum octo_advert_reason *reason)
{
    struct octo_advert *a = octo_malloc(sizeof(*a));
    if (a == NULL)
        return OCTO_ENOMEM;
    int rc = octo_advert_open(signed_advert, len, now_ms, a, reason);
    if (rc < 0)
        goto out;
    const struct octo_registry_entry *e =
        octo_registry_find(octo_sched_registry(s), &a->provider, NULL);
    if (e != NULL && e->seq >= a->seq) {
        rc = OCTO_REGISTRY_STALE;
        goto out;
    }
    struct octo_provstore_record rec = {.id = a->provider.bytes,
                                        .id_len = a->provider.len,
                                        .seq = a->seq,
                                        .expiry_ms = a->expiry_ms,
                                        .received_ms = now_ms,
                                        .advert = signed_advert,
                                        .advert_len = len};
    rc = octo_provstore_put(ps, &rec);
    if (rc < 0)
        goto out;
    if (rc == 0) { /* the store holds this or a newer advert already (memory was behind) */
        rc = OCTO_REGISTRY_STALE;
        goto out;
    }
    /* a registry limit refusing it now leaves the row stored: the next load counts it as
     * refused (load stats) until the registry has room */
    rc = octo_sched_advert(s, a, now_ms, now, NULL, reason);
out:
    octo_free(a);
    return rc;
}

struct load_ctx {
    struct octo_sched *s;
    struct octo_advert *a;
    uint64_t now_ms;
    octo_tick now;
    struct octo_providers_load_stats *st;
};

static int load_one(const struct octo_provstore_record *rec, void *ctx_)
{
    struct load_ctx *ctx = ctx_;
    if (rec->expiry_ms <= ctx->now_ms) {
        ctx->st->expired++;
        return 0;
    }
    enum octo_advert_reason why = OCTO_ADVERT_OK;
    int rc = octo_advert_open(rec->advert, rec->advert_len, ctx->now_ms, ctx->a, &why);
    if (rc == OCTO_ENOMEM)
        return rc;
    if (rc < 0 || ctx->a->provider.len != rec->id_len ||
        memcmp(ctx->a->provider.bytes, rec->id, rec->id_len) != 0) {
        if (why == OCTO_ADVERT_EXPIRED) {
            ctx->st->expired++;
            return 0;
        }
        ctx->st->rejected++;
        OCTO_WARN("stored advert rejected: %s", octo_advert_reason_str(why));
        return 0;
    }
    rc = octo_sched_advert(ctx->s, ctx->a, ctx->now_ms, ctx->now, NULL, &why);
    if (rc == OCTO_ENOMEM)
        return rc;
    if (rc < 0)
        ctx->st->refused++;
    else
        ctx->st->loaded++;
    return 0;
}

int octo_providers_load(struct octo_provstore *ps, struct octo_sched *s, uint64_t now_ms,
                        octo_tick now, struct octo_providers_load_stats *st)
{
    memset(st, 0, sizeof(*st));
    struct load_ctx ctx = {.s = s, .now_ms = now_ms, .now = now, .st = st};
    ctx.a = octo_malloc(sizeof(*ctx.a));
    if (ctx.a == NULL)
        return OCTO_ENOMEM;
    int rc = octo_provstore_iterate(ps, load_one, &ctx);
    octo_free(ctx.a);
    if (rc < 0)
        return rc;
    rc = octo_provstore_delete_expired(ps, now_ms);
    return rc < 0 ? rc : 0;
}

int octo_providers_expire(struct octo_provstore *ps, struct octo_sched *s, uint64_t now_ms)
{
    (void)octo_sched_expire_adverts(s, now_ms);
    return octo_provstore_delete_expired(ps, now_ms);
}
