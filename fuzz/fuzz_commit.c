/*
 * fuzz_commit.c — libFuzzer harness for the execution commitment (intel/commit.h).
 *
 * The input is decoded as a commitment; an accepted one must encode back to the same bytes
 * (one encoding per commitment) and its signature check must return a defined answer.
 */
#include "base/assert.h"
#include "intel/commit.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct octo_commitment c;
    if (octo_commit_decode(data, size, &c) != 0)
        return 0;
    OCTO_ASSERT(size == OCTO_COMMIT_LEN && c.quant[0] != '\0' && c.end_ms >= c.start_ms);
    uint8_t re[OCTO_COMMIT_LEN];
    OCTO_ASSERT(octo_commit_encode(&c, re) == 0);
    OCTO_ASSERT(memcmp(re, data, OCTO_COMMIT_LEN) == 0);
    int rc = octo_commit_verify(data);
    OCTO_ASSERT(rc == 0 || rc == OCTO_EBADSIG);
    return 0;
}
