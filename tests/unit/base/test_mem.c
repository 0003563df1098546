/*
 * test_mem.c — octo_wipe and the constant-time comparison.
 */
#include "base/mem.h"
#include "test.h"

static void test_wipe(void)
{
    uint8_t k[32];
    memset(k, 0xa5, sizeof(k));
    octo_wipe(k, 16);
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(k[i], 0);
    CHECK_EQ_INT(k[16], 0xa5);
    octo_wipe(k, 0);
    octo_wipe(NULL, 10); /* tolerated */
}

static void test_ct_equal(void)
{
    uint8_t a[40], b[40];
    memset(a, 1, sizeof(a));
    memset(b, 1, sizeof(b));
    CHECK(octo_ct_equal(a, b, sizeof(a)));
    CHECK(octo_ct_equal(a, b, 0));
    b[39] = 2;
    CHECK(!octo_ct_equal(a, b, sizeof(a)));
    CHECK(octo_ct_equal(a, b, 39));
    b[39] = 1;
    b[0] = 0x81; /* a difference in the high bit only */
    CHECK(!octo_ct_equal(a, b, sizeof(a)));
}

int main(void)
{
    OCTO_RUN(test_wipe);
    OCTO_RUN(test_ct_equal);
    return octo_test_finish();
}
