/*
 * pb.h — protobuf-c glue: allocators that route protobuf-c's heap use through the counted
 * allocator (base/alloc.h), and a canonical-form check for decoded messages.
 *
 * protobuf-c decodes leniently (any field order, duplicates, non-minimal varints, unknown
 * fields). Where the protocol demands a deterministic encoding (libp2p keys), the caller
 * unpacks and then calls octo_pb_check_canonical, which re-encodes the message and compares
 * the bytes with the input.
 */
#ifndef OCTO_WIRE_PB_H
#define OCTO_WIRE_PB_H

#include "base/err.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Allocator for messages holding public data: octo_malloc / octo_free. Never NULL; the
 * returned object is static and shared (protobuf-c only reads it). */
ProtobufCAllocator *octo_pb_allocator(void);

/* Allocator for messages that may hold secrets (private keys): blocks are wiped when
 * protobuf-c frees them (octo_free_secret). */
ProtobufCAllocator *octo_pb_allocator_secret(void);

/* Checks that msg, freshly unpacked from in[0..len), is the canonical encoding of itself:
 * no unknown fields at the top level, and packing it again gives exactly the input bytes.
 * scratch (scratch_size bytes, >= len) receives the re-encoding and is wiped before return,
 * so it may be used for secrets. Only the top-level message is checked for unknown fields;
 * messages with nested message fields need their own walk.
 * Returns 0, or OCTO_ENONCANON (unknown field, different length or bytes), OCTO_ENOSPACE
 * (scratch too small: a programmer error in practice). */
OCTO_MUST_USE int octo_pb_check_canonical(const ProtobufCMessage *msg, const uint8_t *in,
                                          size_t len, uint8_t *scratch, size_t scratch_size);

#endif
