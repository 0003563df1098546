/*
 * fuzz_identify.c — libFuzzer harness for identify and signed peer records. The input is
 * decoded as an Identify body (if that succeeds, re-encoding must decode to the same info:
 * a pair check of encoder and decoder), opened as a peer-record envelope (a success must
 * satisfy the record invariants), and streamed through the identify reader.
 */
#include "base/assert.h"
#include "base/buf.h"
#include "base/varint.h"
#include "crypto/ident.h"
#include "crypto/peerid.h"
#include "p2p/identify.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool bytes_eq(struct octo_identify_bytes a, struct octo_identify_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_same(const struct octo_identify_info *a, const struct octo_identify_info *b)
{
    OCTO_ASSERT(a->has_public_key == b->has_public_key);
    OCTO_ASSERT(!a->has_public_key || bytes_eq(a->public_key, b->public_key));
    OCTO_ASSERT(a->listen_addrs_count == b->listen_addrs_count);
    for (size_t i = 0; i < a->listen_addrs_count; i++)
        OCTO_ASSERT(bytes_eq(a->listen_addrs[i], b->listen_addrs[i]));
    OCTO_ASSERT(a->protocols_count == b->protocols_count);
    for (size_t i = 0; i < a->protocols_count; i++)
        OCTO_ASSERT(str_eq(a->protocols[i], b->protocols[i]));
    OCTO_ASSERT(a->has_observed_addr == b->has_observed_addr);
    OCTO_ASSERT(!a->has_observed_addr || bytes_eq(a->observed_addr, b->observed_addr));
    OCTO_ASSERT(str_eq(a->protocol_version, b->protocol_version));
    OCTO_ASSERT(str_eq(a->agent_version, b->agent_version));
    OCTO_ASSERT(a->has_signed_peer_record == b->has_signed_peer_record);
    OCTO_ASSERT(!a->has_signed_peer_record ||
                bytes_eq(a->signed_peer_record, b->signed_peer_record));
    OCTO_ASSERT(b->addrs_dropped == 0);
}

static void fuzz_decode(const uint8_t *data, size_t size, struct octo_arena *arena)
{
    struct octo_identify_info info;
    if (octo_identify_decode(data, size, &info, arena) != 0)
        return;
    struct octo_buf out;
    octo_buf_init(&out, 2 * OCTO_IDENTIFY_MESSAGE_MAX);
    int rc = octo_identify_encode(&info, &out);
    /* dropping invalid addresses and unknown fields only shrinks a message */
    OCTO_ASSERT(rc == 0);
    uint64_t body_len;
    int plen = octo_varint_decode(out.data, out.len, &body_len);
    OCTO_ASSERT(plen > 0);
    OCTO_ASSERT((size_t)plen + body_len == out.len);
    OCTO_ASSERT(body_len <= size);
    struct octo_identify_info again;
    OCTO_ASSERT(octo_identify_decode(out.data + plen, (size_t)body_len, &again, arena) == 0);
    check_same(&info, &again);
    struct octo_peerid any = {.len = 0};
    int crc = octo_identify_check_peer(&info, &any);
    OCTO_ASSERT(crc < 0); /* no key matches an empty peer id */
    if (info.has_signed_peer_record) {
        struct octo_peer_record rec;
        if (octo_peer_record_open(info.signed_peer_record.data, info.signed_peer_record.len, NULL,
                                  &rec, arena) == 0)
            OCTO_ASSERT(rec.addrs_count <= OCTO_PEER_RECORD_ADDRS_MAX);
    }
    octo_buf_deinit(&out);
}

static void fuzz_record(const uint8_t *data, size_t size, struct octo_arena *arena)
{
    struct octo_peer_record rec;
    if (octo_peer_record_open(data, size, NULL, &rec, arena) != 0) {
        OCTO_ASSERT(rec.addrs_count == 0);
        return;
    }
    OCTO_ASSERT(rec.addrs_count <= OCTO_PEER_RECORD_ADDRS_MAX);
    struct octo_pubkey pub;
    OCTO_ASSERT(octo_peerid_pubkey(&rec.peer_id, &pub) == 0);
    OCTO_ASSERT(octo_peer_record_open(data, size, &rec.peer_id, &rec, arena) == 0);
}

static void fuzz_reader(const uint8_t *data, size_t size)
{
    static struct octo_identify_reader r;
    octo_identify_reader_init(&r);
    size_t off = 0;
    while (off < size) {
        int rc = octo_identify_reader_recv(&r, data + off, size - off);
        if (rc < 0)
            return;
        off += (size_t)rc;
        const uint8_t *msg;
        size_t len;
        if (octo_identify_reader_next(&r, &msg, &len))
            OCTO_ASSERT(len <= OCTO_IDENTIFY_MESSAGE_MAX);
        else
            OCTO_ASSERT(off == size);
    }
    OCTO_ASSERT(r.messages <= OCTO_IDENTIFY_MESSAGES_MAX);
    int frc = octo_identify_reader_finish(&r);
    OCTO_ASSERT(frc == 0 || frc == OCTO_EMALFORMED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        OCTO_ASSERT(octo_crypto_init() == 0);
        initialised = 1;
    }
    struct octo_arena arena;
    octo_arena_init(&arena, 4096, OCTO_IDENTIFY_ARENA_MIN);
    fuzz_decode(data, size, &arena);
    octo_arena_reset(&arena);
    fuzz_record(data, size, &arena);
    octo_arena_deinit(&arena);
    fuzz_reader(data, size);
    return 0;
}
