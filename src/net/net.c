/*
 * net.c — the network object: listeners, accepting with limits, dialing, the periodic timer
 * and graceful shutdown. The per-connection pipeline is in conn.c, streams in stream.c.
 *
 * Inbound admission, in order: shutting down -> refuse; conns_max reached -> close at once
 * (conns_rejected_limit); the source IP opened more than inbound_per_ip_per_s connections in
 * the current one-second window -> close at once (conns_rejected_rate). The rate table is a
 * fixed array of RATE_TABLE_SIZE entries; when full, the entry with the oldest window is
 * reused, so memory stays bounded whatever the number of sources.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/log.h"
#include "base/mem.h"
#include "crypto/random.h"
#include "net/net_int.h"

#include <sodium.h>
#include <string.h>

uint64_t octo__net_now_ms(const struct octo_net *n)
{
    return uv_now(n->loop);
}

octo_tick octo__net_now(const struct octo_net *n)
{
    (void)n;
    return uv_hrtime();
}

static int uv_err(int uverr)
{
    return uverr < 0 ? octo_err_from_errno(-uverr) : 0;
}

int octo_net_create(struct octo_net **out, uv_loop_t *loop, const struct octo_net_config *cfg)
{
    *out = NULL;
    if (cfg->identity == NULL || cfg->clock == NULL || cfg->listen_count > OCTO_NET_LISTEN_MAX)
        return OCTO_EINVAL;
    if (cfg->conns_max > OCTO_NET_CONNS_LIMIT)
        return OCTO_ECONFIG;
    struct octo_net *n = octo_calloc(1, sizeof(*n));
    if (n == NULL)
        return OCTO_ENOMEM;
    n->loop = loop;
    n->cfg = *cfg;
    n->identity = *cfg->identity;
    n->cfg.identity = &n->identity;
    if (n->cfg.conns_max == 0)
        n->cfg.conns_max = OCTO_NET_CONNS_DEFAULT;
    if (n->cfg.inbound_per_ip_per_s == 0)
        n->cfg.inbound_per_ip_per_s = OCTO_NET_INBOUND_RATE_DEFAULT;
    if (n->cfg.handshake_timeout_ms == 0)
        n->cfg.handshake_timeout_ms = OCTO_NET_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    if (n->cfg.dial_timeout_ms == 0)
        n->cfg.dial_timeout_ms = OCTO_NET_DIAL_TIMEOUT_MS_DEFAULT;
    if (n->cfg.idle_timeout_ms == 0)
        n->cfg.idle_timeout_ms = OCTO_NET_IDLE_TIMEOUT_MS_DEFAULT;
    snprintf(n->agent, sizeof(n->agent), "%s",
             cfg->agent_version != NULL ? cfg->agent_version : "octo/0.1.0");
    n->cfg.agent_version = n->agent;
    n->cfg.listen = NULL; /* borrowed input: copied into listeners at start */
    octo_peerid_from_pubkey(&n->identity.pub, &n->local_peer);
    octo_random_bytes(n->noise_static_sk, sizeof(n->noise_static_sk));
    if (crypto_scalarmult_curve25519_base(n->noise_static_pk, n->noise_static_sk) != 0) {
        octo_identity_deinit(&n->identity);
        octo_free(n);
        return OCTO_ECRYPTO;
    }
    octo_noise_static_sig(&n->identity, n->noise_static_pk, n->noise_static_sig);
    for (size_t i = 0; i < cfg->listen_count; i++)
        n->listeners[i].addr = cfg->listen[i];
    n->listener_count = cfg->listen_count;
    int rc = octo__builtin_register(n);
    if (rc < 0) {
        octo_identity_deinit(&n->identity);
        octo_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

const struct octo_net_stats *octo_net_stats(const struct octo_net *n)
{
    return &n->stats;
}

const struct octo_peerid *octo_net_local_peer(const struct octo_net *n)
{
    return &n->local_peer;
}

void octo_net_on_identify(struct octo_net *n, octo_net_identify_cb cb, void *ctx)
{
    n->identify_cb = cb;
    n->identify_ctx = ctx;
}

int octo_net_handle(struct octo_net *n, const char *protocol, octo_net_handler_fn fn, void *ctx)
{
    size_t len = strlen(protocol);
    if (len == 0 || len > OCTO_NET_PROTOCOL_MAX || fn == NULL)
        return OCTO_EINVAL;
    for (size_t i = 0; i < n->handler_count; i++) {
        if (strcmp(n->handlers[i].protocol, protocol) == 0)
            return OCTO_EEXIST;
    }
    if (n->handler_count >= OCTO_NET_HANDLERS_MAX)
        return OCTO_ETOOBIG;
    struct net_handler *h = &n->handlers[n->handler_count];
    memcpy(h->protocol, protocol, len + 1);
    h->fn = fn;
    h->ctx = ctx;
    n->handler_protocols[n->handler_count] = h->protocol;
    n->handler_count++;
    return 0;
}

/* ---- admission ---- */

static bool rate_allow(struct octo_net *n, const struct sockaddr_storage *ss)
{
    uint8_t ip[16] = {0};
    if (ss->ss_family == AF_INET)
        memcpy(ip, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, 4);
    else
        memcpy(ip, &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, 16);
    uint64_t now = octo__net_now_ms(n);
    struct rate_entry *slot = &n->rate[0];
    for (size_t i = 0; i < RATE_TABLE_SIZE; i++) {
        struct rate_entry *e = &n->rate[i];
        if (memcmp(e->ip, ip, 16) == 0 && e->window_start_ms != 0) {
            slot = e;
            break;
        }
        if (e->window_start_ms < slot->window_start_ms)
            slot = e;
    }
    if (memcmp(slot->ip, ip, 16) != 0 || now - slot->window_start_ms >= 1000) {
        memcpy(slot->ip, ip, 16);
        slot->window_start_ms = now != 0 ? now : 1;
        slot->count = 0;
    }
    slot->count++;
    return slot->count <= n->cfg.inbound_per_ip_per_s;
}

static void reject_close_cb(uv_handle_t *h)
{
    octo_free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct net_listener *l = server->data;
    struct octo_net *n = l->net;
    if (status < 0) {
        OCTO_WARN("accept failed: %s", uv_strerror(status));
        return;
    }
    bool over_limit = n->shutting_down || n->conn_count >= n->cfg.conns_max;
    struct net_conn *c = over_limit ? NULL : octo__conn_new(n, false);
    if (c == NULL) {
        /* accept and close at once, so the backlog does not fill up */
        uv_tcp_t *t = octo_malloc(sizeof(*t));
        if (t == NULL)
            return;
        uv_tcp_init(n->loop, t);
        if (uv_accept(server, (uv_stream_t *)t) == 0)
            n->stats.conns_rejected_limit++;
        uv_close((uv_handle_t *)t, reject_close_cb);
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        octo__conn_close(c, OCTO_EIO, "accept failed");
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0 ||
        octo_net_sockaddr_to_multiaddr((const struct sockaddr *)&ss, &c->remote_addr) < 0) {
        octo__conn_close(c, OCTO_EIO, "no peer address");
        return;
    }
    if (!rate_allow(n, &ss)) {
        n->stats.conns_rejected_rate++;
        octo__conn_close(c, OCTO_ELIMIT, "inbound rate limit");
        return;
    }
    n->stats.conns_inbound++;
    if (octo__conn_start(c) < 0)
        octo__conn_close(c, OCTO_EIO, "cannot start");
}

static int bind_listener(struct octo_net *n, struct net_listener *l)
{
    struct sockaddr_storage ss;
    int rc = octo_net_multiaddr_to_sockaddr(&l->addr, &ss, NULL, NULL);
    if (rc < 0)
        return rc;
    l->net = n;
    uv_tcp_init(n->loop, &l->tcp);
    l->tcp.data = l;
    n->handles_open++;
    unsigned flags = ss.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, flags);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
    if (rc < 0) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (octo_multiaddr_to_text(&l->addr, text, sizeof(text)) < 0)
            snprintf(text, sizeof(text), "?");
        OCTO_ERROR("net: cannot listen on %s: %s", text, uv_strerror(rc)); /* "address in use" */
        return uv_err(rc);
    }
    int len = sizeof(ss);
    if (uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len) == 0 &&
        octo_net_sockaddr_to_multiaddr((const struct sockaddr *)&ss, &l->addr) < 0)
        return OCTO_EIO;
    return 0;
}

static void on_check(uv_check_t *h)
{
    struct octo_net *n = h->data;
    octo__net_run_scheduled(n);
    if (n->scheduled == NULL && n->idle.data == n)
        uv_idle_stop(&n->idle);
}

void octo__net_on_idle(uv_idle_t *h)
{
    (void)h;
}

static void on_tick(uv_timer_t *t)
{
    struct octo_net *n = t->data;
    uint64_t now = octo__net_now_ms(n);
    struct net_conn *c = n->conns;
    while (c != NULL) {
        struct net_conn *next = c->next;
        octo__conn_tick(c, now);
        c = next;
    }
}

int octo_net_start(struct octo_net *n)
{
    uv_timer_init(n->loop, &n->timer);
    n->timer.data = n;
    n->handles_open++;
    uv_timer_start(&n->timer, on_tick, TICK_MS, TICK_MS);
    uv_check_init(n->loop, &n->check);
    n->check.data = n;
    n->handles_open++;
    uv_check_start(&n->check, on_check);
    uv_idle_init(n->loop, &n->idle);
    n->idle.data = n;
    n->handles_open++;
    for (size_t i = 0; i < n->listener_count; i++) {
        int rc = bind_listener(n, &n->listeners[i]);
        if (rc < 0) {
            char text[OCTO_MULTIADDR_MAX_TEXT];
            if (octo_multiaddr_to_text(&n->listeners[i].addr, text, sizeof(text)) < 0)
                text[0] = '\0';
            OCTO_ERROR("cannot listen on %s: %s", text, octo_strerror(rc));
            return rc;
        }
    }
    return 0;
}

size_t octo_net_listen_addrs(const struct octo_net *n, struct octo_multiaddr *out, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < n->listener_count && count < max; i++)
        out[count++] = n->listeners[i].addr;
    return count;
}

/* ---- dialing ---- */

static void on_connect(uv_connect_t *req, int status)
{
    struct net_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        octo__conn_close(c, uv_err(status), "connect failed");
        return;
    }
    if (octo__conn_start(c) < 0)
        octo__conn_close(c, OCTO_EIO, "cannot start");
}

int octo_net_dial(struct octo_net *n, const struct octo_multiaddr *addr, octo_net_dial_cb cb,
                  void *ctx)
{
    struct sockaddr_storage ss;
    struct octo_peerid peer;
    bool has_peer = false;
    int rc = octo_net_multiaddr_to_sockaddr(addr, &ss, &peer, &has_peer);
    if (rc < 0)
        return rc;
    if (n->shutting_down)
        return OCTO_ESTATE;
    if (has_peer && octo_peerid_equal(&peer, &n->local_peer))
        return OCTO_EINVAL; /* dialing ourselves */
    if (has_peer) {
        struct net_conn *existing = octo__conn_find_peer(n, &peer);
        if (existing != NULL) {
            cb(n, 0, &existing->peer, ctx);
            return 0;
        }
    }
    if (n->conn_count >= n->cfg.conns_max)
        return OCTO_ELIMIT;
    struct net_conn *c = octo__conn_new(n, true);
    if (c == NULL)
        return OCTO_ENOMEM;
    c->dial.cb = cb;
    c->dial.ctx = ctx;
    c->dial.has_peer = has_peer;
    if (has_peer)
        c->dial.expected = peer;
    if (octo_net_sockaddr_to_multiaddr((const struct sockaddr *)&ss, &c->remote_addr) < 0)
        c->remote_addr.len = 0;
    n->stats.conns_outbound++;
    c->connect_req.data = c;
    rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&ss, on_connect);
    if (rc < 0) {
        c->dial.cb = NULL; /* the caller gets the error from the return value */
        octo__conn_close(c, uv_err(rc), "connect failed");
        return uv_err(rc);
    }
    return 0;
}

/* ---- shutdown ---- */

void octo__net_handle_closed(struct octo_net *n)
{
    OCTO_ASSERT(n->handles_open > 0);
    n->handles_open--;
    if (n->handles_open == 0 && n->shutting_down && n->shutdown_done != NULL) {
        void (*done)(void *) = n->shutdown_done;
        n->shutdown_done = NULL;
        done(n->shutdown_ctx);
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    struct net_listener *l = h->data;
    octo__net_handle_closed(l->net);
}

static void on_timer_closed(uv_handle_t *h)
{
    octo__net_handle_closed(h->data);
}

static void on_check_closed(uv_handle_t *h)
{
    octo__net_handle_closed(h->data);
}

void octo_net_shutdown(struct octo_net *n, void (*done)(void *ctx), void *ctx)
{
    OCTO_ASSERT(!n->shutting_down);
    n->shutting_down = true;
    n->shutdown_done = done;
    n->shutdown_ctx = ctx;
    n->handles_open++; /* held until this function returns */
    for (size_t i = 0; i < n->listener_count; i++) {
        if (n->listeners[i].net != NULL && !uv_is_closing((uv_handle_t *)&n->listeners[i].tcp))
            uv_close((uv_handle_t *)&n->listeners[i].tcp, on_listener_closed);
    }
    if (n->timer.data == n) {
        uv_timer_stop(&n->timer);
        uv_close((uv_handle_t *)&n->timer, on_timer_closed);
    }
    if (n->check.data == n) {
        uv_check_stop(&n->check);
        uv_close((uv_handle_t *)&n->check, on_check_closed);
    }
    if (n->idle.data == n) {
        uv_idle_stop(&n->idle);
        uv_close((uv_handle_t *)&n->idle, on_check_closed);
    }
    struct net_conn *c = n->conns;
    while (c != NULL) {
        struct net_conn *next = c->next;
        octo__conn_close(c, OCTO_ECLOSED, "shutdown");
        c = next;
    }
    octo__net_handle_closed(n);
}

void octo_net_destroy(struct octo_net *n)
{
    if (n == NULL)
        return;
    OCTO_ASSERT(n->conns == NULL);
    octo_identity_deinit(&n->identity);
    octo_wipe(n->noise_static_sk, sizeof(n->noise_static_sk));
    octo_wipe(n->scratch, sizeof(n->scratch));
    octo_free(n);
}
