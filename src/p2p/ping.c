/*
 * ping.c — /ipfs/ping/1.0.0 (see ping.h for the contracts).
 *
 * Both roles assemble OCTO_PING_LEN-byte blocks in `block`. The dialer compares a complete
 * block with the outstanding payload; the listener appends it to the output. The listener
 * consumes only as many bytes as it could echo without exceeding OCTO_PING_OUT_MAX, so a
 * remote that pings faster than the shell drains is throttled, not buffered without bound.
 * A failure is terminal: one FAILED event, later calls return OCTO_ESTATE.
 */
#include "p2p/ping.h"

#include "base/assert.h"

#include <limits.h>
#include <string.h>

int octo_ping_init(struct octo_ping *p, const struct octo_ping_config *cfg)
{
    OCTO_ASSERT(p != NULL);
    OCTO_ASSERT(cfg != NULL);
    memset(p, 0, sizeof(*p));
    if (cfg->role != OCTO_PING_DIALER && cfg->role != OCTO_PING_LISTENER)
        return OCTO_EINVAL;
    p->cfg = *cfg;
    if (p->cfg.timeout_ns == 0)
        p->cfg.timeout_ns = OCTO_PING_TIMEOUT_NS_DEFAULT;
    octo_buf_init(&p->out, OCTO_PING_OUT_MAX);
    return 0;
}

void octo_ping_deinit(struct octo_ping *p)
{
    if (p == NULL)
        return;
    octo_buf_deinit(&p->out);
}

static void push_event(struct octo_ping *p, enum octo_ping_event_type type,
                       enum octo_ping_reason reason, const char *detail, uint64_t rtt_ns)
{
    OCTO_ASSERT(!p->event_pending);
    p->event_pending = true;
    p->event = (struct octo_ping_event){
        .type = type,
        .reason = reason,
        .detail = detail,
        .rtt_ns = rtt_ns,
    };
}

/* Terminal failure: overrides an undelivered RTT event (the connection is going away). */
static int fail(struct octo_ping *p, enum octo_ping_reason reason, const char *detail, int err)
{
    p->failed = true;
    p->outstanding = false;
    p->event_pending = false;
    push_event(p, OCTO_PING_EV_FAILED, reason, detail, 0);
    return err;
}

int octo_ping_send(struct octo_ping *p, octo_tick now, const uint8_t payload[OCTO_PING_LEN])
{
    OCTO_ASSERT(p != NULL);
    OCTO_ASSERT(payload != NULL);
    if (p->cfg.role != OCTO_PING_DIALER || p->outstanding || p->failed || p->event_pending)
        return OCTO_ESTATE;
    int rc = octo_buf_append(&p->out, payload, OCTO_PING_LEN);
    if (rc < 0)
        return rc == OCTO_ETOOBIG ? OCTO_ESTATE : rc;
    memcpy(p->payload, payload, OCTO_PING_LEN);
    p->outstanding = true;
    p->sent_at = now;
    p->block_len = 0;
    p->stats.sent++;
    return 0;
}

static int dialer_recv(struct octo_ping *p, octo_tick now, const uint8_t *data, size_t len)
{
    if (!p->outstanding) {
        p->stats.unsolicited++;
        return fail(p, OCTO_PING_UNSOLICITED, "bytes with no ping outstanding", OCTO_EPROTO);
    }
    size_t take = OCTO_PING_LEN - p->block_len;
    if (take > len)
        take = len;
    memcpy(p->block + p->block_len, data, take);
    p->block_len += take;
    if (p->block_len < OCTO_PING_LEN)
        return (int)take;
    p->block_len = 0;
    if (memcmp(p->block, p->payload, OCTO_PING_LEN) != 0) {
        p->stats.mismatch++;
        return fail(p, OCTO_PING_MISMATCH, "echo differs from payload", OCTO_EPROTO);
    }
    p->outstanding = false;
    p->stats.ok++;
    /* a clock that went backwards gives 0, never a huge unsigned value */
    uint64_t rtt = now >= p->sent_at ? now - p->sent_at : 0;
    push_event(p, OCTO_PING_EV_RTT, OCTO_PING_OK, "pong", rtt);
    return (int)take;
}

static int listener_recv(struct octo_ping *p, const uint8_t *data, size_t len)
{
    size_t used = 0;
    while (used < len) {
        /* only start or continue a block whose echo will fit the output bound */
        if (p->out.len + OCTO_PING_LEN > OCTO_PING_OUT_MAX)
            break;
        size_t take = OCTO_PING_LEN - p->block_len;
        if (take > len - used)
            take = len - used;
        memcpy(p->block + p->block_len, data + used, take);
        p->block_len += take;
        used += take;
        if (p->block_len < OCTO_PING_LEN)
            break;
        p->block_len = 0;
        int rc = octo_buf_append(&p->out, p->block, OCTO_PING_LEN);
        OCTO_ASSERT(rc != OCTO_ETOOBIG); /* checked above */
        if (rc < 0)
            return fail(p, OCTO_PING_OK, "out of memory", rc);
        p->stats.echoed++;
    }
    return (int)used;
}

int octo_ping_recv(struct octo_ping *p, octo_tick now, const uint8_t *data, size_t len)
{
    OCTO_ASSERT(p != NULL);
    OCTO_ASSERT(data != NULL || len == 0);
    if (p->failed)
        return OCTO_ESTATE;
    if (len == 0)
        return 0;
    if (len > INT_MAX)
        len = INT_MAX;
    if (p->cfg.role == OCTO_PING_DIALER)
        return dialer_recv(p, now, data, len);
    return listener_recv(p, data, len);
}

void octo_ping_out(const struct octo_ping *p, const uint8_t **data, size_t *len)
{
    OCTO_ASSERT(p != NULL);
    OCTO_ASSERT(data != NULL);
    OCTO_ASSERT(len != NULL);
    *data = p->out.data;
    *len = p->out.len;
}

void octo_ping_out_consume(struct octo_ping *p, size_t n)
{
    OCTO_ASSERT(p != NULL);
    OCTO_ASSERT(n <= p->out.len);
    octo_buf_consume(&p->out, n);
}

bool octo_ping_poll(struct octo_ping *p, struct octo_ping_event *ev)
{
    OCTO_ASSERT(p != NULL);
    OCTO_ASSERT(ev != NULL);
    if (!p->event_pending)
        return false;
    *ev = p->event;
    p->event_pending = false;
    return true;
}

octo_tick octo_ping_next_deadline(const struct octo_ping *p)
{
    OCTO_ASSERT(p != NULL);
    if (!p->outstanding || p->failed)
        return OCTO_PING_NO_DEADLINE;
    if (p->sent_at > OCTO_PING_NO_DEADLINE - p->cfg.timeout_ns)
        return OCTO_PING_NO_DEADLINE - 1;
    return p->sent_at + p->cfg.timeout_ns;
}

int octo_ping_on_timer(struct octo_ping *p, octo_tick now)
{
    OCTO_ASSERT(p != NULL);
    if (p->outstanding && !p->failed && now >= octo_ping_next_deadline(p)) {
        p->stats.timeout++;
        (void)fail(p, OCTO_PING_TIMEOUT, "ping timed out", 0);
    }
    return 0;
}
