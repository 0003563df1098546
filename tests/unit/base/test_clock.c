/*
 * test_clock.c — the manual clock and RFC 3339 formatting. Expected strings were computed
 * independently with Python's datetime (floor to the millisecond, proleptic Gregorian):
 *   (datetime(1970,1,1) + timedelta(milliseconds=ns // 10**6)).strftime(...)
 */
#include "base/clock.h"
#include "test.h"

static void test_manual_clock(void)
{
    struct octo_clock_manual m;
    octo_clock_manual_init(&m, 1000, 1700000000000000000);
    const struct octo_clock *c = &m.clock;
    CHECK_EQ_U64(octo_clock_mono(c), 1000);
    CHECK_EQ_INT(octo_clock_wall(c), 1700000000000000000);
    /* it does not move by itself */
    CHECK_EQ_U64(octo_clock_mono(c), 1000);
    octo_clock_manual_advance(&m, 5 * OCTO_NS_PER_S);
    CHECK_EQ_U64(octo_clock_mono(c), 1000 + 5 * OCTO_NS_PER_S);
    CHECK_EQ_INT(octo_clock_wall(c), 1700000005000000000);
    octo_clock_manual_advance(&m, 0);
    CHECK_EQ_U64(octo_clock_mono(c), 1000 + 5 * OCTO_NS_PER_S);
    m.wall = -5; /* wall time may be set backwards; mono only advances */
    CHECK_EQ_INT(octo_clock_wall(c), -5);
}

struct time_case {
    int64_t ns;
    const char *text;
};

static void test_rfc3339(void)
{
    static const struct time_case cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {999999, "1970-01-01T00:00:00.000Z"}, /* sub-millisecond is cut, not rounded */
        {1000000, "1970-01-01T00:00:00.001Z"},
        {951782400000000000, "2000-02-29T00:00:00.000Z"}, /* leap day of a 400-year */
        {951868799999999999, "2000-02-29T23:59:59.999Z"},
        {1700000000123456789, "2023-11-14T22:13:20.123Z"},
        {4102444800123456789, "2100-01-01T00:00:00.123Z"},
        {4107542400000000000, "2100-03-01T00:00:00.000Z"}, /* 2100 is not a leap year */
        {INT64_MAX, "2262-04-11T23:47:16.854Z"},           /* the far end of int64 ns */
        {-1, "1969-12-31T23:59:59.999Z"},                  /* negative times floor */
        {-999999, "1969-12-31T23:59:59.999Z"},
        {-1000000, "1969-12-31T23:59:59.999Z"},
        {-1000001, "1969-12-31T23:59:59.998Z"},
        {-86400000000000, "1969-12-31T00:00:00.000Z"},
        {-2203891200000000000, "1900-03-01T00:00:00.000Z"}, /* 1900 is not a leap year */
        {-2208988800000000000, "1900-01-01T00:00:00.000Z"},
        {INT64_MIN, "1677-09-21T00:12:43.145Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[OCTO_RFC3339_LEN];
        int n = octo_time_format_rfc3339(cases[i].ns, out, sizeof(out));
        CHECK_EQ_INT(n, 24);
        CHECK_STR(out, cases[i].text);
    }
}

static void test_rfc3339_larger_buffer(void)
{
    char out[64];
    memset(out, 'x', sizeof(out));
    CHECK_EQ_INT(octo_time_format_rfc3339(0, out, sizeof(out)), 24);
    CHECK_EQ_INT(out[24], '\0');
}

int main(void)
{
    OCTO_RUN(test_manual_clock);
    OCTO_RUN(test_rfc3339);
    OCTO_RUN(test_rfc3339_larger_buffer);
    return octo_test_finish();
}
