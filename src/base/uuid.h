/*
 * uuid.h — RFC 4122 version-4 UUIDs in their text form (8-4-4-4-12 lowercase hex). The caller
 * draws the 16 random bytes (nothing here reads a random source).
 */
#ifndef OCTO_BASE_UUID_H
#define OCTO_BASE_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define OCTO_UUID_TEXT_LEN 36

/* A version-4 UUID made from 16 random bytes (version and variant bits set). */
void octo_uuid_v4(const uint8_t random[16], char out[OCTO_UUID_TEXT_LEN + 1]);
/* Whether text is a UUID in the lowercase text form. */
bool octo_uuid_valid(const char *text);

#endif
