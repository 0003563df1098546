/*
 * mss.c — multistream-select 1.0, dialer and listener (see mss.h for the contracts).
 *
 * Input is assembled one message at a time in a fixed buffer inside the struct: the length
 * prefix byte by byte (at most OCTO_MSS_PREFIX_MAX bytes, checked before the text is read),
 * then the text in one copy. A complete message is split into '\n'-separated lines and each
 * line is a protocol message for the role's state machine. Processing stops at the end of the
 * message that ends the negotiation, so recv never swallows bytes of the next protocol.
 *
 * Every terminal state goes through finish(): it sets `done` and queues the single event. A
 * remote's protocol violation also returns a negative code from recv; a dialer running out of
 * proposals is a clean FAILED (recv returns the bytes consumed).
 */
#include "p2p/mss.h"

#include "base/assert.h"
#include "base/varint.h"

#include <limits.h>
#include <string.h>

_Static_assert(OCTO_MSS_MESSAGE_MAX < 128 * 128, "length fits the 2-byte prefix limit");
_Static_assert(OCTO_MSS_PREFIX_MAX <= OCTO_VARINT_MAX_LEN, "prefix limit is a varint length");

#define MSS_HEADER_LEN (sizeof(OCTO_MSS_HEADER) - 1)

static bool line_is(const uint8_t *line, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len == n && memcmp(line, s, n) == 0;
}

/* strlen that stops after max + 1 bytes (strnlen is POSIX, not C17). */
static size_t bounded_strlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

static bool protocol_valid(const char *p)
{
    if (p == NULL)
        return false;
    size_t n = bounded_strlen(p, OCTO_MSS_PROTOCOL_MAX);
    if (n == 0 || n > OCTO_MSS_PROTOCOL_MAX)
        return false;
    if (memchr(p, '\n', n) != NULL)
        return false;
    return strcmp(p, "na") != 0 && strcmp(p, "ls") != 0 && strcmp(p, OCTO_MSS_HEADER) != 0;
}

int octo_mss_write_message(struct octo_buf *out, const char *text, size_t len)
{
    OCTO_ASSERT(out != NULL);
    OCTO_ASSERT(text != NULL || len == 0);
    if (len == 0 || len > OCTO_MSS_PROTOCOL_MAX)
        return OCTO_EINVAL;
    uint8_t prefix[OCTO_VARINT_MAX_LEN];
    size_t plen = octo_varint_encode(len + 1, prefix);
    OCTO_ASSERT(plen <= OCTO_MSS_PREFIX_MAX);
    int rc = octo_buf_reserve(out, plen + len + 1);
    if (rc < 0)
        return rc;
    rc = octo_buf_append(out, prefix, plen);
    OCTO_ASSERT(rc == 0);
    rc = octo_buf_append(out, text, len);
    OCTO_ASSERT(rc == 0);
    rc = octo_buf_append_byte(out, '\n');
    OCTO_ASSERT(rc == 0);
    return 0;
}

static int write_str(struct octo_mss *m, const char *s)
{
    return octo_mss_write_message(&m->out, s, strlen(s));
}

int octo_mss_init(struct octo_mss *m, const struct octo_mss_config *cfg)
{
    OCTO_ASSERT(m != NULL);
    OCTO_ASSERT(cfg != NULL);
    memset(m, 0, sizeof(*m));
    if (cfg->role != OCTO_MSS_DIALER && cfg->role != OCTO_MSS_LISTENER)
        return OCTO_EINVAL;
    if (cfg->protocols == NULL || cfg->protocols_count == 0 ||
        cfg->protocols_count > OCTO_MSS_PROTOCOLS_MAX)
        return OCTO_EINVAL;
    for (size_t i = 0; i < cfg->protocols_count; i++) {
        if (!protocol_valid(cfg->protocols[i]))
            return OCTO_EINVAL;
    }
    m->cfg = *cfg;
    octo_buf_init(&m->out, OCTO_MSS_OUT_MAX);
    if (cfg->role == OCTO_MSS_DIALER) {
        /* header and first proposal in one write: never wait for the listener's header */
        int rc = write_str(m, OCTO_MSS_HEADER);
        if (rc == 0)
            rc = write_str(m, cfg->protocols[0]);
        if (rc < 0) {
            octo_buf_deinit(&m->out);
            return rc == OCTO_ETOOBIG ? OCTO_EINVAL : rc;
        }
    }
    return 0;
}

void octo_mss_deinit(struct octo_mss *m)
{
    if (m == NULL)
        return;
    octo_buf_deinit(&m->out);
    m->in_len = 0;
}

/* Ends the negotiation with a FAILED event; returns err so callers can `return fail(...)`. */
static int fail(struct octo_mss *m, enum octo_mss_reason reason, const char *detail, int err)
{
    OCTO_ASSERT(!m->done);
    switch (reason) {
    case OCTO_MSS_MALFORMED:
        m->stats.malformed++;
        break;
    case OCTO_MSS_TOO_LONG:
    case OCTO_MSS_OUTPUT_FULL:
        m->stats.too_long++;
        break;
    case OCTO_MSS_BAD_HEADER:
        m->stats.bad_header++;
        break;
    case OCTO_MSS_TOO_MANY_PROPOSALS:
        m->stats.too_many_proposals++;
        break;
    case OCTO_MSS_UNEXPECTED:
        m->stats.unexpected++;
        break;
    default:
        break;
    }
    m->done = true;
    m->event_pending = true;
    m->event = (struct octo_mss_event){
        .type = OCTO_MSS_EV_FAILED,
        .reason = reason,
        .detail = detail,
    };
    return err;
}

static void selected(struct octo_mss *m, size_t index)
{
    OCTO_ASSERT(index < m->cfg.protocols_count);
    m->done = true;
    m->event_pending = true;
    m->event = (struct octo_mss_event){
        .type = OCTO_MSS_EV_SELECTED,
        .reason = OCTO_MSS_OK,
        .detail = "selected",
        .protocol = m->cfg.protocols[index],
        .index = index,
    };
}

/* Maps an output append failure to the terminal state. */
static int out_failed(struct octo_mss *m, int rc)
{
    if (rc == OCTO_ETOOBIG)
        return fail(m, OCTO_MSS_OUTPUT_FULL, "output not drained", OCTO_ETOOBIG);
    return fail(m, OCTO_MSS_MALFORMED, "out of memory", rc);
}

/* The ls answer: one message whose text is the list of protocol messages (js / go format). */
static int write_ls(struct octo_mss *m)
{
    size_t inner = 0;
    for (size_t i = 0; i < m->cfg.protocols_count; i++) {
        size_t n = strlen(m->cfg.protocols[i]) + 1;
        inner += octo_varint_size(n) + n;
    }
    uint8_t prefix[OCTO_VARINT_MAX_LEN];
    size_t plen = octo_varint_encode(inner + 1, prefix);
    int rc = octo_buf_reserve(&m->out, plen + inner + 1);
    if (rc < 0)
        return rc;
    rc = octo_buf_append(&m->out, prefix, plen);
    for (size_t i = 0; rc == 0 && i < m->cfg.protocols_count; i++)
        rc = write_str(m, m->cfg.protocols[i]);
    if (rc == 0)
        rc = octo_buf_append_byte(&m->out, '\n');
    OCTO_ASSERT(rc == 0); /* reserved above */
    m->stats.ls_answered++;
    return 0;
}

static int listener_line(struct octo_mss *m, const uint8_t *line, size_t len)
{
    int rc;
    if (!m->got_header) {
        if (!line_is(line, len, OCTO_MSS_HEADER))
            return fail(m, OCTO_MSS_BAD_HEADER, "bad multistream header", OCTO_EPROTO);
        m->got_header = true;
        rc = write_str(m, OCTO_MSS_HEADER);
        return rc < 0 ? out_failed(m, rc) : 0;
    }
    if (m->proposals_seen >= OCTO_MSS_PROPOSALS_MAX)
        return fail(m, OCTO_MSS_TOO_MANY_PROPOSALS, "too many proposals", OCTO_ETOOBIG);
    m->proposals_seen++;
    if (line_is(line, len, OCTO_MSS_HEADER))
        return 0; /* repeated header: already answered once */
    if (line_is(line, len, "ls")) {
        rc = write_ls(m);
        return rc < 0 ? out_failed(m, rc) : 0;
    }
    for (size_t i = 0; i < m->cfg.protocols_count; i++) {
        if (line_is(line, len, m->cfg.protocols[i])) {
            rc = write_str(m, m->cfg.protocols[i]);
            if (rc < 0)
                return out_failed(m, rc);
            selected(m, i);
            return 0;
        }
    }
    rc = write_str(m, "na");
    if (rc < 0)
        return out_failed(m, rc);
    m->stats.na_sent++;
    return 0;
}

static int dialer_line(struct octo_mss *m, const uint8_t *line, size_t len)
{
    if (!m->got_header) {
        if (!line_is(line, len, OCTO_MSS_HEADER))
            return fail(m, OCTO_MSS_BAD_HEADER, "bad multistream header", OCTO_EPROTO);
        m->got_header = true;
        return 0;
    }
    OCTO_ASSERT(m->proposal < m->cfg.protocols_count);
    if (line_is(line, len, m->cfg.protocols[m->proposal])) {
        selected(m, m->proposal);
        return 0;
    }
    if (!line_is(line, len, "na"))
        return fail(m, OCTO_MSS_UNEXPECTED, "reply is neither echo nor na", OCTO_EPROTO);
    m->stats.na_received++;
    m->proposal++;
    if (m->proposal == m->cfg.protocols_count)
        return fail(m, OCTO_MSS_NO_PROTOCOL, "no common protocol", 0);
    int rc = write_str(m, m->cfg.protocols[m->proposal]);
    return rc < 0 ? out_failed(m, rc) : 0;
}

/* Handles one complete message text (without its final '\n'), line by line. */
static int handle_message(struct octo_mss *m, const uint8_t *text, size_t len)
{
    size_t off = 0;
    do {
        const uint8_t *nl = memchr(text + off, '\n', len - off);
        size_t line_len = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
        int rc = m->cfg.role == OCTO_MSS_LISTENER ? listener_line(m, text + off, line_len)
                                                  : dialer_line(m, text + off, line_len);
        if (rc < 0 || m->done)
            return rc; /* lines after the one that ended the negotiation are ignored */
        off += line_len + 1;
    } while (off < len);
    return 0;
}

/* Takes one prefix byte; sets msg_len once the prefix is complete. */
static int take_prefix_byte(struct octo_mss *m, uint8_t byte)
{
    OCTO_ASSERT(m->in_len < OCTO_MSS_PREFIX_MAX);
    m->in[m->in_len++] = byte;
    uint64_t v;
    int rc = octo_varint_decode(m->in, m->in_len, &v);
    if (rc == OCTO_EAGAIN) {
        if (m->in_len >= OCTO_MSS_PREFIX_MAX)
            return fail(m, OCTO_MSS_TOO_LONG, "length prefix too long", OCTO_ETOOBIG);
        return 0;
    }
    if (rc < 0)
        return fail(m, OCTO_MSS_MALFORMED, "bad length prefix", OCTO_EMALFORMED);
    if (v == 0)
        return fail(m, OCTO_MSS_MALFORMED, "empty message", OCTO_EMALFORMED);
    if (v > OCTO_MSS_MESSAGE_MAX)
        return fail(m, OCTO_MSS_TOO_LONG, "message too long", OCTO_ETOOBIG);
    m->msg_len = (size_t)v;
    m->msg_off = m->in_len;
    return 0;
}

int octo_mss_recv(struct octo_mss *m, octo_tick now, const uint8_t *data, size_t len)
{
    OCTO_ASSERT(m != NULL);
    OCTO_ASSERT(data != NULL || len == 0);
    (void)now;
    if (len > INT_MAX)
        len = INT_MAX; /* the count must fit the return value; the caller offers the rest */
    size_t used = 0;
    while (used < len && !m->done) {
        if (m->msg_len == 0) {
            int rc = take_prefix_byte(m, data[used++]);
            if (rc < 0)
                return rc;
            continue;
        }
        size_t end = m->msg_off + m->msg_len;
        OCTO_ASSERT(m->in_len < end);
        OCTO_ASSERT(end <= sizeof(m->in));
        size_t take = end - m->in_len;
        if (take > len - used)
            take = len - used;
        memcpy(m->in + m->in_len, data + used, take);
        m->in_len += take;
        used += take;
        if (m->in_len < end)
            break;
        const uint8_t *text = m->in + m->msg_off;
        size_t text_len = m->msg_len - 1;
        m->in_len = 0;
        m->msg_len = 0;
        if (text[text_len] != '\n')
            return fail(m, OCTO_MSS_MALFORMED, "message without newline", OCTO_EMALFORMED);
        int rc = handle_message(m, text, text_len);
        if (rc < 0)
            return rc;
    }
    return (int)used;
}

void octo_mss_out(const struct octo_mss *m, const uint8_t **data, size_t *len)
{
    OCTO_ASSERT(m != NULL);
    OCTO_ASSERT(data != NULL);
    OCTO_ASSERT(len != NULL);
    *data = m->out.data;
    *len = m->out.len;
}

void octo_mss_out_consume(struct octo_mss *m, size_t n)
{
    OCTO_ASSERT(m != NULL);
    OCTO_ASSERT(n <= m->out.len);
    octo_buf_consume(&m->out, n);
}

bool octo_mss_poll(struct octo_mss *m, struct octo_mss_event *ev)
{
    OCTO_ASSERT(m != NULL);
    OCTO_ASSERT(ev != NULL);
    if (!m->event_pending)
        return false;
    *ev = m->event;
    m->event_pending = false;
    return true;
}

bool octo_mss_done(const struct octo_mss *m)
{
    OCTO_ASSERT(m != NULL);
    return m->done;
}
