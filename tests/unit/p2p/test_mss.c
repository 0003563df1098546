/*
 * test_mss.c — multistream-select: a dialer and a listener talking through memory (whole,
 * coalesced and byte-at-a-time delivery), the wire bytes of LIBP2P.md §4, leftover bytes
 * after selection, na fallback, ls, and every limit and protocol violation.
 */
#include "base/assert.h"
#include "base/buf.h"
#include "base/varint.h"
#include "p2p/mss.h"
#include "test.h"

#include <string.h>

/* 13 "/multistream/1.0.0\n" 07 "/noise\n" */
#define HELLO_NOISE_HEX                                                                            \
    "132f6d756c746973747265616d2f312e302e300a"                                                     \
    "072f6e6f6973650a"

static const char *const noise_only[] = {"/noise"};

static int init_role(struct octo_mss *m, enum octo_mss_role role, const char *const *protos,
                     size_t count)
{
    struct octo_mss_config cfg = {.role = role, .protocols = protos, .protocols_count = count};
    return octo_mss_init(m, &cfg);
}

/* Moves from's output into to, `chunk` bytes per recv; bytes that `to` does not consume
 * (after its selection) go to leftover. Returns the first error of recv, else 0. */
static int pump(struct octo_mss *from, struct octo_mss *to, size_t chunk, struct octo_buf *leftover)
{
    const uint8_t *d;
    size_t n;
    octo_mss_out(from, &d, &n);
    size_t off = 0;
    while (off < n) {
        size_t c = n - off < chunk ? n - off : chunk;
        int rc = octo_mss_recv(to, 0, d + off, c);
        if (rc < 0)
            return rc;
        off += (size_t)rc;
        if ((size_t)rc < c)
            break;
    }
    if (off < n && leftover != NULL && octo_buf_append(leftover, d + off, n - off) != 0)
        return OCTO_ENOMEM;
    octo_mss_out_consume(from, n);
    return 0;
}

/* Runs both sides until neither has output; returns the first error. */
static int converse(struct octo_mss *d, struct octo_mss *l, size_t chunk)
{
    for (int round = 0; round < 64; round++) {
        const uint8_t *p;
        size_t nd, nl;
        octo_mss_out(d, &p, &nd);
        octo_mss_out(l, &p, &nl);
        if (nd == 0 && nl == 0)
            return 0;
        int rc = pump(d, l, chunk, NULL);
        if (rc < 0)
            return rc;
        rc = pump(l, d, chunk, NULL);
        if (rc < 0)
            return rc;
    }
    return OCTO_EIO;
}

static void check_selected(struct octo_mss *m, const char *proto, size_t index, int *ok)
{
    struct octo_mss_event ev;
    *ok = 0;
    if (!octo_mss_poll(m, &ev) || ev.type != OCTO_MSS_EV_SELECTED || ev.index != index ||
        strcmp(ev.protocol, proto) != 0 || ev.reason != OCTO_MSS_OK)
        return;
    if (octo_mss_poll(m, &ev))
        return;
    *ok = octo_mss_done(m) ? 1 : 0;
}

static void test_wire_bytes_and_select(void)
{
    struct octo_mss d, l;
    CHECK_OK(init_role(&d, OCTO_MSS_DIALER, noise_only, 1));
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    const uint8_t *p;
    size_t n;
    octo_mss_out(&d, &p, &n);
    CHECK_HEX(p, n, HELLO_NOISE_HEX); /* header + proposal in one write */
    octo_mss_out(&l, &p, &n);
    CHECK_EQ_U64(n, 0); /* the listener says nothing before it has read */
    CHECK_OK(pump(&d, &l, SIZE_MAX, NULL));
    octo_mss_out(&l, &p, &n);
    CHECK_HEX(p, n, HELLO_NOISE_HEX); /* header + echo coalesced */
    CHECK_OK(pump(&l, &d, SIZE_MAX, NULL));
    int ok;
    check_selected(&d, "/noise", 0, &ok);
    CHECK(ok);
    check_selected(&l, "/noise", 0, &ok);
    CHECK(ok);
    octo_mss_out(&d, &p, &n);
    CHECK_EQ_U64(n, 0);
    /* after selection nothing more is consumed */
    CHECK_EQ_INT(octo_mss_recv(&d, 0, (const uint8_t *)"x", 1), 0);
    CHECK_EQ_INT(octo_mss_recv(&l, 0, (const uint8_t *)"x", 1), 0);
    octo_mss_deinit(&d);
    octo_mss_deinit(&l);
}

static void run_chunked(size_t chunk, int *ok)
{
    static const char *const dp[] = {"/tls/1.0.0", "/noise"};
    static const char *const lp[] = {"/plaintext/2.0.0", "/noise"};
    struct octo_mss d, l;
    *ok = 0;
    if (init_role(&d, OCTO_MSS_DIALER, dp, 2) != 0 || init_role(&l, OCTO_MSS_LISTENER, lp, 2))
        return;
    int rc = converse(&d, &l, chunk);
    int okd, okl;
    check_selected(&d, "/noise", 1, &okd);
    check_selected(&l, "/noise", 1, &okl);
    *ok = rc == 0 && okd && okl && d.stats.na_received == 1 && l.stats.na_sent == 1;
    octo_mss_deinit(&d);
    octo_mss_deinit(&l);
}

static void test_byte_at_a_time_and_coalesced(void)
{
    size_t chunks[] = {1, 2, 3, 7, 19, 20, 27, 28, 29, 1000};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(chunks); i++) {
        int ok;
        run_chunked(chunks[i], &ok);
        if (!ok)
            octo_test_fail_at(__FILE__, __LINE__, "chunk %zu", chunks[i]);
        CHECK(ok);
    }
}

static void test_leftover_after_selection(void)
{
    struct octo_mss d, l;
    CHECK_OK(init_role(&d, OCTO_MSS_DIALER, noise_only, 1));
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    /* dialer output + a Noise message 1 in the same segment */
    struct octo_buf seg;
    octo_buf_init(&seg, 4096);
    const uint8_t *p;
    size_t n;
    octo_mss_out(&d, &p, &n);
    CHECK_OK(octo_buf_append(&seg, p, n));
    CHECK_OK(octo_buf_append(&seg, "\x00\x20NOISE", 7));
    CHECK_EQ_INT(octo_mss_recv(&l, 0, seg.data, seg.len), 28);
    int ok;
    check_selected(&l, "/noise", 0, &ok);
    CHECK(ok);
    /* the reply + early protocol data from the listener side, byte by byte */
    octo_buf_reset(&seg);
    octo_mss_out(&l, &p, &n);
    CHECK_OK(octo_buf_append(&seg, p, n));
    CHECK_OK(octo_buf_append(&seg, "DATA", 4));
    size_t used = 0;
    for (size_t i = 0; i < seg.len; i++) {
        int rc = octo_mss_recv(&d, 0, seg.data + i, 1);
        CHECK_OK(rc);
        used += (size_t)rc;
    }
    CHECK_EQ_U64(used, 28);
    check_selected(&d, "/noise", 0, &ok);
    CHECK(ok);
    octo_buf_deinit(&seg);
    octo_mss_deinit(&d);
    octo_mss_deinit(&l);
}

static void test_no_common_protocol(void)
{
    static const char *const dp[] = {"/a", "/b"};
    static const char *const lp[] = {"/c"};
    struct octo_mss d, l;
    CHECK_OK(init_role(&d, OCTO_MSS_DIALER, dp, 2));
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, lp, 1));
    CHECK_OK(converse(&d, &l, SIZE_MAX));
    struct octo_mss_event ev;
    CHECK(octo_mss_poll(&d, &ev));
    CHECK_EQ_INT(ev.type, OCTO_MSS_EV_FAILED);
    CHECK_EQ_INT(ev.reason, OCTO_MSS_NO_PROTOCOL);
    CHECK(octo_mss_done(&d));
    CHECK(!octo_mss_poll(&l, &ev)); /* the listener keeps waiting */
    CHECK(!octo_mss_done(&l));
    CHECK_EQ_INT(l.stats.na_sent, 2);
    CHECK_EQ_INT(d.stats.na_received, 2);
    octo_mss_deinit(&d);
    octo_mss_deinit(&l);
}

/* Feeds raw bytes to m and returns recv's result. */
static int feed(struct octo_mss *m, const char *hex)
{
    size_t n;
    const uint8_t *b = octo_test_hex(hex, &n);
    return octo_mss_recv(m, 0, b, n);
}

static int feed_msg(struct octo_mss *m, const char *text)
{
    struct octo_buf b;
    octo_buf_init(&b, 4096);
    int rc = octo_mss_write_message(&b, text, strlen(text));
    if (rc == 0)
        rc = octo_mss_recv(m, 0, b.data, b.len);
    octo_buf_deinit(&b);
    return rc;
}

static void test_ls(void)
{
    static const char *const lp[] = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"};
    struct octo_mss l;
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, lp, 2));
    CHECK_OK(feed_msg(&l, OCTO_MSS_HEADER));
    CHECK_OK(feed_msg(&l, "ls"));
    const uint8_t *p;
    size_t n;
    octo_mss_out(&l, &p, &n);
    /* header, then one message: [0f "/ipfs/id/1.0.0\n" 11 "/ipfs/ping/1.0.0\n"] '\n' */
    CHECK_HEX(p, n,
              "132f6d756c746973747265616d2f312e302e300a"
              "23"
              "0f2f697066732f69642f312e302e300a"
              "112f697066732f70696e672f312e302e300a"
              "0a");
    CHECK_EQ_INT(l.stats.ls_answered, 1);
    octo_mss_out_consume(&l, n);
    CHECK_OK(feed_msg(&l, "/ipfs/ping/1.0.0"));
    int ok;
    check_selected(&l, "/ipfs/ping/1.0.0", 1, &ok);
    CHECK(ok);
    octo_mss_deinit(&l);
}

static void test_multiline_messages(void)
{
    /* newer js writes "header\nproto\n" as one message; both roles accept it */
    struct octo_mss d, l;
    CHECK_OK(init_role(&d, OCTO_MSS_DIALER, noise_only, 1));
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    CHECK_EQ_INT(feed_msg(&d, OCTO_MSS_HEADER "\n/noise"), 27);
    CHECK_EQ_INT(feed_msg(&l, OCTO_MSS_HEADER "\n/noise"), 27);
    int ok;
    check_selected(&d, "/noise", 0, &ok);
    CHECK(ok);
    check_selected(&l, "/noise", 0, &ok);
    CHECK(ok);
    octo_mss_deinit(&d);
    octo_mss_deinit(&l);
    /* header + na in one message makes the dialer move on */
    static const char *const dp[] = {"/a", "/b"};
    CHECK_OK(init_role(&d, OCTO_MSS_DIALER, dp, 2));
    octo_mss_out_consume(&d, d.out.len);
    CHECK_OK(feed_msg(&d, OCTO_MSS_HEADER "\nna"));
    const uint8_t *p;
    size_t n;
    octo_mss_out(&d, &p, &n);
    CHECK_HEX(p, n, "032f620a"); /* "/b\n" without a second header */
    octo_mss_deinit(&d);
}

static void check_failed(struct octo_mss *m, enum octo_mss_reason reason, int *ok)
{
    struct octo_mss_event ev;
    *ok = octo_mss_poll(m, &ev) && ev.type == OCTO_MSS_EV_FAILED && ev.reason == reason &&
          ev.detail != NULL && octo_mss_done(m);
}

static void test_limits(void)
{
    struct octo_mss l;
    int ok;
    /* a protocol of exactly OCTO_MSS_PROTOCOL_MAX bytes is fine */
    static char longest[OCTO_MSS_PROTOCOL_MAX + 1];
    memset(longest, 'p', OCTO_MSS_PROTOCOL_MAX);
    longest[0] = '/';
    const char *const lp[] = {longest};
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, lp, 1));
    CHECK_OK(feed_msg(&l, OCTO_MSS_HEADER));
    CHECK_OK(feed_msg(&l, longest));
    check_selected(&l, longest, 0, &ok);
    CHECK(ok);
    octo_mss_deinit(&l);
    /* a length of OCTO_MSS_MESSAGE_MAX + 1 is refused at the prefix */
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    CHECK_OK(feed_msg(&l, OCTO_MSS_HEADER));
    CHECK_ERR(feed(&l, "8108"), OCTO_ETOOBIG);
    check_failed(&l, OCTO_MSS_TOO_LONG, &ok);
    CHECK(ok);
    CHECK_EQ_INT(l.stats.too_long, 1);
    CHECK_EQ_INT(feed(&l, "00"), 0); /* dead: consumes nothing */
    octo_mss_deinit(&l);
    /* a 3-byte length prefix */
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    CHECK_ERR(feed(&l, "808001"), OCTO_ETOOBIG);
    check_failed(&l, OCTO_MSS_TOO_LONG, &ok);
    CHECK(ok);
    octo_mss_deinit(&l);
    /* non-minimal prefix, empty message, missing newline */
    const char *bad[] = {"8300", "00", "036e6178"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
        CHECK_ERR(feed(&l, bad[i]), OCTO_EMALFORMED);
        check_failed(&l, OCTO_MSS_MALFORMED, &ok);
        CHECK(ok);
        CHECK_EQ_INT(l.stats.malformed, 1);
        octo_mss_deinit(&l);
    }
}

static void test_bad_header(void)
{
    struct octo_mss l, d;
    int ok;
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    CHECK_ERR(feed_msg(&l, "/multistream/2.0.0"), OCTO_EPROTO);
    check_failed(&l, OCTO_MSS_BAD_HEADER, &ok);
    CHECK(ok);
    CHECK_EQ_INT(l.stats.bad_header, 1);
    octo_mss_deinit(&l);
    /* a proposal before the header */
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    CHECK_ERR(feed_msg(&l, "/noise"), OCTO_EPROTO);
    check_failed(&l, OCTO_MSS_BAD_HEADER, &ok);
    CHECK(ok);
    octo_mss_deinit(&l);
    /* the dialer checks the listener's header too */
    CHECK_OK(init_role(&d, OCTO_MSS_DIALER, noise_only, 1));
    CHECK_ERR(feed_msg(&d, "/noise"), OCTO_EPROTO);
    check_failed(&d, OCTO_MSS_BAD_HEADER, &ok);
    CHECK(ok);
    octo_mss_deinit(&d);
    /* and refuses a reply that is neither the echo nor na */
    CHECK_OK(init_role(&d, OCTO_MSS_DIALER, noise_only, 1));
    CHECK_OK(feed_msg(&d, OCTO_MSS_HEADER));
    CHECK_ERR(feed_msg(&d, "/yamux/1.0.0"), OCTO_EPROTO);
    check_failed(&d, OCTO_MSS_UNEXPECTED, &ok);
    CHECK(ok);
    CHECK_EQ_INT(d.stats.unexpected, 1);
    octo_mss_deinit(&d);
}

static void test_too_many_proposals(void)
{
    struct octo_mss l;
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, noise_only, 1));
    CHECK_OK(feed_msg(&l, OCTO_MSS_HEADER));
    CHECK_OK(feed_msg(&l, OCTO_MSS_HEADER)); /* a repeated header counts, is not answered */
    for (int i = 1; i < OCTO_MSS_PROPOSALS_MAX; i++)
        CHECK_OK(feed_msg(&l, "/nope"));
    CHECK_EQ_INT(l.stats.na_sent, OCTO_MSS_PROPOSALS_MAX - 1);
    CHECK(!octo_mss_done(&l));
    CHECK_ERR(feed_msg(&l, "/noise"), OCTO_ETOOBIG);
    int ok;
    check_failed(&l, OCTO_MSS_TOO_MANY_PROPOSALS, &ok);
    CHECK(ok);
    const uint8_t *p;
    size_t n;
    octo_mss_out(&l, &p, &n);
    CHECK_EQ_U64(n, 20 + 4 * (OCTO_MSS_PROPOSALS_MAX - 1)); /* one header, then na's */
    octo_mss_deinit(&l);
}

static void test_output_full(void)
{
    /* ls answers that the shell never drains hit the output ceiling */
    static char names[OCTO_MSS_PROTOCOLS_MAX][1001];
    const char *protos[OCTO_MSS_PROTOCOLS_MAX];
    for (size_t i = 0; i < OCTO_MSS_PROTOCOLS_MAX; i++) {
        memset(names[i], 'a' + (int)(i % 26), 1000);
        names[i][0] = '/';
        names[i][1] = (char)('0' + (int)(i / 26));
        protos[i] = names[i];
    }
    struct octo_mss l;
    CHECK_OK(init_role(&l, OCTO_MSS_LISTENER, protos, OCTO_MSS_PROTOCOLS_MAX));
    CHECK_OK(feed_msg(&l, OCTO_MSS_HEADER));
    CHECK_OK(feed_msg(&l, "ls"));
    CHECK_OK(feed_msg(&l, "ls"));
    CHECK_ERR(feed_msg(&l, "ls"), OCTO_ETOOBIG);
    int ok;
    check_failed(&l, OCTO_MSS_OUTPUT_FULL, &ok);
    CHECK(ok);
    octo_mss_deinit(&l);
}

static void test_config_errors(void)
{
    struct octo_mss m;
    static char toolong[OCTO_MSS_PROTOCOL_MAX + 2];
    memset(toolong, 'x', OCTO_MSS_PROTOCOL_MAX + 1);
    const char *const bad[] = {"", "na", "ls", OCTO_MSS_HEADER, "/a\nb", toolong};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        const char *const one[] = {bad[i]};
        CHECK_ERR(init_role(&m, OCTO_MSS_DIALER, one, 1), OCTO_EINVAL);
        octo_mss_deinit(&m);
    }
    CHECK_ERR(init_role(&m, OCTO_MSS_DIALER, noise_only, 0), OCTO_EINVAL);
    CHECK_ERR(init_role(&m, OCTO_MSS_LISTENER, NULL, 1), OCTO_EINVAL);
    CHECK_ERR(init_role(&m, (enum octo_mss_role)7, noise_only, 1), OCTO_EINVAL);
    const char *many[OCTO_MSS_PROTOCOLS_MAX + 1];
    for (size_t i = 0; i < OCTO_ARRAY_LEN(many); i++)
        many[i] = "/x";
    CHECK_ERR(init_role(&m, OCTO_MSS_LISTENER, many, OCTO_ARRAY_LEN(many)), OCTO_EINVAL);
    const char *const nulls[] = {NULL};
    CHECK_ERR(init_role(&m, OCTO_MSS_LISTENER, nulls, 1), OCTO_EINVAL);
    struct octo_mss zero;
    memset(&zero, 0, sizeof(zero));
    octo_mss_deinit(&zero);
    /* the framing helper */
    struct octo_buf b;
    octo_buf_init(&b, 8);
    CHECK_ERR(octo_mss_write_message(&b, "", 0), OCTO_EINVAL);
    CHECK_ERR(octo_mss_write_message(&b, toolong, sizeof(toolong) - 1), OCTO_EINVAL);
    CHECK_ERR(octo_mss_write_message(&b, "/too/long", 9), OCTO_ETOOBIG);
    CHECK_EQ_U64(b.len, 0);
    CHECK_OK(octo_mss_write_message(&b, "na", 2));
    CHECK_HEX(b.data, b.len, "036e610a");
    octo_buf_deinit(&b);
}

int main(void)
{
    OCTO_RUN(test_wire_bytes_and_select);
    OCTO_RUN(test_byte_at_a_time_and_coalesced);
    OCTO_RUN(test_leftover_after_selection);
    OCTO_RUN(test_no_common_protocol);
    OCTO_RUN(test_ls);
    OCTO_RUN(test_multiline_messages);
    OCTO_RUN(test_limits);
    OCTO_RUN(test_bad_header);
    OCTO_RUN(test_too_many_proposals);
    OCTO_RUN(test_output_full);
    OCTO_RUN(test_config_errors);
    return octo_test_finish();
}
