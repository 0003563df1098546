/*
 * multiaddr.c — multiaddr text <-> binary (see multiaddr.h for the contracts).
 *
 * One table describes every supported protocol: its code, its name and the kind of value it
 * carries. Binary input is walked component by component with strict varints; each length is
 * checked against what remains and against the protocol's limit before a value is looked at,
 * and a struct octo_multiaddr only ever holds bytes that passed that walk, which is why the
 * printers and the iterator can assert instead of failing.
 *
 * Text parsing is hand-written (base may not use the socket headers): dotted-quad IPv4
 * without leading zeros, RFC 4291 IPv6 text (one "::", 1-4 hex digits a group, an optional
 * dotted IPv4 tail), decimal ports 0..65535 without sign or leading zeros, and peer ids as
 * base58btc or as a base32 CIDv1 with the libp2p-key codec. Output is canonical: RFC 5952
 * for IPv6 (lowercase, no leading zeros, the first longest run of two or more zero groups
 * as "::", "::ffff:a.b.c.d" for IPv4-mapped addresses), "/p2p/" with base58btc for peer ids.
 * Text -> binary -> text is therefore the identity on canonical text, and binary -> text ->
 * binary always is.
 *
 * No heap: values are converted through small stack buffers. Pure functions, thread-safe.
 */
#include "base/multiaddr.h"

#include "base/assert.h"
#include "base/base32.h"
#include "base/base58.h"
#include "base/multihash.h"
#include "base/varint.h"

#include <stdio.h>
#include <string.h>

/* A peer-id value is a multihash: two varints and a bounded digest. */
#define MA_P2P_MAX (2 * OCTO_VARINT_MAX_LEN + OCTO_MULTIHASH_DIGEST_MAX)
/* CIDv1 prefix of a libp2p-key: version 1, codec 0x72 (both one-byte varints). */
#define CID_VERSION_1 0x01
#define CID_LIBP2P_KEY 0x72

_Static_assert(MA_P2P_MAX <= OCTO_BASE58_MAX_BYTES, "every peer id has a base58 form");

enum value_kind {
    VALUE_NONE, /* no value */
    VALUE_IP4,  /* 4 bytes */
    VALUE_IP6,  /* 16 bytes */
    VALUE_PORT, /* 2 bytes, big-endian */
    VALUE_DNS,  /* uvarint length, 1..OCTO_MULTIADDR_DNS_MAX bytes */
    VALUE_P2P,  /* uvarint length, a multihash */
};

struct proto {
    uint64_t code;
    const char *name;
    enum value_kind kind;
};

static const struct proto protos[] = {
    {OCTO_MA_IP4, "ip4", VALUE_IP4},
    {OCTO_MA_TCP, "tcp", VALUE_PORT},
    {OCTO_MA_IP6, "ip6", VALUE_IP6},
    {OCTO_MA_DNS, "dns", VALUE_DNS},
    {OCTO_MA_DNS4, "dns4", VALUE_DNS},
    {OCTO_MA_DNS6, "dns6", VALUE_DNS},
    {OCTO_MA_DNSADDR, "dnsaddr", VALUE_DNS},
    {OCTO_MA_UDP, "udp", VALUE_PORT},
    {OCTO_MA_P2P_CIRCUIT, "p2p-circuit", VALUE_NONE},
    {OCTO_MA_P2P, "p2p", VALUE_P2P},
    {OCTO_MA_QUIC_V1, "quic-v1", VALUE_NONE},
    {OCTO_MA_WS, "ws", VALUE_NONE},
    {OCTO_MA_WSS, "wss", VALUE_NONE},
};

static const struct proto *proto_by_code(uint64_t code)
{
    for (size_t i = 0; i < OCTO_ARRAY_LEN(protos); i++) {
        if (protos[i].code == code)
            return &protos[i];
    }
    return NULL;
}

/* Looks up a text protocol name; "ipfs" is the legacy alias of "p2p". */
static const struct proto *proto_by_name(const char *s, size_t n)
{
    if (n == 4 && memcmp(s, "ipfs", 4) == 0)
        return proto_by_code(OCTO_MA_P2P);
    for (size_t i = 0; i < OCTO_ARRAY_LEN(protos); i++) {
        if (strlen(protos[i].name) == n && memcmp(protos[i].name, s, n) == 0)
            return &protos[i];
    }
    return NULL;
}

const char *octo_ma_proto_name(uint64_t code)
{
    const struct proto *p = proto_by_code(code);
    return p != NULL ? p->name : NULL;
}

/* Byte size of a fixed-size value. */
static size_t fixed_size(enum value_kind kind)
{
    switch (kind) {
    case VALUE_IP4:
        return 4;
    case VALUE_IP6:
        return 16;
    case VALUE_PORT:
        return 2;
    default:
        return 0;
    }
}

static bool is_variable(enum value_kind kind)
{
    return kind == VALUE_DNS || kind == VALUE_P2P;
}

static size_t variable_max(enum value_kind kind)
{
    return kind == VALUE_DNS ? OCTO_MULTIADDR_DNS_MAX : MA_P2P_MAX;
}

/* Checks the bytes of a value whose length already matched the protocol's size rule. */
static int check_value(enum value_kind kind, const uint8_t *v, size_t n)
{
    if (kind == VALUE_DNS) {
        if (n == 0)
            return OCTO_EMALFORMED;
        if (memchr(v, '/', n) != NULL || memchr(v, '\0', n) != NULL)
            return OCTO_EMALFORMED;
    } else if (kind == VALUE_P2P) {
        struct octo_multihash mh;
        return octo_multihash_decode(v, n, &mh);
    }
    return 0;
}

/* Maps a varint error inside a multiaddr: truncated or overlong is a broken address. */
static int read_varint(const uint8_t *in, size_t len, uint64_t *value)
{
    int n = octo_varint_decode(in, len, value);
    if (n == OCTO_ENONCANON)
        return n;
    return n < 0 ? OCTO_EMALFORMED : n;
}

/* Parses and validates one binary component at in[0..len). Returns the bytes it spans. */
static int parse_component(const uint8_t *in, size_t len, struct octo_ma_component *c)
{
    uint64_t code;
    int n = read_varint(in, len, &code);
    if (n < 0)
        return n;
    size_t pos = (size_t)n;
    const struct proto *p = proto_by_code(code);
    if (p == NULL)
        return OCTO_EMALFORMED;
    uint64_t vlen = fixed_size(p->kind);
    if (is_variable(p->kind)) {
        n = read_varint(in + pos, len - pos, &vlen);
        if (n < 0)
            return n;
        pos += (size_t)n;
        if (vlen > variable_max(p->kind))
            return OCTO_ETOOBIG;
    }
    if (vlen > len - pos)
        return OCTO_EMALFORMED; /* truncated value */
    int rc = check_value(p->kind, in + pos, (size_t)vlen);
    if (rc < 0)
        return rc;
    c->code = code;
    c->value = vlen != 0 ? in + pos : NULL;
    c->value_len = (size_t)vlen;
    return (int)(pos + (size_t)vlen);
}

/* Validates a whole binary multiaddr. */
static int validate(const uint8_t *in, size_t len)
{
    if (len == 0)
        return OCTO_EMALFORMED;
    if (len > OCTO_MULTIADDR_MAX_BYTES)
        return OCTO_ETOOBIG;
    size_t pos = 0, count = 0;
    while (pos < len) {
        if (count == OCTO_MULTIADDR_MAX_COMPONENTS)
            return OCTO_ETOOBIG;
        struct octo_ma_component c;
        int n = parse_component(in + pos, len - pos, &c);
        if (n < 0)
            return n;
        pos += (size_t)n;
        count++;
    }
    return 0;
}

int octo_multiaddr_from_bytes(const uint8_t *in, size_t len, struct octo_multiaddr *out)
{
    int rc = validate(in, len);
    if (rc < 0)
        return rc;
    memcpy(out->bytes, in, len);
    out->len = len;
    return 0;
}

int octo_multiaddr_next(const struct octo_multiaddr *ma, size_t *offset,
                        struct octo_ma_component *c)
{
    OCTO_ASSERT(*offset <= ma->len && ma->len <= OCTO_MULTIADDR_MAX_BYTES);
    if (*offset == ma->len)
        return 0;
    int n = parse_component(ma->bytes + *offset, ma->len - *offset, c);
    OCTO_ASSERT(n > 0); /* a struct octo_multiaddr only holds validated bytes */
    *offset += (size_t)n;
    return 1;
}

static size_t count_components(const struct octo_multiaddr *ma)
{
    size_t offset = 0, count = 0;
    struct octo_ma_component c;
    while (octo_multiaddr_next(ma, &offset, &c))
        count++;
    return count;
}

/* Appends a component whose value is known to be valid. */
static int append(struct octo_multiaddr *ma, const struct proto *p, const uint8_t *value,
                  size_t value_len)
{
    size_t need = octo_varint_size(p->code) + value_len;
    if (is_variable(p->kind))
        need += octo_varint_size(value_len);
    if (need > OCTO_MULTIADDR_MAX_BYTES - ma->len)
        return OCTO_ETOOBIG;
    size_t pos = ma->len;
    pos += octo_varint_encode(p->code, ma->bytes + pos);
    if (is_variable(p->kind))
        pos += octo_varint_encode(value_len, ma->bytes + pos);
    if (value_len > 0)
        memcpy(ma->bytes + pos, value, value_len);
    ma->len = pos + value_len;
    return 0;
}

int octo_multiaddr_push(struct octo_multiaddr *ma, uint64_t code, const uint8_t *value,
                        size_t value_len)
{
    const struct proto *p = proto_by_code(code);
    if (p == NULL)
        return OCTO_EINVAL;
    if (is_variable(p->kind)) {
        if (value_len > variable_max(p->kind))
            return OCTO_ETOOBIG;
    } else if (value_len != fixed_size(p->kind)) {
        return OCTO_EINVAL;
    }
    if (check_value(p->kind, value, value_len) < 0)
        return OCTO_EINVAL;
    if (count_components(ma) >= OCTO_MULTIADDR_MAX_COMPONENTS)
        return OCTO_ETOOBIG;
    return append(ma, p, value, value_len);
}

bool octo_multiaddr_equal(const struct octo_multiaddr *a, const struct octo_multiaddr *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* ---- text values -> binary ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads a decimal number of 1..max_digits digits at s[*pos..n), without leading zeros. */
static int read_decimal(const char *s, size_t n, size_t *pos, size_t max_digits, unsigned *out)
{
    size_t start = *pos, i = *pos;
    unsigned v = 0;
    while (i < n && is_digit(s[i]) && i - start < max_digits) {
        v = v * 10 + (unsigned)(s[i] - '0');
        i++;
    }
    if (i == start || (i - start > 1 && s[start] == '0'))
        return OCTO_EMALFORMED;
    *pos = i;
    *out = v;
    return 0;
}

/* Dotted-quad IPv4 spanning all of s[0..n). */
static int parse_ip4(const char *s, size_t n, uint8_t out[4])
{
    size_t pos = 0;
    for (int k = 0; k < 4; k++) {
        if (k > 0) {
            if (pos >= n || s[pos] != '.')
                return OCTO_EMALFORMED;
            pos++;
        }
        unsigned v;
        if (read_decimal(s, n, &pos, 3, &v) < 0 || v > 255)
            return OCTO_EMALFORMED;
        out[k] = (uint8_t)v;
    }
    return pos == n ? 0 : OCTO_EMALFORMED;
}

/* Expands parsed IPv6 groups around the "::" gap (gap < 0: none) into 16 bytes. */
static int ip6_expand(const uint16_t *g, size_t ng, long gap, uint8_t out[16])
{
    if (gap < 0 ? ng != 8 : ng > 7)
        return OCTO_EMALFORMED;
    uint16_t full[8] = {0};
    size_t head = gap < 0 ? ng : (size_t)gap;
    for (size_t i = 0; i < head; i++)
        full[i] = g[i];
    for (size_t i = head; i < ng; i++)
        full[8 - (ng - i)] = g[i];
    for (size_t i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(full[i] >> 8);
        out[2 * i + 1] = (uint8_t)full[i];
    }
    return 0;
}

/* RFC 4291 IPv6 text spanning all of s[0..n). */
static int parse_ip6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t g[8];
    size_t ng = 0, i = 0;
    long gap = -1;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < n) {
        size_t j = i;
        unsigned v = 0;
        while (j < n && j - i < 5 && hex_value(s[j]) >= 0)
            v = v * 16 + (unsigned)hex_value(s[j++]);
        if (j < n && s[j] == '.') { /* a dotted IPv4 tail ends the address */
            uint8_t v4[4];
            if (ng > 6 || parse_ip4(s + i, n - i, v4) < 0)
                return OCTO_EMALFORMED;
            g[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
            g[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
            break;
        }
        if (j == i || j - i > 4 || ng == 8)
            return OCTO_EMALFORMED;
        g[ng++] = (uint16_t)v;
        i = j;
        if (i == n)
            break;
        if (s[i++] != ':' || i == n)
            return OCTO_EMALFORMED; /* junk, or a trailing single ':' */
        if (s[i] == ':') {
            if (gap >= 0)
                return OCTO_EMALFORMED; /* a second "::" */
            gap = (long)ng;
            i++;
        }
    }
    return ip6_expand(g, ng, gap, out);
}

/* A decimal port 0..65535 spanning all of s[0..n). */
static int parse_port(const char *s, size_t n, uint8_t out[2])
{
    size_t pos = 0;
    unsigned v;
    if (read_decimal(s, n, &pos, 5, &v) < 0 || pos != n || v > 65535)
        return OCTO_EMALFORMED;
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)v;
    return 0;
}

static bool is_multihash(const uint8_t *b, size_t n)
{
    struct octo_multihash mh;
    return octo_multihash_decode(b, n, &mh) == 0;
}

/* A peer id: a CIDv1 libp2p-key in multibase base32 ("bafz..."), or a base58btc multihash.
 * Text starting with 'b' is tried as a CID first, as the peer-id spec says; base58 text can
 * start with 'b' too, so it falls back to base58. Writes the multihash to out. */
static int parse_p2p(const char *s, size_t n, uint8_t *out, size_t out_size, size_t *out_len)
{
    OCTO_ASSERT(out_size >= MA_P2P_MAX);
    if (n > OCTO_BASE58_MAX_CHARS)
        return OCTO_ETOOBIG;
    if (s[0] == 'b') {
        uint8_t cid[2 + MA_P2P_MAX];
        int rc = octo_base32_decode(s + 1, n - 1, cid, sizeof(cid));
        if (rc > 2 && cid[0] == CID_VERSION_1 && cid[1] == CID_LIBP2P_KEY &&
            is_multihash(cid + 2, (size_t)rc - 2)) {
            memcpy(out, cid + 2, (size_t)rc - 2);
            *out_len = (size_t)rc - 2;
            return 0;
        }
    }
    uint8_t mh[OCTO_BASE58_MAX_BYTES];
    int rc = octo_base58_decode(s, n, mh, sizeof(mh));
    if (rc < 0)
        return rc == OCTO_ETOOBIG ? rc : OCTO_EMALFORMED;
    if ((size_t)rc > MA_P2P_MAX)
        return OCTO_ETOOBIG;
    if (!is_multihash(mh, (size_t)rc))
        return OCTO_EMALFORMED;
    memcpy(out, mh, (size_t)rc);
    *out_len = (size_t)rc;
    return 0;
}

/* Converts the text value s[0..n) (n > 0) of protocol p to binary in out. */
static int parse_value(const struct proto *p, const char *s, size_t n, uint8_t *out,
                       size_t out_size, size_t *out_len)
{
    OCTO_ASSERT(out_size >= OCTO_MULTIADDR_DNS_MAX && out_size >= MA_P2P_MAX);
    *out_len = fixed_size(p->kind);
    switch (p->kind) {
    case VALUE_IP4:
        return parse_ip4(s, n, out);
    case VALUE_IP6:
        return parse_ip6(s, n, out);
    case VALUE_PORT:
        return parse_port(s, n, out);
    case VALUE_DNS:
        if (n > OCTO_MULTIADDR_DNS_MAX)
            return OCTO_ETOOBIG;
        memcpy(out, s, n); /* cannot hold '/' (the separator) or NUL (the terminator) */
        *out_len = n;
        return 0;
    case VALUE_P2P:
        return parse_p2p(s, n, out, out_size, out_len);
    case VALUE_NONE:
        break;
    }
    OCTO_UNREACHABLE();
}

/* Length of the segment of s[pos..n) up to the next '/' or the end. */
static size_t segment_len(const char *s, size_t n, size_t pos)
{
    const char *slash = memchr(s + pos, '/', n - pos);
    return slash != NULL ? (size_t)(slash - (s + pos)) : n - pos;
}

/* Parses one "/name[/value]" component at text[*pos..n) and appends it to out. */
static int parse_text_component(const char *text, size_t n, size_t *pos, struct octo_multiaddr *out)
{
    if (text[*pos] != '/')
        return OCTO_EMALFORMED;
    (*pos)++;
    size_t name_len = segment_len(text, n, *pos);
    const struct proto *p = proto_by_name(text + *pos, name_len);
    if (p == NULL)
        return OCTO_EMALFORMED; /* unknown or empty protocol name */
    *pos += name_len;
    uint8_t value[OCTO_MULTIADDR_DNS_MAX + MA_P2P_MAX];
    size_t value_len = 0;
    if (p->kind != VALUE_NONE) {
        if (*pos == n)
            return OCTO_EMALFORMED; /* missing value */
        (*pos)++;
        size_t vn = segment_len(text, n, *pos);
        if (vn == 0)
            return OCTO_EMALFORMED;
        int rc = parse_value(p, text + *pos, vn, value, sizeof(value), &value_len);
        if (rc < 0)
            return rc;
        *pos += vn;
    }
    return append(out, p, value, value_len);
}

int octo_multiaddr_from_text(const char *text, struct octo_multiaddr *out)
{
    out->len = 0;
    size_t n = 0; /* a bounded strlen (strnlen is POSIX, not C17) */
    while (n <= OCTO_MULTIADDR_MAX_TEXT && text[n] != '\0')
        n++;
    if (n > OCTO_MULTIADDR_MAX_TEXT)
        return OCTO_ETOOBIG;
    if (n == 0)
        return OCTO_EMALFORMED;
    size_t pos = 0, count = 0;
    while (pos < n) {
        int rc = count == OCTO_MULTIADDR_MAX_COMPONENTS ? OCTO_ETOOBIG
                                                        : parse_text_component(text, n, &pos, out);
        if (rc < 0) {
            out->len = 0;
            return rc;
        }
        count++;
    }
    OCTO_DASSERT(validate(out->bytes, out->len) == 0);
    return 0;
}

/* ---- binary -> text ---- */

/* A bounded text writer; `full` records that something did not fit. */
struct text_out {
    char *p;
    size_t size; /* includes the NUL */
    size_t len;
    bool full;
};

static void put(struct text_out *w, const char *s, size_t n)
{
    if (w->full || n >= w->size - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void put_str(struct text_out *w, const char *s)
{
    put(w, s, strlen(s));
}

/* RFC 5952 canonical text of an IPv6 address into buf (at least 46 bytes). */
static void format_ip6(const uint8_t b[16], char *buf, size_t size)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, sizeof(mapped)) == 0) {
        snprintf(buf, size, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        return;
    }
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    int best = -1, best_len = 1; /* a single zero group is never compressed */
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    size_t len = 0;
    for (int i = 0; i < 8;) {
        if (i == best) {
            len += (size_t)snprintf(buf + len, size - len, "::");
            i += best_len;
            continue;
        }
        const char *sep = i > 0 && i != best + best_len ? ":" : "";
        len += (size_t)snprintf(buf + len, size - len, "%s%x", sep, g[i]);
        i++;
    }
    OCTO_ASSERT(len < size);
}

static void put_value(struct text_out *w, const struct proto *p, const uint8_t *v, size_t n)
{
    char tmp[OCTO_BASE58_MAX_CHARS + 1];
    switch (p->kind) {
    case VALUE_IP4:
        snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
        put_str(w, tmp);
        break;
    case VALUE_IP6:
        format_ip6(v, tmp, sizeof(tmp));
        put_str(w, tmp);
        break;
    case VALUE_PORT:
        snprintf(tmp, sizeof(tmp), "%u", (unsigned)v[0] << 8 | v[1]);
        put_str(w, tmp);
        break;
    case VALUE_DNS:
        put(w, (const char *)v, n);
        break;
    case VALUE_P2P: {
        int rc = octo_base58_encode(v, n, tmp, sizeof(tmp));
        OCTO_ASSERT(rc > 0);
        put(w, tmp, (size_t)rc);
        break;
    }
    case VALUE_NONE:
        break;
    }
}

int octo_multiaddr_to_text(const struct octo_multiaddr *ma, char *out, size_t out_size)
{
    if (out_size == 0)
        return OCTO_ENOSPACE;
    struct text_out w = {.p = out, .size = out_size, .len = 0, .full = false};
    size_t offset = 0;
    struct octo_ma_component c;
    while (octo_multiaddr_next(ma, &offset, &c)) {
        const struct proto *p = proto_by_code(c.code);
        OCTO_ASSERT(p != NULL);
        put(&w, "/", 1);
        put_str(&w, p->name);
        if (p->kind != VALUE_NONE) {
            put(&w, "/", 1);
            put_value(&w, p, c.value, c.value_len);
        }
    }
    if (w.full) {
        out[0] = '\0';
        return OCTO_ENOSPACE;
    }
    out[w.len] = '\0';
    return (int)w.len;
}
