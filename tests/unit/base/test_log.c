/*
 * test_log.c — the logger: exact bytes of both line formats, quoting and escaping,
 * truncation of overlong lines, level/format parsing, level filtering and the sink.
 */
#include "base/err.h"
#include "base/log.h"
#include "test.h"

static char line[OCTO_LOG_LINE_MAX];

static const char *fmt_line(enum octo_log_format format, int64_t ns, int have_time,
                            enum octo_log_level level, const char *module, const char *msg,
                            const char *const *kv)
{
    size_t n =
        octo_log_format_line(line, sizeof(line), format, ns, have_time, level, module, msg, kv);
    if (n != strlen(line))
        return "length mismatch";
    return line;
}

static void test_plain(void)
{
    const char *kv[] = {"path", "/x", NULL};
    CHECK_STR(fmt_line(OCTO_LOG_PLAIN, 0, 0, OCTO_LOG_INFO, "store", "opened database", kv),
              "level=info module=store msg=\"opened database\" path=/x\n");
    CHECK_STR(fmt_line(OCTO_LOG_PLAIN, 1700000000123456789, 1, OCTO_LOG_ERROR, "net", "down", NULL),
              "ts=2023-11-14T22:13:20.123Z level=error module=net msg=down\n");
}

static void test_json(void)
{
    const char *kv[] = {"path", "/x", "n", "3", NULL};
    CHECK_STR(fmt_line(OCTO_LOG_JSON, 0, 1, OCTO_LOG_WARN, "store", "opened database", kv),
              "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"warn\",\"module\":\"store\","
              "\"msg\":\"opened database\",\"path\":\"/x\",\"n\":\"3\"}\n");
    CHECK_STR(fmt_line(OCTO_LOG_JSON, 0, 0, OCTO_LOG_TRACE, "m", "", NULL),
              "{\"level\":\"trace\",\"module\":\"m\",\"msg\":\"\"}\n");
}

static void test_plain_quoting(void)
{
    /* bare only when every byte is safe: no space, quote, '=', backslash, control or DEL */
    const char *kv[] = {"empty", "",          "eq",     "a=b", "q",    "say \"hi\"", "bs",
                        "a\\b",  "nl",        "l1\nl2", "tab", "a\tb", "ctl",        "\x01\x1f\x7f",
                        "utf8",  "h\xc3\xa9", NULL};
    CHECK_STR(fmt_line(OCTO_LOG_PLAIN, 0, 0, OCTO_LOG_DEBUG, "m", "x", kv),
              "level=debug module=m msg=x empty=\"\" eq=\"a=b\" q=\"say \\\"hi\\\"\" "
              "bs=\"a\\\\b\" nl=\"l1\\nl2\" tab=\"a\\tb\" ctl=\"\\u0001\\u001f\\u007f\" "
              "utf8=h\xc3\xa9\n");
}

static void test_json_escaping(void)
{
    const char *kv[] = {"k\"ey", "v\\al", NULL};
    CHECK_STR(fmt_line(OCTO_LOG_JSON, 0, 0, OCTO_LOG_INFO, "m", "a\"b\nc\rd\te\x01\x7f", kv),
              "{\"level\":\"info\",\"module\":\"m\",\"msg\":\"a\\\"b\\nc\\u000dd\\te\\u0001"
              "\\u007f\",\"k\\\"ey\":\"v\\\\al\"}\n");
}

static void test_kv_odd_list_stops(void)
{
    const char *kv[] = {"a", "1", "dangling", NULL};
    CHECK_STR(fmt_line(OCTO_LOG_PLAIN, 0, 0, OCTO_LOG_INFO, "m", "x", kv),
              "level=info module=m msg=x a=1\n");
}

static void test_truncation(void)
{
    char msg[300];
    memset(msg, 'a', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    char out[64];
    size_t n =
        octo_log_format_line(out, sizeof(out), OCTO_LOG_PLAIN, 0, 0, OCTO_LOG_INFO, "m", msg, NULL);
    /* 58 bytes of content (64 minus the "...\n", the NUL and one spare), then the marker */
    char want[64];
    snprintf(want, sizeof(want), "level=info module=m msg=%.34s...\n", msg);
    CHECK_STR(out, want);
    CHECK_EQ_INT(n, 62);

    n = octo_log_format_line(out, sizeof(out), OCTO_LOG_JSON, 0, 0, OCTO_LOG_INFO, "m", msg, NULL);
    snprintf(want, sizeof(want), "{\"level\":\"info\",\"module\":\"m\",\"msg\":\"%.22s...\n", msg);
    CHECK_STR(out, want);
    CHECK_EQ_INT(n, 62);

    /* a full-size line through the real buffer size */
    static char huge[3 * OCTO_LOG_LINE_MAX];
    memset(huge, 'z', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    n = octo_log_format_line(line, sizeof(line), OCTO_LOG_JSON, 0, 1, OCTO_LOG_INFO, "m", huge,
                             NULL);
    CHECK(n < sizeof(line));
    CHECK_EQ_INT(n, strlen(line));
    CHECK(memcmp(line + n - 4, "...\n", 4) == 0);
}

static void test_truncation_of_escapes_stays_bounded(void)
{
    char msg[200];
    memset(msg, '\x01', sizeof(msg) - 1); /* each byte becomes six */
    msg[sizeof(msg) - 1] = '\0';
    char out[100];
    memset(out, '#', sizeof(out));
    size_t n =
        octo_log_format_line(out, sizeof(out), OCTO_LOG_PLAIN, 0, 0, OCTO_LOG_INFO, "m", msg, NULL);
    CHECK(n < sizeof(out));
    CHECK_EQ_INT(out[n], '\0');
    CHECK_EQ_INT(out[n - 1], '\n');
}

static void test_parse(void)
{
    static const char *const names[] = {"trace", "debug", "info", "warn", "error", "off"};
    for (int i = 0; i <= OCTO_LOG_OFF; i++) {
        enum octo_log_level lv;
        CHECK_OK(octo_log_level_parse(names[i], &lv));
        CHECK_EQ_INT(lv, i);
        CHECK_STR(octo_log_level_name((enum octo_log_level)i), names[i]);
    }
    enum octo_log_level lv = OCTO_LOG_INFO;
    CHECK_ERR(octo_log_level_parse("INFO", &lv), OCTO_EINVAL);
    CHECK_ERR(octo_log_level_parse("", &lv), OCTO_EINVAL);
    CHECK_ERR(octo_log_level_parse("warning", &lv), OCTO_EINVAL);
    CHECK_EQ_INT(lv, OCTO_LOG_INFO); /* untouched on error */
    enum octo_log_format f;
    CHECK_OK(octo_log_format_parse("plain", &f));
    CHECK_EQ_INT(f, OCTO_LOG_PLAIN);
    CHECK_OK(octo_log_format_parse("json", &f));
    CHECK_EQ_INT(f, OCTO_LOG_JSON);
    CHECK_ERR(octo_log_format_parse("JSON", &f), OCTO_EINVAL);
    CHECK_ERR(octo_log_format_parse("text", &f), OCTO_EINVAL);
}

static size_t read_sink(FILE *f, char *out, size_t size)
{
    fflush(f);
    rewind(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    return n;
}

static void test_write_filter_and_sink(void)
{
    FILE *sink = tmpfile();
    CHECK(sink != NULL);
    struct octo_clock_manual m;
    octo_clock_manual_init(&m, 0, 951782400000000000);
    struct octo_log_config cfg = {
        .level = OCTO_LOG_WARN, .format = OCTO_LOG_PLAIN, .sink = sink, .clock = &m.clock};
    octo_log_configure(&cfg);
    CHECK_EQ_INT(octo_log_level_get(), OCTO_LOG_WARN);
    octo_log_write(OCTO_LOG_INFO, "m", "dropped", NULL);
    OCTO_INFO("dropped too %d", 1);
    const char *kv[] = {"k", "v", NULL};
    octo_log_write(OCTO_LOG_WARN, "m", "kept", kv);
    OCTO_ERROR("n=%d", 7);
    octo_log_write(OCTO_LOG_OFF, "m", "never", NULL);
    char got[512];
    read_sink(sink, got, sizeof(got));
    CHECK_STR(got, "ts=2000-02-29T00:00:00.000Z level=warn module=m msg=kept k=v\n"
                   "ts=2000-02-29T00:00:00.000Z level=error module=octo msg=\"n=7\"\n");
    fclose(sink);

    struct octo_log_config dflt = {
        .level = OCTO_LOG_INFO, .format = OCTO_LOG_PLAIN, .sink = NULL, .clock = NULL};
    octo_log_configure(&dflt);
}

static void test_logf_overlong_message(void)
{
    FILE *sink = tmpfile();
    CHECK(sink != NULL);
    struct octo_log_config cfg = {
        .level = OCTO_LOG_TRACE, .format = OCTO_LOG_JSON, .sink = sink, .clock = NULL};
    octo_log_configure(&cfg);
    static char big[4 * OCTO_LOG_LINE_MAX];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    octo_logf(OCTO_LOG_TRACE, "m", "%s", big);
    static char got[2 * OCTO_LOG_LINE_MAX];
    size_t n = read_sink(sink, got, sizeof(got));
    CHECK(n > 100 && n < OCTO_LOG_LINE_MAX);
    CHECK_EQ_INT(got[n - 1], '\n');
    CHECK(memchr(got, '\n', n - 1) == NULL); /* exactly one line */
    fclose(sink);
    struct octo_log_config dflt = {
        .level = OCTO_LOG_INFO, .format = OCTO_LOG_PLAIN, .sink = NULL, .clock = NULL};
    octo_log_configure(&dflt);
}

int main(void)
{
    OCTO_RUN(test_plain);
    OCTO_RUN(test_json);
    OCTO_RUN(test_plain_quoting);
    OCTO_RUN(test_json_escaping);
    OCTO_RUN(test_kv_odd_list_stops);
    OCTO_RUN(test_truncation);
    OCTO_RUN(test_truncation_of_escapes_stays_bounded);
    OCTO_RUN(test_parse);
    OCTO_RUN(test_write_filter_and_sink);
    OCTO_RUN(test_logf_overlong_message);
    return octo_test_finish();
}
