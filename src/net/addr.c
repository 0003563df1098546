/*
 * addr.c — multiaddr <-> socket address for the TCP transport: /ip4/A/tcp/P and
 * /ip6/A/tcp/P, optionally followed by /p2p/ID (returned separately). Anything else (dns,
 * udp, quic, relay) is OCTO_EUNSUPPORTED here: other transports arrive with their issues.
 */
#include "base/assert.h"
#include "net/net.h"

#include <netinet/in.h>
#include <string.h>

int octo_net_multiaddr_to_sockaddr(const struct octo_multiaddr *ma, struct sockaddr_storage *out,
                                   struct octo_peerid *peer, bool *has_peer)
{
    struct octo_ma_component c[4];
    size_t count = 0, off = 0;
    while (count < OCTO_ARRAY_LEN(c) && octo_multiaddr_next(ma, &off, &c[count]) == 1)
        count++;
    if (off != ma->len)
        return OCTO_EUNSUPPORTED; /* more components than ip/tcp/p2p */
    if (count < 2 || c[1].code != OCTO_MA_TCP || c[1].value_len != 2)
        return OCTO_EUNSUPPORTED;
    uint16_t port = (uint16_t)(c[1].value[0] << 8 | c[1].value[1]);
    memset(out, 0, sizeof(*out));
    if (c[0].code == OCTO_MA_IP4 && c[0].value_len == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)out;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        memcpy(&in->sin_addr, c[0].value, 4);
    } else if (c[0].code == OCTO_MA_IP6 && c[0].value_len == 16) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        memcpy(&in6->sin6_addr, c[0].value, 16);
    } else {
        return OCTO_EUNSUPPORTED;
    }
    if (has_peer != NULL)
        *has_peer = false;
    if (count == 3) {
        if (c[2].code != OCTO_MA_P2P)
            return OCTO_EUNSUPPORTED;
        if (peer == NULL || has_peer == NULL)
            return OCTO_EINVAL;
        int rc = octo_peerid_from_bytes(c[2].value, c[2].value_len, peer);
        if (rc < 0)
            return rc;
        *has_peer = true;
    } else if (count != 2) {
        return OCTO_EUNSUPPORTED;
    }
    return 0;
}

int octo_net_sockaddr_to_multiaddr(const struct sockaddr *sa, struct octo_multiaddr *out)
{
    uint8_t port[2];
    out->len = 0;
    int rc;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        rc = octo_multiaddr_push(out, OCTO_MA_IP4, (const uint8_t *)&in->sin_addr, 4);
        port[0] = (uint8_t)(ntohs(in->sin_port) >> 8);
        port[1] = (uint8_t)ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        rc = octo_multiaddr_push(out, OCTO_MA_IP6, (const uint8_t *)&in6->sin6_addr, 16);
        port[0] = (uint8_t)(ntohs(in6->sin6_port) >> 8);
        port[1] = (uint8_t)ntohs(in6->sin6_port);
    } else {
        return OCTO_EUNSUPPORTED;
    }
    if (rc == 0)
        rc = octo_multiaddr_push(out, OCTO_MA_TCP, port, 2);
    return rc;
}
