/*
 * sse.c — the incremental Server-Sent-Events parser (see sse.h for the contract).
 *
 * The input is scanned for the next CR or LF; the bytes before it are appended to the line
 * buffer (bounded), and a terminator hands the finished line to process_line. A CR sets
 * cr_pending so that an LF arriving next — in this read or the next one — is swallowed as
 * the second half of a CRLF. Because every byte goes through the same bounded buffers in the
 * same order whatever the read boundaries are, the events and errors do not depend on them.
 */
#include "infer/sse.h"

#include "base/assert.h"

#include <string.h>

static const uint8_t SSE_BOM[3] = {0xEF, 0xBB, 0xBF};

void octo_sse_init(struct octo_sse *p)
{
    memset(p, 0, sizeof(*p));
    octo_buf_init(&p->line, OCTO_SSE_LINE_MAX);
    octo_buf_init(&p->data, OCTO_SSE_EVENT_MAX);
    p->first_line = true;
    p->retry_ms = -1;
}

void octo_sse_deinit(struct octo_sse *p)
{
    octo_buf_deinit(&p->line);
    octo_buf_deinit(&p->data);
}

bool octo_sse_pending(const struct octo_sse *p)
{
    return p->line.len != 0 || p->has_data;
}

static void event_reset(struct octo_sse *p)
{
    octo_buf_reset(&p->data);
    p->has_data = false;
    p->type[0] = '\0';
}

static int dispatch(struct octo_sse *p, octo_sse_event_fn on_event, void *ctx)
{
    if (!p->has_data) {
        event_reset(p);
        return 0;
    }
    OCTO_ASSERT(p->data.len >= 1);
    OCTO_ASSERT(p->data.data[p->data.len - 1] == '\n');
    size_t n = p->data.len - 1; /* the LF after the last data line is not part of the data */
    p->data.data[n] = '\0';
    struct octo_sse_event ev = {
        .type = p->type[0] != '\0' ? p->type : "message",
        .data = (const char *)p->data.data,
        .data_len = n,
        .id = p->id,
        .retry_ms = p->retry_ms,
    };
    int rc = on_event(ctx, &ev);
    OCTO_ASSERT(rc <= 0);
    event_reset(p);
    return rc;
}

/* Copies value into a fixed field of capacity cap+1; OCTO_ETOOBIG if longer than cap. */
static int set_fixed(char *dst, size_t cap, const uint8_t *value, size_t len)
{
    if (len > cap)
        return OCTO_ETOOBIG;
    memcpy(dst, value, len);
    dst[len] = '\0';
    return 0;
}

static void set_retry(struct octo_sse *p, const uint8_t *value, size_t len)
{
    if (len == 0)
        return;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return;
        v = v * 10 + (uint64_t)(value[i] - '0');
        if (v > OCTO_SSE_RETRY_MAX)
            return;
    }
    p->retry_ms = (int64_t)v;
}

static bool field_is(const uint8_t *name, size_t len, const char *want)
{
    size_t n = strlen(want);
    return len == n && memcmp(name, want, n) == 0;
}

static int process_field(struct octo_sse *p, const uint8_t *name, size_t name_len,
                         const uint8_t *value, size_t value_len)
{
    if (field_is(name, name_len, "data")) {
        int rc = octo_buf_append(&p->data, value, value_len);
        if (rc == 0)
            rc = octo_buf_append_byte(&p->data, '\n');
        if (rc == 0)
            p->has_data = true;
        return rc;
    }
    if (field_is(name, name_len, "event"))
        return set_fixed(p->type, OCTO_SSE_TYPE_MAX, value, value_len);
    if (field_is(name, name_len, "id")) {
        if (memchr(value, '\0', value_len) != NULL)
            return 0;
        return set_fixed(p->id, OCTO_SSE_ID_MAX, value, value_len);
    }
    if (field_is(name, name_len, "retry"))
        set_retry(p, value, value_len);
    return 0; /* unknown fields are ignored */
}

static int process_line(struct octo_sse *p, octo_sse_event_fn on_event, void *ctx)
{
    const uint8_t *s = p->line.data;
    size_t len = p->line.len;
    if (p->first_line) {
        p->first_line = false;
        if (len >= sizeof(SSE_BOM) && memcmp(s, SSE_BOM, sizeof(SSE_BOM)) == 0) {
            s += sizeof(SSE_BOM);
            len -= sizeof(SSE_BOM);
        }
    }
    int rc = 0;
    if (len == 0) {
        rc = dispatch(p, on_event, ctx);
    } else if (s[0] != ':') {
        const uint8_t *colon = memchr(s, ':', len);
        size_t name_len = colon != NULL ? (size_t)(colon - s) : len;
        const uint8_t *value = s + name_len;
        size_t value_len = 0;
        if (colon != NULL) {
            value = colon + 1;
            value_len = len - name_len - 1;
            if (value_len != 0 && value[0] == ' ') {
                value++;
                value_len--;
            }
        }
        rc = process_field(p, s, name_len, value, value_len);
    }
    octo_buf_reset(&p->line);
    return rc;
}

/* Index of the first CR or LF in data[0..len), or len. */
static size_t find_eol(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\r' || data[i] == '\n')
            return i;
    }
    return len;
}

int octo_sse_feed(struct octo_sse *p, const uint8_t *data, size_t len, octo_sse_event_fn on_event,
                  void *ctx)
{
    OCTO_ASSERT(on_event != NULL);
    OCTO_ASSERT(data != NULL || len == 0);
    if (p->err != 0)
        return p->err;
    size_t i = 0;
    while (i < len) {
        if (p->cr_pending) {
            p->cr_pending = false;
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t n = find_eol(data + i, len - i);
        int rc = n != 0 ? octo_buf_append(&p->line, data + i, n) : 0;
        i += n;
        if (rc == 0 && i < len) {
            p->cr_pending = data[i] == '\r';
            i++;
            rc = process_line(p, on_event, ctx);
        }
        if (rc != 0) {
            p->err = rc;
            return rc;
        }
    }
    return 0;
}
