/*
 * cmd_testnet.c — `octo testnet`: a local network in one directory, ready to run. For N
 * validators it writes the node homes DIR/v0 .. DIR/v{N-1} (role validator, listening on
 * 127.0.0.1 at consecutive ports from --base-port), K funded account homes DIR/accounts/a0 ..
 * a{K-1} (role observer, listening on an ephemeral port should one ever run a node), and one
 * genesis (node/genesis.h) naming them all, as DIR/genesis.json and in every home.
 *
 * Every validator and account is allocated 1,000,000 OCTO and 1,000 of each role token; the
 * validators stake the minimum validator stake on top. The parameters are the ledger's
 * defaults but for short epochs (TESTNET_EPOCH_BLOCKS); treasury and governance are addresses
 * nobody holds a key to, SHA-256("OCTO-TREASURY" | name) and SHA-256("OCTO-GOVERNANCE" |
 * name). With --seed the keys are derived, key i's seed being SHA-256(seed | "validator" |
 * i u32 BE) ("account" for accounts), so one seed always gives the same network but for the
 * genesis time; whoever knows the seed has every key: tests and devnets only.
 *
 * The genesis is built as a struct, formatted, and parsed back: the text every home gets is
 * checked by the same parser the nodes use, and that parse gives the chain id. Validator
 * homes get their own copy of it, account homes a hard link to DIR's (write_genesis).
 *
 * A non-empty DIR is refused unless --force, which overwrites the homes' keys, configs and
 * genesis files (octo_home_init's force) and removes nothing.
 */
#include "base/alloc.h"
#include "base/endian.h"
#include "base/hex.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "crypto/hash.h"
#include "node/genesis.h"
#include "node/home.h"
#include "node/sysclock.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define TESTNET_VALIDATORS_MAX 16
#define TESTNET_ACCOUNTS_MAX 10000
#define TESTNET_EPOCH_BLOCKS 100
#define TESTNET_SEED_MAX 64 /* bytes */
#define TESTNET_OCTO (UINT64_C(1000000) * OCTO_UNIT)
#define TESTNET_ROLE_TOKEN (UINT64_C(1000) * OCTO_UNIT)

static const struct octo_flag testnet_flags[] = {
    {"validators", 0, true, false, "N", "number of validators, 1..16 (required)"},
    {"out", 0, true, false, "DIR", "directory for the homes and genesis.json (required)"},
    {"accounts", 0, true, false, "K", "funded account homes, 0..10000 (default 0)"},
    {"base-port", 0, true, false, "P", "validator i listens on 127.0.0.1, port P+i (default 7100)"},
    {"chain", 0, true, false, "NAME", "chain name (default octo-testnet)"},
    {"delta-ms", 0, true, false, "D", "consensus network delay bound in ms (default 200)"},
    {"epoch-blocks", 0, true, false, "N",
     "blocks per epoch: the validator set changes after "
     "each (default 100)"},
    {"seed", 0, true, false, "HEX", "derive every key from this seed (tests, devnets)"},
    {"force", 0, false, false, NULL, "write into a non-empty DIR, replacing keys and configs"},
    {"json", 0, false, false, NULL, "print JSON"},
    {NULL, 0, false, false, NULL, NULL},
};

struct testnet {
    const char *dir;
    const char *name;
    uint32_t n_validators, n_accounts;
    uint64_t base_port, delta_ms, epoch_blocks;
    uint8_t seed[TESTNET_SEED_MAX];
    size_t seed_len; /* 0: random keys */
    bool force;
};

/* A home written: its path, identity and (validators) listen address. */
struct member {
    char home[OCTO_PATH_MAX];
    struct octo_peerid peer;
    uint8_t addr[OCTO_ADDR_LEN];
    struct octo_multiaddr listen;
};

/* ---- flags --------------------------------------------------------------------------------- */

static int flag_range(struct octo_cli *cli, const char *name, uint64_t min, uint64_t max,
                      uint64_t def, uint64_t *out)
{
    const char *v = octo_args_get(&cli->args, name);
    *out = def;
    if (v == NULL)
        return OCTO_EXIT_OK;
    if (octo_cli_parse_u64(v, max, out) < 0 || *out < min)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --%s: expected %llu..%llu, got '%.32s'",
                             name, (unsigned long long)min, (unsigned long long)max, v);
    return OCTO_EXIT_OK;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > OCTO_GENESIS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static int parse_seed(struct octo_cli *cli, struct testnet *t)
{
    const char *hex = octo_args_get(&cli->args, "seed");
    if (hex == NULL)
        return OCTO_EXIT_OK;
    size_t len = strlen(hex);
    int n = len >= 2 && len <= 2 * TESTNET_SEED_MAX
                ? octo_hex_decode(hex, len, t->seed, sizeof(t->seed))
                : OCTO_EMALFORMED;
    if (n <= 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --seed: expected 2..%d hex digits",
                             2 * TESTNET_SEED_MAX);
    t->seed_len = (size_t)n;
    return OCTO_EXIT_OK;
}

static int parse_flags(struct octo_cli *cli, struct testnet *t)
{
    uint64_t n = 0, k = 0;
    if (!octo_args_has(&cli->args, "validators"))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --validators: required (1..%d)",
                             TESTNET_VALIDATORS_MAX);
    int status = flag_range(cli, "validators", 1, TESTNET_VALIDATORS_MAX, 0, &n);
    if (status != OCTO_EXIT_OK)
        return status;
    t->n_validators = (uint32_t)n;
    t->dir = octo_args_get(&cli->args, "out");
    if (t->dir == NULL || *t->dir == '\0')
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --out: required (a directory)");
    t->name = octo_args_get(&cli->args, "chain");
    if (t->name == NULL)
        t->name = "octo-testnet";
    if (!name_ok(t->name))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "flag --chain: expected 1..%d characters of [A-Za-z0-9._-]",
                             OCTO_GENESIS_NAME_MAX);
    t->force = octo_args_has(&cli->args, "force");
    status = flag_range(cli, "accounts", 0, TESTNET_ACCOUNTS_MAX, 0, &k);
    t->n_accounts = (uint32_t)k;
    if (status == OCTO_EXIT_OK) /* the last validator's port is base + n - 1 */
        status = flag_range(cli, "base-port", 1, 65536 - n, 7100, &t->base_port);
    if (status == OCTO_EXIT_OK)
        status = flag_range(cli, "delta-ms", 1, 60000, 200, &t->delta_ms);
    if (status == OCTO_EXIT_OK)
        status =
            flag_range(cli, "epoch-blocks", 1, UINT32_MAX, TESTNET_EPOCH_BLOCKS, &t->epoch_blocks);
    if (status == OCTO_EXIT_OK)
        status = parse_seed(cli, t);
    return status;
}

/* ---- homes --------------------------------------------------------------------------------- */

/* Refuses a DIR that is not a directory, or one with entries unless --force; creates it. */
static int prepare_dir(struct octo_cli *cli, const struct testnet *t)
{
    DIR *d = opendir(t->dir);
    if (d == NULL && errno != ENOENT)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", t->dir, strerror(errno));
    bool empty = true;
    for (struct dirent *e; d != NULL && empty && (e = readdir(d)) != NULL;)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    if (d != NULL)
        closedir(d);
    if (!empty && !t->force)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL,
                             "%s: directory is not empty (use --force to overwrite the "
                             "testnet in it)",
                             t->dir);
    struct octo_fs_error ferr;
    if (octo_fs_mkdir_p(t->dir, 0700, &ferr) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", ferr.msg);
    return OCTO_EXIT_OK;
}

/* Key seed i of a kind: SHA-256(seed | kind | i u32 BE). */
static void derive_seed(const struct testnet *t, const char *kind, uint32_t i,
                        uint8_t out[OCTO_ED25519_SEED_LEN])
{
    uint8_t be[4];
    octo_store_be32(be, i);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, t->seed, t->seed_len);
    octo_sha256_update(&h, kind, strlen(kind));
    octo_sha256_update(&h, be, sizeof(be));
    octo_sha256_final(&h, out);
}

/* Writes the home m->home (role, listen) with key i of kind; fills m's identity. */
static int make_home(struct octo_cli *cli, const struct testnet *t, const char *kind, uint32_t i,
                     enum octo_role role, const char *listen, struct member *m)
{
    struct octo_config cfg;
    struct octo_config_error cerr;
    int rc = octo_config_init(&cfg, m->home, cli->env, &cerr);
    if (rc == 0)
        rc = octo_config_set(&cfg, OCTO_CFG_ROLE, octo_role_name(role), OCTO_SRC_FLAG, "role",
                             &cerr);
    if (rc == 0)
        rc = octo_config_set(&cfg, OCTO_CFG_LISTEN, listen, OCTO_SRC_FLAG, "listen", &cerr);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", m->home, cerr.msg);
    m->listen = cfg.listen[0];
    uint8_t seed[OCTO_ED25519_SEED_LEN];
    struct octo_home_init_options opts = {.force = t->force};
    if (t->seed_len > 0) {
        derive_seed(t, kind, i, seed);
        opts.seed = seed;
    }
    struct octo_home_init_result res;
    struct octo_home_error herr;
    rc = octo_home_init(&cfg, &opts, &res, &herr);
    octo_wipe(seed, sizeof(seed));
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", herr.msg);
    struct octo_pubkey pub;
    OCTO_ASSERT(octo_peerid_pubkey(&res.peer_id, &pub) == 0);
    m->peer = res.peer_id;
    memcpy(m->addr, pub.bytes, OCTO_ADDR_LEN);
    return OCTO_EXIT_OK;
}

static int home_path(struct octo_cli *cli, const struct testnet *t, bool validator, uint32_t i,
                     char out[OCTO_PATH_MAX])
{
    int n = snprintf(out, OCTO_PATH_MAX, validator ? "%s/v%u" : "%s/accounts/a%u", t->dir, i);
    if (n < 0 || n >= OCTO_PATH_MAX)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s: path too long", t->dir);
    return OCTO_EXIT_OK;
}

/* The validator homes into vals[], then the accounts' (their addresses into g's allocations
 * after the validators'). */
static int make_homes(struct octo_cli *cli, const struct testnet *t, struct member *vals,
                      struct octo_genesis *g)
{
    for (uint32_t i = 0; i < t->n_validators; i++) {
        char listen[64];
        snprintf(listen, sizeof(listen), "/ip4/127.0.0.1/tcp/%llu",
                 (unsigned long long)(t->base_port + i));
        int status = home_path(cli, t, true, i, vals[i].home);
        if (status == OCTO_EXIT_OK)
            status = make_home(cli, t, "validator", i, OCTO_ROLE_VALIDATOR, listen, &vals[i]);
        if (status != OCTO_EXIT_OK)
            return status;
        memcpy(g->allocs[i].addr, vals[i].addr, OCTO_ADDR_LEN);
    }
    for (uint32_t i = 0; i < t->n_accounts; i++) {
        struct member m;
        int status = home_path(cli, t, false, i, m.home);
        if (status == OCTO_EXIT_OK)
            status =
                make_home(cli, t, "account", i, OCTO_ROLE_OBSERVER, "/ip4/127.0.0.1/tcp/0", &m);
        if (status != OCTO_EXIT_OK)
            return status;
        memcpy(g->allocs[t->n_validators + i].addr, m.addr, OCTO_ADDR_LEN);
    }
    return OCTO_EXIT_OK;
}

/* ---- the genesis --------------------------------------------------------------------------- */

static void tagged_addr(const char *tag, const char *name, uint8_t out[OCTO_ADDR_LEN])
{
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, tag, strlen(tag));
    octo_sha256_update(&h, name, strlen(name));
    octo_sha256_final(&h, out);
}

/* Everything but the addresses (make_homes fills them in). */
static int genesis_init(const struct testnet *t, struct octo_genesis *g)
{
    snprintf(g->name, sizeof(g->name), "%s", t->name);
    g->time_ms = (uint64_t)(octo_clock_wall(octo_sysclock()) / (int64_t)OCTO_NS_PER_MS);
    g->delta_ms = t->delta_ms;
    octo_ledger_params_default(&g->params);
    g->params.epoch_blocks = t->epoch_blocks;
    tagged_addr("OCTO-TREASURY", t->name, g->params.treasury);
    tagged_addr("OCTO-GOVERNANCE", t->name, g->params.governance);
    g->n_allocs = t->n_validators + t->n_accounts;
    g->allocs = octo_calloc(g->n_allocs, sizeof(*g->allocs));
    if (g->allocs == NULL)
        return OCTO_ENOMEM;
    for (uint32_t i = 0; i < g->n_allocs; i++) {
        g->allocs[i].amount[OCTO_TOKEN_OCTO] = TESTNET_OCTO;
        for (unsigned tok = OCTO_TOKEN_A; tok < OCTO_TOKENS; tok++)
            g->allocs[i].amount[tok] = TESTNET_ROLE_TOKEN;
    }
    return 0;
}

static void genesis_validators(const struct testnet *t, const struct member *vals,
                               struct octo_genesis *g)
{
    g->n_validators = t->n_validators;
    for (uint32_t i = 0; i < t->n_validators; i++) {
        struct octo_genesis_validator *v = &g->validators[i];
        memcpy(v->address, vals[i].addr, OCTO_ADDR_LEN);
        v->stake = g->params.stake_octo[OCTO_STAKE_VALIDATOR];
        v->addrs[0] = vals[i].listen;
        v->n_addrs = 1;
    }
}

static int write_file(struct octo_cli *cli, const char *dir, const char *text)
{
    char path[OCTO_PATH_MAX];
    struct octo_fs_error ferr;
    if (octo_fs_join(path, sizeof(path), dir, OCTO_GENESIS_FILE) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s: path too long", dir);
    if (octo_fs_write_atomic(path, text, strlen(text), 0644, false, &ferr) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", ferr.msg);
    return OCTO_EXIT_OK;
}

/* home/genesis.json as a hard link to src, DIR's copy: linked under a temporary name and
 * renamed over, so the name always holds a whole genesis; then the directory is synced.
 * Where links are not possible, a copy. */
static int link_file(struct octo_cli *cli, const char *src, const char *home, const char *text)
{
    char dst[OCTO_PATH_MAX], tmp[OCTO_PATH_MAX];
    if (octo_fs_join(dst, sizeof(dst), home, OCTO_GENESIS_FILE) < 0 ||
        octo_fs_join(tmp, sizeof(tmp), home, "." OCTO_GENESIS_FILE ".link") < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s: path too long", home);
    unlink(tmp); /* a leftover of an interrupted run */
    if (link(src, tmp) != 0)
        return write_file(cli, home, text);
    if (rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", dst, strerror(e));
    }
    int fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", home, strerror(e));
    }
    close(fd);
    return OCTO_EXIT_OK;
}

/* Writes the genesis text to DIR and every home: validators get their own copy, account homes
 * a link to DIR's (a genesis listing K accounts copied into K homes would grow as K^2: some
 * 24 GB for 10,000 accounts). */
static int write_genesis(struct octo_cli *cli, const struct testnet *t, const struct member *vals,
                         const char *text)
{
    char src[OCTO_PATH_MAX];
    if (octo_fs_join(src, sizeof(src), t->dir, OCTO_GENESIS_FILE) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s: path too long", t->dir);
    int status = write_file(cli, t->dir, text);
    for (uint32_t i = 0; i < t->n_validators && status == OCTO_EXIT_OK; i++)
        status = write_file(cli, vals[i].home, text);
    for (uint32_t i = 0; i < t->n_accounts && status == OCTO_EXIT_OK; i++) {
        char home[OCTO_PATH_MAX];
        status = home_path(cli, t, false, i, home);
        if (status == OCTO_EXIT_OK)
            status = link_file(cli, src, home, text);
    }
    return status;
}

/* Formats g, parses the text back into check (the chain id), and writes it everywhere. */
static int publish_genesis(struct octo_cli *cli, const struct testnet *t, const struct member *vals,
                           const struct octo_genesis *g, struct octo_genesis *check)
{
    char *text = octo_genesis_format(g);
    if (text == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "genesis: out of memory");
    char err[OCTO_GENESIS_ERR_MAX];
    int status = OCTO_EXIT_OK;
    if (octo_genesis_parse(check, text, strlen(text), err) < 0)
        status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "genesis: %s", err);
    if (status == OCTO_EXIT_OK)
        status = write_genesis(cli, t, vals, text);
    octo_free(text);
    return status;
}

/* ---- output -------------------------------------------------------------------------------- */

static void addr_hex(const uint8_t addr[OCTO_ADDR_LEN], char out[2 * OCTO_ADDR_LEN + 1])
{
    OCTO_ASSERT(octo_hex_encode(addr, OCTO_ADDR_LEN, out, 2 * OCTO_ADDR_LEN + 1) > 0);
}

static void print_text(struct octo_cli *cli, const struct testnet *t, const struct member *vals,
                       const struct octo_genesis *g)
{
    char id[2 * OCTO_ADDR_LEN + 1];
    addr_hex(g->chain_id, id);
    fprintf(cli->out, "testnet %s in %s\nchain id  %s\ngenesis   %s/%s\n", g->name, t->dir, id,
            t->dir, OCTO_GENESIS_FILE);
    for (uint32_t i = 0; i < t->n_validators; i++) {
        char peer[OCTO_PEERID_TEXT_MAX], listen[OCTO_MULTIADDR_MAX_TEXT + 1];
        OCTO_ASSERT(octo_peerid_to_base58(&vals[i].peer, peer, sizeof(peer)) > 0);
        OCTO_ASSERT(octo_multiaddr_to_text(&vals[i].listen, listen, sizeof(listen)) > 0);
        fprintf(cli->out, "validator %-2u %s  %s  %s\n", i, vals[i].home, peer, listen);
    }
    if (t->n_accounts > 0)
        fprintf(cli->out, "accounts  %u in %s/accounts (a0 .. a%u)\n", t->n_accounts, t->dir,
                t->n_accounts - 1);
    else
        fprintf(cli->out, "accounts  0\n");
}

static cJSON *validator_json(const struct member *m)
{
    char peer[OCTO_PEERID_TEXT_MAX], listen[OCTO_MULTIADDR_MAX_TEXT + 1];
    char addr[2 * OCTO_ADDR_LEN + 1];
    OCTO_ASSERT(octo_peerid_to_base58(&m->peer, peer, sizeof(peer)) > 0);
    OCTO_ASSERT(octo_multiaddr_to_text(&m->listen, listen, sizeof(listen)) > 0);
    addr_hex(m->addr, addr);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && (cJSON_AddStringToObject(o, "home", m->home) == NULL ||
                      cJSON_AddStringToObject(o, "peer", peer) == NULL ||
                      cJSON_AddStringToObject(o, "address", addr) == NULL ||
                      cJSON_AddStringToObject(o, "listen", listen) == NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *account_json(const char *home, const uint8_t addr[OCTO_ADDR_LEN])
{
    char hex[2 * OCTO_ADDR_LEN + 1];
    addr_hex(addr, hex);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && (cJSON_AddStringToObject(o, "home", home) == NULL ||
                      cJSON_AddStringToObject(o, "address", hex) == NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds item to arr; false (item freed) on failure. */
static bool push(cJSON *arr, cJSON *item)
{
    if (item != NULL && cJSON_AddItemToArray(arr, item))
        return true;
    cJSON_Delete(item);
    return false;
}

static int print_json(struct octo_cli *cli, const struct testnet *t, const struct member *vals,
                      const struct octo_genesis *g)
{
    char id[2 * OCTO_ADDR_LEN + 1], path[OCTO_PATH_MAX];
    addr_hex(g->chain_id, id);
    if (octo_fs_join(path, sizeof(path), t->dir, OCTO_GENESIS_FILE) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s: path too long", t->dir);
    cJSON *root = cJSON_CreateObject();
    bool ok = cJSON_AddStringToObject(root, "chain_id", id) != NULL &&
              cJSON_AddStringToObject(root, "genesis", path) != NULL;
    cJSON *va = ok ? cJSON_AddArrayToObject(root, "validators") : NULL;
    cJSON *aa = va != NULL ? cJSON_AddArrayToObject(root, "accounts") : NULL;
    ok = aa != NULL;
    for (uint32_t i = 0; ok && i < t->n_validators; i++)
        ok = push(va, validator_json(&vals[i]));
    for (uint32_t i = 0; ok && i < t->n_accounts; i++) {
        char home[OCTO_PATH_MAX];
        ok = home_path(cli, t, false, i, home) == OCTO_EXIT_OK &&
             push(aa, account_json(home, g->allocs[t->n_validators + i].addr));
    }
    if (!ok) {
        cJSON_Delete(root);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    return octo_cli_print_json(cli, root);
}

/* ---- the command --------------------------------------------------------------------------- */

static int build(struct octo_cli *cli, const struct testnet *t, struct member *vals,
                 struct octo_genesis *g, struct octo_genesis *check)
{
    int status = prepare_dir(cli, t);
    if (status != OCTO_EXIT_OK)
        return status;
    if (genesis_init(t, g) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    status = make_homes(cli, t, vals, g);
    if (status != OCTO_EXIT_OK)
        return status;
    genesis_validators(t, vals, g);
    status = publish_genesis(cli, t, vals, g, check);
    if (status != OCTO_EXIT_OK)
        return status;
    if (octo_args_has(&cli->args, "json"))
        return print_json(cli, t, vals, check);
    print_text(cli, t, vals, check);
    return OCTO_EXIT_OK;
}

static int run_testnet(struct octo_cli *cli)
{
    struct testnet t = {0};
    int status = parse_flags(cli, &t);
    if (status != OCTO_EXIT_OK) {
        octo_wipe(t.seed, sizeof(t.seed));
        return status;
    }
    /* two genesis structs and 16 homes: too large for the stack */
    struct member *vals = octo_calloc(TESTNET_VALIDATORS_MAX, sizeof(*vals));
    struct octo_genesis *g = octo_calloc(1, sizeof(*g));
    struct octo_genesis *check = octo_calloc(1, sizeof(*check));
    if (vals == NULL || g == NULL || check == NULL)
        status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    else
        status = build(cli, &t, vals, g, check);
    if (g != NULL)
        octo_genesis_deinit(g);
    if (check != NULL)
        octo_genesis_deinit(check);
    octo_free(check);
    octo_free(g);
    octo_free(vals);
    octo_wipe(t.seed, sizeof(t.seed));
    return status;
}

const struct octo_cli_cmd octo_cmd_testnet = {
    .name = "testnet",
    .run = run_testnet,
    .flags = testnet_flags,
    .needs_config = false,
    .usage = "testnet --validators N --out DIR [--accounts K] [--base-port P] [--chain NAME] "
             "[--delta-ms D] [--epoch-blocks N] [--seed HEX] [--force] [--json]",
    .summary = "write a local test network: validator and account homes and their genesis",
};
