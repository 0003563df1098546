/*
 * cmd_node.c — `octo node`: run the node on its listen addresses until SIGINT or SIGTERM.
 *
 * Start-up: load the identity, open and migrate the store, bind the listeners, write the
 * run file ($home/node.run: pid and bound addresses, read by `octo id`), print one
 * "listening on ..." line per address and a final "Node is ready" line (scripts wait for
 * it). With --http HOST:PORT the node also serves its HTTP API there (api/api.h: /health,
 * /metrics with the network's and the chain's counters); a "http api on http://..." line
 * precedes the ready line and the run file records the address.
 * Roles (--role, a comma-separated set; node/config.h) wire the services: a home with a
 * genesis runs the chain service (voting when the key is in the validator set, following
 * otherwise); `orchestrator` runs the gateway (node/gateway.h) on the HTTP API, so it needs
 * --http; `provider` serves --model FILE.gguf to the orchestrators given with --bootstrap
 * (node/provider.h), running each task with octo-runner (found beside this binary) in the
 * sandbox.
 * Shutdown: the gateway answers what it holds, the HTTP API stops, the provider drops its
 * streams, then GoAway on every connection, flush, close, remove the run file.
 */
#include "api/api.h"
#include "base/alloc.h"
#include "base/log.h"
#include "cli/cli.h"
#include "net/net.h"
#include "node/chain_api.h"
#include "node/gateway.h"
#include "node/genesis.h"
#include "node/home.h"
#include "node/node_metrics.h"
#include "node/provider.h"
#include "node/settle.h"
#include "node/sysclock.h"
#include "node/validator.h"
#include "store/apikeys.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct octo_flag node_flags[] = {
    {"listen", 0, true, true, "MULTIADDR", "listen address (repeatable; default from config)"},
    {"role", 0, true, false, "ROLES",
     "comma-separated: validator, provider, orchestrator, observer"},
    {"http", 0, true, false, "HOST:PORT", "serve the HTTP API (/health, /metrics) there"},
    {"bootstrap", 0, true, true, "MULTIADDR", "a peer to join through, with /p2p (repeatable)"},
    {"model", 0, true, false, "FILE", "provider: the GGUF model to serve"},
    {"price-in", 0, true, false, "UNITS", "provider: base units per 1M prompt tokens"},
    {"price-out", 0, true, false, "UNITS", "provider: base units per 1M completion tokens"},
    {"concurrency", 0, true, false, "N", "provider: tasks at once (default 1)"},
    {"region", 0, true, false, "CC/CONT", "provider: country and continent, e.g. DE/EU"},
    {"noop-agent", 0, false, false, NULL,
     "provider: also serve the model \"noop\" (answered at once; for benchmarks)"},
    {"payer-home", 0, true, false, "DIR",
     "orchestrator: the home of the account that escrows tasks on the chain"},
    {"threads", 0, true, false, "N", "provider: inference threads per task (default 1)"},
    {"passphrase-file", 0, true, false, "FILE", "passphrase of an encrypted key"},
    {"test-protocols", 0, false, false, NULL, "serve /octo/echo/1.0.0 and /perf/1.0.0"},
    {NULL, 0, false, false, NULL, NULL},
};

struct node_run {
    struct octo_cli *cli;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    struct octo_net *net;
    struct octo_validator *chain; /* the chain service, when the home has a genesis */
    struct octo_api *api;         /* the HTTP API, with --http */
    struct octo_gateway *gateway; /* the orchestrator role */
    struct octo_provider *provider;
    struct octo_settler *settler; /* the orchestrator's escrows and settlements, on a chain */
    struct octo_identity payer;   /* --payer-home's key */
    bool have_payer;
    struct octo_multiaddr bootstrap[OCTO_PROVIDER_ORCH_MAX];
    size_t bootstrap_count;
    char http_host[64];
    uint16_t http_port;
    struct octo_store *store;
    struct octo_genesis genesis;
    bool have_genesis;
    bool stopping;
    char run_path[OCTO_PATH_MAX];
};

static void on_net_down(void *ctx)
{
    struct node_run *r = ctx;
    uv_close((uv_handle_t *)&r->sigint, NULL);
    uv_close((uv_handle_t *)&r->sigterm, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct node_run *r = h->data;
    if (r->stopping)
        return;
    r->stopping = true;
    OCTO_INFO("got %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    octo_gateway_stop(r->gateway);
    octo_settler_stop(r->settler);
    octo_api_stop(r->api);
    r->api = NULL;
    octo_provider_stop(r->provider);
    octo_validator_stop(r->chain);
    octo_net_shutdown(r->net, on_net_down, r);
}

/* Writes $home/node.run so that `octo id` can show the addresses of the running node. */
static int write_run_file(struct node_run *r, const struct octo_multiaddr *addrs, size_t count)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_CreateArray();
    if (o == NULL || a == NULL) {
        cJSON_Delete(o);
        cJSON_Delete(a);
        return OCTO_ENOMEM;
    }
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    for (size_t i = 0; i < count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (octo_multiaddr_to_text(&addrs[i], text, sizeof(text)) > 0)
            cJSON_AddItemToArray(a, cJSON_CreateString(text));
    }
    cJSON_AddItemToObject(o, "addresses", a);
    if (r->api != NULL) {
        char url[128];
        snprintf(url, sizeof(url), "http://%s%s%s:%u", strchr(r->http_host, ':') ? "[" : "",
                 r->http_host, strchr(r->http_host, ':') ? "]" : "", octo_api_port(r->api));
        cJSON_AddStringToObject(o, "http", url);
        fprintf(r->cli->out, "http api on %s\n", url);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s == NULL)
        return OCTO_ENOMEM;
    struct octo_fs_error ferr;
    int rc = octo_fs_write_atomic(r->run_path, s, strlen(s), 0644, false, &ferr);
    octo_free(s);
    if (rc < 0)
        OCTO_WARN("%s", ferr.msg);
    return rc;
}

static void print_ready(struct node_run *r)
{
    struct octo_multiaddr addrs[OCTO_NET_LISTEN_MAX];
    size_t count = octo_net_listen_addrs(r->net, addrs, OCTO_NET_LISTEN_MAX);
    const struct octo_peerid *me = octo_net_local_peer(r->net);
    char id[OCTO_PEERID_TEXT_MAX];
    OCTO_ASSERT(octo_peerid_to_base58(me, id, sizeof(id)) > 0);
    for (size_t i = 0; i < count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (octo_multiaddr_to_text(&addrs[i], text, sizeof(text)) > 0)
            fprintf(r->cli->out, "listening on %s/p2p/%s\n", text, id);
    }
    OCTO_IGNORE(write_run_file(r, addrs, count));
    fprintf(r->cli->out, "peer id: %s\nNode is ready\n", id);
    fflush(r->cli->out);
}

/* The home's genesis.json, which makes this node part of a chain; a validator needs one. */
static int load_genesis(struct node_run *r)
{
    char path[OCTO_PATH_MAX], err[OCTO_GENESIS_ERR_MAX];
    if (octo_home_path(&r->cli->cfg, OCTO_GENESIS_FILE, path, sizeof(path)) < 0)
        return octo_cli_fail(r->cli, OCTO_EXIT_FAIL, "home path too long");
    if (octo_fs_exists(path) != 1) {
        if ((r->cli->cfg.roles & OCTO_ROLE_VALIDATOR) != 0)
            return octo_cli_fail(r->cli, OCTO_EXIT_USAGE,
                                 "%s: a validator needs the chain's genesis file "
                                 "(octo testnet writes one)",
                                 path);
        return OCTO_EXIT_OK;
    }
    int rc = octo_genesis_load(&r->genesis, path, err);
    if (rc < 0)
        return octo_cli_fail(r->cli, OCTO_EXIT_USAGE, "%s", err);
    r->have_genesis = true;
    return OCTO_EXIT_OK;
}

/* --http HOST:PORT ([v6]:PORT too) into r->http_host / r->http_port. */
static int parse_http(struct node_run *r)
{
    const char *v = octo_args_get(&r->cli->args, "http");
    if (v == NULL)
        return OCTO_EXIT_OK;
    const char *colon = strrchr(v, ':');
    size_t hl = colon != NULL ? (size_t)(colon - v) : 0;
    const char *h = v;
    if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    uint64_t port;
    if (colon == NULL || hl == 0 || hl >= sizeof(r->http_host) ||
        octo_cli_parse_u64(colon + 1, 65535, &port) != 0)
        return octo_cli_fail(r->cli, OCTO_EXIT_USAGE,
                             "flag --http: expected HOST:PORT (a numeric address)");
    memcpy(r->http_host, h, hl);
    r->http_host[hl] = '\0';
    r->http_port = (uint16_t)port;
    uint8_t addr[16];
    if (inet_pton(AF_INET, r->http_host, addr) != 1 && inet_pton(AF_INET6, r->http_host, addr) != 1)
        return octo_cli_fail(r->cli, OCTO_EXIT_USAGE,
                             "flag --http: '%s' is not a numeric IPv4 or IPv6 address",
                             r->http_host);
    return OCTO_EXIT_OK;
}

/* What the roles need: an orchestrator serves HTTP, a provider a model to its orchestrators. */
static int check_roles(struct node_run *r)
{
    struct octo_cli *cli = r->cli;
    const struct octo_args *a = &cli->args;
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->items[i].flag->name, "bootstrap") != 0)
            continue;
        if (r->bootstrap_count == OCTO_PROVIDER_ORCH_MAX)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "--bootstrap: at most %d peers",
                                 OCTO_PROVIDER_ORCH_MAX);
        struct octo_multiaddr *ma = &r->bootstrap[r->bootstrap_count];
        struct sockaddr_storage sa;
        struct octo_peerid pid;
        bool has_peer = false;
        if (octo_multiaddr_from_text(a->items[i].value, ma) < 0 ||
            octo_net_multiaddr_to_sockaddr(ma, &sa, &pid, &has_peer) != 0 || !has_peer)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                                 "--bootstrap %s: expected /ip4|ip6/ADDR/tcp/PORT/p2p/PEER_ID",
                                 a->items[i].value);
        r->bootstrap_count++;
    }
    unsigned roles = cli->cfg.roles;
    const char *payer = octo_args_get(a, "payer-home");
    if (payer != NULL && (roles & OCTO_ROLE_ORCHESTRATOR) == 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "--payer-home is an orchestrator flag");
    if (payer != NULL) {
        struct octo_config pc;
        struct octo_config_error cerr = {.msg = ""};
        struct octo_home_error herr = {.msg = ""};
        if (octo_config_init(&pc, payer, cli->env, &cerr) != 0 ||
            octo_home_load_identity(&pc, NULL, &r->payer, &herr) != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "--payer-home %s: %s", payer,
                                 herr.msg[0] != '\0' ? herr.msg : cerr.msg);
        r->have_payer = true;
    }
    if ((roles & OCTO_ROLE_ORCHESTRATOR) != 0 && r->http_host[0] == '\0')
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "an orchestrator serves the gateway: give --http HOST:PORT");
    if ((roles & OCTO_ROLE_PROVIDER) != 0 &&
        (octo_args_get(a, "model") == NULL || r->bootstrap_count == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "a provider needs --model FILE.gguf and --bootstrap with its "
                             "orchestrator's address");
    if ((roles & OCTO_ROLE_PROVIDER) == 0 &&
        (octo_args_get(a, "model") != NULL || octo_args_get(a, "concurrency") != NULL ||
         octo_args_get(a, "region") != NULL || octo_args_get(a, "price-in") != NULL ||
         octo_args_get(a, "price-out") != NULL || octo_args_get(a, "threads") != NULL))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "--model, --price-in, --price-out, --concurrency and --threads are "
                             "provider flags (--role provider)");
    return OCTO_EXIT_OK;
}

static int lookup_key(void *ctx, const char *id, struct octo_apikey *out)
{
    return octo_apikey_get(ctx, id, out);
}

static int start_api(struct node_run *r)
{
    const struct octo_peerid *me = octo_net_local_peer(r->net);
    char id[OCTO_PEERID_TEXT_MAX];
    OCTO_ASSERT(octo_peerid_to_base58(me, id, sizeof(id)) > 0);
    struct octo_api_config ac = {.loop = &r->loop,
                                 .host = r->http_host,
                                 .port = r->http_port,
                                 .node = id,
                                 .clock = octo_sysclock(),
                                 .key_lookup = lookup_key,
                                 .key_ctx = r->store};
    int rc = octo_api_start(&r->api, &ac);
    if (rc != 0)
        return rc;
    rc = octo_api_add_collector(r->api, octo_node_metrics_net, r->net);
    if (rc == 0 && r->chain != NULL)
        rc = octo_api_add_collector(r->api, octo_node_metrics_chain, r->chain);
    if (rc == 0 && r->chain != NULL)
        rc = octo_chain_api_add(r->api, r->chain);
    return rc;
}

/* The orchestrator's gateway on the API, the provider's service: what --role asks for. */
static int start_roles(struct node_run *r, struct octo_identity *id)
{
    struct octo_cli *cli = r->cli;
    int rc = 0;
    if ((cli->cfg.roles & OCTO_ROLE_ORCHESTRATOR) != 0) {
        if (r->chain != NULL && r->have_payer) { /* tasks are escrowed and settled on chain */
            struct octo_settler_config sc = {.loop = &r->loop,
                                             .chain = r->chain,
                                             .identity = id,
                                             .payer = &r->payer,
                                             .clock = octo_sysclock()};
            rc = octo_settler_start(&r->settler, &sc);
            if (rc != 0) {
                octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot start the settlement: %s",
                              octo_strerror(rc));
                return rc;
            }
        }
        struct octo_gateway_config gc = {.loop = &r->loop,
                                         .net = r->net,
                                         .store = r->store,
                                         .api = r->api,
                                         .clock = octo_sysclock(),
                                         .settler = r->settler,
                                         .identity = id};
        rc = octo_gateway_start(&r->gateway, &gc);
        if (rc == 0)
            rc = octo_api_add_collector(r->api, octo_node_metrics_gateway, r->gateway);
        if (rc == 0 && r->settler != NULL)
            rc = octo_api_add_collector(r->api, octo_node_metrics_settle, r->settler);
        if (rc != 0) {
            octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot start the gateway: %s", octo_strerror(rc));
            return rc;
        }
    }
    if ((cli->cfg.roles & OCTO_ROLE_PROVIDER) != 0) {
        char runner[OCTO_PATH_MAX], model[OCTO_PATH_MAX];
        const struct octo_args *a = &cli->args;
        uint64_t pin = 0, pout = 0, conc = 0, threads = 0;
        const char *v;
        if (((v = octo_args_get(a, "price-in")) != NULL &&
             octo_cli_parse_u64(v, UINT64_C(1000000000000000), &pin) != 0) ||
            ((v = octo_args_get(a, "price-out")) != NULL &&
             octo_cli_parse_u64(v, UINT64_C(1000000000000000), &pout) != 0) ||
            ((v = octo_args_get(a, "concurrency")) != NULL &&
             (octo_cli_parse_u64(v, OCTO_PROVIDER_CONCURRENCY_MAX, &conc) != 0 || conc == 0)) ||
            ((v = octo_args_get(a, "threads")) != NULL &&
             (octo_cli_parse_u64(v, 256, &threads) != 0 || threads == 0))) {
            octo_cli_fail(cli, OCTO_EXIT_USAGE,
                          "provider flags: --price-in/--price-out up to 10^15, --concurrency "
                          "1..%u, --threads 1..256",
                          OCTO_PROVIDER_CONCURRENCY_MAX);
            return OCTO_EINVAL;
        }
        const char *region = octo_args_get(a, "region");
        if (region == NULL || strlen(region) != 5 || region[2] != '/') {
            octo_cli_fail(cli, OCTO_EXIT_USAGE,
                          "a provider needs --region CC/CONT: its country (ISO 3166, two "
                          "letters) and continent (AF AN AS EU NA OC SA), e.g. DE/EU");
            return OCTO_EINVAL;
        }
        if (realpath(octo_args_get(a, "model"), model) == NULL) {
            octo_cli_fail(cli, OCTO_EXIT_USAGE, "--model %s: no such file",
                          octo_args_get(a, "model"));
            return OCTO_EINVAL;
        }
        ssize_t n = readlink("/proc/self/exe", runner, sizeof(runner) - 16);
        if (n <= 0)
            return OCTO_EIO;
        runner[n] = '\0';
        char *slash = strrchr(runner, '/');
        snprintf(slash + 1, sizeof(runner) - (size_t)(slash + 1 - runner), "octo-runner");
        char worker[OCTO_PATH_MAX]; /* sealed tasks need it; without it they are refused */
        snprintf(worker, sizeof(worker), "%.*s/octo-worker", (int)(slash - runner), runner);
        struct octo_provider_config pc = {.loop = &r->loop,
                                          .net = r->net,
                                          .identity = id,
                                          .clock = octo_sysclock(),
                                          .model_path = model,
                                          .runner_exe = runner,
                                          .worker_exe = access(worker, X_OK) == 0 ? worker : NULL,
                                          .price_in = pin,
                                          .price_out = pout,
                                          .concurrency = (uint32_t)conc,
                                          .threads = (uint32_t)threads,
                                          .orchestrators = r->bootstrap,
                                          .orchestrators_count = r->bootstrap_count,
                                          .noop_agent = octo_args_has(a, "noop-agent"),
                                          .country = {region[0], region[1], '\0'},
                                          .continent = {region[3], region[4], '\0'},
                                          .chain_id = r->have_genesis ? r->genesis.chain_id : NULL};
        rc = octo_provider_start(&r->provider, &pc);
        if (rc == 0 && r->api != NULL)
            rc = octo_api_add_collector(r->api, octo_node_metrics_provider, r->provider);
        if (rc != 0) {
            octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot start the provider (%s): %s", model,
                          octo_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int run_loop(struct node_run *r, struct octo_identity *id, struct octo_store *store)
{
    struct octo_cli *cli = r->cli;
    r->store = store;
    struct octo_net_config ncfg = {
        .identity = id,
        .clock = octo_sysclock(),
        .listen = cli->cfg.listen,
        .listen_count = cli->cfg.listen_count,
        .store = store,
        .test_protocols = octo_args_has(&cli->args, "test-protocols"),
    };
    int rc = octo_net_create(&r->net, &r->loop, &ncfg);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot create the network: %s",
                             octo_strerror(rc));
    rc = octo_net_start(r->net);
    if (rc < 0) {
        octo_net_shutdown(r->net, NULL, NULL);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        octo_net_destroy(r->net);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot listen: %s", octo_strerror(rc));
    }
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sigterm);
    r->sigint.data = r;
    r->sigterm.data = r;
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);
    if (r->have_genesis) {
        char wal[OCTO_PATH_MAX];
        rc = octo_home_path(&cli->cfg, "data/chain.wal", wal, sizeof(wal));
        struct octo_validator_config vc = {.loop = &r->loop,
                                           .net = r->net,
                                           .store = store,
                                           .identity = id,
                                           .genesis = &r->genesis,
                                           .clock = octo_sysclock(),
                                           .wal_path = wal};
        if (rc == 0)
            rc = octo_validator_start(&r->chain, &vc);
        if (rc < 0) {
            octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot start the chain: %s", octo_strerror(rc));
            r->stopping = true;
            octo_net_shutdown(r->net, on_net_down, r);
            uv_run(&r->loop, UV_RUN_DEFAULT);
            octo_net_destroy(r->net);
            return OCTO_EXIT_FAIL;
        }
    }
    if (r->http_host[0] != '\0' && (rc = start_api(r)) != 0)
        octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot serve HTTP on %s:%u: %s", r->http_host,
                      r->http_port, octo_strerror(rc));
    if (rc == 0)
        rc = start_roles(r, id);
    if (rc != 0) {
        r->stopping = true;
        octo_gateway_stop(r->gateway);
        octo_settler_stop(r->settler);
        octo_api_stop(r->api);
        octo_provider_stop(r->provider);
        octo_validator_stop(r->chain);
        octo_net_shutdown(r->net, on_net_down, r);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        octo_gateway_destroy(r->gateway);
        octo_settler_destroy(r->settler);
        octo_provider_destroy(r->provider);
        octo_validator_destroy(r->chain);
        octo_net_destroy(r->net);
        return OCTO_EXIT_FAIL;
    }
    print_ready(r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    octo_gateway_destroy(r->gateway);
    octo_settler_destroy(r->settler);
    octo_provider_destroy(r->provider);
    octo_validator_destroy(r->chain);
    octo_net_destroy(r->net);
    unlink(r->run_path);
    OCTO_INFO("stopped");
    return OCTO_EXIT_OK;
}

static int run_node(struct octo_cli *cli)
{
    struct octo_identity id;
    int status = octo_cli_load_identity(cli, &id);
    if (status != OCTO_EXIT_OK)
        return status;
    char dbpath[OCTO_PATH_MAX];
    struct octo_store *store = NULL;
    int rc = octo_config_path(&cli->cfg, cli->cfg.store_path, dbpath, sizeof(dbpath));
    if (rc == 0)
        rc = octo_store_open_sqlite(&store, dbpath, NULL);
    if (rc == 0)
        rc = octo_store_migrate_node_at(store,
                                        octo_clock_wall(octo_sysclock()) / (int64_t)OCTO_NS_PER_MS);
    if (rc < 0) {
        if (store != NULL)
            octo_store_close(store);
        octo_identity_deinit(&id);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: cannot open the store: %s", dbpath,
                             octo_strerror(rc));
    }
    struct node_run *r = octo_calloc(1, sizeof(*r));
    if (r == NULL || uv_loop_init(&r->loop) != 0) {
        octo_free(r);
        octo_store_close(store);
        octo_identity_deinit(&id);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    r->cli = cli;
    if (octo_home_path(&cli->cfg, "node.run", r->run_path, sizeof(r->run_path)) < 0)
        r->run_path[0] = '\0';
    status = load_genesis(r);
    if (status == OCTO_EXIT_OK)
        status = parse_http(r);
    if (status == OCTO_EXIT_OK)
        status = check_roles(r);
    if (status == OCTO_EXIT_OK)
        status = run_loop(r, &id, store);
    if (r->have_genesis)
        octo_genesis_deinit(&r->genesis);
    if (r->have_payer)
        octo_identity_deinit(&r->payer);
    octo_identity_deinit(&id);
    uv_run(&r->loop, UV_RUN_DEFAULT); /* let every close callback run */
    OCTO_IGNORE(uv_loop_close(&r->loop));
    octo_free(r);
    octo_store_close(store);
    return status;
}

const struct octo_cli_cmd octo_cmd_node = {
    .name = "node",
    .run = run_node,
    .flags = node_flags,
    .needs_config = true,
    .usage =
        "node [--home DIR] [--listen MULTIADDR]... [--role ROLE[,ROLE...]] "
        "[--http HOST:PORT] [--bootstrap MULTIADDR]... [--model FILE.gguf] [--price-in N] "
        "[--price-out N] [--concurrency N] [--threads N] [--region CC/CONT] [--payer-home DIR] "
        "[--test-protocols]",
    .summary = "run the node until SIGINT or SIGTERM",
};
