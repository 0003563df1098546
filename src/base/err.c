/*
 * err.c — messages and names for OCTO_E* codes, and the errno mapping used at I/O edges.
 *
 * The table is the X-macro in err.h, so a new code cannot be added without its message.
 */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

const char *octo_strerror(int err)
{
    switch (err) {
    case OCTO_OK:
        return "success";
#define OCTO_ERR_MSG(name, value, msg)                                                             \
    case OCTO_##name:                                                                              \
        return msg;
        OCTO_ERRNO_MAP(OCTO_ERR_MSG)
#undef OCTO_ERR_MSG
    default:
        return "unknown error";
    }
}

const char *octo_err_name(int err)
{
    switch (err) {
    case OCTO_OK:
        return "OCTO_OK";
#define OCTO_ERR_NAME(name, value, msg)                                                            \
    case OCTO_##name:                                                                              \
        return "OCTO_" #name;
        OCTO_ERRNO_MAP(OCTO_ERR_NAME)
#undef OCTO_ERR_NAME
    default:
        return "OCTO_EUNKNOWN";
    }
}

/*
 * errno -> OCTO_E*:
 *   ENOENT -> ENOTFOUND   EEXIST -> EEXIST   EACCES, EPERM, EROFS -> EPERM
 *   ENOMEM -> ENOMEM      EINVAL -> EINVAL   EAGAIN, EWOULDBLOCK, EINTR -> EAGAIN
 *   EBUSY -> EBUSY        EFBIG, ENAMETOOLONG -> ETOOBIG     ERANGE -> ERANGE
 *   ECONNREFUSED -> ECONNREFUSED   ETIMEDOUT -> ETIMEDOUT   ECONNRESET, EPIPE -> ERESET
 *   anything else -> EIO
 */
int octo_err_from_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
        return OCTO_ENOTFOUND;
    case EEXIST:
        return OCTO_EEXIST;
    case EACCES:
    case EPERM:
    case EROFS:
        return OCTO_EPERM;
    case ENOMEM:
        return OCTO_ENOMEM;
    case EINVAL:
        return OCTO_EINVAL;
    case EAGAIN:
    case EINTR:
        return OCTO_EAGAIN;
    case EBUSY:
        return OCTO_EBUSY;
    case EFBIG:
    case ENAMETOOLONG:
        return OCTO_ETOOBIG;
    case ERANGE:
        return OCTO_ERANGE;
    case ECONNREFUSED:
        return OCTO_ECONNREFUSED;
    case ETIMEDOUT:
        return OCTO_ETIMEDOUT;
    case ECONNRESET:
    case EPIPE:
        return OCTO_ERESET;
    default:
        return OCTO_EIO;
    }
}

int octo_err_reason(char *reason, size_t size, int rc, const char *fmt, ...)
{
    if (reason != NULL && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, size, fmt, ap);
        va_end(ap);
    }
    return rc;
}
