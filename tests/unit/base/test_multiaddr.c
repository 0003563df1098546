/*
 * test_multiaddr.c — multiaddr text <-> binary: the published vectors of LIBP2P.md §3, the
 * /ipfs/ alias and CIDv1 peer ids, RFC 5952 IPv6 output, every value parser's rejections,
 * binary validation, limits, the iterator, push, and randomised round trips.
 */
#include "base/multiaddr.h"
#include "base/multihash.h"
#include "base/rng.h"
#include "base/varint.h"
#include "test.h"

#define PEER_MH "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define PEER_B58 "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"
#define PEER_CID "bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny"
/* sha2-256("x") as a peer id (the RSA-style "Qm..." form), and its CIDv1 */
#define SHA_MH "12202d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
#define SHA_B58 "QmRQ353oFNqt8zfZ9X1HgRUszwv9RkEEwmMZZkbkYEsybn"
#define SHA_CID "bafzbeibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe"

struct ma_case {
    const char *text; /* input */
    const char *hex;  /* binary */
    const char *out;  /* canonical text, NULL when the input is canonical */
};

static const struct ma_case vectors[] = {
    {"/ip4/127.0.0.1/tcp/4001", "047f000001060fa1", NULL},
    {"/ip4/127.0.0.1/tcp/4001/p2p/" PEER_B58, "047f000001060fa1 a503 26" PEER_MH, NULL},
    {"/ip4/127.0.0.1/tcp/4001/p2p/" PEER_B58 "/p2p-circuit/p2p/" PEER_B58,
     "047f000001060fa1 a503 26" PEER_MH "a202 a503 26" PEER_MH, NULL},
    {"/ip6/::1/tcp/4001", "29 00000000000000000000000000000001 06 0fa1", NULL},
    {"/dns4/example.com/tcp/443/wss", "36 0b 6578616d706c652e636f6d 06 01bb de03", NULL},
    {"/ip4/1.2.3.4/udp/4001/quic-v1", "04 01020304 9102 0fa1 cd03", NULL},
    {"/ip4/10.0.0.1/tcp/80/ws", "04 0a000001 06 0050 dd03", NULL},
    {"/dns/example.com/udp/0", "35 0b 6578616d706c652e636f6d 9102 0000", NULL},
    {"/dns6/h/tcp/65535", "37 01 68 06 ffff", NULL},
    {"/dnsaddr/bootstrap.libp2p.io", "38 13 626f6f7473747261702e6c69627032702e696f", NULL},
    {"/ip4/0.0.0.0/tcp/0", "04 00000000 06 0000", NULL},
    {"/ip4/255.255.255.255", "04 ffffffff", NULL},
    {"/p2p-circuit", "a202", NULL},
    {"/p2p/" SHA_B58, "a503 22" SHA_MH, NULL},
    /* the legacy alias and the CIDv1 text form parse to the same bytes, print as /p2p/ */
    {"/ipfs/" PEER_B58, "a503 26" PEER_MH, "/p2p/" PEER_B58},
    {"/p2p/" PEER_CID, "a503 26" PEER_MH, "/p2p/" PEER_B58},
    {"/ipfs/" SHA_CID, "a503 22" SHA_MH, "/p2p/" SHA_B58},
    {"/ip4/127.0.0.1/tcp/4001/ipfs/" PEER_CID "/p2p-circuit/p2p/" PEER_B58,
     "047f000001060fa1 a503 26" PEER_MH "a202 a503 26" PEER_MH,
     "/ip4/127.0.0.1/tcp/4001/p2p/" PEER_B58 "/p2p-circuit/p2p/" PEER_B58},
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct ma_case *v = &vectors[i];
        struct octo_multiaddr ma;
        CHECK_OK(octo_multiaddr_from_text(v->text, &ma));
        CHECK_HEX(ma.bytes, ma.len, v->hex);
        char text[OCTO_MULTIADDR_MAX_TEXT + 1];
        const char *want = v->out != NULL ? v->out : v->text;
        CHECK_EQ_INT(octo_multiaddr_to_text(&ma, text, sizeof(text)), (int)strlen(want));
        CHECK_STR(text, want);
        /* and from the bytes */
        size_t len;
        const uint8_t *bin = octo_test_hex(v->hex, &len);
        struct octo_multiaddr mb;
        CHECK_OK(octo_multiaddr_from_bytes(bin, len, &mb));
        CHECK(octo_multiaddr_equal(&ma, &mb));
    }
}

struct ip6_case {
    const char *in;
    const char *out;
};

static void test_ip6_canonical(void)
{
    static const struct ip6_case cases[] = {
        {"::", "::"},
        {"::1", "::1"},
        {"2001:db8::1", "2001:db8::1"},
        {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* a single 0 stays */
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* a tie: the first run */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* the longest run */
        {"1:0:0:0:0:0:0:0", "1::"},
        {"1::", "1::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
        {"0:0:1:0:0:0:0:1", "0:0:1::1"},
        {"ABCD::EF", "abcd::ef"},
        {"fe80::0abc:00ef", "fe80::abc:ef"},
        {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
        {"::ffff:102:304", "::ffff:1.2.3.4"},
        {"::1.2.3.4", "::102:304"},
        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
        {"1::255.255.255.255", "1::ffff:ffff"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[128], want[128], text[256];
        snprintf(in, sizeof(in), "/ip6/%s/udp/1", cases[i].in);
        snprintf(want, sizeof(want), "/ip6/%s/udp/1", cases[i].out);
        struct octo_multiaddr ma;
        CHECK_OK(octo_multiaddr_from_text(in, &ma));
        CHECK_EQ_INT(ma.len, 1 + 16 + 2 + 2);
        CHECK_OK(octo_multiaddr_to_text(&ma, text, sizeof(text)));
        CHECK_STR(text, want);
        struct octo_multiaddr again; /* the canonical text is a fixed point */
        CHECK_OK(octo_multiaddr_from_text(text, &again));
        CHECK(octo_multiaddr_equal(&ma, &again));
    }
    struct octo_multiaddr ma;
    CHECK_OK(octo_multiaddr_from_text("/ip6/2001:db8::1", &ma));
    CHECK_HEX(ma.bytes, ma.len, "29 20010db8000000000000000000000001");
}

static void check_rejected(const char *const *texts, size_t n, int want)
{
    for (size_t i = 0; i < n; i++) {
        struct octo_multiaddr ma;
        ma.len = 77;
        int rc = octo_multiaddr_from_text(texts[i], &ma);
        if (rc != want) {
            octo_test_fail_at(__FILE__, __LINE__, "\"%s\": got %s, want %s", texts[i],
                              octo_test_err_name(rc), octo_test_err_name(want));
            return;
        }
        if (ma.len != 0) {
            octo_test_fail_at(__FILE__, __LINE__, "\"%s\": output not cleared", texts[i]);
            return;
        }
    }
}

#define REJECT(want, ...)                                                                          \
    do {                                                                                           \
        static const char *const t_[] = {__VA_ARGS__};                                             \
        check_rejected(t_, sizeof(t_) / sizeof(t_[0]), (want));                                    \
        if (octo_test_failed)                                                                      \
            return;                                                                                \
    } while (0)

static void test_reject_structure(void)
{
    REJECT(OCTO_EMALFORMED, "", "/", "//", "ip4/1.2.3.4", "/ip4", "/ip4/", "/ip4/1.2.3.4/",
           "/ip4/1.2.3.4//tcp/1", "/foo/1", "/tcp", "/tcp/", "/ws/x", "/ws/", "/ws//",
           "/ip4/1.2.3.4/tcp/80/", "/p2p-circuit/", "/IP4/1.2.3.4", "/ip4/1.2.3.4/tcp",
           " /ip4/1.2.3.4", "/ip4/1.2.3.4 ", "/p2p", "/dns4", "/dns4/", "/unix/tmp",
           "/ip4/1.2.3.4\n");
}

static void test_reject_ip4(void)
{
    REJECT(OCTO_EMALFORMED, "/ip4/1.2.3", "/ip4/1.2.3.4.5", "/ip4/256.1.1.1", "/ip4/01.2.3.4",
           "/ip4/1.2.3.00", "/ip4/+1.2.3.4", "/ip4/1..2.3", "/ip4/a.b.c.d", "/ip4/1.2.3.-4",
           "/ip4/1234.1.1.1", "/ip4/1.2.3.4.", "/ip4/.1.2.3.4", "/ip4/1.2.3.4x", "/ip4/::1",
           "/ip4/0x1.2.3.4");
}

static void test_reject_ip6(void)
{
    REJECT(OCTO_EMALFORMED, "/ip6/:", "/ip6/:::", "/ip6/1:2:3:4:5:6:7:8:9", "/ip6/1:2:3:4:5:6:7",
           "/ip6/1::2::3", "/ip6/12345::", "/ip6/g::", "/ip6/1:", "/ip6/:1",
           "/ip6/1::2:", "/ip6/::1.2.3", "/ip6/::1.2.3.256", "/ip6/::01.2.3.4",
           "/ip6/1:2:3:4:5:6:7:1.2.3.4", "/ip6/1.2.3.4", "/ip6/::1.2.3.4:5",
           "/ip6/1:2:3:4:5:6:7:8::", "/ip6/::1%eth0", "/ip6/[::1]",
           "/ip6/1:2:3:4:5:6:7:8:", "/ip6/:1:2:3:4:5:6:7",
           "/ip6/1.2.3.4::", "/ip6/::ffff:1.2.3.4.5", "/ip6/ ::1", "/ip6/::-1");
}

static void test_reject_ports(void)
{
    REJECT(OCTO_EMALFORMED, "/tcp/65536", "/tcp/+80", "/tcp/-1", "/tcp/080", "/tcp/00", "/tcp/80a",
           "/tcp/123456", "/tcp/ 80", "/udp/99999", "/udp/0x50", "/tcp/8.0", "/tcp/4294967376");
    static const char *const ok[] = {"/tcp/0", "/tcp/65535", "/udp/1", "/udp/10000"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct octo_multiaddr ma;
        CHECK_OK(octo_multiaddr_from_text(ok[i], &ma));
    }
}

static void test_reject_p2p(void)
{
    REJECT(OCTO_EMALFORMED, "/p2p/0OIl", "/p2p/2NEpo7TZRRrLZSi2U", /* base58, not a multihash */
           "/p2p/" PEER_B58 "x",                                   /* trailing junk byte */
           /* a CIDv1 with the raw codec (0x55) instead of libp2p-key */
           "/p2p/bafkqajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny",
           /* a right CID with non-zero trailing bits (SHA_CID ends in 'e') */
           "/p2p/bafzbeibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqf",
           "/p2p/BAFZAAJAIAEJCAA5BA677HTQQXYOXBXIY45F4BGLH4TLDBG5FBVPR3XEGMQJFKMNY", "/p2p/zbafz",
           "/p2p/1");
    char long_id[400];
    memset(long_id, '2', sizeof(long_id));
    memcpy(long_id, "/p2p/", 5);
    long_id[sizeof(long_id) - 1] = '\0';
    const char *const too_long[] = {long_id};
    check_rejected(too_long, 1, OCTO_ETOOBIG);
}

static void test_dns_limits(void)
{
    char text[300];
    memcpy(text, "/dns/", 5);
    memset(text + 5, 'a', 253);
    text[5 + 253] = '\0';
    struct octo_multiaddr ma;
    CHECK_OK(octo_multiaddr_from_text(text, &ma));
    CHECK_EQ_INT(ma.len, 1 + 2 + 253); /* 253 needs a two-byte length varint */
    CHECK_EQ_INT(ma.bytes[1], 0xfd);
    CHECK_EQ_INT(ma.bytes[2], 0x01);
    text[5 + 253] = 'a';
    text[5 + 254] = '\0';
    CHECK_ERR(octo_multiaddr_from_text(text, &ma), OCTO_ETOOBIG);
    /* any byte but '/' and NUL is carried as is */
    CHECK_OK(octo_multiaddr_from_text("/dns/a b:c%\xff", &ma));
    CHECK_HEX(ma.bytes, ma.len, "35 07 6120623a6325ff");
}

static void test_limits(void)
{
    static char text[OCTO_MULTIADDR_MAX_TEXT + 8];
    struct octo_multiaddr ma;
    /* 16 components are fine, 17 are not */
    for (int i = 0; i < 17; i++)
        memcpy(text + 3 * i, "/ws", 3);
    text[3 * 16] = '\0';
    CHECK_OK(octo_multiaddr_from_text(text, &ma));
    CHECK_EQ_INT(ma.len, 32);
    text[3 * 16] = '/';
    text[3 * 17] = '\0';
    CHECK_ERR(octo_multiaddr_from_text(text, &ma), OCTO_ETOOBIG);
    /* binary longer than OCTO_MULTIADDR_MAX_BYTES: five 253-byte names */
    size_t pos = 0;
    for (int i = 0; i < 5; i++) {
        memcpy(text + pos, "/dns/", 5);
        memset(text + pos + 5, 'a' + i, 253);
        pos += 5 + 253;
    }
    text[pos] = '\0';
    CHECK_ERR(octo_multiaddr_from_text(text, &ma), OCTO_ETOOBIG);
    text[4 * 258] = '\0';
    CHECK_OK(octo_multiaddr_from_text(text, &ma)); /* four fit */
    CHECK_EQ_INT(ma.len, 4 * 256);
    /* text longer than OCTO_MULTIADDR_MAX_TEXT is refused before parsing */
    memset(text, '/', OCTO_MULTIADDR_MAX_TEXT + 1);
    text[OCTO_MULTIADDR_MAX_TEXT + 1] = '\0';
    CHECK_ERR(octo_multiaddr_from_text(text, &ma), OCTO_ETOOBIG);
}

static void test_from_bytes_errors(void)
{
    static const struct {
        const char *hex;
        int err;
    } bad[] = {
        {"07 01020304", OCTO_EMALFORMED},     /* unknown code */
        {"047f0000", OCTO_EMALFORMED},        /* truncated ip4 */
        {"047f000001 0600", OCTO_EMALFORMED}, /* truncated port */
        {"8400 7f000001", OCTO_ENONCANON},    /* non-minimal code */
        {"a5", OCTO_EMALFORMED},              /* truncated code varint */
        {"35 00", OCTO_EMALFORMED},           /* empty name */
        {"35 03 612f62", OCTO_EMALFORMED},    /* '/' in a name */
        {"35 03 610062", OCTO_EMALFORMED},    /* NUL in a name */
        {"35 0b 6578616d", OCTO_EMALFORMED},  /* truncated name */
        {"35 fe01", OCTO_ETOOBIG},            /* 254-byte name */
        {"35", OCTO_EMALFORMED},              /* missing length */
        {"35 8100 61", OCTO_ENONCANON},       /* non-minimal length */
        {"a503 03 1201aa", OCTO_EMALFORMED},  /* p2p: sha2-256 of 1 byte */
        {"a503 03 0002aa", OCTO_EMALFORMED},  /* p2p: truncated multihash */
        {"a503 03 0001aa"
         "ff",
         OCTO_EMALFORMED},                         /* then garbage */
        {"a503 8000", OCTO_ENONCANON},             /* p2p: non-minimal length */
        {"a503 00", OCTO_EMALFORMED},              /* p2p: empty */
        {"a503 03 800001", OCTO_ENONCANON},        /* p2p: non-minimal multihash code */
        {"a503 ff01", OCTO_ETOOBIG},               /* p2p: longer than any multihash */
        {"dd03 dd", OCTO_EMALFORMED},              /* trailing partial component */
        {"ffffffffffffffffff01", OCTO_EMALFORMED}, /* code varint too long */
        {"0400000000 00", OCTO_EMALFORMED},        /* code 0 is not a protocol */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len;
        const uint8_t *in = octo_test_hex(bad[i].hex, &len);
        struct octo_multiaddr ma;
        int rc = octo_multiaddr_from_bytes(in, len, &ma);
        if (rc != bad[i].err) {
            octo_test_fail_at(__FILE__, __LINE__, "%s: got %s, want %s", bad[i].hex,
                              octo_test_err_name(rc), octo_test_err_name(bad[i].err));
            return;
        }
    }
    struct octo_multiaddr ma;
    CHECK_ERR(octo_multiaddr_from_bytes(NULL, 0, &ma), OCTO_EMALFORMED);
    static uint8_t many[2 * 17];
    for (int i = 0; i < 17; i++) {
        many[2 * i] = 0xdd;
        many[2 * i + 1] = 0x03;
    }
    CHECK_ERR(octo_multiaddr_from_bytes(many, sizeof(many), &ma), OCTO_ETOOBIG);
    CHECK_OK(octo_multiaddr_from_bytes(many, sizeof(many) - 2, &ma));
    static uint8_t huge[OCTO_MULTIADDR_MAX_BYTES + 1];
    CHECK_ERR(octo_multiaddr_from_bytes(huge, sizeof(huge), &ma), OCTO_ETOOBIG);
}

static void test_next(void)
{
    struct octo_multiaddr ma;
    CHECK_OK(octo_multiaddr_from_text(
        "/ip4/127.0.0.1/tcp/4001/p2p/" PEER_B58 "/p2p-circuit/p2p/" PEER_B58, &ma));
    static const uint64_t codes[] = {OCTO_MA_IP4, OCTO_MA_TCP, OCTO_MA_P2P, OCTO_MA_P2P_CIRCUIT,
                                     OCTO_MA_P2P};
    static const size_t lens[] = {4, 2, 38, 0, 38};
    size_t offset = 0;
    struct octo_ma_component c;
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ_INT(octo_multiaddr_next(&ma, &offset, &c), 1);
        CHECK_EQ_U64(c.code, codes[i]);
        CHECK_EQ_INT(c.value_len, lens[i]);
        CHECK(lens[i] == 0 ? c.value == NULL : c.value != NULL);
    }
    CHECK_HEX(c.value, c.value_len, PEER_MH);
    CHECK_EQ_INT(offset, ma.len);
    CHECK_EQ_INT(octo_multiaddr_next(&ma, &offset, &c), 0);
    CHECK_EQ_INT(octo_multiaddr_next(&ma, &offset, &c), 0);
}

static void test_push(void)
{
    struct octo_multiaddr ma = {.len = 0};
    const uint8_t ip[4] = {127, 0, 0, 1}, port[2] = {0x0f, 0xa1};
    CHECK_OK(octo_multiaddr_push(&ma, OCTO_MA_IP4, ip, 4));
    CHECK_OK(octo_multiaddr_push(&ma, OCTO_MA_TCP, port, 2));
    CHECK_HEX(ma.bytes, ma.len, "047f000001060fa1");
    size_t len;
    const uint8_t *mh = octo_test_hex(PEER_MH, &len);
    CHECK_OK(octo_multiaddr_push(&ma, OCTO_MA_P2P, mh, len));
    CHECK_OK(octo_multiaddr_push(&ma, OCTO_MA_P2P_CIRCUIT, NULL, 0));
    char text[512];
    CHECK_OK(octo_multiaddr_to_text(&ma, text, sizeof(text)));
    CHECK_STR(text, "/ip4/127.0.0.1/tcp/4001/p2p/" PEER_B58 "/p2p-circuit");

    struct octo_multiaddr before = ma;
    CHECK_ERR(octo_multiaddr_push(&ma, 0x07, ip, 4), OCTO_EINVAL);        /* unknown */
    CHECK_ERR(octo_multiaddr_push(&ma, OCTO_MA_IP4, ip, 3), OCTO_EINVAL); /* wrong size */
    CHECK_ERR(octo_multiaddr_push(&ma, OCTO_MA_IP6, ip, 4), OCTO_EINVAL);
    CHECK_ERR(octo_multiaddr_push(&ma, OCTO_MA_WS, ip, 1), OCTO_EINVAL);    /* no value */
    CHECK_ERR(octo_multiaddr_push(&ma, OCTO_MA_DNS, NULL, 0), OCTO_EINVAL); /* empty name */
    CHECK_ERR(octo_multiaddr_push(&ma, OCTO_MA_DNS, (const uint8_t *)"a/b", 3), OCTO_EINVAL);
    CHECK_ERR(octo_multiaddr_push(&ma, OCTO_MA_P2P, ip, 4), OCTO_EINVAL); /* not a multihash */
    static uint8_t name[OCTO_MULTIADDR_DNS_MAX + 1];
    memset(name, 'n', sizeof(name));
    CHECK_ERR(octo_multiaddr_push(&ma, OCTO_MA_DNS, name, sizeof(name)), OCTO_ETOOBIG);
    CHECK(octo_multiaddr_equal(&ma, &before)); /* failed pushes change nothing */

    /* component and byte limits */
    struct octo_multiaddr m2 = {.len = 0};
    for (int i = 0; i < OCTO_MULTIADDR_MAX_COMPONENTS; i++)
        CHECK_OK(octo_multiaddr_push(&m2, OCTO_MA_WSS, NULL, 0));
    CHECK_ERR(octo_multiaddr_push(&m2, OCTO_MA_WSS, NULL, 0), OCTO_ETOOBIG);
    struct octo_multiaddr m3 = {.len = 0};
    for (int i = 0; i < 3; i++)
        CHECK_OK(octo_multiaddr_push(&m3, OCTO_MA_DNSADDR, name, OCTO_MULTIADDR_DNS_MAX));
    CHECK_OK(octo_multiaddr_push(&m3, OCTO_MA_DNS, name, OCTO_MULTIADDR_DNS_MAX - 2));
    CHECK_EQ_INT(m3.len, 1022);
    CHECK_ERR(octo_multiaddr_push(&m3, OCTO_MA_IP4, NULL, 0), OCTO_EINVAL);
    CHECK_ERR(octo_multiaddr_push(&m3, OCTO_MA_IP4, ip, 4), OCTO_ETOOBIG);    /* 5 > 2 left */
    CHECK_ERR(octo_multiaddr_push(&m3, OCTO_MA_DNS4, name, 1), OCTO_ETOOBIG); /* 3 > 2 */
    CHECK_EQ_INT(m3.len, 1022);
    CHECK_OK(octo_multiaddr_push(&m3, OCTO_MA_WS, NULL, 0)); /* exactly full */
    CHECK_EQ_INT(m3.len, OCTO_MULTIADDR_MAX_BYTES);
    CHECK_ERR(octo_multiaddr_push(&m3, OCTO_MA_WS, NULL, 0), OCTO_ETOOBIG);
    CHECK_OK(octo_multiaddr_from_bytes(m3.bytes, m3.len, &m2));
}

static void test_to_text_space(void)
{
    struct octo_multiaddr ma;
    CHECK_OK(octo_multiaddr_from_text("/ip4/127.0.0.1/tcp/4001", &ma));
    char text[32];
    CHECK_ERR(octo_multiaddr_to_text(&ma, text, 23), OCTO_ENOSPACE); /* 23 chars, no NUL */
    CHECK_ERR(octo_multiaddr_to_text(&ma, text, 0), OCTO_ENOSPACE);
    CHECK_ERR(octo_multiaddr_to_text(&ma, text, 1), OCTO_ENOSPACE);
    CHECK_EQ_INT(octo_multiaddr_to_text(&ma, text, 24), 23);
    CHECK_STR(text, "/ip4/127.0.0.1/tcp/4001");
}

static void test_proto_names_and_equal(void)
{
    CHECK_STR(octo_ma_proto_name(OCTO_MA_IP4), "ip4");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_TCP), "tcp");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_IP6), "ip6");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_DNS), "dns");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_DNS4), "dns4");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_DNS6), "dns6");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_DNSADDR), "dnsaddr");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_UDP), "udp");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_P2P_CIRCUIT), "p2p-circuit");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_P2P), "p2p");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_QUIC_V1), "quic-v1");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_WS), "ws");
    CHECK_STR(octo_ma_proto_name(OCTO_MA_WSS), "wss");
    CHECK(octo_ma_proto_name(0x07) == NULL);
    CHECK(octo_ma_proto_name(0x01a6) == NULL);
    struct octo_multiaddr a, b;
    CHECK_OK(octo_multiaddr_from_text("/ip4/1.2.3.4/tcp/1", &a));
    CHECK_OK(octo_multiaddr_from_text("/ip4/1.2.3.4/tcp/1", &b));
    CHECK(octo_multiaddr_equal(&a, &b));
    CHECK_OK(octo_multiaddr_from_text("/ip4/1.2.3.4/tcp/2", &b));
    CHECK(!octo_multiaddr_equal(&a, &b));
    CHECK_OK(octo_multiaddr_from_text("/ip4/1.2.3.4", &b));
    CHECK(!octo_multiaddr_equal(&a, &b));
}

/* Pushes a random valid component. */
static int push_random(struct octo_multiaddr *ma, struct octo_rng *r)
{
    static const uint64_t codes[] = {
        OCTO_MA_IP4,     OCTO_MA_TCP,     OCTO_MA_IP6, OCTO_MA_DNS,         OCTO_MA_DNS4,
        OCTO_MA_DNS6,    OCTO_MA_DNSADDR, OCTO_MA_UDP, OCTO_MA_P2P_CIRCUIT, OCTO_MA_P2P,
        OCTO_MA_QUIC_V1, OCTO_MA_WS,      OCTO_MA_WSS};
    uint64_t code = codes[octo_rng_below(r, sizeof(codes) / sizeof(codes[0]))];
    uint8_t v[OCTO_MULTIADDR_DNS_MAX];
    size_t n = 0;
    switch (code) {
    case OCTO_MA_IP4:
        n = 4;
        break;
    case OCTO_MA_IP6:
        n = 16;
        break;
    case OCTO_MA_TCP:
    case OCTO_MA_UDP:
        n = 2;
        break;
    case OCTO_MA_P2P: {
        /* identity (base58 "1..."), sha2-256 ("Qm...") or any other code, whose base58
         * text may start with 'b' like a CID */
        uint64_t mh_code = octo_rng_below(r, 3) == 0 ? 0x12 : octo_rng_below(r, 1u << 20);
        size_t dl = mh_code == 0x12 ? 32 : (size_t)octo_rng_below(r, 129);
        if (mh_code == OCTO_MH_BLAKE2B_256)
            dl = 32;
        n = octo_varint_encode(mh_code, v);
        n += octo_varint_encode(dl, v + n);
        octo_rng_fill(r, v + n, dl);
        return octo_multiaddr_push(ma, code, v, n + dl);
    }
    case OCTO_MA_DNS:
    case OCTO_MA_DNS4:
    case OCTO_MA_DNS6:
    case OCTO_MA_DNSADDR:
        n = 1 + (size_t)octo_rng_below(r, OCTO_MULTIADDR_DNS_MAX);
        for (size_t i = 0; i < n; i++)
            v[i] = (uint8_t)(1 + octo_rng_below(r, 255));
        for (size_t i = 0; i < n; i++)
            v[i] = v[i] == '/' ? 'x' : v[i];
        return octo_multiaddr_push(ma, code, v, n);
    default:
        return octo_multiaddr_push(ma, code, NULL, 0);
    }
    octo_rng_fill(r, v, n);
    if (octo_rng_below(r, 3) == 0)
        memset(v, 0, n / 2); /* zero runs for the IPv6 printer */
    return octo_multiaddr_push(ma, code, v, n);
}

static void test_random_round_trips(void)
{
    struct octo_rng r;
    octo_rng_init(&r, 2024);
    for (int iter = 0; iter < 3000; iter++) {
        struct octo_multiaddr ma = {.len = 0};
        size_t want = 1 + (size_t)octo_rng_below(&r, OCTO_MULTIADDR_MAX_COMPONENTS);
        for (size_t i = 0; i < want; i++) {
            int rc = push_random(&ma, &r);
            CHECK(rc == 0 || rc == OCTO_ETOOBIG);
        }
        if (ma.len == 0)
            continue;
        /* the text of any valid address fits the text limit */
        char text[OCTO_MULTIADDR_MAX_TEXT + 1];
        int n = octo_multiaddr_to_text(&ma, text, sizeof(text));
        CHECK(n > 0);
        struct octo_multiaddr back;
        CHECK_OK(octo_multiaddr_from_text(text, &back));
        CHECK(octo_multiaddr_equal(&ma, &back));
        struct octo_multiaddr copy;
        CHECK_OK(octo_multiaddr_from_bytes(ma.bytes, ma.len, &copy));
        char text2[OCTO_MULTIADDR_MAX_TEXT + 1];
        CHECK_EQ_INT(octo_multiaddr_to_text(&copy, text2, sizeof(text2)), n);
        CHECK_STR(text2, text);
    }
}

int main(void)
{
    OCTO_RUN(test_vectors);
    OCTO_RUN(test_ip6_canonical);
    OCTO_RUN(test_reject_structure);
    OCTO_RUN(test_reject_ip4);
    OCTO_RUN(test_reject_ip6);
    OCTO_RUN(test_reject_ports);
    OCTO_RUN(test_reject_p2p);
    OCTO_RUN(test_dns_limits);
    OCTO_RUN(test_limits);
    OCTO_RUN(test_from_bytes_errors);
    OCTO_RUN(test_next);
    OCTO_RUN(test_push);
    OCTO_RUN(test_to_text_space);
    OCTO_RUN(test_proto_names_and_equal);
    OCTO_RUN(test_random_round_trips);
    return octo_test_finish();
}
