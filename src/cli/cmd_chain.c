/*
 * cmd_chain.c — the chain's clients: `octo tx transfer|stake|unstake|register`,
 * `octo tx proof ID`, `octo account [ADDR]`, `octo block [HEIGHT]`, `octo status`.
 *
 * Each talks to a running node over /octo/chain-rpc/1.0.0 (node/validator.h): one request
 * frame, one answer frame per call, on a fresh connection. The node is --node MULTIADDR,
 * else $OCTO_NODE, else the first address in the home's node.run (a node running from the
 * same home). Transactions are signed with the home's identity key: the account address is
 * that key. Amounts are given in whole tokens with up to six decimals ("2.5") and printed the
 * same way; --json prints the node's answer as it is. `tx proof` and `tx --wait` check the
 * inclusion proof the node returns (the bytes hash to the id and lead to the block's
 * transaction root; the receipts a SETTLE carries lead to its receipt root).
 *
 * Exit statuses: 0 done (with --wait: included and successful), 1 refused or failed (one
 * line "octo: ...: <reason>"), 2 usage.
 */
#include "base/alloc.h"
#include "base/endian.h"
#include "base/hex.h"
#include "base/log.h"
#include "chain/block.h"
#include "chain/ledger.h"
#include "cli/cli.h"
#include "crypto/merkle.h"
#include "net/net.h"
#include "node/fs.h"
#include "node/home.h"
#include "node/sysclock.h"
#include "node/validator.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define RPC_TIMEOUT_MS 10000
#define RPC_ANSWER_MAX (16u << 20) /* a block answer lists up to 1,000 transactions */
#define WAIT_POLL_MS 250           /* --wait asks the node this often (a connection each time) */

/* ---- one RPC call --------------------------------------------------------------------------- */

struct rpc {
    uv_loop_t loop;
    struct octo_net *net;
    uv_timer_t timer;
    const char *req;
    uint8_t *buf;
    size_t len, cap;
    int status; /* 0 answered, else why not */
    bool done;
};

static void rpc_stop(struct rpc *r, int status)
{
    if (r->done)
        return;
    r->done = true;
    r->status = status;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, NULL);
    octo_net_shutdown(r->net, NULL, NULL);
}

static void rpc_timeout(uv_timer_t *t)
{
    rpc_stop(t->data, OCTO_ETIMEDOUT);
}

static void rpc_data(struct octo_net_stream *s, const uint8_t *data, size_t len, void *ctx)
{
    struct rpc *r = ctx;
    (void)s;
    if (r->len + len > RPC_ANSWER_MAX + 4) {
        rpc_stop(r, OCTO_ETOOBIG);
        return;
    }
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        while (cap < r->len + len)
            cap *= 2;
        uint8_t *b = octo_realloc(r->buf, cap);
        if (b == NULL) {
            rpc_stop(r, OCTO_ENOMEM);
            return;
        }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    if (r->len >= 4 && r->len >= 4 + (size_t)octo_load_be32(r->buf))
        rpc_stop(r, 0);
}

static void rpc_close(struct octo_net_stream *s, int status, void *ctx)
{
    (void)s;
    struct rpc *r = ctx;
    if (!r->done)
        rpc_stop(r, status < 0 ? status : OCTO_ECLOSED);
}

static void rpc_open(struct octo_net_stream *s, int status, void *ctx)
{
    struct rpc *r = ctx;
    if (status != 0) {
        rpc_stop(r, status);
        return;
    }
    size_t n = strlen(r->req);
    uint8_t hdr[4];
    octo_store_be32(hdr, (uint32_t)n);
    if (octo_net_stream_write(s, hdr, 4) != 4 ||
        octo_net_stream_write(s, (const uint8_t *)r->req, n) != (int)n)
        rpc_stop(r, OCTO_EIO);
}

static const struct octo_net_stream_ops rpc_ops = {
    .on_open = rpc_open,
    .on_data = rpc_data,
    .on_close = rpc_close,
};

static void rpc_dialed(struct octo_net *n, int status, const struct octo_peerid *peer, void *ctx)
{
    struct rpc *r = ctx;
    if (status != 0) {
        rpc_stop(r, status);
        return;
    }
    if (octo_net_stream_open(n, peer, OCTO_CHAIN_RPC_PROTOCOL, &rpc_ops, r, NULL) != 0)
        rpc_stop(r, OCTO_EIO);
}

/* Sends req to the node at addr; *answer receives the parsed JSON answer. */
static int rpc_call(const struct octo_multiaddr *addr, const char *req, cJSON **answer)
{
    *answer = NULL;
    struct octo_identity id;
    if (octo_identity_generate(&id) != 0)
        return OCTO_ECRYPTO;
    struct rpc r = {.req = req};
    uv_loop_init(&r.loop);
    struct octo_net_config nc = {.identity = &id, .clock = octo_sysclock()};
    int rc = octo_net_create(&r.net, &r.loop, &nc);
    octo_identity_deinit(&id);
    if (rc != 0) {
        uv_loop_close(&r.loop);
        return rc;
    }
    uv_timer_init(&r.loop, &r.timer);
    r.timer.data = &r;
    uv_timer_start(&r.timer, rpc_timeout, RPC_TIMEOUT_MS, 0);
    rc = octo_net_start(r.net); /* no listeners: its timers and the write pump */
    if (rc == 0)
        rc = octo_net_dial(r.net, addr, rpc_dialed, &r);
    if (rc != 0)
        rpc_stop(&r, rc);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    octo_net_destroy(r.net);
    OCTO_IGNORE(uv_loop_close(&r.loop));
    if (r.status == 0) {
        *answer = cJSON_ParseWithLength((const char *)r.buf + 4, octo_load_be32(r.buf));
        if (!cJSON_IsObject(*answer)) {
            cJSON_Delete(*answer);
            *answer = NULL;
            r.status = OCTO_EPROTO;
        }
    }
    octo_free(r.buf);
    return r.status;
}

/* A client's own connection logs (identify, dials) are noise next to its answer: warnings
 * and errors only, unless a log level was asked for on the command line or in OCTO_LOG_LEVEL
 * (the home's config.ini sets the level for the node that runs there). */
static void quiet_logs(struct octo_cli *cli)
{
    enum octo_config_source src = cli->cfg.source[OCTO_CFG_LOG_LEVEL];
    if (src == OCTO_SRC_FLAG || src == OCTO_SRC_ENV || cli->cfg.log_level > OCTO_LOG_INFO)
        return;
    struct octo_log_config log = {
        .level = OCTO_LOG_WARN,
        .format = cli->cfg.log_format,
        .sink = cli->log_file != NULL ? cli->log_file : cli->err,
        .clock = octo_sysclock(),
    };
    octo_log_configure(&log);
}

/* ---- the node, amounts, answers ------------------------------------------------------------ */

static const struct octo_flag node_flag = {"node",
                                           0,
                                           true,
                                           false,
                                           "MULTIADDR",
                                           "the node to ask (default $OCTO_NODE, else the "
                                           "home's running node)"};

/* The node's address: --node, $OCTO_NODE, or the home's node.run. */
static int node_addr(struct octo_cli *cli, struct octo_multiaddr *out)
{
    const char *text = octo_args_get(&cli->args, "node");
    if (text == NULL)
        text = getenv("OCTO_NODE");
    if (text != NULL) {
        if (octo_multiaddr_from_text(text, out) != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "invalid node address '%.200s'", text);
        return OCTO_EXIT_OK;
    }
    char path[OCTO_PATH_MAX];
    struct octo_buf b;
    octo_buf_init(&b, 65536);
    struct octo_fs_error ferr;
    int rc = octo_home_path(&cli->cfg, "node.run", path, sizeof(path));
    if (rc == 0)
        rc = octo_fs_read(path, &b, &ferr);
    cJSON *run = rc == 0 ? cJSON_ParseWithLength((const char *)b.data, b.len) : NULL;
    octo_buf_deinit(&b);
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(run, "addresses"), 0);
    rc = cJSON_IsString(a) ? octo_multiaddr_from_text(a->valuestring, out) : OCTO_ENOTFOUND;
    cJSON_Delete(run);
    if (rc != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "no node to ask: give --node MULTIADDR or set OCTO_NODE");
    return OCTO_EXIT_OK;
}

static uint64_t json_u64(const cJSON *o, const char *key)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(f) ? strtoull(f->valuestring, NULL, 10) : 0;
}

static uint64_t json_u64_num(const cJSON *o, const char *key) /* a JSON number, 0..2^53 */
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(f) && f->valuedouble >= 0 && f->valuedouble <= 9007199254740992.0
               ? (uint64_t)f->valuedouble
               : 0;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(f) ? f->valuestring : "";
}

/* An error answer: prints it (as JSON with --json) and returns the exit status. */
static int answer_error(struct octo_cli *cli, const char *what, cJSON *ans)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ans, "error");
    if (e == NULL)
        return -1;
    int st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s (%s)", what, json_str(e, "message"),
                           json_str(e, "code"));
    if (octo_args_has(&cli->args, "json"))
        octo_cli_print_json(cli, cJSON_Duplicate(ans, true));
    return st;
}

/* One call; *net_rc receives the transport's error (0 when the node answered), which is
 * not printed: the caller decides whether it is worth another try. */
static int call_raw(struct octo_cli *cli, cJSON *req, cJSON **ans, int *net_rc)
{
    *net_rc = 0;
    quiet_logs(cli);
    struct octo_multiaddr addr;
    int st = node_addr(cli, &addr);
    if (st != OCTO_EXIT_OK) {
        cJSON_Delete(req);
        return st;
    }
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (text == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    *net_rc = rpc_call(&addr, text, ans);
    octo_free(text);
    return *net_rc != 0 ? OCTO_EXIT_FAIL : OCTO_EXIT_OK;
}

static int call(struct octo_cli *cli, const char *what, cJSON *req, cJSON **ans)
{
    int rc;
    int st = call_raw(cli, req, ans, &rc);
    if (rc != 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: cannot reach the node: %s", what,
                             octo_strerror(rc));
    return st;
}

/* call, with an error answer printed and its status returned (*ans freed then); on
 * OCTO_EXIT_OK *ans is the node's answer, the caller's to free. */
static int call_ok(struct octo_cli *cli, const char *what, cJSON *req, cJSON **ans)
{
    int st = call(cli, what, req, ans);
    if (st != OCTO_EXIT_OK)
        return st;
    st = answer_error(cli, what, *ans);
    if (st >= 0) {
        cJSON_Delete(*ans);
        *ans = NULL;
        return st;
    }
    return OCTO_EXIT_OK;
}

/* ---- octo account ---------------------------------------------------------------------------- */

static const struct octo_flag account_flags[] = {
    node_flag,
    {"json", 0, false, false, NULL, "print the node's JSON answer"},
    {"passphrase-file", 0, true, false, "FILE", "passphrase of an encrypted key"},
    {NULL, 0, false, false, NULL, NULL},
};

/* The address argument, or the home key's. */
static int address_arg(struct octo_cli *cli, char hex[65])
{
    if (cli->args.positional_count > 1)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo %s", "account [ADDR]");
    if (cli->args.positional_count == 1) {
        const char *a = cli->args.positional[0];
        uint8_t b[32];
        if (strlen(a) != 64 || octo_hex_decode(a, 64, b, 32) != 32)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "address: expected 64 hex digits");
        snprintf(hex, 65, "%s", a);
        return OCTO_EXIT_OK;
    }
    struct octo_identity id;
    int st = octo_cli_load_identity(cli, &id);
    if (st != OCTO_EXIT_OK)
        return st;
    OCTO_ASSERT(octo_hex_encode(id.pub.bytes, 32, hex, 65) == 64);
    octo_identity_deinit(&id);
    return OCTO_EXIT_OK;
}

static void print_tokens(struct octo_cli *cli, const char *label, const cJSON *m)
{
    fprintf(cli->out, "%-9s", label);
    const cJSON *t;
    bool any = false;
    cJSON_ArrayForEach(t, m)
    {
        uint64_t v = cJSON_IsString(t) ? strtoull(t->valuestring, NULL, 10) : 0;
        if (v == 0)
            continue;
        char a[32];
        octo_cli_format_amount(v, a, sizeof(a));
        fprintf(cli->out, " %s %s", a, t->string);
        any = true;
    }
    fprintf(cli->out, "%s\n", any ? "" : " none");
}

static int run_account(struct octo_cli *cli)
{
    char hex[65];
    int st = address_arg(cli, hex);
    if (st != OCTO_EXIT_OK)
        return st;
    cJSON *req = cJSON_CreateObject(), *ans;
    cJSON_AddStringToObject(req, "method", "account");
    cJSON_AddStringToObject(req, "address", hex);
    st = call(cli, "account", req, &ans);
    if (st != OCTO_EXIT_OK)
        return st;
    st = answer_error(cli, "account", ans);
    if (st < 0 && octo_args_has(&cli->args, "json")) {
        octo_cli_print_json(cli, ans);
        return OCTO_EXIT_OK;
    }
    if (st < 0) {
        fprintf(cli->out, "account  %s\nnonce    %llu\nrole     %s%s\n", hex,
                (unsigned long long)json_u64(ans, "nonce"), json_str(ans, "role"),
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "jailed")) ? " (jailed)" : "");
        print_tokens(cli, "balance", cJSON_GetObjectItemCaseSensitive(ans, "balance"));
        print_tokens(cli, "staked", cJSON_GetObjectItemCaseSensitive(ans, "staked"));
        const cJSON *u;
        cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(ans, "unbonding"))
        {
            char a[32];
            octo_cli_format_amount(json_u64(u, "amount"), a, sizeof(a));
            fprintf(cli->out, "unbonding %s %s until %llu\n", a, json_str(u, "token"),
                    (unsigned long long)json_u64(u, "release_ms"));
        }
        st = OCTO_EXIT_OK;
    }
    cJSON_Delete(ans);
    return st;
}

/* ---- octo block ------------------------------------------------------------------------------ */

static const struct octo_flag block_flags[] = {
    node_flag,
    {"json", 0, false, false, NULL, "print the node's JSON answer"},
    {NULL, 0, false, false, NULL, NULL},
};

static int run_block(struct octo_cli *cli)
{
    if (cli->args.positional_count > 1)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo block [HEIGHT]");
    cJSON *req = cJSON_CreateObject(), *ans;
    cJSON_AddStringToObject(req, "method", "block");
    if (cli->args.positional_count == 1) {
        uint64_t h;
        if (octo_cli_parse_u64(cli->args.positional[0], UINT64_C(9007199254740991), &h) != 0) {
            cJSON_Delete(req);
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "height: expected a number");
        }
        cJSON_AddNumberToObject(req, "height", (double)h);
    }
    int st = call(cli, "block", req, &ans);
    if (st != OCTO_EXIT_OK)
        return st;
    st = answer_error(cli, "block", ans);
    if (st < 0 && octo_args_has(&cli->args, "json")) {
        octo_cli_print_json(cli, ans);
        return OCTO_EXIT_OK;
    }
    if (st < 0) {
        fprintf(cli->out,
                "block     %llu (view %llu)\nid        %s\nparent    %s\ntime_ms   %llu\n"
                "proposer  %s\ntx_root   %s\nstate     %llu %s\n",
                (unsigned long long)json_u64(ans, "height"),
                (unsigned long long)json_u64(ans, "view"), json_str(ans, "id"),
                json_str(ans, "parent"), (unsigned long long)json_u64(ans, "time_ms"),
                json_str(ans, "proposer"), json_str(ans, "tx_root"),
                (unsigned long long)json_u64(ans, "state_height"), json_str(ans, "state_root"));
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(ans, "n_tx");
        fprintf(cli->out, "txs       %d\n", cJSON_IsNumber(n) ? n->valueint : 0);
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(ans, "txs"))
            fprintf(cli->out, "  %s %-12s %s\n", json_str(t, "id"), json_str(t, "type"),
                    json_str(t, "result_text"));
        st = OCTO_EXIT_OK;
    }
    cJSON_Delete(ans);
    return st;
}

/* ---- octo status ------------------------------------------------------------------------------
 */

static int run_status(struct octo_cli *cli)
{
    if (cli->args.positional_count != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo status [--node MULTIADDR]");
    cJSON *req = cJSON_CreateObject(), *ans;
    cJSON_AddStringToObject(req, "method", "status");
    int st = call(cli, "status", req, &ans);
    if (st != OCTO_EXIT_OK)
        return st;
    if (octo_args_has(&cli->args, "json")) {
        octo_cli_print_json(cli, ans);
        return OCTO_EXIT_OK;
    }
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(ans, "stats");
    const cJSON *peers = cJSON_GetObjectItemCaseSensitive(ans, "peers_connected");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(ans, "validators");
    fprintf(cli->out,
            "chain     %s (%s)\nheight    %llu (view %llu)\nvalidators %d (%s), %d peers "
            "connected\nfinality  p50 %.1f ms, p99 %.1f ms (%llu own blocks)\n",
            json_str(ans, "chain"), json_str(ans, "chain_id"),
            (unsigned long long)json_u64(ans, "height"), (unsigned long long)json_u64(ans, "view"),
            cJSON_GetArraySize(vals),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "voting")) ? "voting" : "following",
            cJSON_IsNumber(peers) ? peers->valueint : 0,
            (double)json_u64(stats, "finality_p50_us") / 1000.0,
            (double)json_u64(stats, "finality_p99_us") / 1000.0,
            (unsigned long long)json_u64(stats, "finality_samples"));
    cJSON_Delete(ans);
    return OCTO_EXIT_OK;
}

/* ---- octo tx --------------------------------------------------------------------------------- */

static const struct octo_flag tx_flags[] = {
    node_flag,
    {"json", 0, false, false, NULL, "print the node's JSON answers"},
    {"token", 0, true, false, "TOKEN", "transfer: OCTO (default), OCTO-A/S/B/O/N"},
    {"fee", 0, true, false, "AMOUNT", "fee in OCTO (default: the chain's minimum)"},
    {"nonce", 0, true, false, "N", "nonce (default: the account's next)"},
    {"wait", 0, false, false, NULL, "wait until the transaction is in a finalized block"},
    {"timeout", 0, true, false, "SECONDS", "with --wait: give up after this long (30)"},
    {"passphrase-file", 0, true, false, "FILE", "passphrase of an encrypted key"},
    {NULL, 0, false, false, NULL, NULL},
};

/* The transaction the arguments describe (from, nonce and fee filled in later). */
static int tx_from_args(struct octo_cli *cli, struct octo_tx *t)
{
    const struct octo_args *a = &cli->args;
    const char *kind = a->positional_count > 0 ? a->positional[0] : "";
    memset(t, 0, sizeof(*t));
    uint64_t amount = 0;
    if (strcmp(kind, "transfer") == 0) {
        if (a->positional_count != 3 || octo_cli_parse_amount(a->positional[2], &amount) != 0 ||
            amount == 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                                 "usage: octo tx transfer ADDR AMOUNT [--token TOKEN]");
        t->type = OCTO_TX_TRANSFER;
        if (strlen(a->positional[1]) != 64 ||
            octo_hex_decode(a->positional[1], 64, t->u.transfer.to, 32) != 32)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "transfer: ADDR: expected 64 hex digits");
        const char *tok = octo_args_get(a, "token");
        int ti = tok != NULL ? octo_token_parse(tok) : OCTO_TOKEN_OCTO;
        if (ti < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --token: unknown token '%.40s'", tok);
        t->u.transfer.token = (uint8_t)ti;
        t->u.transfer.amount = amount;
    } else if (strcmp(kind, "stake") == 0 || strcmp(kind, "unstake") == 0) {
        if (a->positional_count != 2 || octo_cli_parse_amount(a->positional[1], &amount) != 0 ||
            amount == 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo tx %s AMOUNT", kind);
        t->type = kind[0] == 's' ? OCTO_TX_STAKE : OCTO_TX_UNSTAKE;
        t->u.amount = amount;
    } else if (strcmp(kind, "register") == 0) {
        int r = a->positional_count == 2 ? octo_stake_role_parse(a->positional[1]) : -1;
        if (r < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                                 "usage: octo tx register validator|compute|storage|"
                                 "bandwidth|orchestrator");
        t->type = OCTO_TX_REGISTER;
        t->u.role = (uint8_t)r;
    } else {
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "usage: octo tx transfer|stake|unstake|register ...");
    }
    return OCTO_EXIT_OK;
}

/* The chain id and the account's next nonce (from the node). */
static int chain_facts(struct octo_cli *cli, const char *addr_hex, uint8_t chain_id[32],
                       uint64_t *nonce)
{
    cJSON *req = cJSON_CreateObject(), *ans;
    cJSON_AddStringToObject(req, "method", "status");
    int st = call(cli, "tx", req, &ans);
    if (st != OCTO_EXIT_OK)
        return st;
    const char *cid = json_str(ans, "chain_id");
    bool ok = strlen(cid) == 64 && octo_hex_decode(cid, 64, chain_id, 32) == 32;
    cJSON_Delete(ans);
    if (!ok)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "tx: the node did not give its chain id");
    if (octo_args_has(&cli->args, "nonce"))
        return octo_cli_parse_u64(octo_args_get(&cli->args, "nonce"), UINT64_MAX, nonce) == 0
                   ? OCTO_EXIT_OK
                   : octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --nonce: expected a number");
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "method", "account");
    cJSON_AddStringToObject(req, "address", addr_hex);
    st = call(cli, "tx", req, &ans);
    if (st != OCTO_EXIT_OK)
        return st;
    st = answer_error(cli, "tx", ans);
    *nonce = json_u64(ans, "nonce");
    cJSON_Delete(ans);
    return st < 0 ? OCTO_EXIT_OK : st;
}

/* ---- inclusion proofs ---------------------------------------------------------------------- */

/* Hex field `key` of o, decoded into a new buffer of *n bytes (NULL when absent or bad). */
static uint8_t *json_hex_alloc(const cJSON *o, const char *key, size_t *n)
{
    const char *h = json_str(o, key);
    size_t hl = strlen(h);
    if (hl == 0 || hl % 2 != 0)
        return NULL;
    uint8_t *b = octo_malloc(hl / 2);
    if (b != NULL && octo_hex_decode(h, hl, b, hl / 2) != (int)(hl / 2)) {
        octo_free(b);
        b = NULL;
    }
    *n = hl / 2;
    return b;
}

static bool json_hash(const cJSON *o, const char *key, struct octo_merkle_hash *out)
{
    const char *h = json_str(o, key);
    return strlen(h) == 64 && octo_hex_decode(h, 64, out->bytes, 32) == 32;
}

/* Does o's "proof" take leaf `index` of n leaves (leaf hash `leaf`) to root? */
static bool proof_holds(const cJSON *o, const struct octo_merkle_hash *leaf, uint64_t index,
                        uint64_t n, const struct octo_merkle_hash *root)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "proof");
    int len = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || len > OCTO_MERKLE_PROOF_MAX)
        return false;
    struct octo_merkle_hash proof[OCTO_MERKLE_PROOF_MAX];
    for (int i = 0; i < len; i++) {
        const cJSON *e = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsString(e) || strlen(e->valuestring) != 64 ||
            octo_hex_decode(e->valuestring, 64, proof[i].bytes, 32) != 32)
            return false;
    }
    return octo_merkle_inclusion_verify(leaf, index, n, proof, (size_t)len, root) == 0;
}

/* The receipts of a "tx" answer: each one the transaction (raw) carries, in order, and its
 * proof gives the answer's receipt root. NULL when they hold (or none were asked for). */
static const char *check_receipts(const cJSON *ans, const uint8_t *raw, size_t len, int *n)
{
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(ans, "receipts");
    if (!cJSON_IsArray(recs))
        return NULL; /* not asked for */
    struct octo_block_tx t = {raw, (uint32_t)len};
    const uint8_t *first;
    int count = octo_block_tx_receipts(&t, &first);
    struct octo_merkle_hash root, leaf;
    if (count != cJSON_GetArraySize(recs) || !json_hash(ans, "receipt_root", &root))
        return "the receipts listed are not the ones the transaction carries";
    for (int k = 0; k < count; k++) {
        const cJSON *r = cJSON_GetArrayItem(recs, k);
        size_t rl;
        uint8_t *rec = json_hex_alloc(r, "raw", &rl);
        bool in_tx = rec != NULL && rl == OCTO_RECEIPT_LEN &&
                     memcmp(rec, first + (size_t)k * OCTO_RECEIPT_LEN, rl) == 0;
        if (in_tx)
            octo_merkle_leaf_hash(rec, rl, &leaf);
        octo_free(rec);
        if (!in_tx)
            return "a receipt listed is not in the transaction";
        if (!proof_holds(r, &leaf, json_u64_num(r, "leaf"), json_u64(r, "receipt_count"), &root))
            return "a receipt's proof does not lead to the receipt root";
    }
    *n = count;
    return NULL;
}

/* Checks a "tx" answer: its bytes hash to id_hex and, with the proof, to the transaction root;
 * each receipt listed is one the transaction carries and its proof gives the receipt root.
 * NULL when everything holds, else what did not. */
static const char *check_inclusion(const cJSON *ans, const char *id_hex, int *n_receipts)
{
    *n_receipts = 0;
    size_t len;
    uint8_t *raw = json_hex_alloc(ans, "raw", &len), id[32], want[32];
    struct octo_merkle_hash leaf, root;
    const char *why = NULL;
    if (raw == NULL || len < 2) {
        why = "the answer has no transaction bytes";
        goto done;
    }
    octo_tx_id(raw, len, id);
    if (octo_hex_decode(id_hex, 64, want, 32) != 32 || memcmp(id, want, 32) != 0) {
        why = "the transaction bytes do not hash to its id";
        goto done;
    }
    if (!json_hash(ans, "tx_root", &root)) {
        why = "the answer has no transaction root";
        goto done;
    }
    octo_merkle_leaf_hash(raw, len, &leaf);
    if (!proof_holds(ans, &leaf, json_u64_num(ans, "position"), json_u64(ans, "tx_count"), &root)) {
        why = "the inclusion proof does not lead to the transaction root";
        goto done;
    }
    why = check_receipts(ans, raw, len, n_receipts);
done:
    octo_free(raw);
    return why;
}

/* octo tx proof ID: where the transaction landed, with its inclusion proof checked here
 * against the transaction root the node reports for the block (the node is trusted for the
 * root; the proof shows the bytes are the ones under it). */
static int run_tx_proof(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    uint8_t id[32];
    if (a->positional_count != 2 || strlen(a->positional[1]) != 64 ||
        octo_hex_decode(a->positional[1], 64, id, 32) != 32)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "usage: octo tx proof ID (64 hex digits)");
    cJSON *req = cJSON_CreateObject(), *ans;
    cJSON_AddStringToObject(req, "method", "tx");
    cJSON_AddStringToObject(req, "id", a->positional[1]);
    cJSON_AddBoolToObject(req, "receipts", true);
    int st = call_ok(cli, "tx", req, &ans);
    if (st != OCTO_EXIT_OK)
        return st;
    int n_rec;
    const char *why = check_inclusion(ans, a->positional[1], &n_rec);
    if (why != NULL) {
        cJSON_Delete(ans);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "tx proof: %s", why);
    }
    if (octo_args_has(a, "json")) {
        cJSON_AddBoolToObject(ans, "proof_checked", true);
        octo_cli_print_json(cli, ans);
        return OCTO_EXIT_OK;
    }
    fprintf(cli->out,
            "transaction %s\n  in block %s at height %llu, position %llu of %llu\n"
            "  inclusion proof of %d hashes checked against transaction root %s\n",
            a->positional[1], json_str(ans, "block"), (unsigned long long)json_u64(ans, "height"),
            (unsigned long long)json_u64_num(ans, "position"),
            (unsigned long long)json_u64(ans, "tx_count"),
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "proof")),
            json_str(ans, "tx_root"));
    if (n_rec > 0)
        fprintf(cli->out, "  %d task receipts, each checked against receipt root %s\n", n_rec,
                json_str(ans, "receipt_root"));
    fprintf(cli->out, "  result: %s\n", json_str(ans, "result_text"));
    cJSON_Delete(ans);
    return OCTO_EXIT_OK;
}

/* Polls the node until the transaction is in a block; prints its result. */
static int wait_included(struct octo_cli *cli, const char *id_hex)
{
    uint64_t timeout = 30;
    const char *v = octo_args_get(&cli->args, "timeout");
    if (v != NULL && (octo_cli_parse_u64(v, 3600, &timeout) != 0 || timeout == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --timeout: expected 1..3600 seconds");
    uint64_t until = octo_clock_mono(octo_sysclock()) + timeout * OCTO_NS_PER_S;
    for (;;) {
        cJSON *req = cJSON_CreateObject(), *ans;
        cJSON_AddStringToObject(req, "method", "tx");
        cJSON_AddStringToObject(req, "id", id_hex);
        int rc;
        int st = call_raw(cli, req, &ans, &rc);
        if (rc != 0 && octo_clock_mono(octo_sysclock()) < until) {
            uv_sleep(WAIT_POLL_MS); /* a refused or reset connection: the node limits new
                                       connections per address; ask again */
            continue;
        }
        if (rc != 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "tx: cannot reach the node: %s",
                                 octo_strerror(rc));
        if (st != OCTO_EXIT_OK)
            return st;
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(ans, "error");
        const char *code = json_str(e, "code");
        if (e != NULL && strcmp(code, "pending") != 0 && strcmp(code, "not-found") != 0) {
            st = answer_error(cli, "tx", ans);
            cJSON_Delete(ans);
            return st;
        }
        if (e == NULL) {
            int n_rec;
            const char *why = check_inclusion(ans, id_hex, &n_rec);
            if (why != NULL) {
                cJSON_Delete(ans);
                return octo_cli_fail(cli, OCTO_EXIT_FAIL, "tx: %s", why);
            }
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(ans, "result");
            int result = cJSON_IsNumber(r) ? r->valueint : -1;
            if (octo_args_has(&cli->args, "json")) {
                octo_cli_print_json(cli, ans);
            } else {
                fprintf(cli->out,
                        "included at height %llu (proof checked against the node's "
                        "tx root): %s\n",
                        (unsigned long long)json_u64(ans, "height"), json_str(ans, "result_text"));
                cJSON_Delete(ans);
            }
            return result == OCTO_TXR_OK
                       ? OCTO_EXIT_OK
                       : octo_cli_fail(cli, OCTO_EXIT_FAIL, "tx: %s", octo_tx_result_str(result));
        }
        cJSON_Delete(ans);
        if (octo_clock_mono(octo_sysclock()) > until)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "tx: not in a finalized block after %llus",
                                 (unsigned long long)timeout);
        uv_sleep(WAIT_POLL_MS);
    }
}

static int run_tx(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    if (a->positional_count > 0 && strcmp(a->positional[0], "proof") == 0)
        return run_tx_proof(cli);
    struct octo_tx t;
    int st = tx_from_args(cli, &t);
    if (st != OCTO_EXIT_OK)
        return st;
    t.fee = OCTO_UNIT / 1000;
    const char *fee = octo_args_get(&cli->args, "fee");
    if (fee != NULL && octo_cli_parse_amount(fee, &t.fee) != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --fee: expected an OCTO amount");
    struct octo_identity id;
    st = octo_cli_load_identity(cli, &id);
    if (st != OCTO_EXIT_OK)
        return st;
    memcpy(t.from, id.pub.bytes, 32);
    char from_hex[65];
    OCTO_ASSERT(octo_hex_encode(t.from, 32, from_hex, sizeof(from_hex)) == 64);
    uint8_t chain_id[32];
    st = chain_facts(cli, from_hex, chain_id, &t.nonce);
    uint8_t buf[1024];
    int n = st == OCTO_EXIT_OK ? octo_tx_encode(&t, buf, sizeof(buf)) : -1;
    if (n > 0)
        octo_tx_sign(chain_id, buf, (size_t)n, &id);
    octo_identity_deinit(&id);
    if (st != OCTO_EXIT_OK)
        return st;
    if (n <= 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "tx: not a valid transaction");
    char *hex = octo_malloc(2 * (size_t)n + 1);
    if (hex == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    OCTO_ASSERT(octo_hex_encode(buf, (size_t)n, hex, 2 * (size_t)n + 1) == 2 * n);
    cJSON *req = cJSON_CreateObject(), *ans;
    cJSON_AddStringToObject(req, "method", "submit");
    cJSON_AddStringToObject(req, "tx", hex);
    octo_free(hex);
    st = call_ok(cli, "tx", req, &ans);
    if (st != OCTO_EXIT_OK)
        return st;
    char tx_id[65];
    snprintf(tx_id, sizeof(tx_id), "%s", json_str(ans, "id"));
    if (!octo_args_has(&cli->args, "wait")) {
        if (octo_args_has(&cli->args, "json"))
            octo_cli_print_json(cli, ans);
        else {
            fprintf(cli->out, "submitted %s (nonce %llu)\n", tx_id, (unsigned long long)t.nonce);
            cJSON_Delete(ans);
        }
        return OCTO_EXIT_OK;
    }
    cJSON_Delete(ans);
    return wait_included(cli, tx_id);
}

const struct octo_cli_cmd octo_cmd_tx = {
    .name = "tx",
    .run = run_tx,
    .flags = tx_flags,
    .needs_config = true,
    .usage = "tx transfer ADDR AMOUNT | stake AMOUNT | unstake AMOUNT | register ROLE "
             "[--node MULTIADDR] [--wait] [--json] | tx proof ID",
    .summary = "sign a transaction with the home's key and submit it to a node",
};

const struct octo_cli_cmd octo_cmd_account = {
    .name = "account",
    .run = run_account,
    .flags = account_flags,
    .needs_config = true,
    .usage = "account [ADDR] [--node MULTIADDR] [--json]",
    .summary = "show an account's balances, stakes and nonce (default: the home's)",
};

const struct octo_cli_cmd octo_cmd_status = {
    .name = "status",
    .run = run_status,
    .flags = block_flags,
    .needs_config = true,
    .usage = "status [--node MULTIADDR] [--json]",
    .summary = "show a node's chain: height, view, validators, peers, finality latency",
};

const struct octo_cli_cmd octo_cmd_block = {
    .name = "block",
    .run = run_block,
    .flags = block_flags,
    .needs_config = true,
    .usage = "block [HEIGHT] [--node MULTIADDR] [--json]",
    .summary = "show a finalized block (default: the newest)",
};
