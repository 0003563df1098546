/*
 * identify.h — libp2p identify (/ipfs/id/1.0.0, /ipfs/id/push/1.0.0) and signed peer records
 * (RFC 0002 envelope carrying an RFC 0003 PeerRecord), sans-I/O.
 *
 * Identify { publicKey=1, listenAddrs=2*, protocols=3*, observedAddr=4, protocolVersion=5,
 * agentVersion=6, signedPeerRecord=8 } (proto/identify.proto). On the stream every message is
 * uvarint(len) || protobuf; the responder writes one message and closes its write side, the
 * reader accepts up to OCTO_IDENTIFY_MESSAGES_MAX messages until EOF (js behaviour).
 *
 * Decoding checks the size before unpacking and every count and length against a named limit.
 * Listen and observed addresses must be binary multiaddrs that base/multiaddr.h accepts; an
 * address that does not (malformed, or a protocol octo does not know, such as webtransport) is
 * dropped and counted in addrs_dropped instead of failing the whole message, so a peer with
 * exotic transports still identifies. The same holds for peer-record addresses.
 *
 * Signed peer records: domain "libp2p-peer-record", payload type the raw bytes 03 01 (what
 * go/js actually use; RFC 0003's values are outdated). Opening checks the size, the key, the
 * payload type, the signature, and that the record's peer id equals the envelope key's id and
 * (when given) the expected peer.
 *
 * Memory: decoded strings and byte fields are copied into a caller's arena (an arena of
 * OCTO_IDENTIFY_ARENA_MIN bytes holds any accepted message); protobuf-c's temporary unpacked
 * message goes through the counted allocator and is freed before return.
 */
#ifndef OCTO_P2P_IDENTIFY_H
#define OCTO_P2P_IDENTIFY_H

#include "base/buf.h"
#include "base/err.h"
#include "base/multiaddr.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_IDENTIFY_PROTOCOL "/ipfs/id/1.0.0"
#define OCTO_IDENTIFY_PUSH_PROTOCOL "/ipfs/id/push/1.0.0"
#define OCTO_IDENTIFY_MESSAGE_MAX 8192      /* body bytes (js) */
#define OCTO_IDENTIFY_MESSAGES_MAX 10       /* per stream (js MAX_IDENTIFY_MESSAGES) */
#define OCTO_IDENTIFY_PREFIX_MAX 2          /* varint bytes for OCTO_IDENTIFY_MESSAGE_MAX */
#define OCTO_IDENTIFY_ADDRS_MAX 32          /* listenAddrs entries */
#define OCTO_IDENTIFY_PROTOCOLS_MAX 128     /* protocols entries */
#define OCTO_IDENTIFY_PROTOCOL_LEN_MAX 1023 /* one protocol id (the mss limit) */
#define OCTO_IDENTIFY_VERSION_LEN_MAX 256   /* protocolVersion, agentVersion */
#define OCTO_IDENTIFY_RECORD_MAX 4096       /* signedPeerRecord / envelope bytes */
/* Copies of the fields plus pointer tables and alignment: twice the message is ample. */
#define OCTO_IDENTIFY_ARENA_MIN (2 * OCTO_IDENTIFY_MESSAGE_MAX + 4096)

#define OCTO_PEER_RECORD_DOMAIN "libp2p-peer-record"
#define OCTO_PEER_RECORD_ADDRS_MAX 32

/* Borrowed bytes. */
struct octo_identify_bytes {
    const uint8_t *data;
    size_t len;
};

/* An identify message. Encoding borrows the fields; decoding points them into the arena.
 * Absent optional fields: has_* false, strings NULL. */
struct octo_identify_info {
    bool has_public_key;
    struct octo_identify_bytes public_key; /* PublicKey protobuf */
    size_t listen_addrs_count;
    struct octo_identify_bytes listen_addrs[OCTO_IDENTIFY_ADDRS_MAX]; /* binary multiaddrs */
    size_t protocols_count;
    const char *protocols[OCTO_IDENTIFY_PROTOCOLS_MAX];
    bool has_observed_addr;
    struct octo_identify_bytes observed_addr;
    const char *protocol_version;
    const char *agent_version;
    bool has_signed_peer_record;
    struct octo_identify_bytes signed_peer_record; /* envelope bytes */
    size_t addrs_dropped; /* decode: listen/observed addrs that were not valid multiaddrs */
};

/* A verified peer record; addrs point into the arena given to octo_peer_record_open. */
struct octo_peer_record {
    struct octo_peerid peer_id;
    uint64_t seq;
    size_t addrs_count;
    struct octo_identify_bytes addrs[OCTO_PEER_RECORD_ADDRS_MAX];
    size_t addrs_dropped; /* record addresses that were not valid multiaddrs */
};

/* Appends ONE message, uvarint(len) || Identify protobuf (fields in tag order), to out.
 * info must respect the decode limits: counts, string lengths, non-empty strings without NUL
 * and valid multiaddrs. Errors: OCTO_EINVAL (a limit or field is violated), OCTO_ETOOBIG (the
 * body exceeds OCTO_IDENTIFY_MESSAGE_MAX, or out's ceiling), OCTO_ENOMEM. out is unchanged on
 * error. */
OCTO_MUST_USE int octo_identify_encode(const struct octo_identify_info *info, struct octo_buf *out);

/* Parses one message body (without its length prefix) into out, copying data into arena.
 * Errors: OCTO_ETOOBIG (len over OCTO_IDENTIFY_MESSAGE_MAX, checked before unpacking; a count
 * or length over its limit; the arena cap), OCTO_EMALFORMED (not a valid Identify protobuf,
 * a string with NUL or invalid UTF-8). out is zeroed on error. */
OCTO_MUST_USE int octo_identify_decode(const uint8_t *msg, size_t len,
                                       struct octo_identify_info *out, struct octo_arena *arena);

/* Checks that info's publicKey is the key of the connection's peer `expected`.
 * Errors: OCTO_ENOTFOUND (no publicKey), the errors of octo_pubkey_decode (OCTO_EMALFORMED,
 * OCTO_ENONCANON, OCTO_EUNSUPPORTED for non-Ed25519 keys, OCTO_ETOOBIG, OCTO_EINVAL),
 * OCTO_EPERM (the key belongs to another peer). */
OCTO_MUST_USE int octo_identify_check_peer(const struct octo_identify_info *info,
                                           const struct octo_peerid *expected);

/* Builds a signed peer record envelope for id (seq, count binary multiaddrs) and appends it
 * to out. Errors: OCTO_EINVAL (count over OCTO_PEER_RECORD_ADDRS_MAX), OCTO_ETOOBIG (the
 * envelope exceeds OCTO_IDENTIFY_RECORD_MAX or out's ceiling), OCTO_ENOMEM. */
OCTO_MUST_USE int octo_peer_record_seal(const struct octo_identity *id, uint64_t seq,
                                        const struct octo_multiaddr *addrs, size_t count,
                                        struct octo_buf *out);

/* Opens and verifies an envelope: size, PublicKey (Ed25519), payload type 03 01, signature
 * over the libp2p-peer-record domain, PeerRecord parse, record peer id == envelope key's id,
 * and == *expected when expected is not NULL. Addresses are copied into arena.
 * Errors: OCTO_ETOOBIG (envelope over OCTO_IDENTIFY_RECORD_MAX, more than
 * OCTO_PEER_RECORD_ADDRS_MAX addresses, arena cap), OCTO_EMALFORMED (protobuf, peer id),
 * octo_pubkey_decode's errors for the key, OCTO_EUNSUPPORTED (other payload type),
 * OCTO_EBADSIG (signature), OCTO_EPERM (peer id mismatch). out is zeroed on error. */
OCTO_MUST_USE int octo_peer_record_open(const uint8_t *env, size_t len,
                                        const struct octo_peerid *expected,
                                        struct octo_peer_record *out, struct octo_arena *arena);

/* Stream-side reader: consumes bytes and yields complete length-prefixed messages. */
struct octo_identify_reader {
    uint8_t buf[OCTO_IDENTIFY_PREFIX_MAX + OCTO_IDENTIFY_MESSAGE_MAX];
    size_t len;      /* bytes in buf */
    size_t msg_len;  /* body length once the prefix is complete */
    size_t msg_off;  /* 0 while the prefix is incomplete */
    bool ready;      /* a complete message waits for octo_identify_reader_next */
    size_t messages; /* complete messages seen */
};

void octo_identify_reader_init(struct octo_identify_reader *r);

/* Consumes bytes up to the end of the next complete message (then stops: take it with
 * octo_identify_reader_next before calling again; while one is waiting nothing is consumed).
 * Returns the count consumed. Errors: OCTO_ETOOBIG (a message over OCTO_IDENTIFY_MESSAGE_MAX
 * or its prefix over OCTO_IDENTIFY_PREFIX_MAX bytes, more than OCTO_IDENTIFY_MESSAGES_MAX
 * messages), OCTO_EMALFORMED (non-minimal prefix). */
OCTO_MUST_USE int octo_identify_reader_recv(struct octo_identify_reader *r, const uint8_t *data,
                                            size_t len);

/* Takes the waiting message: msg and len borrow its body until the next recv. False if none. */
bool octo_identify_reader_next(struct octo_identify_reader *r, const uint8_t **msg, size_t *len);

/* Call at EOF. Returns 0, or OCTO_EMALFORMED when the stream ended inside a message. */
OCTO_MUST_USE int octo_identify_reader_finish(const struct octo_identify_reader *r);

#endif
