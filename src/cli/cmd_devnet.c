/*
 * cmd_devnet.c — `octo devnet`: a whole CipherOcto network on this machine, as separate
 * processes on loopback, until Ctrl-C.
 *
 *   octo devnet [--dir DIR] [--validators N] [--providers N] [--port P] [--for SECONDS]
 *
 * The first run writes the network into DIR (default ./octo-devnet): `octo testnet` makes the
 * validators' homes, the genesis and one account home per other node (a0 the orchestrator,
 * a1.. the providers), and `octo model gen-test` the test model the providers will serve.
 * Later runs start the same network again from its stores (DIR/devnet.json keeps its shape:
 * other counts or ports for it are refused). Then it starts N validators (4),
 * one orchestrator serving the HTTP API on 127.0.0.1:P (8080) and the providers (3), each an
 * `octo node` process with its output in DIR/logs; waits until every one says it is ready;
 * makes a demo API key bound to the orchestrator's account; prints the gateway's address and
 * the key (revoked when the devnet stops) and keeps it in DIR/api-key (0600, removed at stop),
 * where `octo run`, `octo tasks` and `octo providers` find it; and prints a status line every few
 * seconds (finalized height, processes up). On SIGINT or SIGTERM (or after --for SECONDS) it stops
 * every process with SIGTERM, waits for them (SIGKILL after 10 s) and exits 0. A process that dies
 * is reported, and the devnet stops with exit status 1. The nodes are started with
 * PR_SET_PDEATHSIG, so they stop with the devnet even when it is killed outright.
 *
 * Ports: the gateway on P, the orchestrator's libp2p listener on P+1 (the providers are given
 * it with --bootstrap), the validators' on P+10.., the providers' on ephemeral ports; every node
 * serves its HTTP API (/health, /metrics): the validators' on P+30.., the providers' on P+50..
 * The accounts: a0 the orchestrator, a1.. the providers, the last the payer whose escrows pay
 * for the demo key's tasks (its key is given to the orchestrator with --payer-home); on the
 * first run the orchestrator and the providers register their roles on the chain.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/hex.h"
#include "chain/tx.h"
#include "cli/cli.h"
#include "crypto/ident.h"
#include "node/fs.h"
#include "node/home.h"
#include "node/sysclock.h"
#include "store/apikeys.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEVNET_NODES_MAX (16 + 1 + 16)
#define DEVNET_DIR_MAX 512 /* bytes of --dir */
#define READY_S 60         /* a node must be ready within this */
#define STOP_S 10          /* a node must stop within this after SIGTERM */
#define STATUS_EVERY_S 5   /* status line interval */
/* Ports from P: the gateway P, the orchestrator's libp2p P+1, the validators' libp2p P+10..,
 * their HTTP APIs (/metrics) P+30.., the providers' HTTP APIs P+50..; the last is P+65. */
#define DEVNET_PORTS 80
#define VAL_HTTP_OFF 30
#define PROV_HTTP_OFF 50

static const struct octo_flag devnet_flags[] = {
    {"dir", 0, true, false, "DIR", "where the network lives (default ./octo-devnet)"},
    {"validators", 0, true, false, "N", "validators, 1..16 (default 4)"},
    {"providers", 0, true, false, "N", "providers, 0..16 (default 3)"},
    {"noop-agent", 0, false, false, NULL, "providers also serve the model \"noop\" (benchmarks)"},
    {"port", 0, true, false, "P", "the gateway's HTTP port (default 8080); libp2p from P+10"},
    {"for", 0, true, false, "SECONDS", "stop after this long (default: until Ctrl-C)"},
    {NULL, 0, false, false, NULL, NULL},
};

struct proc {
    char name[32];
    char home[DEVNET_DIR_MAX + 64];
    char out[DEVNET_DIR_MAX + 64]; /* its stdout: the ready line */
    pid_t pid;
    int status;
    bool exited;
};

struct devnet {
    struct octo_cli *cli;
    bool first_run; /* the network was written by this run: its roles are registered */
    char key_id[OCTO_APIKEY_ID_HEX + 1]; /* the demo key, revoked when the devnet stops */
    char dir[DEVNET_DIR_MAX];
    uint64_t validators, providers, port, run_for;
    struct proc p[DEVNET_NODES_MAX];
    size_t n;
};

static volatile sig_atomic_t g_stop;
static char g_self[OCTO_PATH_MAX]; /* this octo binary, which every node runs */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* posix_spawn takes char *const argv[] for strings it only reads. */
static char *arg(const char *p)
{
    union {
        const char *c;
        char *v;
    } u = {.c = p};
    return u.v;
}

/* Runs this octo with args, waits; 0 when it exited 0. Output to log. */
static int spawn_octo(const char *const *args, const char *out, const char *log);

static int run_octo(const char *const *args, const char *log)
{
    return spawn_octo(args, log, log);
}

/* Runs octo with args, its stdout into the file out (replaced), its stderr discarded. */
static int run_octo_to(const char *const *args, const char *out)
{
    return spawn_octo(args, out, NULL);
}

static int spawn_octo(const char *const *args, const char *out, const char *log)
{
    char *argv[24];
    size_t n = 0;
    argv[n++] = g_self;
    for (size_t i = 0; args[i] != NULL && n < 23; i++)
        argv[n++] = arg(args[i]);
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out,
                                     O_WRONLY | O_CREAT | (log != NULL ? O_APPEND : O_TRUNC), 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log != NULL ? log : "/dev/null",
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, g_self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    return w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int start(struct devnet *d, struct proc *p, const char *const *extra)
{
    char *argv[32];
    size_t n = 0;
    argv[n++] = g_self;
    argv[n++] = arg("node");
    argv[n++] = arg("--home");
    argv[n++] = p->home;
    argv[n++] = arg("--log-level");
    argv[n++] = arg("warn");
    for (size_t i = 0; extra[i] != NULL && n < 31; i++)
        argv[n++] = arg(extra[i]);
    argv[n] = NULL;
    char log[DEVNET_DIR_MAX + 64];
    snprintf(log, sizeof(log), "%s/logs/%s.log", d->dir, p->name);
    snprintf(p->out, sizeof(p->out), "%s/logs/%s.out", d->dir, p->name);
    pid_t parent = getpid();
    p->pid = fork();
    if (p->pid == 0) {
        /* the node dies with the devnet, also when the devnet is killed outright */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(126);
        int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        close(out);
        close(err);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execve(g_self, argv, environ);
        _exit(127);
    }
    if (p->pid < 0) {
        p->pid = 0;
        p->exited = true; /* nothing to wait for */
        return -1;
    }
    return 0;
}

static bool file_has(const char *path, const char *text)
{
    struct octo_buf b;
    octo_buf_init(&b, 1 << 20);
    struct octo_fs_error err;
    bool has = octo_fs_read(path, &b, &err) == 0 && b.len > 0 &&
               memmem(b.data, b.len, text, strlen(text)) != NULL;
    octo_buf_deinit(&b);
    return has;
}

static void reap(struct devnet *d)
{
    for (size_t i = 0; i < d->n; i++) {
        struct proc *p = &d->p[i];
        if (p->exited || p->pid <= 0)
            continue;
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->exited = true;
            p->status = st;
        }
    }
}

static size_t up(const struct devnet *d)
{
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++)
        k += !d->p[i].exited;
    return k;
}

static void stop_all(struct devnet *d)
{
    for (size_t i = d->n; i-- > 0;)
        if (!d->p[i].exited && d->p[i].pid > 0)
            kill(d->p[i].pid, SIGTERM);
    for (int t = 0; t < STOP_S * 10 && up(d) > 0; t++) {
        usleep(100000);
        reap(d);
    }
    for (size_t i = 0; i < d->n; i++)
        if (!d->p[i].exited && d->p[i].pid > 0) {
            kill(d->p[i].pid, SIGKILL);
            while (waitpid(d->p[i].pid, NULL, 0) < 0 && errno == EINTR)
                ;
            d->p[i].exited = true;
        }
}

/* DIR/devnet.json: the shape of the network the first run wrote, written once all of it is
 * there (so a first run cut short is recognized: net/ without it). */
static int read_params(struct devnet *d, bool *found)
{
    char path[DEVNET_DIR_MAX + 64];
    snprintf(path, sizeof(path), "%s/devnet.json", d->dir);
    *found = false;
    if (octo_fs_exists(path) != 1)
        return OCTO_EXIT_OK;
    struct octo_buf b;
    octo_buf_init(&b, 4096);
    struct octo_fs_error ferr;
    cJSON *o = NULL;
    if (octo_fs_read(path, &b, &ferr) == 0)
        o = cJSON_ParseWithLength((const char *)b.data, b.len);
    octo_buf_deinit(&b);
    const cJSON *v = cJSON_GetObjectItem(o, "validators"), *p = cJSON_GetObjectItem(o, "providers"),
                *port = cJSON_GetObjectItem(o, "port");
    if (!cJSON_IsNumber(v) || !cJSON_IsNumber(p) || !cJSON_IsNumber(port)) {
        cJSON_Delete(o);
        return octo_cli_fail(d->cli, OCTO_EXIT_FAIL, "devnet: %s is damaged: remove %s", path,
                             d->dir);
    }
    const struct octo_args *a = &d->cli->args;
    uint64_t saved[3] = {(uint64_t)v->valuedouble, (uint64_t)p->valuedouble,
                         (uint64_t)port->valuedouble};
    uint64_t *mine[3] = {&d->validators, &d->providers, &d->port};
    static const char *const names[3] = {"validators", "providers", "port"};
    cJSON_Delete(o);
    for (int i = 0; i < 3; i++) {
        if (octo_args_get(a, names[i]) != NULL && *mine[i] != saved[i])
            return octo_cli_fail(d->cli, OCTO_EXIT_USAGE,
                                 "devnet: %s holds a network with --%s %llu (not %llu): use "
                                 "another --dir, or remove it",
                                 d->dir, names[i], (unsigned long long)saved[i],
                                 (unsigned long long)*mine[i]);
        *mine[i] = saved[i];
    }
    *found = true;
    return OCTO_EXIT_OK;
}

static int write_params(struct devnet *d)
{
    char path[DEVNET_DIR_MAX + 64], text[160];
    snprintf(path, sizeof(path), "%s/devnet.json", d->dir);
    int n = snprintf(text, sizeof(text), "{\"validators\":%llu,\"providers\":%llu,\"port\":%llu}\n",
                     (unsigned long long)d->validators, (unsigned long long)d->providers,
                     (unsigned long long)d->port);
    struct octo_fs_error ferr;
    if (octo_fs_write_atomic(path, text, (size_t)n, 0644, false, &ferr) < 0)
        return octo_cli_fail(d->cli, OCTO_EXIT_FAIL, "devnet: %s", ferr.msg);
    return OCTO_EXIT_OK;
}

/* Writes the network on the first run (testnet homes, genesis, the test model). */
static int prepare(struct devnet *d)
{
    char path[DEVNET_DIR_MAX + 64], log[DEVNET_DIR_MAX + 64], vals[24], accs[24], base[24];
    bool found;
    int st = read_params(d, &found);
    if (st != OCTO_EXIT_OK)
        return st;
    snprintf(path, sizeof(path), "%s/logs", d->dir);
    struct octo_fs_error ferr;
    if (octo_fs_mkdir_p(path, 0755, &ferr) != 0)
        return octo_cli_fail(d->cli, OCTO_EXIT_FAIL, "devnet: %s", ferr.msg);
    snprintf(log, sizeof(log), "%s/logs/setup.log", d->dir);
    char out[DEVNET_DIR_MAX + 64];
    snprintf(out, sizeof(out), "%s/net", d->dir);
    if (found) {
        fprintf(d->cli->out, "starting the network in %s again\n", out);
        return OCTO_EXIT_OK;
    }
    d->first_run = true;
    if (octo_fs_exists(out) == 1)
        return octo_cli_fail(d->cli, OCTO_EXIT_FAIL,
                             "devnet: %s is there but incomplete (a first run cut short?): "
                             "remove %s",
                             out, d->dir);
    snprintf(vals, sizeof(vals), "%llu", (unsigned long long)d->validators);
    /* a0 the orchestrator, a1.. the providers, the last the payer that escrows the tasks */
    snprintf(accs, sizeof(accs), "%llu", (unsigned long long)(2 + d->providers));
    snprintf(base, sizeof(base), "%llu", (unsigned long long)(d->port + 10));
    const char *args[] = {"testnet", "--validators", vals, "--accounts", accs, "--out",
                          out,       "--base-port",  base, NULL};
    fprintf(d->cli->out, "writing the network into %s ...\n", out);
    if (run_octo(args, log) != 0)
        return octo_cli_fail(d->cli, OCTO_EXIT_FAIL, "devnet: octo testnet failed (see %s)", log);
    snprintf(path, sizeof(path), "%s/models", d->dir);
    OCTO_IGNORE(octo_fs_mkdir_p(path, 0755, &ferr));
    snprintf(path, sizeof(path), "%s/models/tiny.gguf", d->dir);
    const char *margs[] = {"model", "gen-test", "--out", path, NULL};
    if (run_octo(margs, log) != 0)
        return octo_cli_fail(d->cli, OCTO_EXIT_FAIL, "devnet: octo model gen-test failed (see %s)",
                             log);
    return write_params(d);
}

/* The libp2p address of the node whose home is `home`, listening on port, with its peer id. */
static int node_addr(const char *home, uint64_t port, char *out, size_t cap)
{
    struct octo_config cfg;
    struct octo_config_error cerr;
    struct octo_home_error herr;
    struct octo_identity id;
    if (octo_config_init(&cfg, home, environ, &cerr) != 0 ||
        octo_home_load_identity(&cfg, NULL, &id, &herr) != 0)
        return -1;
    struct octo_peerid pid;
    octo_peerid_from_pubkey(&id.pub, &pid);
    octo_identity_deinit(&id);
    char text[OCTO_PEERID_TEXT_MAX];
    OCTO_ASSERT(octo_peerid_to_base58(&pid, text, sizeof(text)) > 0);
    snprintf(out, cap, "/ip4/127.0.0.1/tcp/%llu/p2p/%s", (unsigned long long)port, text);
    return 0;
}

/* The role the chain gives the account of home (queried through node), or "" when unknown. */
static void chain_role(struct devnet *d, const char *home, const char *node, char *role, size_t cap)
{
    char out[DEVNET_DIR_MAX + 64];
    snprintf(out, sizeof(out), "%s/logs/account.json", d->dir);
    unlink(out);
    role[0] = '\0';
    const char *args[] = {"account", "--home", home, "--node", node, "--json", NULL};
    struct octo_buf b;
    octo_buf_init(&b, 1u << 16);
    struct octo_fs_error ferr;
    if (run_octo_to(args, out) == 0 && octo_fs_read(out, &b, &ferr) == 0) {
        cJSON *o = cJSON_ParseWithLength((const char *)b.data, b.len);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "role");
        if (cJSON_IsString(r))
            snprintf(role, cap, "%s", r->valuestring);
        cJSON_Delete(o);
    }
    octo_buf_deinit(&b);
}

/* First run: the orchestrator's and the providers' accounts register their roles on the chain
 * (`octo tx register`, staking the design's amounts), so that tasks are escrowed and settled
 * there. A registration that was not seen included (the node refuses connections past its
 * per-address rate, and `tx --wait` polls with a connection each time) is looked up before it
 * is tried again a second later (it may have landed meanwhile). */
static int register_roles(struct devnet *d)
{
    char v0[DEVNET_DIR_MAX + 16], node[192], log[DEVNET_DIR_MAX + 64], have[32];
    snprintf(v0, sizeof(v0), "%s/net/v0", d->dir);
    snprintf(log, sizeof(log), "%s/logs/setup.log", d->dir);
    if (node_addr(v0, d->port + 10, node, sizeof(node)) != 0)
        return -1;
    for (size_t i = d->validators; i < d->n && !g_stop; i++) {
        const char *role = i == d->validators ? "orchestrator" : "compute";
        bool done = false;
        for (int attempt = 0; attempt < 6 && !done && !g_stop; attempt++) {
            if (attempt > 0)
                sleep(1); /* the node limits new connections per address and second */
            const char *args[] = {"tx", "register", role,        "--home", d->p[i].home, "--node",
                                  node, "--wait",   "--timeout", "30",     NULL};
            done = run_octo(args, log) == 0;
            if (!done) {
                chain_role(d, d->p[i].home, node, have, sizeof(have));
                done = strcmp(have, role) == 0;
            }
        }
        if (!done && !g_stop)
            return octo_cli_fail(d->cli, OCTO_EXIT_FAIL,
                                 "devnet: %s could not register as %s on the chain (see %s)",
                                 d->p[i].name, role, log);
    }
    return 0;
}

/* The payer's home: the account after the providers'. */
static void payer_home(const struct devnet *d, char *out, size_t cap)
{
    snprintf(out, cap, "%s/net/accounts/a%llu", d->dir, (unsigned long long)(d->providers + 1));
}

/* Regions the devnet's providers claim, in turn (geo routing has something to choose from). */
static const char *const devnet_regions[] = {"DE/EU", "US/NA", "JP/AS", "BR/SA"};

static int launch(struct devnet *d)
{
    char http[32], olisten[64], boot[160], model[DEVNET_DIR_MAX + 32];
    snprintf(http, sizeof(http), "127.0.0.1:%llu", (unsigned long long)d->port);
    snprintf(olisten, sizeof(olisten), "/ip4/127.0.0.1/tcp/%llu",
             (unsigned long long)(d->port + 1));
    snprintf(model, sizeof(model), "%s/models/tiny.gguf", d->dir);
    for (uint64_t i = 0; i < d->validators; i++) {
        struct proc *p = &d->p[d->n++];
        snprintf(p->name, sizeof(p->name), "v%u", (unsigned)i);
        snprintf(p->home, sizeof(p->home), "%s/net/v%llu", d->dir, (unsigned long long)i);
        char vhttp[32];
        snprintf(vhttp, sizeof(vhttp), "127.0.0.1:%llu",
                 (unsigned long long)(d->port + VAL_HTTP_OFF + i));
        const char *extra[] = {"--http", vhttp, NULL};
        if (start(d, p, extra) != 0)
            return -1;
    }
    struct proc *o = &d->p[d->n++];
    snprintf(o->name, sizeof(o->name), "orchestrator");
    snprintf(o->home, sizeof(o->home), "%s/net/accounts/a0", d->dir);
    char payer[DEVNET_DIR_MAX + 64];
    payer_home(d, payer, sizeof(payer));
    const char *oextra[] = {"--role", "orchestrator", "--http", http, "--listen",
                            olisten,  "--payer-home", payer,    NULL};
    if (start(d, o, oextra) != 0 || node_addr(o->home, d->port + 1, boot, sizeof(boot)) != 0)
        return -1;
    for (uint64_t i = 0; i < d->providers; i++) {
        struct proc *p = &d->p[d->n++];
        snprintf(p->name, sizeof(p->name), "p%u", (unsigned)i);
        snprintf(p->home, sizeof(p->home), "%s/net/accounts/a%llu", d->dir,
                 (unsigned long long)(i + 1));
        char phttp[32];
        snprintf(phttp, sizeof(phttp), "127.0.0.1:%llu",
                 (unsigned long long)(d->port + PROV_HTTP_OFF + i));
        const char *extra[] = {
            "--http",        phttp,         "--role", "provider", "--model",
            model,           "--bootstrap", boot,     "--region", devnet_regions[i % 4],
            "--concurrency", "2",           NULL,     NULL};
        if (octo_args_has(&d->cli->args, "noop-agent"))
            extra[sizeof(extra) / sizeof(extra[0]) - 2] = "--noop-agent";
        if (start(d, p, extra) != 0)
            return -1;
    }
    return 0;
}

static long long metric(const struct devnet *d, const char *name);

/* Every node says it is ready and every provider is in the orchestrator's registry. */
static int wait_ready(struct devnet *d)
{
    for (int t = 0; t < READY_S * 10 && !g_stop; t++) {
        size_t ready = 0;
        for (size_t i = 0; i < d->n; i++)
            ready += file_has(d->p[i].out, "Node is ready");
        if (ready == d->n && metric(d, "\nocto_router_providers ") >= (long long)d->providers)
            return 0;
        reap(d);
        for (size_t i = 0; i < d->n; i++)
            if (d->p[i].exited)
                return octo_cli_fail(d->cli, OCTO_EXIT_FAIL,
                                     "devnet: %s exited while starting (see %s/logs/%s.log)",
                                     d->p[i].name, d->dir, d->p[i].name);
        usleep(100000);
    }
    return g_stop ? OCTO_EXIT_OK /* asked to stop: not a failure */
                  : octo_cli_fail(d->cli, OCTO_EXIT_FAIL,
                                  "devnet: not every node was ready within %d s", READY_S);
}

/* Opens the orchestrator's store (its config says where). */
static int orchestrator_store(struct devnet *d, struct octo_store **s, struct octo_identity *id)
{
    struct proc *o = &d->p[d->validators];
    struct octo_config cfg;
    struct octo_config_error cerr;
    struct octo_home_error herr;
    char db[OCTO_PATH_MAX];
    if (octo_config_init(&cfg, o->home, environ, &cerr) != 0 ||
        (id != NULL && octo_home_load_identity(&cfg, NULL, id, &herr) != 0))
        return -1;
    int rc = octo_config_path(&cfg, cfg.store_path, db, sizeof(db));
    if (rc == 0)
        rc = octo_store_open_sqlite(s, db, NULL);
    if (rc != 0 && id != NULL)
        octo_identity_deinit(id);
    return rc;
}

/* DIR/api-key (0600): the demo key for `octo run`, `octo tasks` and `octo providers` started
 * beside the devnet; removed when it stops. */
static int write_key_file(struct devnet *d, const char *key)
{
    char path[DEVNET_DIR_MAX + 16], line[OCTO_APIKEY_TEXT_LEN + 2];
    snprintf(path, sizeof(path), "%s/api-key", d->dir);
    int n = snprintf(line, sizeof(line), "%s\n", key);
    struct octo_fs_error ferr;
    int rc = octo_fs_write_atomic(path, line, (size_t)n, 0600, false, &ferr);
    sodium_memzero(line, sizeof(line));
    return rc;
}

/* The demo key stops working with the devnet that printed it. */
static void revoke_demo_key(struct devnet *d)
{
    char path[DEVNET_DIR_MAX + 16];
    snprintf(path, sizeof(path), "%s/api-key", d->dir);
    unlink(path);
    struct octo_store *s = NULL;
    if (d->key_id[0] == '\0' || orchestrator_store(d, &s, NULL) != 0)
        return;
    OCTO_IGNORE(octo_apikey_revoke(s, d->key_id));
    octo_store_close(s);
}

/* A demo key bound to the orchestrator's account, in its store. */
static int demo_key(struct devnet *d, char text[OCTO_APIKEY_TEXT_LEN + 1])
{
    struct octo_identity id;
    struct octo_store *s = NULL;
    int rc = orchestrator_store(d, &s, NULL);
    if (rc != 0)
        return rc;
    /* bound to the payer's account: the one whose escrows pay for the key's tasks */
    char payer[DEVNET_DIR_MAX + 64];
    payer_home(d, payer, sizeof(payer));
    struct octo_config cfg;
    struct octo_config_error cerr;
    struct octo_home_error herr;
    if (octo_config_init(&cfg, payer, environ, &cerr) != 0 ||
        octo_home_load_identity(&cfg, NULL, &id, &herr) != 0) {
        octo_store_close(s);
        return -1;
    }
    uint8_t kid[OCTO_APIKEY_ID_HEX / 2], secret[OCTO_APIKEY_SECRET_LEN];
    struct octo_apikey k;
    do {
        randombytes_buf(kid, sizeof(kid));
        randombytes_buf(secret, sizeof(secret));
        octo_apikey_make(kid, secret, id.pub.bytes, 1000 * OCTO_UNIT, 600,
                         (uint64_t)octo_clock_wall(octo_sysclock()) / OCTO_NS_PER_MS, &k, text);
        sodium_memzero(secret, sizeof(secret));
        rc = octo_apikey_insert(s, &k);
    } while (rc == OCTO_EEXIST);
    if (rc == 0)
        memcpy(d->key_id, k.id, sizeof(d->key_id));
    octo_store_close(s);
    octo_identity_deinit(&id);
    return rc;
}

struct body {
    char buf[1 << 20];
    size_t len;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct body *b = ctx;
    size_t k = sz * n, room = sizeof(b->buf) - 1 - b->len;
    memcpy(b->buf + b->len, p, k < room ? k : room);
    b->len += k < room ? k : room;
    b->buf[b->len] = '\0';
    return k;
}

/* A sample of the orchestrator's /metrics ("\nname "), -1 when it does not answer. */
static long long metric(const struct devnet *d, const char *name)
{
    static struct body b;
    b.len = 0;
    b.buf[0] = '\0';
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%llu/metrics", (unsigned long long)d->port);
    CURL *c = curl_easy_init();
    if (c == NULL)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    const char *h = rc == CURLE_OK ? strstr(b.buf, name) : NULL;
    return h != NULL ? strtoll(h + strlen(name), NULL, 10) : -1;
}

static void status_line(struct devnet *d)
{
    size_t v = 0, pr = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->p[i].exited)
            continue;
        if (i < d->validators)
            v++;
        else if (i > d->validators)
            pr++;
    }
    bool orch = !d->p[d->validators].exited;
    fprintf(d->cli->out,
            "height %lld · validators %zu/%llu up · orchestrator %s · providers %zu/%llu up, "
            "%lld registered · tasks %lld done\n",
            metric(d, "\nocto_chain_height "), v, (unsigned long long)d->validators,
            orch ? "up" : "DOWN", pr, (unsigned long long)d->providers,
            metric(d, "\nocto_router_providers "),
            metric(d, "\nocto_gateway_tasks_total{result=\"succeeded\"} "));
    fflush(d->cli->out);
}

static int run_devnet(struct octo_cli *cli)
{
    struct devnet *d = octo_calloc(1, sizeof(*d));
    if (d == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    d->cli = cli;
    ssize_t sl = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
    if (sl <= 0 || (size_t)sl >= sizeof(g_self) - 1) {
        octo_free(d);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "devnet: cannot find the octo binary");
    }
    g_self[sl] = '\0';
    const struct octo_args *a = &cli->args;
    const char *dir = octo_args_get(a, "dir"), *v;
    if (dir != NULL && strlen(dir) >= sizeof(d->dir)) {
        octo_free(d);
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "devnet: --dir: at most %d bytes",
                             DEVNET_DIR_MAX - 1);
    }
    snprintf(d->dir, sizeof(d->dir), "%s", dir != NULL ? dir : "octo-devnet");
    d->validators = 4;
    d->providers = 3;
    d->port = 8080;
    int st = OCTO_EXIT_OK;
    if (((v = octo_args_get(a, "validators")) != NULL &&
         (octo_cli_parse_u64(v, 16, &d->validators) != 0 || d->validators == 0)) ||
        ((v = octo_args_get(a, "providers")) != NULL &&
         octo_cli_parse_u64(v, 16, &d->providers) != 0) ||
        ((v = octo_args_get(a, "port")) != NULL &&
         (octo_cli_parse_u64(v, 65535 - DEVNET_PORTS, &d->port) != 0 || d->port < 1024)) ||
        ((v = octo_args_get(a, "for")) != NULL &&
         (octo_cli_parse_u64(v, 86400 * 365, &d->run_for) != 0 || d->run_for == 0)) ||
        a->positional_count != 0)
        st = octo_cli_fail(cli, OCTO_EXIT_USAGE,
                           "usage: octo devnet [--dir DIR] [--validators 1..16] [--providers "
                           "0..16] [--port 1024..65455] [--for SECONDS]");
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL); /* from here on, a stop request is a flag we act on */
    sigaction(SIGTERM, &sa, NULL);
    if (st == OCTO_EXIT_OK)
        st = prepare(d);
    if (st != OCTO_EXIT_OK || g_stop) {
        octo_free(d);
        return st;
    }
    char key[OCTO_APIKEY_TEXT_LEN + 1];
    if (launch(d) != 0)
        st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "devnet: cannot start the nodes");
    if (st == OCTO_EXIT_OK)
        st = wait_ready(d);
    if (st == OCTO_EXIT_OK && d->first_run && !g_stop) {
        fprintf(cli->out, "registering the orchestrator and the providers on the chain ...\n");
        fflush(cli->out);
        st = register_roles(d);
    }
    if (st == OCTO_EXIT_OK && demo_key(d, key) != 0)
        st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "devnet: cannot make the demo API key");
    if (st == OCTO_EXIT_OK && write_key_file(d, key) != 0)
        st = octo_cli_fail(cli, OCTO_EXIT_FAIL, "devnet: cannot write %s/api-key", d->dir);
    if (st == OCTO_EXIT_OK) {
        fprintf(cli->out,
                "\nCipherOcto devnet is up: %llu validators, 1 orchestrator, %llu providers\n"
                "  gateway   http://127.0.0.1:%llu/v1  (OpenAI-compatible; also /health, "
                "/metrics, /api/v1/status)\n"
                "  API key   %s\n"
                "  try       curl http://127.0.0.1:%llu/v1/chat/completions -H 'Authorization: "
                "Bearer %s' -d '{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\","
                "\"content\":\"hello\"}]}'\n"
                "  or        octo run \"hello\"   (in this directory: the key is in %s/api-key)\n"
                "  logs      %s/logs    stop with Ctrl-C\n\n",
                (unsigned long long)d->validators, (unsigned long long)d->providers,
                (unsigned long long)d->port, key, (unsigned long long)d->port, key, d->dir, d->dir);
        fflush(cli->out);
        sodium_memzero(key, sizeof(key));
        time_t t0 = time(NULL), last = 0;
        while (!g_stop && (d->run_for == 0 || (uint64_t)(time(NULL) - t0) < d->run_for)) {
            reap(d);
            if (up(d) != d->n) {
                for (size_t i = 0; i < d->n; i++)
                    if (d->p[i].exited)
                        fprintf(cli->err, "octo: devnet: %s exited (see %s/logs/%s.log)\n",
                                d->p[i].name, d->dir, d->p[i].name);
                st = OCTO_EXIT_FAIL;
                break;
            }
            if (time(NULL) - last >= STATUS_EVERY_S) {
                last = time(NULL);
                status_line(d);
            }
            usleep(200000);
        }
    }
    fprintf(cli->out, "stopping the devnet ...\n");
    stop_all(d);
    revoke_demo_key(d);
    fprintf(cli->out, "devnet stopped\n");
    octo_free(d);
    return st;
}

const struct octo_cli_cmd octo_cmd_devnet = {
    .name = "devnet",
    .run = run_devnet,
    .flags = devnet_flags,
    .needs_config = false,
    .usage = "devnet [--dir DIR] [--validators N] [--providers N] [--port P] [--for SECONDS]",
    .summary = "run a whole network on this machine: validators, an orchestrator, providers",
};
