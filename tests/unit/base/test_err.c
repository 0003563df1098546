/*
 * test_err.c — error codes: every code has a distinct negative value, a name and a message;
 * unknown codes fall back; the errno mapping follows the table documented in err.c;
 * octo_err_reason formats, truncates, tolerates no buffer and returns its code.
 */
#include "base/err.h"
#include "test.h"

#include <errno.h>
#include <string.h>

struct err_row {
    int code;
    const char *name;
    const char *msg;
};

/* Written out by hand (not generated from OCTO_ERRNO_MAP) so that a changed value, name or
 * message in err.h is caught. */
static const struct err_row rows[] = {
    {OCTO_EINVAL, "OCTO_EINVAL", "invalid argument"},
    {OCTO_ENOMEM, "OCTO_ENOMEM", "out of memory"},
    {OCTO_ETOOBIG, "OCTO_ETOOBIG", "input exceeds its limit"},
    {OCTO_EAGAIN, "OCTO_EAGAIN", "incomplete, call again with more input"},
    {OCTO_EMALFORMED, "OCTO_EMALFORMED", "malformed encoding"},
    {OCTO_ENONCANON, "OCTO_ENONCANON", "non-canonical encoding"},
    {OCTO_EUNSUPPORTED, "OCTO_EUNSUPPORTED", "unsupported"},
    {OCTO_ENOTFOUND, "OCTO_ENOTFOUND", "not found"},
    {OCTO_EEXIST, "OCTO_EEXIST", "already exists"},
    {OCTO_EIO, "OCTO_EIO", "input/output error"},
    {OCTO_EPERM, "OCTO_EPERM", "permission denied"},
    {OCTO_EBADSIG, "OCTO_EBADSIG", "signature verification failed"},
    {OCTO_EDECRYPT, "OCTO_EDECRYPT", "decryption failed (wrong key or corrupted data)"},
    {OCTO_EBUSY, "OCTO_EBUSY", "resource busy"},
    {OCTO_ESTORE, "OCTO_ESTORE", "storage backend error"},
    {OCTO_ECONFIG, "OCTO_ECONFIG", "invalid configuration"},
    {OCTO_ERANGE, "OCTO_ERANGE", "value out of range"},
    {OCTO_ECRYPTO, "OCTO_ECRYPTO", "cryptographic library failure"},
    {OCTO_ESTATE, "OCTO_ESTATE", "operation not valid in the current state"},
    {OCTO_ENOSPACE, "OCTO_ENOSPACE", "output buffer too small"},
    {OCTO_ERESET, "OCTO_ERESET", "stream or connection reset by the peer"},
    {OCTO_ETIMEDOUT, "OCTO_ETIMEDOUT", "timed out"},
    {OCTO_ECLOSED, "OCTO_ECLOSED", "connection closed"},
    {OCTO_EPROTO, "OCTO_EPROTO", "protocol violation by the peer"},
    {OCTO_ECONNREFUSED, "OCTO_ECONNREFUSED", "connection refused"},
    {OCTO_ELIMIT, "OCTO_ELIMIT", "refused: a connection or rate limit was reached"},
};

static void test_values_stable(void)
{
    /* Values are part of the API: they are never renumbered. */
    CHECK_EQ_INT(OCTO_OK, 0);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        CHECK_EQ_INT(rows[i].code, -(int)(i + 1));
}

static void test_every_code_in_table(void)
{
    size_t n = 0;
#define COUNT_ONE(name, value, msg) n++;
    OCTO_ERRNO_MAP(COUNT_ONE)
#undef COUNT_ONE
    CHECK_EQ_INT(n, sizeof(rows) / sizeof(rows[0]));
}

static void test_names_and_messages(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CHECK_STR(octo_err_name(rows[i].code), rows[i].name);
        CHECK_STR(octo_strerror(rows[i].code), rows[i].msg);
    }
    CHECK_STR(octo_err_name(OCTO_OK), "OCTO_OK");
    CHECK_STR(octo_strerror(OCTO_OK), "success");
}

static void test_unknown_codes(void)
{
    const int unknown[] = {-27, -1000, 1, 42, -2147483647 - 1};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        CHECK_STR(octo_err_name(unknown[i]), "OCTO_EUNKNOWN");
        CHECK_STR(octo_strerror(unknown[i]), "unknown error");
    }
}

static void test_errno_mapping(void)
{
    CHECK_EQ_INT(octo_err_from_errno(ENOENT), OCTO_ENOTFOUND);
    CHECK_EQ_INT(octo_err_from_errno(EEXIST), OCTO_EEXIST);
    CHECK_EQ_INT(octo_err_from_errno(EACCES), OCTO_EPERM);
    CHECK_EQ_INT(octo_err_from_errno(EPERM), OCTO_EPERM);
    CHECK_EQ_INT(octo_err_from_errno(EROFS), OCTO_EPERM);
    CHECK_EQ_INT(octo_err_from_errno(ENOMEM), OCTO_ENOMEM);
    CHECK_EQ_INT(octo_err_from_errno(EINVAL), OCTO_EINVAL);
    CHECK_EQ_INT(octo_err_from_errno(EAGAIN), OCTO_EAGAIN);
    CHECK_EQ_INT(octo_err_from_errno(EWOULDBLOCK), OCTO_EAGAIN);
    CHECK_EQ_INT(octo_err_from_errno(EINTR), OCTO_EAGAIN);
    CHECK_EQ_INT(octo_err_from_errno(EBUSY), OCTO_EBUSY);
    CHECK_EQ_INT(octo_err_from_errno(EFBIG), OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_err_from_errno(ENAMETOOLONG), OCTO_ETOOBIG);
    CHECK_EQ_INT(octo_err_from_errno(ERANGE), OCTO_ERANGE);
    CHECK_EQ_INT(octo_err_from_errno(EPIPE), OCTO_ERESET);
    CHECK_EQ_INT(octo_err_from_errno(ECONNRESET), OCTO_ERESET);
    CHECK_EQ_INT(octo_err_from_errno(ECONNREFUSED), OCTO_ECONNREFUSED);
    CHECK_EQ_INT(octo_err_from_errno(ETIMEDOUT), OCTO_ETIMEDOUT);
    CHECK_EQ_INT(octo_err_from_errno(EHOSTUNREACH), OCTO_EIO);
    CHECK_EQ_INT(octo_err_from_errno(0), OCTO_EIO);
}

static void test_reason(void)
{
    char r[16];
    CHECK_ERR(octo_err_reason(r, sizeof(r), OCTO_EMALFORMED, "bad %s at %d", "key", 7),
              OCTO_EMALFORMED);
    CHECK(strcmp(r, "bad key at 7") == 0);
    CHECK_ERR(octo_err_reason(r, sizeof(r), OCTO_EINVAL, "%s", "a reason longer than 16"),
              OCTO_EINVAL);
    CHECK(strcmp(r, "a reason longer") == 0); /* truncated, terminated */
    CHECK_ERR(octo_err_reason(NULL, 0, OCTO_ENOMEM, "unused %d", 1), OCTO_ENOMEM);
    r[0] = 'x';
    CHECK_ERR(octo_err_reason(r, 0, OCTO_EIO, "unused"), OCTO_EIO);
    CHECK(r[0] == 'x');
}

int main(void)
{
    OCTO_RUN(test_values_stable);
    OCTO_RUN(test_every_code_in_table);
    OCTO_RUN(test_names_and_messages);
    OCTO_RUN(test_unknown_codes);
    OCTO_RUN(test_errno_mapping);
    OCTO_RUN(test_reason);
    return octo_test_finish();
}
