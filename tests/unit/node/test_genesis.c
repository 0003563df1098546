/*
 * test_genesis.c — node/genesis.c: parse → format → parse gives the same genesis and chain id;
 * every strictness rule refuses with a message naming the field; the chain id moves with the
 * name, an allocation and a parameter and with nothing else; the ledger started from the
 * genesis holds the expected supply and validator set; one pinned chain-id vector.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "node/fs.h"
#include "node/genesis.h"
#include "test.h"

#define X2(s) s s
#define X4(s) X2(X2(s))
#define HEX32(b) X4(X4(X2(b))) /* a 32-byte address, one repeated byte */

#define TREASURY HEX32("74")
#define GOVERNANCE HEX32("67")

/* The vector: two allocations, two validators (one with an ip6 and an ip4 address). */
static const char sample[] =
    "{\n"
    "  \"chain\": \"octo-vector\",\n"
    "  \"time_ms\": 1764460000000,\n"
    "  \"delta_ms\": 20,\n"
    "  \"params\": {\n"
    "    \"min_fee\": \"2000\",\n"
    "    \"epoch_blocks\": \"100\",\n"
    "    \"stake\": {\"validator\": [\"20000000000\", \"0\"], \"compute\": [\"1\", \"2\"]},\n"
    "    \"treasury\": \"" TREASURY "\",\n"
    "    \"governance\": \"" GOVERNANCE "\"\n"
    "  },\n"
    "  \"allocations\": [\n"
    "    {\"address\": \"" HEX32(
        "a1") "\", \"OCTO\": \"5000000000\", \"OCTO-A\": \"7\"},\n"
              "    {\"address\": \"" HEX32(
                  "B2") "\", \"OCTO-N\": \"42\"}\n"
                        "  ],\n"
                        "  \"validators\": [\n"
                        "    {\"address\": \"" HEX32(
                            "c3") "\", \"stake\": \"20000000000\",\n"
                                  "     \"addrs\": [\"/ip4/127.0.0.1/tcp/7001\"]},\n"
                                  "    {\"address\": \"" HEX32(
                                      "d4") "\", \"stake\": \"30000000000\",\n"
                                            "     \"addrs\": [\"/ip6/::1/tcp/7002\", "
                                            "\"/ip4/10.0.0.2/tcp/7002\"]}\n"
                                            "  ]\n"
                                            "}\n";

/* SHA-256("OCTO-CHAIN-v1" | "octo-vector" | state root | params | delta_ms) of `sample`,
 * printed by this test once (hex of g->chain_id) and pinned; it changes only when the
 * ledger's genesis state, its root, or the chain-id formula changes. */
#define SAMPLE_CHAIN_ID "0f1eca7c6b2a59ff6886fc483e125050c01f2a8cdbddc72c78fcee0539568006"

/* struct octo_genesis is large (64 validators' multiaddrs): tests keep theirs on the heap. */
static struct octo_genesis *new_genesis(void)
{
    struct octo_genesis *g = octo_calloc(1, sizeof(*g));
    OCTO_ASSERT(g != NULL);
    return g;
}

static void free_genesis(struct octo_genesis *g)
{
    if (g != NULL)
        octo_genesis_deinit(g);
    octo_free(g);
}

static int parse(struct octo_genesis *g, const char *text, char err[OCTO_GENESIS_ERR_MAX])
{
    return octo_genesis_parse(g, text, strlen(text), err);
}

/* The sample with the first `from` replaced by `to` (static storage, two rotating slots);
 * NULL when `from` is not in it. */
static const char *with(const char *from, const char *to)
{
    static char out[2][sizeof(sample) + 512];
    static int slot;
    char *o = out[slot];
    slot ^= 1;
    const char *at = strstr(sample, from);
    size_t pre = at != NULL ? (size_t)(at - sample) : 0;
    if (at == NULL || pre + strlen(to) + strlen(at + strlen(from)) >= sizeof(out[0]))
        return NULL;
    /* the lengths were checked: assemble byte by byte */
    size_t n = 0;
    for (size_t i = 0; i < pre; i++)
        o[n++] = sample[i];
    for (const char *p = to; *p != '\0'; p++)
        o[n++] = *p;
    for (const char *p = at + strlen(from); *p != '\0'; p++)
        o[n++] = *p;
    o[n] = '\0';
    return o;
}

/* Whether text is refused with OCTO_ECONFIG and exactly the message want. */
static bool refused(const char *text, const char *want)
{
    if (text == NULL) {
        fprintf(stderr, "  (mutation not found in the sample)\n");
        return false;
    }
    struct octo_genesis *g = new_genesis();
    char err[OCTO_GENESIS_ERR_MAX];
    int rc = parse(g, text, err);
    free_genesis(g);
    if (rc == OCTO_ECONFIG && strcmp(err, want) == 0)
        return true;
    fprintf(stderr, "  got %d '%s'\n  want '%s'\n", rc, rc < 0 ? err : "", want);
    return false;
}

static bool addr_equal(const struct octo_genesis_validator *a,
                       const struct octo_genesis_validator *b)
{
    if (memcmp(a->address, b->address, OCTO_ADDR_LEN) != 0 || a->stake != b->stake ||
        a->n_addrs != b->n_addrs)
        return false;
    for (size_t i = 0; i < a->n_addrs; i++)
        if (!octo_multiaddr_equal(&a->addrs[i], &b->addrs[i]))
            return false;
    return true;
}

static bool genesis_equal(const struct octo_genesis *a, const struct octo_genesis *b)
{
    if (strcmp(a->name, b->name) != 0 || a->time_ms != b->time_ms || a->delta_ms != b->delta_ms ||
        memcmp(&a->params, &b->params, sizeof(a->params)) != 0 || a->n_allocs != b->n_allocs ||
        a->n_validators != b->n_validators || memcmp(a->chain_id, b->chain_id, 32) != 0)
        return false;
    if (a->n_allocs > 0 && memcmp(a->allocs, b->allocs, a->n_allocs * sizeof(*a->allocs)) != 0)
        return false;
    for (uint32_t i = 0; i < a->n_validators; i++)
        if (!addr_equal(&a->validators[i], &b->validators[i]))
            return false;
    return true;
}

static void test_parse_fields(void)
{
    struct octo_genesis *g = new_genesis();
    char err[OCTO_GENESIS_ERR_MAX];
    int rc = parse(g, sample, err);
    if (rc < 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_OK(rc);
    CHECK_STR(g->name, "octo-vector");
    CHECK_EQ_U64(g->time_ms, 1764460000000u);
    CHECK_EQ_U64(g->delta_ms, 20);
    CHECK_EQ_U64(g->params.min_fee, 2000);
    CHECK_EQ_U64(g->params.epoch_blocks, 100);
    CHECK_EQ_U64(g->params.unbond_ms, UINT64_C(604800000)); /* the default */
    CHECK_EQ_U64(g->params.stake_octo[OCTO_STAKE_VALIDATOR], UINT64_C(20000000000));
    CHECK_EQ_U64(g->params.stake_token[OCTO_STAKE_COMPUTE], 2);
    CHECK_EQ_U64(g->params.stake_octo[OCTO_STAKE_STORAGE], 10000 * OCTO_UNIT);
    CHECK_EQ_INT(g->params.treasury[0], 0x74);
    CHECK_EQ_INT(g->n_allocs, 2);
    CHECK_EQ_INT(g->allocs[1].addr[31], 0xb2); /* upper-case hex */
    CHECK_EQ_U64(g->allocs[0].amount[OCTO_TOKEN_A], 7);
    CHECK_EQ_U64(g->allocs[1].amount[OCTO_TOKEN_N], 42);
    CHECK_EQ_U64(g->allocs[1].amount[OCTO_TOKEN_OCTO], 0);
    CHECK_EQ_INT(g->n_validators, 2);
    CHECK_EQ_INT(g->validators[1].n_addrs, 2);
    CHECK_EQ_U64(g->validators[1].stake, UINT64_C(30000000000));
    char text[OCTO_MULTIADDR_MAX_TEXT + 1];
    CHECK_OK(octo_multiaddr_to_text(&g->validators[1].addrs[0], text, sizeof(text)));
    CHECK_STR(text, "/ip6/::1/tcp/7002");
    free_genesis(g);
}

static void test_round_trip(void)
{
    struct octo_genesis *a = new_genesis(), *b = new_genesis();
    char err[OCTO_GENESIS_ERR_MAX];
    CHECK_OK(parse(a, sample, err));
    char *text = octo_genesis_format(a);
    CHECK(text != NULL);
    int rc = parse(b, text, err);
    if (rc < 0)
        fprintf(stderr, "  %s\n%s", err, text);
    CHECK_OK(rc);
    CHECK(genesis_equal(a, b));
    CHECK_MEM(a->chain_id, b->chain_id, 32);
    char *again = octo_genesis_format(b);
    CHECK(again != NULL);
    CHECK_STR(again, text); /* the format is a fixed point */
    octo_free(again);
    octo_free(text);
    free_genesis(a);
    free_genesis(b);
}

static void test_load_file(void)
{
    const char *dir = octo_test_tmpdir("genesis");
    octo_test_write_file(dir, OCTO_GENESIS_FILE, sample, strlen(sample));
    char path[OCTO_PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, OCTO_GENESIS_FILE);
    struct octo_genesis *a = new_genesis(), *b = new_genesis();
    char err[OCTO_GENESIS_ERR_MAX];
    CHECK_OK(octo_genesis_load(a, path, err));
    CHECK_OK(parse(b, sample, err));
    CHECK(genesis_equal(a, b));
    octo_genesis_deinit(a);
    snprintf(path, sizeof(path), "%s/absent.json", dir);
    CHECK_ERR(octo_genesis_load(a, path, err), OCTO_EIO);
    CHECK(strstr(err, "absent.json") != NULL);
    free_genesis(a);
    free_genesis(b);
    octo_test_rmtree(dir);
}

static void test_refuses_syntax_and_keys(void)
{
    CHECK(refused("{\"chain\": x}", "genesis: JSON syntax error at byte 10"));
    CHECK(refused("[]", "genesis: expected an object"));
    char trailing[sizeof(sample) + 8];
    snprintf(trailing, sizeof(trailing), "%s x\n", sample);
    char want[64];
    snprintf(want, sizeof(want), "genesis: trailing data at byte %zu", strlen(sample) + 1);
    CHECK(refused(trailing, want));
    CHECK(refused(with("\"delta_ms\"", "\"epoch\": 1, \"delta_ms\""), "epoch: unknown key"));
    CHECK(refused(with("\"min_fee\"", "\"fee\": \"1\", \"min_fee\""), "params.fee: unknown key"));
    CHECK(refused(with("\"OCTO-A\"", "\"OCTO-X\""), "allocations[0].OCTO-X: unknown key"));
    CHECK(refused(with("\"addrs\"", "\"addr\""), "validators[0].addr: unknown key"));
    CHECK(refused(with("\"compute\"", "\"none\""), "params.stake.none: unknown key"));
    CHECK(refused(with("\"OCTO-A\": \"7\"", "\"OCTO-A\": \"7\", \"OCTO-A\": \"7\""),
                  "allocations[0].OCTO-A: duplicate key"));
    CHECK(refused(with("\"delta_ms\": 20,", "\"delta_ms\": 20, \"delta_ms\": 20,"),
                  "delta_ms: duplicate key"));
    CHECK(refused(with("  \"chain\": \"octo-vector\",\n", ""), "chain: required"));
}

static void test_refuses_bad_values(void)
{
    CHECK(refused(with(HEX32("a1"), "zz" X4(X4("a1a1")) "a1a1a1"),
                  "allocations[0].address: expected 64 hex digits"));
    CHECK(refused(with(HEX32("a1"), X4(X4("a1a1")) "a1a1a1"),
                  "allocations[0].address: expected 64 hex digits"));
    CHECK(refused(with(HEX32("a1"), HEX32("00")),
                  "allocations[0].address: the zero address is not an account"));
    CHECK(
        refused(with("\"7\"", "\"01\""), "allocations[0].OCTO-A: not a canonical decimal amount"));
    CHECK(
        refused(with("\"7\"", "\"-1\""), "allocations[0].OCTO-A: not a canonical decimal amount"));
    CHECK(
        refused(with("\"7\"", "\"1.5\""), "allocations[0].OCTO-A: not a canonical decimal amount"));
    CHECK(
        refused(with("\"7\"", "\" 7\""), "allocations[0].OCTO-A: not a canonical decimal amount"));
    CHECK(refused(with("\"7\"", "\"\""), "allocations[0].OCTO-A: not a canonical decimal amount"));
    CHECK(refused(with("\"7\"", "7"), "allocations[0].OCTO-A: not a canonical decimal amount"));
    CHECK(refused(with("\"7\"", "\"18446744073709551616\""),
                  "allocations[0].OCTO-A: not a canonical decimal amount"));
    /* 2^64 - 1 is an amount, but over the ledger's supply bound */
    CHECK(refused(with("\"7\"", "\"18446744073709551615\""),
                  "allocations: total OCTO-A supply not under 2^62"));
    CHECK(refused(with("\"octo-vector\"", "\"" X4(X4("abcd")) "a\""),
                  "chain: expected 1..64 characters of [A-Za-z0-9._-]"));
    CHECK(refused(with("\"octo-vector\"", "\"octo vector\""),
                  "chain: expected 1..64 characters of [A-Za-z0-9._-]"));
    CHECK(refused(with("\"delta_ms\": 20", "\"delta_ms\": 0"),
                  "delta_ms: expected an integer in 1..60000"));
    CHECK(refused(with("1764460000000", "1764460000000.5"),
                  "time_ms: expected an integer in 0..9007199254740991"));
    CHECK(refused(with("\"epoch_blocks\": \"100\"", "\"epoch_blocks\": \"0\""),
                  "params.epoch_blocks: must be at least 1"));
    CHECK(refused(with("[\"1\", \"2\"]", "[\"1\"]"),
                  "params.stake.compute: expected [OCTO amount, role token amount]"));
    CHECK(refused(with("[\"20000000000\", \"0\"]", "[\"20000000000\", \"1\"]"),
                  "params.stake.validator[1]: validators stake no role token: must be 0"));
    CHECK(
        refused(with(GOVERNANCE, TREASURY), "params.governance: must differ from params.treasury"));
    CHECK(refused(with("    \"treasury\": \"" TREASURY "\",\n", ""), "params.treasury: required"));
}

static void test_refuses_bad_sets(void)
{
    CHECK(refused(with(HEX32("B2"), HEX32("a1")),
                  "allocations[1].address: duplicate of allocations[0]"));
    CHECK(refused(with(HEX32("d4"), HEX32("c3")),
                  "validators[1].address: duplicate of validators[0]"));
    const char *tail = strstr(sample, ",\n  \"validators\"");
    CHECK(tail != NULL);
    char cut[sizeof(sample) + 64];
    snprintf(cut, sizeof(cut), "%.*s\n}\n", (int)(tail - sample), sample);
    CHECK(refused(cut, "validators: required"));
    snprintf(cut, sizeof(cut), "%.*s,\n  \"validators\": []\n}\n", (int)(tail - sample), sample);
    CHECK(refused(cut, "validators: at least one validator is required"));
    CHECK(refused(with("\"stake\": \"20000000000\"", "\"stake\": \"19999999999\""),
                  "validators[0].stake: under the validator minimum "
                  "(params.stake.validator[0] = 20000000000)"));
    CHECK(refused(with("\"min_fee\"", "\"max_validators\": 1, \"min_fee\""),
                  "validators: 2 validators but params.max_validators is 1"));
    CHECK(refused(with("\"stake\": \"20000000000\",\n", ""), "validators[0].stake: required"));
    CHECK(refused(with("/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/udp/7001"),
                  "validators[0].addrs[0]: expected /ip4/ADDR/tcp/PORT or /ip6/ADDR/tcp/PORT "
                  "(port > 0)"));
    CHECK(refused(with("/ip4/127.0.0.1/tcp/7001", "/dns4/example.org/tcp/7001"),
                  "validators[0].addrs[0]: expected /ip4/ADDR/tcp/PORT or /ip6/ADDR/tcp/PORT "
                  "(port > 0)"));
    CHECK(refused(with("/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.1/tcp/0"),
                  "validators[0].addrs[0]: expected /ip4/ADDR/tcp/PORT or /ip6/ADDR/tcp/PORT "
                  "(port > 0)"));
    CHECK(refused(with("/ip4/127.0.0.1/tcp/7001", "/ip4/127.0.0.300/tcp/7001"),
                  "validators[0].addrs[0]: not a valid multiaddr"));
}

/* The chain id of the sample with one substitution. */
static int chain_id_with(const char *from, const char *to, uint8_t id[32])
{
    const char *text = with(from, to);
    if (text == NULL)
        return OCTO_EINVAL;
    struct octo_genesis *g = new_genesis();
    char err[OCTO_GENESIS_ERR_MAX];
    int rc = parse(g, text, err);
    memcpy(id, g->chain_id, 32);
    free_genesis(g);
    return rc;
}

static void test_chain_id(void)
{
    uint8_t base[32], again[32], id[32];
    CHECK_OK(chain_id_with("\"chain\"", "\"chain\"", base));
    CHECK_OK(chain_id_with("\"chain\"", "\"chain\"", again));
    CHECK_MEM(base, again, 32);
    /* hex case and key layout are not part of it */
    CHECK_OK(chain_id_with(HEX32("B2"), HEX32("b2"), id));
    CHECK_MEM(base, id, 32);
    CHECK_OK(chain_id_with("\"octo-vector\"", "\"octo-vector2\"", id));
    CHECK(memcmp(base, id, 32) != 0);
    CHECK_OK(chain_id_with("\"OCTO-N\": \"42\"", "\"OCTO-N\": \"43\"", id));
    CHECK(memcmp(base, id, 32) != 0);
    CHECK_OK(chain_id_with("\"min_fee\": \"2000\"", "\"min_fee\": \"2001\"", id));
    CHECK(memcmp(base, id, 32) != 0);
    CHECK_OK(chain_id_with("\"epoch_blocks\": \"100\"", "\"epoch_blocks\": \"101\"", id));
    CHECK(memcmp(base, id, 32) != 0);
    CHECK_OK(chain_id_with("\"delta_ms\": 20", "\"delta_ms\": 21", id));
    CHECK(memcmp(base, id, 32) != 0);
    CHECK_OK(chain_id_with("1764460000000", "1764460000001", id));
    CHECK(memcmp(base, id, 32) != 0);
    CHECK_OK(chain_id_with("\"30000000000\"", "\"30000000001\"", id));
    CHECK(memcmp(base, id, 32) != 0);
    /* where to reach a validator is not part of the chain */
    CHECK_OK(chain_id_with("tcp/7001", "tcp/7003", id));
    CHECK_MEM(base, id, 32);
}

static void test_vector(void)
{
    struct octo_genesis *g = new_genesis();
    char err[OCTO_GENESIS_ERR_MAX];
    CHECK_OK(parse(g, sample, err));
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", g->chain_id[i]);
    if (strcmp(hex, SAMPLE_CHAIN_ID) != 0)
        fprintf(stderr, "  chain id %s\n", hex);
    CHECK_HEX(g->chain_id, 32, SAMPLE_CHAIN_ID);
    free_genesis(g);
}

static void test_ledger(void)
{
    struct octo_genesis *g = new_genesis();
    char err[OCTO_GENESIS_ERR_MAX];
    CHECK_OK(parse(g, sample, err));
    struct octo_ledger_genesis lg;
    struct octo_ledger_genesis_validator vals[OCTO_CONS_VALIDATORS_MAX];
    octo_genesis_ledger(g, &lg, vals);
    CHECK_MEM(lg.chain_id, g->chain_id, 32);
    uint8_t key[OCTO_LEDGER_HASH_KEY_LEN] = {1, 2, 3};
    struct octo_ledger l;
    CHECK_OK(octo_ledger_init(&l, &lg, key));
    CHECK_MEM(octo_ledger_chain_id(&l), g->chain_id, 32);
    CHECK_EQ_U64(octo_ledger_time(&l), 1764460000000u);
    CHECK_EQ_U64(octo_ledger_params(&l)->min_fee, 2000);
    uint64_t supply[OCTO_TOKENS], burned[OCTO_TOKENS];
    octo_ledger_supply(&l, supply, burned);
    CHECK_EQ_U64(supply[OCTO_TOKEN_OCTO], UINT64_C(5000000000) + UINT64_C(50000000000));
    CHECK_EQ_U64(supply[OCTO_TOKEN_A], 7);
    CHECK_EQ_U64(supply[OCTO_TOKEN_N], 42);
    CHECK_EQ_U64(supply[OCTO_TOKEN_S], 0);
    struct octo_cons_validator set[OCTO_CONS_VALIDATORS_MAX];
    CHECK_EQ_INT(octo_ledger_validators(&l, set, OCTO_CONS_VALIDATORS_MAX), 2);
    CHECK_EQ_INT(set[0].pk[0], 0xd4); /* largest stake first */
    CHECK_EQ_U64(set[0].weight, UINT64_C(30000000000));
    CHECK_EQ_INT(set[1].pk[0], 0xc3);
    struct octo_account acct;
    CHECK_OK(octo_ledger_account(&l, g->validators[0].address, &acct));
    CHECK_EQ_INT(acct.role, OCTO_STAKE_VALIDATOR);
    CHECK_OK(octo_ledger_audit(&l));
    octo_ledger_deinit(&l);
    free_genesis(g);
}

int main(void)
{
    if (octo_crypto_init() < 0)
        return 1;
    OCTO_RUN(test_parse_fields);
    OCTO_RUN(test_round_trip);
    OCTO_RUN(test_load_file);
    OCTO_RUN(test_refuses_syntax_and_keys);
    OCTO_RUN(test_refuses_bad_values);
    OCTO_RUN(test_refuses_bad_sets);
    OCTO_RUN(test_chain_id);
    OCTO_RUN(test_vector);
    OCTO_RUN(test_ledger);
    return octo_test_finish();
}
