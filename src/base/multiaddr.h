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

/* Parses a NUL-terminated text into binary. Errors: OCTO_EMALFORMED (empty text, unknown
 * protocol, empty component, bad value, missing value, trailing '/' or garbage),
 * OCTO_ETOOBIG (text, a dns name, a peer id or the result too long, too many components).
 * Values: ip4 dotted quad without leading zeros; ip6 any RFC 4291 form (no zone); ports
 * 0..65535 in decimal without sign or leading zeros; dns* 1..OCTO_MULTIADDR_DNS_MAX bytes;
 * p2p/ipfs a base58btc multihash or a base32 CIDv1 libp2p-key. out->len is 0 on error. */
int octo_multiaddr_from_text(const char *text, struct octo_multiaddr *out);

/* Validates binary bytes and copies them into out (checked before copying). Same errors as
 * from_text (an empty input is OCTO_EMALFORMED), plus OCTO_ENONCANON for non-minimal
 * varints; dns values must not contain '/' or NUL, p2p values must be one multihash. */
int octo_multiaddr_from_bytes(const uint8_t *in, size_t len, struct octo_multiaddr *out);

/* Writes the canonical text form with a NUL. Returns its length or OCTO_ENOSPACE (out is then
 * ""). Asserts that ma is valid (it came from one of the constructors; an empty ma prints
 * as ""). Any valid ma fits in OCTO_MULTIADDR_MAX_TEXT + 1 bytes. */
int octo_multiaddr_to_text(const struct octo_multiaddr *ma, char *out, size_t out_size);

/* Iterates components: *offset starts at 0; returns 1 and fills c while components remain,
 * 0 at the end. ma must be valid. */
int octo_multiaddr_next(const struct octo_multiaddr *ma, size_t *offset,
                        struct octo_ma_component *c);

/* Appends a component (value bytes in binary form) to ma, which may start zeroed.
 * OCTO_EINVAL for an unknown code or a value that is not valid for it (wrong size, bad dns
 * name, not a multihash); OCTO_ETOOBIG when the value exceeds its limit or the result would
 * exceed OCTO_MULTIADDR_MAX_BYTES or OCTO_MULTIADDR_MAX_COMPONENTS. ma is unchanged on error. */
int octo_multiaddr_push(struct octo_multiaddr *ma, uint64_t code, const uint8_t *value,
                        size_t value_len);

/* Protocol name for a code ("tcp"), or NULL for unknown codes. */
const char *octo_ma_proto_name(uint64_t code);

bool octo_multiaddr_equal(const struct octo_multiaddr *a, const struct octo_multiaddr *b);

#endif
