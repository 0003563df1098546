/*
 * err.h — error codes shared by every module.
 *
 * Fallible functions return int: 0 on success, a negative OCTO_E* code on failure; a positive
 * value may carry a count (bytes consumed or written) where the contract says so. errno never
 * crosses a module boundary: OS errors are mapped with octo_err_from_errno() at the I/O edge.
 */
#ifndef OCTO_BASE_ERR_H
#define OCTO_BASE_ERR_H

#include <stddef.h>

/* X-macro table: name, value, message. Values are stable; never reuse a retired one. */
#define OCTO_ERRNO_MAP(X)                                                                          \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(ETOOBIG, -3, "input exceeds its limit")                                                      \
    X(EAGAIN, -4, "incomplete, call again with more input")                                        \
    X(EMALFORMED, -5, "malformed encoding")                                                        \
    X(ENONCANON, -6, "non-canonical encoding")                                                     \
    X(EUNSUPPORTED, -7, "unsupported")                                                             \
    X(ENOTFOUND, -8, "not found")                                                                  \
    X(EEXIST, -9, "already exists")                                                                \
    X(EIO, -10, "input/output error")                                                              \
    X(EPERM, -11, "permission denied")                                                             \
    X(EBADSIG, -12, "signature verification failed")                                               \
    X(EDECRYPT, -13, "decryption failed (wrong key or corrupted data)")                            \
    X(EBUSY, -14, "resource busy")                                                                 \
    X(ESTORE, -15, "storage backend error")                                                        \
    X(ECONFIG, -16, "invalid configuration")                                                       \
    X(ERANGE, -17, "value out of range")                                                           \
    X(ECRYPTO, -18, "cryptographic library failure")                                               \
    X(ESTATE, -19, "operation not valid in the current state")                                     \
    X(ENOSPACE, -20, "output buffer too small")                                                    \
    X(ERESET, -21, "stream or connection reset by the peer")                                       \
    X(ETIMEDOUT, -22, "timed out")                                                                 \
    X(ECLOSED, -23, "connection closed")                                                           \
    X(EPROTO, -24, "protocol violation by the peer")                                               \
    X(ECONNREFUSED, -25, "connection refused")                                                     \
    X(ELIMIT, -26, "refused: a connection or rate limit was reached")

enum octo_err {
    OCTO_OK = 0,
#define OCTO_ERR_ENUM(name, value, msg) OCTO_##name = (value),
    OCTO_ERRNO_MAP(OCTO_ERR_ENUM)
#undef OCTO_ERR_ENUM
};

/* Human-readable message for an error code; never NULL. Unknown codes give "unknown error". */
const char *octo_strerror(int err);

/* Symbolic name of an error code ("OCTO_EINVAL"); never NULL. */
const char *octo_err_name(int err);

/* Maps a positive errno value to an OCTO_E* code (documented table in err.c). */
int octo_err_from_errno(int errnum);

/* Writes the printf-formatted reason into reason[0..size) when reason is not NULL and size > 0,
 * and returns rc: the one-line "say why, return the code" of parsers and loaders. */
int octo_err_reason(char *reason, size_t size, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define OCTO_MUST_USE __attribute__((warn_unused_result))

/* Discards the result of an OCTO_MUST_USE call on purpose (a cast to void does not). */
#define OCTO_IGNORE(expr)                                                                          \
    do {                                                                                           \
        int octo_ignored_ = (expr);                                                                \
        (void)octo_ignored_;                                                                       \
    } while (0)

#endif
