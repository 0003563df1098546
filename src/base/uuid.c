/*
 * uuid.c — version-4 UUID text (uuid.h).
 */
#include "base/uuid.h"

#include "base/assert.h"
#include "base/hex.h"

#include <stdio.h>
#include <string.h>

void octo_uuid_v4(const uint8_t random[16], char out[OCTO_UUID_TEXT_LEN + 1])
{
    uint8_t b[16];
    memcpy(b, random, 16);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    OCTO_ASSERT(octo_hex_encode(b, 16, hex, sizeof(hex)) == 32);
    snprintf(out, OCTO_UUID_TEXT_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

bool octo_uuid_valid(const char *t)
{
    if (strlen(t) != OCTO_UUID_TEXT_LEN)
        return false;
    for (size_t i = 0; i < OCTO_UUID_TEXT_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = t[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}
