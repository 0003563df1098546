/*
 * multiaddr.h — multiaddr text <-> binary for the protocols the node uses: ip4, ip6, tcp,
 * udp, dns, dns4, dns6, dnsaddr, p2p (alias ipfs on input), p2p-circuit, quic-v1, ws, wss.
 *
 * Binary form: a sequence of uvarint(code) || value; fixed-size values for ip4 (4), ip6 (16),
 * tcp/udp (2, big-endian); uvarint(len) || bytes for dns* and p2p (the peer-id multihash);
 * no value for p2p-circuit, quic-v1, ws, wss. Text form: "/proto/value/...". ip6 text is the
 * RFC 5952 canonical form on output; any valid form is accepted on input. p2p values are
 * base58btc peer ids on output; on input base58btc or a CIDv1 ("bafz...") are accepted.
 *
 * Everything is bounded: OCTO_MULTIADDR_MAX_BYTES binary, OCTO_MULTIADDR_MAX_TEXT text,
 * OCTO_MULTIADDR_MAX_COMPONENTS components. Decoding checks lengths before reading.
 */
#ifndef OCTO_BASE_MULTIADDR_H
#define OCTO_BASE_MULTIADDR_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_MULTIADDR_MAX_BYTES 1024
#define OCTO_MULTIADDR_MAX_TEXT 2048
#define OCTO_MULTIADDR_MAX_COMPONENTS 16
#define OCTO_MULTIADDR_DNS_MAX 253

enum octo_ma_proto {
    OCTO_MA_IP4 = 0x04,
    OCTO_MA_TCP = 0x06,
    OCTO_MA_IP6 = 0x29,
    OCTO_MA_DNS = 0x35,
    OCTO_MA_DNS4 = 0x36,
    OCTO_MA_DNS6 = 0x37,
    OCTO_MA_DNSADDR = 0x38,
    OCTO_MA_UDP = 0x0111,
    OCTO_MA_P2P_CIRCUIT = 0x0122,
    OCTO_MA_P2P = 0x01a5,
    OCTO_MA_QUIC_V1 = 0x01cd,
    OCTO_MA_WS = 0x01dd,
    OCTO_MA_WSS = 0x01de,
};

/* A binary multiaddr held by value. */
struct octo_multiaddr {
    uint8_t bytes[OCTO_MULTIADDR_MAX_BYTES];
    size_t len;
};

/* One component, borrowed from a struct octo_multiaddr or a byte string. */
struct octo_ma_component {
    uint64_t code;
    const uint8_t *value; /* NULL when value_len is 0 */
    size_t value_len;
};

/* Parses text into binary. Errors: OCTO_EMALFORMED (unknown protocol, bad value, missing
 * value, trailing garbage), OCTO_ETOOBIG (text or result too long, too many components). */
int octo_multiaddr_from_text(const char *text, struct octo_multiaddr *out);

/* Validates binary bytes and copies them into out. Same errors as from_text, plus
 * OCTO_ENONCANON for non-minimal varints. */
int octo_multiaddr_from_bytes(const uint8_t *in, size_t len, struct octo_multiaddr *out);

/* Writes the text form with a NUL. Returns its length or OCTO_ENOSPACE. Asserts that ma is
 * valid (it came from one of the constructors). */
int octo_multiaddr_to_text(const struct octo_multiaddr *ma, char *out, size_t out_size);

/* Iterates components: *offset starts at 0; returns 1 and fills c while components remain,
 * 0 at the end. ma must be valid. */
int octo_multiaddr_next(const struct octo_multiaddr *ma, size_t *offset,
                        struct octo_ma_component *c);

/* Appends a component (value bytes in binary form) to ma. OCTO_ETOOBIG, OCTO_EINVAL. */
int octo_multiaddr_push(struct octo_multiaddr *ma, uint64_t code, const uint8_t *value,
                        size_t value_len);

/* Protocol name for a code ("tcp"), or NULL for unknown codes. */
const char *octo_ma_proto_name(uint64_t code);

bool octo_multiaddr_equal(const struct octo_multiaddr *a, const struct octo_multiaddr *b);

#endif
