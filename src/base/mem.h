/*
 * mem.h — memory helpers for secrets: a wipe the compiler cannot elide and a constant-time
 * comparison. Implemented without libsodium so that base stays dependency-free; crypto/ uses
 * libsodium's equivalents where it already holds a libsodium buffer.
 */
#ifndef OCTO_BASE_MEM_H
#define OCTO_BASE_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Overwrites len bytes at p with zeros; never optimised away. */
void octo_wipe(void *p, size_t len);

/* Constant-time equality of two len-byte buffers: the time depends on len only. */
bool octo_ct_equal(const void *a, const void *b, size_t len);

#endif
