/*
 * cli.c — dispatch for the `octo` binary.
 *
 * `octo [GLOBAL FLAGS] COMMAND [FLAGS]`: global flags (--home, --log-level, --log-format,
 * --help) are accepted before or after the command. For commands that need it, the
 * effective configuration is built here, in precedence order: defaults, config file,
 * OCTO_* environment, flags. Commands then only read cli->cfg.
 */
#include "cli/cli.h"

#include "base/alloc.h"
#include "base/err.h"
#include "chain/tx.h"
#include "crypto/ident.h"
#include "node/home.h"
#include "node/sysclock.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct octo_flag common_flags[] = {
    {"home", 0, true, false, "DIR", "node home (default $OCTO_HOME, else ~/.octo)"},
    {"log-level", 0, true, false, "LEVEL", "trace, debug, info, warn, error or off"},
    {"log-format", 0, true, false, "FORMAT", "plain or json"},
    {"help", 'h', false, false, NULL, "show help for the command"},
    {NULL, 0, false, false, NULL, NULL},
};

static const struct octo_cli_cmd *const commands[] = {
    &octo_cmd_init,    &octo_cmd_id,     &octo_cmd_keys,    &octo_cmd_node,      &octo_cmd_ping,
    &octo_cmd_version, &octo_cmd_exec,   &octo_cmd_data,    &octo_cmd_model,     &octo_cmd_infer,
    &octo_cmd_testnet, &octo_cmd_tx,     &octo_cmd_account, &octo_cmd_block,     &octo_cmd_status,
    &octo_cmd_apikey,  &octo_cmd_devnet, &octo_cmd_run,     &octo_cmd_providers, &octo_cmd_tasks,
    &octo_cmd_agents,
};

int octo_cli_fail(struct octo_cli *cli, int status, const char *fmt, ...)
{
    va_list ap;
    fputs("octo: ", cli->err);
    va_start(ap, fmt);
    vfprintf(cli->err, fmt, ap);
    va_end(ap);
    fputc('\n', cli->err);
    return status;
}

static void print_usage(FILE *out)
{
    fputs("usage: octo [--home DIR] COMMAND [FLAGS]\n\n"
          "octo is the CipherOcto node and its client.\n\ncommands:\n",
          out);
    for (size_t i = 0; i < OCTO_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\nglobal flags:\n", out);
    octo_args_print_help(common_flags, out);
    fputs("\nRun 'octo COMMAND --help' for the flags of a command.\n", out);
}

static void print_cmd_help(const struct octo_cli_cmd *c, FILE *out)
{
    fprintf(out, "usage: octo %s\n\n%s\n\nflags:\n", c->usage, c->summary);
    octo_args_print_help(c->flags, out);
    octo_args_print_help(common_flags, out);
}

/* Flags that map onto config keys; applied after file and environment. */
static const struct {
    const char *flag;
    enum octo_config_key key;
} config_flags[] = {
    {"role", OCTO_CFG_ROLE},
    {"listen", OCTO_CFG_LISTEN},
    {"log-level", OCTO_CFG_LOG_LEVEL},
    {"log-format", OCTO_CFG_LOG_FORMAT},
};

static int load_config(struct octo_cli *cli)
{
    struct octo_config_error cerr;
    if (octo_config_load(&cli->cfg, octo_args_get(&cli->args, "home"), cli->env, &cerr) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s", cerr.msg);
    for (size_t i = 0; i < cli->args.count; i++) {
        const struct octo_arg *a = &cli->args.items[i];
        for (size_t k = 0; k < OCTO_ARRAY_LEN(config_flags); k++) {
            if (strcmp(a->flag->name, config_flags[k].flag) != 0)
                continue;
            char what[64];
            snprintf(what, sizeof(what), "flag --%s", a->flag->name);
            if (octo_config_set(&cli->cfg, config_flags[k].key, a->value, OCTO_SRC_FLAG, what,
                                &cerr) < 0)
                return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s", cerr.msg);
        }
    }
    if (cli->cfg.log_file[0] != '\0') {
        char path[OCTO_PATH_MAX];
        if (octo_config_path(&cli->cfg, cli->cfg.log_file, path, sizeof(path)) < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "log.file: path too long");
        cli->log_file = fopen(path, "ae");
        if (cli->log_file == NULL)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: cannot open log file: %s", path,
                                 strerror(errno));
    }
    struct octo_log_config log = {
        .level = cli->cfg.log_level,
        .format = cli->cfg.log_format,
        .sink = cli->log_file != NULL ? cli->log_file : cli->err,
        .clock = octo_sysclock(),
    };
    octo_log_configure(&log);
    return OCTO_EXIT_OK;
}

static const struct octo_cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < OCTO_ARRAY_LEN(commands); i++) {
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    return NULL;
}

/* Splits argv into global flags before the command, the command, and the rest. */
static int find_command_index(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-')
            return i;
        if (strchr(a, '=') == NULL && (strcmp(a, "--home") == 0 || strcmp(a, "--log-level") == 0 ||
                                       strcmp(a, "--log-format") == 0))
            i++; /* skip the value */
    }
    return -1;
}

static int run_command(struct octo_cli *cli, const struct octo_cli_cmd *c, int argc, char **argv)
{
    char err[512];
    char name[64];
    snprintf(name, sizeof(name), "octo %s", c->name);
    cli->cmd_name = c->name;
    if (octo_args_parse(&cli->args, name, common_flags, c->flags, argc, argv, err, sizeof(err)) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s", err);
    if (octo_args_has(&cli->args, "help")) {
        print_cmd_help(c, cli->out);
        return OCTO_EXIT_OK;
    }
    if (octo_crypto_init() < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "cannot initialise libsodium");
    if (c->needs_config) {
        int status = load_config(cli);
        if (status != OCTO_EXIT_OK)
            return status;
    }
    return c->run(cli);
}

int octo_cli_main(int argc, char **argv, char *const *env)
{
    struct octo_cli cli = {.env = env, .out = stdout, .err = stderr};
    /* a peer closing its socket must be an error on that connection, not the end of us */
    signal(SIGPIPE, SIG_IGN);
    cJSON_Hooks hooks = {.malloc_fn = octo_malloc, .free_fn = octo_free};
    cJSON_InitHooks(&hooks);
    int ci = find_command_index(argc, argv);
    if (ci < 0) {
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                print_usage(stdout);
                return OCTO_EXIT_OK;
            }
        }
        print_usage(stderr);
        return OCTO_EXIT_USAGE;
    }
    if (strcmp(argv[ci], "help") == 0) {
        const struct octo_cli_cmd *c = ci + 1 < argc ? find_command(argv[ci + 1]) : NULL;
        if (c != NULL)
            print_cmd_help(c, stdout);
        else
            print_usage(stdout);
        return OCTO_EXIT_OK;
    }
    const struct octo_cli_cmd *c = find_command(argv[ci]);
    if (c == NULL)
        return octo_cli_fail(&cli, OCTO_EXIT_USAGE, "unknown command '%.64s' (see 'octo --help')",
                             argv[ci]);
    /* Reassemble: global flags before the command, then the command's own arguments. */
    char *rest[OCTO_ARGS_MAX * 2];
    int n = 0;
    for (int i = 1; i < argc && (size_t)n < OCTO_ARRAY_LEN(rest); i++) {
        if (i != ci)
            rest[n++] = argv[i];
    }
    if ((size_t)n >= OCTO_ARRAY_LEN(rest))
        return octo_cli_fail(&cli, OCTO_EXIT_USAGE, "too many arguments");
    int status = run_command(&cli, c, n, rest);
    if (cli.log_file != NULL) {
        struct octo_log_config off = {.level = OCTO_LOG_OFF};
        octo_log_configure(&off);
        fclose(cli.log_file);
    }
    return status;
}

int octo_cli_passphrase(struct octo_cli *cli, struct octo_buf *out)
{
    const char *path = octo_args_get(&cli->args, "passphrase-file");
    if (path == NULL) {
        for (char *const *e = cli->env; e != NULL && *e != NULL; e++) {
            if (strncmp(*e, "OCTO_PASSPHRASE_FILE=", 21) == 0)
                path = *e + 21;
        }
    }
    if (path == NULL || *path == '\0')
        return 0;
    struct octo_home_error herr;
    if (octo_home_read_passphrase(path, out, &herr) < 0)
        return -octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s", herr.msg);
    return 1;
}

int octo_cli_load_identity(struct octo_cli *cli, struct octo_identity *id)
{
    struct octo_buf pass;
    octo_buf_init_secret(&pass, OCTO_PASSPHRASE_MAX + 2);
    int have = octo_cli_passphrase(cli, &pass);
    if (have < 0) {
        octo_buf_deinit(&pass);
        return -have;
    }
    struct octo_home_error herr;
    int rc = octo_home_load_identity(&cli->cfg, have ? (const char *)pass.data : NULL, id, &herr);
    octo_buf_deinit(&pass);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", herr.msg);
    return OCTO_EXIT_OK;
}

void octo_cli_pubkey_base64(const struct octo_pubkey *pub, char *out, size_t out_size)
{
    uint8_t pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(pub, pb);
    OCTO_ASSERT(out_size >= sodium_base64_ENCODED_LEN(sizeof(pb), sodium_base64_VARIANT_ORIGINAL));
    sodium_bin2base64(out, out_size, pb, sizeof(pb), sodium_base64_VARIANT_ORIGINAL);
}

int octo_cli_print_json(struct octo_cli *cli, struct cJSON *value)
{
    char *s = cJSON_PrintUnformatted(value);
    cJSON_Delete(value);
    if (s == NULL)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    fprintf(cli->out, "%s\n", s);
    octo_free(s);
    return OCTO_EXIT_OK;
}

int octo_cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* ---- token amounts ---- */

/* "2.5" (tokens, up to 6 decimals) -> base units. */
int octo_cli_parse_amount(const char *s, uint64_t *out)
{
    uint64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > (UINT64_MAX / OCTO_UNIT - 9) / 10)
            return -1;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
            if (fdigits == 6)
                return -1;
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (fdigits == 0)
            return -1;
    }
    if (*p != '\0' || digits == 0)
        return -1;
    for (int i = fdigits; i < 6; i++)
        frac *= 10;
    if (whole > (UINT64_MAX - frac) / OCTO_UNIT)
        return -1;
    *out = whole * OCTO_UNIT + frac;
    return 0;
}

void octo_cli_format_amount(uint64_t v, char *out, size_t size)
{
    uint64_t frac = v % OCTO_UNIT;
    if (frac == 0) {
        snprintf(out, size, "%llu", (unsigned long long)(v / OCTO_UNIT));
        return;
    }
    char f[8];
    snprintf(f, sizeof(f), "%06llu", (unsigned long long)frac);
    for (int i = 5; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
    snprintf(out, size, "%llu.%s", (unsigned long long)(v / OCTO_UNIT), f);
}
