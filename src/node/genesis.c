/*
 * genesis.c — reading, writing and hashing the genesis file (format and rules in genesis.h).
 *
 * Parsing has three steps. cJSON builds the tree (it never leaves this file, and is freed
 * with cJSON_Delete, so whatever allocator hooks the process installed are used both ways).
 * Readers then walk it object by object: each object's keys are checked first (unknown or
 * repeated keys are refused before any value is read), and every reader gets the path of
 * its value ("allocations[3].OCTO") for its message. Last, the rules octo_ledger_init
 * enforces are checked here too, so that each refusal names its field; the ledger, run to get
 * the genesis state root, stays the last word (a refusal this file did not foresee becomes a
 * generic OCTO_ECONFIG).
 *
 * Amounts are canonical decimal strings (JSON numbers lose bits past 2^53); small numbers
 * (times, counts, basis points) are JSON numbers with an integer value, at most 2^53 - 1.
 *
 * Formatting writes the text by hand, in the documented key order, one allocation or
 * validator per line: no value needs escaping (names, hex, decimal digits and ip/tcp
 * multiaddrs are plain ASCII without quotes or backslashes).
 */
#include "node/genesis.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "node/fs.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 96                            /* a field's path in messages */
#define JSON_INT_MAX ((UINT64_C(1) << 53) - 1) /* exact in a double */
#define DELTA_MS_MAX 60000u                    /* one minute */
#define PARAMS_ENC_LEN (3 * 8 + 2 * OCTO_STAKE_ROLES * 8 + 3 * 4 + 2 * OCTO_ADDR_LEN)

static const char chain_tag[] = "OCTO-CHAIN-v1";

/* ---- messages ------------------------------------------------------------------------------ */

static int fail(char *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "path: reason" to err; returns OCTO_ECONFIG. */
static int fail(char *err, const char *path, const char *fmt, ...)
{
    char reason[OCTO_GENESIS_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return octo_err_reason(err, OCTO_GENESIS_ERR_MAX, OCTO_ECONFIG, "%s: %s", path, reason);
}

/* "prefix.key", or "key" at the top. */
static void path_key(char out[PATH_LEN], const char *prefix, const char *key)
{
    if ((size_t)snprintf(out, PATH_LEN, "%s%s%.40s", prefix, prefix[0] != '\0' ? "." : "", key) >=
        PATH_LEN)
        out[PATH_LEN - 1] = '\0'; /* a field path only names the field in a message */
}

/* "prefix[i]". */
static void path_index(char out[PATH_LEN], const char *prefix, size_t i)
{
    if ((size_t)snprintf(out, PATH_LEN, "%.80s[%zu]", prefix, i) >= PATH_LEN)
        out[PATH_LEN - 1] = '\0';
}

static bool printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* ---- values -------------------------------------------------------------------------------- */

/* Refuses keys of obj that are not in known[0..n) and keys given twice. */
static int check_keys(const cJSON *obj, const char *path, const char *const *known, size_t n,
                      char *err)
{
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        char at[PATH_LEN];
        const char *key = printable(c->string) ? c->string : "(unprintable)";
        path_key(at, path, key);
        bool ok = false;
        for (size_t k = 0; k < n && !ok; k++)
            ok = strcmp(c->string, known[k]) == 0;
        if (!ok)
            return fail(err, at, "unknown key");
        for (const cJSON *d = obj->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return fail(err, at, "duplicate key");
    }
    return 0;
}

static int need_object(const cJSON *v, const char *path, char *err)
{
    return cJSON_IsObject(v) ? 0 : fail(err, path, "expected an object");
}

/* Canonical decimal u64: digits only, no leading zero (but "0"), at most UINT64_MAX. */
static bool parse_amount(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static int read_amount(const cJSON *v, const char *path, uint64_t *out, char *err)
{
    if (!cJSON_IsString(v) || !parse_amount(v->valuestring, out))
        return fail(err, path, "not a canonical decimal amount");
    return 0;
}

/* A JSON number with an integer value in [min, max] (max <= JSON_INT_MAX). */
static int read_int(const cJSON *v, const char *path, uint64_t min, uint64_t max, uint64_t *out,
                    char *err)
{
    OCTO_ASSERT(max <= JSON_INT_MAX);
    if (!cJSON_IsNumber(v))
        return fail(err, path, "expected a number");
    double d = v->valuedouble;
    if (!(d >= (double)min && d <= (double)max) || d != (double)(uint64_t)d)
        return fail(err, path, "expected an integer in %llu..%llu", (unsigned long long)min,
                    (unsigned long long)max);
    *out = (uint64_t)d;
    return 0;
}

static int read_u32(const cJSON *v, const char *path, uint32_t min, uint32_t max, uint32_t *out,
                    char *err)
{
    uint64_t x = 0;
    int rc = read_int(v, path, min, max, &x, err);
    if (rc == 0)
        *out = (uint32_t)x;
    return rc;
}

/* 64 hex digits (either case), not all zero. */
static int read_addr(const cJSON *v, const char *path, uint8_t out[OCTO_ADDR_LEN], char *err)
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 2 * OCTO_ADDR_LEN ||
        octo_hex_decode(v->valuestring, 2 * OCTO_ADDR_LEN, out, OCTO_ADDR_LEN) != OCTO_ADDR_LEN)
        return fail(err, path, "expected %d hex digits", 2 * OCTO_ADDR_LEN);
    if (octo_all_zero(out, OCTO_ADDR_LEN))
        return fail(err, path, "the zero address is not an account");
    return 0;
}

static int read_name(const cJSON *v, char out[OCTO_GENESIS_NAME_MAX + 1], char *err)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= OCTO_GENESIS_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-';
    if (!ok)
        return fail(err, "chain", "expected 1..%d characters of [A-Za-z0-9._-]",
                    OCTO_GENESIS_NAME_MAX);
    memcpy(out, s, n + 1);
    return 0;
}

/* /ip4/ADDR/tcp/PORT or /ip6/ADDR/tcp/PORT with a nonzero port: where a peer can dial. */
static int read_multiaddr(const cJSON *v, const char *path, struct octo_multiaddr *out, char *err)
{
    if (!cJSON_IsString(v) || octo_multiaddr_from_text(v->valuestring, out) < 0)
        return fail(err, path, "not a valid multiaddr");
    struct octo_ma_component host, port;
    size_t off = 0;
    bool ok = octo_multiaddr_next(out, &off, &host) == 1 &&
              (host.code == OCTO_MA_IP4 || host.code == OCTO_MA_IP6) &&
              octo_multiaddr_next(out, &off, &port) == 1 && port.code == OCTO_MA_TCP &&
              !octo_all_zero(port.value, port.value_len) &&
              octo_multiaddr_next(out, &off, &host) == 0;
    if (!ok)
        return fail(err, path, "expected /ip4/ADDR/tcp/PORT or /ip6/ADDR/tcp/PORT (port > 0)");
    return 0;
}

/* ---- params -------------------------------------------------------------------------------- */

static int read_stake(const cJSON *obj, struct octo_ledger_params *p, char *err)
{
    const char *known[OCTO_STAKE_ROLES - 1];
    for (uint8_t r = 1; r < OCTO_STAKE_ROLES; r++)
        known[r - 1] = octo_stake_role_name(r);
    int rc = need_object(obj, "params.stake", err);
    if (rc == 0)
        rc = check_keys(obj, "params.stake", known, OCTO_ARRAY_LEN(known), err);
    for (const cJSON *c = rc == 0 ? obj->child : NULL; c != NULL && rc == 0; c = c->next) {
        char at[PATH_LEN], item[PATH_LEN];
        path_key(at, "params.stake", c->string);
        int role = octo_stake_role_parse(c->string);
        OCTO_ASSERT(role > 0 && role < OCTO_STAKE_ROLES);
        if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != 2)
            return fail(err, at, "expected [OCTO amount, role token amount]");
        path_index(item, at, 0);
        rc = read_amount(cJSON_GetArrayItem(c, 0), item, &p->stake_octo[role], err);
        path_index(item, at, 1);
        if (rc == 0)
            rc = read_amount(cJSON_GetArrayItem(c, 1), item, &p->stake_token[role], err);
    }
    return rc;
}

static int read_params(const cJSON *obj, struct octo_ledger_params *p, char *err)
{
    static const char *const known[] = {"min_fee",        "unbond_ms",        "epoch_blocks",
                                        "max_validators", "slash_double_bps", "slash_failed_bps",
                                        "stake",          "treasury",         "governance"};
    int rc = need_object(obj, "params", err);
    if (rc == 0)
        rc = check_keys(obj, "params", known, OCTO_ARRAY_LEN(known), err);
    const cJSON *v;
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "min_fee")) != NULL)
        rc = read_amount(v, "params.min_fee", &p->min_fee, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "unbond_ms")) != NULL)
        rc = read_amount(v, "params.unbond_ms", &p->unbond_ms, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "epoch_blocks")) != NULL)
        rc = read_amount(v, "params.epoch_blocks", &p->epoch_blocks, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "max_validators")) != NULL)
        rc = read_u32(v, "params.max_validators", 1, OCTO_CONS_VALIDATORS_MAX, &p->max_validators,
                      err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "slash_double_bps")) != NULL)
        rc = read_u32(v, "params.slash_double_bps", 0, 10000, &p->slash_double_bps, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "slash_failed_bps")) != NULL)
        rc = read_u32(v, "params.slash_failed_bps", 0, 10000, &p->slash_failed_bps, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "stake")) != NULL)
        rc = read_stake(v, p, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "treasury")) != NULL)
        rc = read_addr(v, "params.treasury", p->treasury, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(obj, "governance")) != NULL)
        rc = read_addr(v, "params.governance", p->governance, err);
    return rc;
}

/* The parameter rules of the ledger (params_ok in chain/ledger.c), each with its field. */
static int check_params(const struct octo_ledger_params *p, char *err)
{
    if (p->epoch_blocks == 0)
        return fail(err, "params.epoch_blocks", "must be at least 1");
    if (p->stake_octo[OCTO_STAKE_VALIDATOR] == 0)
        return fail(err, "params.stake.validator[0]", "the validator stake must be above 0");
    if (p->stake_token[OCTO_STAKE_VALIDATOR] != 0)
        return fail(err, "params.stake.validator[1]", "validators stake no role token: must be 0");
    for (uint8_t r = 1; r < OCTO_STAKE_ROLES; r++) {
        char at[PATH_LEN];
        snprintf(at, sizeof(at), "params.stake.%s", octo_stake_role_name(r));
        if (p->stake_octo[r] >= OCTO_LEDGER_SUPPLY_MAX ||
            p->stake_token[r] >= OCTO_LEDGER_SUPPLY_MAX)
            return fail(err, at, "amount not under 2^62");
    }
    if (p->unbond_ms >= OCTO_LEDGER_SUPPLY_MAX)
        return fail(err, "params.unbond_ms", "not under 2^62");
    if (octo_all_zero(p->treasury, OCTO_ADDR_LEN))
        return fail(err, "params.treasury", "required");
    if (octo_all_zero(p->governance, OCTO_ADDR_LEN))
        return fail(err, "params.governance", "required");
    if (memcmp(p->treasury, p->governance, OCTO_ADDR_LEN) == 0)
        return fail(err, "params.governance", "must differ from params.treasury");
    return 0;
}

/* ---- allocations and validators ------------------------------------------------------------ */

static int read_alloc(const cJSON *obj, const char *path, struct octo_ledger_alloc *a, char *err)
{
    const char *known[OCTO_TOKENS + 1] = {"address"};
    for (uint8_t t = 0; t < OCTO_TOKENS; t++)
        known[t + 1] = octo_token_name(t);
    int rc = need_object(obj, path, err);
    if (rc == 0)
        rc = check_keys(obj, path, known, OCTO_ARRAY_LEN(known), err);
    char at[PATH_LEN];
    path_key(at, path, "address");
    const cJSON *addr = rc == 0 ? cJSON_GetObjectItemCaseSensitive(obj, "address") : NULL;
    if (rc == 0 && addr == NULL)
        return fail(err, at, "required");
    if (rc == 0)
        rc = read_addr(addr, at, a->addr, err);
    for (uint8_t t = 0; t < OCTO_TOKENS && rc == 0; t++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, octo_token_name(t));
        path_key(at, path, octo_token_name(t));
        if (v != NULL)
            rc = read_amount(v, at, &a->amount[t], err);
    }
    return rc;
}

struct addr_ref {
    uint8_t addr[OCTO_ADDR_LEN];
    uint32_t idx;
};

static int cmp_addr_ref(const void *a, const void *b)
{
    const struct addr_ref *x = a, *y = b;
    int c = memcmp(x->addr, y->addr, OCTO_ADDR_LEN);
    return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Refuses an address listed twice, naming the later entry: sorts (address, index) pairs. */
static int check_alloc_dups(const struct octo_genesis *g, char *err)
{
    if (g->n_allocs < 2)
        return 0;
    struct addr_ref *refs = octo_malloc(g->n_allocs * sizeof(*refs));
    if (refs == NULL)
        return octo_err_reason(err, OCTO_GENESIS_ERR_MAX, OCTO_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < g->n_allocs; i++) {
        memcpy(refs[i].addr, g->allocs[i].addr, OCTO_ADDR_LEN);
        refs[i].idx = i;
    }
    qsort(refs, g->n_allocs, sizeof(*refs), cmp_addr_ref);
    int rc = 0;
    for (uint32_t i = 1; i < g->n_allocs && rc == 0; i++) {
        if (memcmp(refs[i].addr, refs[i - 1].addr, OCTO_ADDR_LEN) != 0)
            continue;
        char at[PATH_LEN];
        snprintf(at, sizeof(at), "allocations[%u].address", refs[i].idx);
        rc = fail(err, at, "duplicate of allocations[%u]", refs[i - 1].idx);
    }
    octo_free(refs);
    return rc;
}

static int read_allocs(const cJSON *arr, struct octo_genesis *g, char *err)
{
    if (!cJSON_IsArray(arr))
        return fail(err, "allocations", "expected an array");
    int n = cJSON_GetArraySize(arr);
    if ((unsigned)n > OCTO_GENESIS_ALLOCS_MAX)
        return octo_err_reason(err, OCTO_GENESIS_ERR_MAX, OCTO_ETOOBIG,
                               "allocations: more than %u entries", OCTO_GENESIS_ALLOCS_MAX);
    if (n == 0)
        return 0;
    g->allocs = octo_calloc((size_t)n, sizeof(*g->allocs));
    if (g->allocs == NULL)
        return octo_err_reason(err, OCTO_GENESIS_ERR_MAX, OCTO_ENOMEM, "out of memory");
    int rc = 0;
    for (const cJSON *c = arr->child; c != NULL && rc == 0; c = c->next) {
        char at[PATH_LEN];
        path_index(at, "allocations", g->n_allocs);
        rc = read_alloc(c, at, &g->allocs[g->n_allocs], err);
        g->n_allocs++;
    }
    return rc == 0 ? check_alloc_dups(g, err) : rc;
}

static int read_addrs(const cJSON *arr, const char *path, struct octo_genesis_validator *v,
                      char *err)
{
    if (!cJSON_IsArray(arr))
        return fail(err, path, "expected an array");
    if (cJSON_GetArraySize(arr) > OCTO_GENESIS_ADDRS_MAX)
        return fail(err, path, "more than %d addresses", OCTO_GENESIS_ADDRS_MAX);
    int rc = 0;
    for (const cJSON *c = arr->child; c != NULL && rc == 0; c = c->next) {
        char at[PATH_LEN];
        path_index(at, path, v->n_addrs);
        rc = read_multiaddr(c, at, &v->addrs[v->n_addrs], err);
        v->n_addrs++;
    }
    return rc;
}

static int read_validator(const cJSON *obj, const char *path, struct octo_genesis_validator *v,
                          char *err)
{
    static const char *const known[] = {"address", "stake", "addrs"};
    int rc = need_object(obj, path, err);
    if (rc == 0)
        rc = check_keys(obj, path, known, OCTO_ARRAY_LEN(known), err);
    for (size_t k = 0; k < OCTO_ARRAY_LEN(known) && rc == 0; k++) {
        char at[PATH_LEN];
        path_key(at, path, known[k]);
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, known[k]);
        if (item == NULL && k < 2)
            return fail(err, at, "required");
        if (k == 0)
            rc = read_addr(item, at, v->address, err);
        else if (k == 1)
            rc = read_amount(item, at, &v->stake, err);
        else if (item != NULL)
            rc = read_addrs(item, at, v, err);
    }
    return rc;
}

static int read_validators(const cJSON *arr, struct octo_genesis *g, char *err)
{
    if (arr == NULL)
        return fail(err, "validators", "required");
    if (!cJSON_IsArray(arr))
        return fail(err, "validators", "expected an array");
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return fail(err, "validators", "at least one validator is required");
    if (n > OCTO_CONS_VALIDATORS_MAX)
        return fail(err, "validators", "more than %d validators", OCTO_CONS_VALIDATORS_MAX);
    int rc = 0;
    for (const cJSON *c = arr->child; c != NULL && rc == 0; c = c->next) {
        char at[PATH_LEN], addr_at[PATH_LEN];
        path_index(at, "validators", g->n_validators);
        path_key(addr_at, at, "address");
        rc = read_validator(c, at, &g->validators[g->n_validators], err);
        for (uint32_t j = 0; j < g->n_validators && rc == 0; j++)
            if (memcmp(g->validators[j].address, g->validators[g->n_validators].address,
                       OCTO_ADDR_LEN) == 0)
                rc = fail(err, addr_at, "duplicate of validators[%u]", j);
        g->n_validators++;
    }
    return rc;
}

/* The ledger's rules on validators and supply (genesis() in chain/ledger.c). */
static int check_ledger_rules(const struct octo_genesis *g, char *err)
{
    const struct octo_ledger_params *p = &g->params;
    if (g->n_validators > p->max_validators)
        return fail(err, "validators", "%u validators but params.max_validators is %u",
                    g->n_validators, p->max_validators);
    uint64_t supply[OCTO_TOKENS] = {0};
    for (uint32_t i = 0; i < g->n_allocs; i++) {
        for (uint8_t t = 0; t < OCTO_TOKENS; t++) {
            if (g->allocs[i].amount[t] >= OCTO_LEDGER_SUPPLY_MAX - supply[t])
                return fail(err, "allocations", "total %s supply not under 2^62",
                            octo_token_name(t));
            supply[t] += g->allocs[i].amount[t];
        }
    }
    for (uint32_t i = 0; i < g->n_validators; i++) {
        char at[PATH_LEN];
        snprintf(at, sizeof(at), "validators[%u].stake", i);
        uint64_t stake = g->validators[i].stake;
        if (stake < p->stake_octo[OCTO_STAKE_VALIDATOR])
            return fail(err, at, "under the validator minimum (params.stake.validator[0] = %llu)",
                        (unsigned long long)p->stake_octo[OCTO_STAKE_VALIDATOR]);
        if (stake >= OCTO_LEDGER_SUPPLY_MAX - supply[OCTO_TOKEN_OCTO])
            return fail(err, at, "total OCTO supply not under 2^62");
        supply[OCTO_TOKEN_OCTO] += stake;
    }
    return 0;
}

/* ---- the chain id -------------------------------------------------------------------------- */

static void encode_params(const struct octo_ledger_params *p, uint8_t out[PARAMS_ENC_LEN])
{
    uint8_t *w = out;
    octo_store_be64(w, p->min_fee);
    octo_store_be64(w + 8, p->unbond_ms);
    octo_store_be64(w + 16, p->epoch_blocks);
    w += 24;
    for (int r = 0; r < OCTO_STAKE_ROLES; r++, w += 16) {
        octo_store_be64(w, p->stake_octo[r]);
        octo_store_be64(w + 8, p->stake_token[r]);
    }
    octo_store_be32(w, p->slash_double_bps);
    octo_store_be32(w + 4, p->slash_failed_bps);
    octo_store_be32(w + 8, p->max_validators);
    w += 12;
    memcpy(w, p->treasury, OCTO_ADDR_LEN);
    memcpy(w + OCTO_ADDR_LEN, p->governance, OCTO_ADDR_LEN);
    OCTO_ASSERT((size_t)(w + 2 * OCTO_ADDR_LEN - out) == PARAMS_ENC_LEN);
}

/* Runs the ledger's genesis (with a zero chain id: the state root does not depend on it) and
 * hashes its root with the name, the parameters and delta_ms into g->chain_id. */
static int compute_chain_id(struct octo_genesis *g, char *err)
{
    struct octo_ledger_genesis lg;
    struct octo_ledger_genesis_validator vals[OCTO_CONS_VALIDATORS_MAX];
    octo_genesis_ledger(g, &lg, vals);
    memset(lg.chain_id, 0, sizeof(lg.chain_id));
    static const uint8_t hash_key[OCTO_LEDGER_HASH_KEY_LEN] = {0};
    struct octo_ledger l;
    int rc = octo_ledger_init(&l, &lg, hash_key);
    if (rc == OCTO_ENOMEM)
        return octo_err_reason(err, OCTO_GENESIS_ERR_MAX, rc, "out of memory");
    if (rc < 0)
        return octo_err_reason(err, OCTO_GENESIS_ERR_MAX, OCTO_ECONFIG,
                               "the ledger refuses this genesis: %s", octo_strerror(rc));
    uint8_t root[32], params[PARAMS_ENC_LEN], delta[8];
    octo_ledger_root(&l, root);
    octo_ledger_deinit(&l);
    encode_params(&g->params, params);
    octo_store_be64(delta, g->delta_ms);
    struct octo_sha256 h;
    octo_sha256_init(&h);
    octo_sha256_update(&h, chain_tag, sizeof(chain_tag) - 1);
    octo_sha256_update(&h, g->name, strlen(g->name));
    octo_sha256_update(&h, root, sizeof(root));
    octo_sha256_update(&h, params, sizeof(params));
    octo_sha256_update(&h, delta, sizeof(delta));
    octo_sha256_final(&h, g->chain_id);
    return 0;
}

/* ---- parse --------------------------------------------------------------------------------- */

static int read_top(const cJSON *root, struct octo_genesis *g, char *err)
{
    static const char *const known[] = {"chain",  "time_ms",     "delta_ms",
                                        "params", "allocations", "validators"};
    int rc = need_object(root, "genesis", err);
    if (rc == 0)
        rc = check_keys(root, "", known, OCTO_ARRAY_LEN(known), err);
    for (size_t k = 0; k < 3 && rc == 0; k++)
        if (cJSON_GetObjectItemCaseSensitive(root, known[k]) == NULL)
            return fail(err, known[k], "required");
    if (rc == 0)
        rc = read_name(cJSON_GetObjectItemCaseSensitive(root, "chain"), g->name, err);
    if (rc == 0)
        rc = read_int(cJSON_GetObjectItemCaseSensitive(root, "time_ms"), "time_ms", 0, JSON_INT_MAX,
                      &g->time_ms, err);
    if (rc == 0)
        rc = read_int(cJSON_GetObjectItemCaseSensitive(root, "delta_ms"), "delta_ms", 1,
                      DELTA_MS_MAX, &g->delta_ms, err);
    const cJSON *v;
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(root, "params")) != NULL)
        rc = read_params(v, &g->params, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(root, "allocations")) != NULL)
        rc = read_allocs(v, g, err);
    if (rc == 0)
        rc = read_validators(cJSON_GetObjectItemCaseSensitive(root, "validators"), g, err);
    return rc;
}

/* The tree of text[0..len), refusing anything but whitespace after the value. */
static int parse_json(const char *text, size_t len, cJSON **out, char *err)
{
    if (len > OCTO_GENESIS_MAX_BYTES)
        return octo_err_reason(err, OCTO_GENESIS_ERR_MAX, OCTO_ETOOBIG,
                               "genesis: larger than %u bytes", OCTO_GENESIS_MAX_BYTES);
    if (memchr(text, '\0', len) != NULL)
        return fail(err, "genesis", "not a text file (contains NUL bytes)");
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (*out == NULL) /* cJSON does not tell running out of memory from bad syntax */
        return fail(err, "genesis", "JSON syntax error at byte %zu",
                    end != NULL ? (size_t)(end - text) : 0);
    while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != text + len) {
        cJSON_Delete(*out);
        *out = NULL;
        return fail(err, "genesis", "trailing data at byte %zu", (size_t)(end - text));
    }
    return 0;
}

int octo_genesis_parse(struct octo_genesis *g, const char *text, size_t len,
                       char err[OCTO_GENESIS_ERR_MAX])
{
    memset(g, 0, sizeof(*g));
    octo_ledger_params_default(&g->params);
    err[0] = '\0';
    cJSON *root = NULL;
    int rc = parse_json(text, len, &root, err);
    if (rc == 0)
        rc = read_top(root, g, err);
    cJSON_Delete(root);
    if (rc == 0)
        rc = check_params(&g->params, err);
    if (rc == 0)
        rc = check_ledger_rules(g, err);
    if (rc == 0)
        rc = compute_chain_id(g, err);
    if (rc < 0)
        octo_genesis_deinit(g);
    return rc;
}

int octo_genesis_load(struct octo_genesis *g, const char *path, char err[OCTO_GENESIS_ERR_MAX])
{
    memset(g, 0, sizeof(*g));
    struct octo_buf text;
    struct octo_fs_error ferr;
    octo_buf_init(&text, OCTO_GENESIS_MAX_BYTES);
    int rc = octo_fs_read(path, &text, &ferr);
    if (rc == OCTO_ETOOBIG)
        octo_err_reason(err, OCTO_GENESIS_ERR_MAX, rc, "%s: larger than %u bytes", path,
                        OCTO_GENESIS_MAX_BYTES);
    else if (rc < 0)
        rc = octo_err_reason(err, OCTO_GENESIS_ERR_MAX, OCTO_EIO, "%s", ferr.msg);
    if (rc == 0) {
        char reason[OCTO_GENESIS_ERR_MAX];
        rc = octo_genesis_parse(g, text.len != 0 ? (const char *)text.data : "", text.len, reason);
        if (rc < 0)
            octo_err_reason(err, OCTO_GENESIS_ERR_MAX, rc, "%s: %s", path, reason);
    }
    octo_buf_deinit(&text);
    return rc;
}

void octo_genesis_deinit(struct octo_genesis *g)
{
    octo_free(g->allocs);
    g->allocs = NULL;
    g->n_allocs = 0;
}

void octo_genesis_ledger(const struct octo_genesis *g, struct octo_ledger_genesis *out,
                         struct octo_ledger_genesis_validator vals[OCTO_CONS_VALIDATORS_MAX])
{
    OCTO_ASSERT(g->n_validators <= OCTO_CONS_VALIDATORS_MAX);
    memset(out, 0, sizeof(*out));
    memcpy(out->chain_id, g->chain_id, sizeof(out->chain_id));
    out->time_ms = g->time_ms;
    out->params = g->params;
    out->allocs = g->allocs;
    out->n_allocs = g->n_allocs;
    for (uint32_t i = 0; i < g->n_validators; i++) {
        memcpy(vals[i].pk, g->validators[i].address, OCTO_ADDR_LEN);
        vals[i].stake = g->validators[i].stake;
    }
    out->validators = vals;
    out->n_validators = g->n_validators;
}

/* ---- format -------------------------------------------------------------------------------- */

static void hex_addr(const uint8_t addr[OCTO_ADDR_LEN], char out[2 * OCTO_ADDR_LEN + 1])
{
    OCTO_ASSERT(octo_hex_encode(addr, OCTO_ADDR_LEN, out, 2 * OCTO_ADDR_LEN + 1) ==
                2 * OCTO_ADDR_LEN);
}

static int format_params(const struct octo_ledger_params *p, struct octo_buf *b)
{
    char treasury[2 * OCTO_ADDR_LEN + 1], governance[2 * OCTO_ADDR_LEN + 1];
    hex_addr(p->treasury, treasury);
    hex_addr(p->governance, governance);
    int rc = octo_buf_appendf(b,
                              "  \"params\": {\n    \"min_fee\": \"%llu\",\n"
                              "    \"unbond_ms\": \"%llu\",\n    \"epoch_blocks\": \"%llu\",\n"
                              "    \"max_validators\": %u,\n    \"slash_double_bps\": %u, "
                              "\"slash_failed_bps\": %u,\n    \"stake\": {\n",
                              (unsigned long long)p->min_fee, (unsigned long long)p->unbond_ms,
                              (unsigned long long)p->epoch_blocks, p->max_validators,
                              p->slash_double_bps, p->slash_failed_bps);
    for (uint8_t r = 1; r < OCTO_STAKE_ROLES && rc == 0; r++)
        rc = octo_buf_appendf(b, "      \"%s\": [\"%llu\", \"%llu\"]%s\n", octo_stake_role_name(r),
                              (unsigned long long)p->stake_octo[r],
                              (unsigned long long)p->stake_token[r],
                              r + 1 < OCTO_STAKE_ROLES ? "," : "");
    if (rc == 0)
        rc = octo_buf_appendf(b,
                              "    },\n    \"treasury\": \"%s\",\n    \"governance\": \"%s\"\n"
                              "  },\n",
                              treasury, governance);
    return rc;
}

/* One allocation on one line; zero amounts are left out. */
static int format_alloc(const struct octo_ledger_alloc *a, bool last, struct octo_buf *b)
{
    char addr[2 * OCTO_ADDR_LEN + 1];
    hex_addr(a->addr, addr);
    int rc = octo_buf_appendf(b, "    {\"address\": \"%s\"", addr);
    for (uint8_t t = 0; t < OCTO_TOKENS && rc == 0; t++)
        if (a->amount[t] != 0)
            rc = octo_buf_appendf(b, ", \"%s\": \"%llu\"", octo_token_name(t),
                                  (unsigned long long)a->amount[t]);
    return rc == 0 ? octo_buf_appendf(b, "}%s\n", last ? "" : ",") : rc;
}

static int format_validator(const struct octo_genesis_validator *v, bool last, struct octo_buf *b)
{
    char addr[2 * OCTO_ADDR_LEN + 1];
    hex_addr(v->address, addr);
    int rc = octo_buf_appendf(b, "    {\"address\": \"%s\", \"stake\": \"%llu\", \"addrs\": [",
                              addr, (unsigned long long)v->stake);
    for (size_t i = 0; i < v->n_addrs && rc == 0; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT + 1];
        OCTO_ASSERT(octo_multiaddr_to_text(&v->addrs[i], text, sizeof(text)) > 0);
        rc = octo_buf_appendf(b, "%s\"%s\"", i > 0 ? ", " : "", text);
    }
    return rc == 0 ? octo_buf_appendf(b, "]}%s\n", last ? "" : ",") : rc;
}

char *octo_genesis_format(const struct octo_genesis *g)
{
    struct octo_buf b;
    octo_buf_init(&b, OCTO_GENESIS_MAX_BYTES);
    int rc =
        octo_buf_appendf(&b,
                         "{\n  \"chain\": \"%s\",\n  \"time_ms\": %llu,\n"
                         "  \"delta_ms\": %llu,\n",
                         g->name, (unsigned long long)g->time_ms, (unsigned long long)g->delta_ms);
    if (rc == 0)
        rc = format_params(&g->params, &b);
    if (rc == 0)
        rc = octo_buf_append_str(&b, g->n_allocs > 0 ? "  \"allocations\": [\n"
                                                     : "  \"allocations\": [],\n");
    for (uint32_t i = 0; i < g->n_allocs && rc == 0; i++)
        rc = format_alloc(&g->allocs[i], i + 1 == g->n_allocs, &b);
    if (rc == 0)
        rc = octo_buf_append_str(&b, g->n_allocs > 0 ? "  ],\n  \"validators\": [\n"
                                                     : "  \"validators\": [\n");
    for (uint32_t i = 0; i < g->n_validators && rc == 0; i++)
        rc = format_validator(&g->validators[i], i + 1 == g->n_validators, &b);
    if (rc == 0)
        rc = octo_buf_append(&b, "  ]\n}\n", 7); /* with the NUL */
    if (rc < 0) {
        octo_buf_deinit(&b);
        return NULL;
    }
    return (char *)b.data;
}
