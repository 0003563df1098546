/*
 * cli.h — the `octo` command line: a table of subcommands, each a function taking the
 * parsed flags. Exit statuses: 0 success, 1 runtime failure, 2 usage or configuration error
 * (unknown flag, bad value, unreadable or malformed config). Errors are one line on stderr,
 * "octo: <what>: <why>".
 */
#ifndef OCTO_CLI_CLI_H
#define OCTO_CLI_CLI_H

#include "base/assert.h"
#include "base/buf.h"
#include "cli/args.h"
#include "crypto/ident.h"
#include "node/config.h"

#include <stdint.h>
#include <stdio.h>

enum {
    OCTO_EXIT_OK = 0,
    OCTO_EXIT_FAIL = 1,
    OCTO_EXIT_USAGE = 2,
};

struct octo_cli {
    const char *cmd_name; /* "octo init" */
    struct octo_args args;
    struct octo_config cfg;
    char *const *env;
    FILE *out;
    FILE *err;
    FILE *log_file; /* opened from log.file, closed at exit */
};

struct octo_cli_cmd {
    const char *name;
    int (*run)(struct octo_cli *cli);
    const struct octo_flag *flags;
    bool needs_config; /* load config + env + flags before run */
    const char *usage;
    const char *summary;
};

/* Runs the CLI as `octo argv[1..]` with the given environment; returns the exit status. */
int octo_cli_main(int argc, char **argv, char *const *env);

/* Prints "octo: msg" to cli->err and returns status. */
int octo_cli_fail(struct octo_cli *cli, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a flag's unsigned decimal value: digits only (no sign, space or suffix), the whole
 * string, at most max. Returns 0 with *out set, or -1 (NULL, empty, junk, overflow). */
int octo_cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Token amounts: "2.5" (whole tokens, up to six decimals) to base units (-1 if malformed or
 * too large), and back (trailing zeros of the fraction dropped). */
int octo_cli_parse_amount(const char *s, uint64_t *out);
void octo_cli_format_amount(uint64_t v, char *out, size_t size);

/* Loads the passphrase named by --passphrase-file (or OCTO_PASSPHRASE_FILE) into out, a
 * secret buffer; returns 1 if one was loaded, 0 if none was asked for, or an exit status
 * (negated) on failure after printing the error. */
int octo_cli_passphrase(struct octo_cli *cli, struct octo_buf *out);

/* Loads the node identity with the optional passphrase; prints errors. Returns 0 or an exit
 * status. */
int octo_cli_load_identity(struct octo_cli *cli, struct octo_identity *id);

/* Prints a cJSON value on one line to cli->out and deletes it. */
struct cJSON;
int octo_cli_print_json(struct octo_cli *cli, struct cJSON *value);

/* Text forms of a public key: base64 (standard, padded) of the PublicKey protobuf. */
void octo_cli_pubkey_base64(const struct octo_pubkey *pub, char *out, size_t out_size);

extern const struct octo_cli_cmd octo_cmd_init, octo_cmd_id, octo_cmd_keys, octo_cmd_node,
    octo_cmd_ping, octo_cmd_version, octo_cmd_exec, octo_cmd_data, octo_cmd_model, octo_cmd_infer,
    octo_cmd_testnet, octo_cmd_tx, octo_cmd_account, octo_cmd_block, octo_cmd_status,
    octo_cmd_apikey, octo_cmd_devnet, octo_cmd_run, octo_cmd_providers, octo_cmd_tasks,
    octo_cmd_agents;

#endif
