/*
 * test_ratelimit.c — token buckets: a minute's burst passes and the next is refused with the
 * exact wait, refill at the rate to the millisecond, keys apart from each other, time going
 * backwards changes nothing, and a full table forgets the stalest key.
 */
#include "api/ratelimit.h"
#include "test.h"

#include <stdio.h>

static struct octo_ratelimit g_rl;

static void test_bucket(void)
{
    octo_ratelimit_init(&g_rl);
    uint64_t wait;
    for (int i = 0; i < 6; i++) /* 6 per minute: a burst of 6 */
        CHECK(octo_ratelimit_take(&g_rl, "k1", 6, 1000, &wait));
    CHECK(!octo_ratelimit_take(&g_rl, "k1", 6, 1000, &wait));
    CHECK_EQ_U64(wait, 10000); /* one request per 10 s */
    CHECK(!octo_ratelimit_take(&g_rl, "k1", 6, 10999, &wait));
    CHECK_EQ_U64(wait, 1);
    CHECK(octo_ratelimit_take(&g_rl, "k1", 6, 11000, &wait));
    CHECK(octo_ratelimit_take(&g_rl, "k2", 6, 11000, &wait)); /* another key: its own bucket */
    CHECK(!octo_ratelimit_take(&g_rl, "k1", 6, 5000, &wait)); /* time went back: no refill */
    /* a long pause refills to the burst, not beyond */
    int n = 0;
    while (octo_ratelimit_take(&g_rl, "k1", 6, 10000000, &wait))
        n++;
    CHECK_EQ_INT(n, 6);
    /* 7 per minute: the wait rounds up */
    CHECK(octo_ratelimit_take(&g_rl, "k3", 7, 0, &wait));
    for (int i = 0; i < 6; i++)
        CHECK(octo_ratelimit_take(&g_rl, "k3", 7, 0, &wait));
    CHECK(!octo_ratelimit_take(&g_rl, "k3", 7, 0, &wait));
    CHECK_EQ_U64(wait, 8572); /* 60000 / 7 = 8571.4 */
}

static void test_full_table(void)
{
    octo_ratelimit_init(&g_rl);
    char key[16];
    uint64_t wait;
    for (int i = 0; i < OCTO_RATE_KEYS_MAX; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        CHECK(octo_ratelimit_take(&g_rl, key, 1, (uint64_t)i + 1, &wait));
    }
    CHECK_EQ_U64(g_rl.forgotten, 0);
    snprintf(key, sizeof(key), "key%d", 5);
    CHECK(!octo_ratelimit_take(&g_rl, key, 1, 10000, &wait)); /* still remembered */
    CHECK(octo_ratelimit_take(&g_rl, "newcomer", 1, 10000, &wait));
    CHECK_EQ_U64(g_rl.forgotten, 1); /* key0, seen longest ago, made room */
    CHECK(octo_ratelimit_take(&g_rl, "key0", 1, 10000, &wait)); /* forgotten: starts full */
}

int main(void)
{
    OCTO_RUN(test_bucket);
    OCTO_RUN(test_full_table);
    return octo_test_finish();
}
