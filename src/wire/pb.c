/*
 * pb.c — protobuf-c allocator adapters and the canonical re-encoding check (see pb.h).
 *
 * protobuf-c calls alloc(allocator_data, size) and free(allocator_data, ptr); both adapters
 * ignore allocator_data. An allocation failure makes protobuf-c's unpack return NULL, which
 * callers report as a decode failure.
 */
#include "wire/pb.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/mem.h"

#include <string.h>

static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return octo_malloc(size);
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    octo_free(ptr);
}

static void pb_free_secret(void *data, void *ptr)
{
    (void)data;
    octo_free_secret(ptr);
}

static ProtobufCAllocator pb_allocator = {
    .alloc = pb_alloc,
    .free = pb_free,
    .allocator_data = NULL,
};

static ProtobufCAllocator pb_allocator_secret = {
    .alloc = pb_alloc,
    .free = pb_free_secret,
    .allocator_data = NULL,
};

ProtobufCAllocator *octo_pb_allocator(void)
{
    return &pb_allocator;
}

ProtobufCAllocator *octo_pb_allocator_secret(void)
{
    return &pb_allocator_secret;
}

int octo_pb_check_canonical(const ProtobufCMessage *msg, const uint8_t *in, size_t len,
                            uint8_t *scratch, size_t scratch_size)
{
    OCTO_ASSERT(msg != NULL);
    OCTO_ASSERT(in != NULL || len == 0);
    if (msg->n_unknown_fields != 0)
        return OCTO_ENONCANON;
    size_t packed_len = protobuf_c_message_get_packed_size(msg);
    if (packed_len != len)
        return OCTO_ENONCANON;
    if (packed_len > scratch_size)
        return OCTO_ENOSPACE;
    size_t written = protobuf_c_message_pack(msg, scratch);
    OCTO_ASSERT(written == packed_len);
    /* constant time: the bytes may be a private key */
    int rc = octo_ct_equal(scratch, in, len) ? 0 : OCTO_ENONCANON;
    octo_wipe(scratch, written);
    return rc;
}
