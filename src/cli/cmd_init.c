/*
 * cmd_init.c — `octo init`: create or complete the node home (see node/home.h). Idempotent:
 * a second run keeps the key and config and only reports the identity. `--force` replaces
 * both; `--seed HEX` makes the key deterministic (tests and devnets only: anyone who knows
 * the seed has the key).
 */
#include "base/hex.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "node/home.h"

#include <string.h>

static const struct octo_flag init_flags[] = {
    {"role", 0, true, false, "ROLE", "validator, provider, orchestrator or observer"},
    {"listen", 0, true, true, "MULTIADDR", "listen address (repeatable)"},
    {"force", 0, false, false, NULL, "replace an existing key and config"},
    {"passphrase-file", 0, true, false, "FILE", "encrypt the key with the passphrase in FILE"},
    {"seed", 0, true, false, "HEX", "derive the key from a 32-byte seed (tests, devnets)"},
    {NULL, 0, false, false, NULL, NULL},
};

static int parse_seed(struct octo_cli *cli, uint8_t seed[OCTO_ED25519_SEED_LEN])
{
    const char *hex = octo_args_get(&cli->args, "seed");
    if (strlen(hex) != 2 * OCTO_ED25519_SEED_LEN ||
        octo_hex_decode(hex, strlen(hex), seed, OCTO_ED25519_SEED_LEN) != OCTO_ED25519_SEED_LEN)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "flag --seed: expected %d hex digits",
                             2 * OCTO_ED25519_SEED_LEN);
    return OCTO_EXIT_OK;
}

static int run_init(struct octo_cli *cli)
{
    uint8_t seed[OCTO_ED25519_SEED_LEN];
    struct octo_home_init_options opts = {.force = octo_args_has(&cli->args, "force")};
    if (octo_args_has(&cli->args, "seed")) {
        int status = parse_seed(cli, seed);
        if (status != OCTO_EXIT_OK)
            return status;
        opts.seed = seed;
    }
    struct octo_buf pass;
    octo_buf_init_secret(&pass, OCTO_PASSPHRASE_MAX + 2);
    int have = octo_cli_passphrase(cli, &pass);
    if (have < 0) {
        octo_buf_deinit(&pass);
        octo_wipe(seed, sizeof(seed));
        return -have;
    }
    opts.passphrase = have ? (const char *)pass.data : NULL;
    struct octo_home_init_result res;
    struct octo_home_error herr;
    int rc = octo_home_init(&cli->cfg, &opts, &res, &herr);
    octo_buf_deinit(&pass);
    octo_wipe(seed, sizeof(seed));
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", herr.msg);
    char id[OCTO_PEERID_TEXT_MAX];
    OCTO_ASSERT(octo_peerid_to_base58(&res.peer_id, id, sizeof(id)) > 0);
    fprintf(cli->out, "%s octo home at %s\n",
            res.key_created || res.config_created ? "initialized" : "kept existing", cli->cfg.home);
    if (!res.key_created)
        fprintf(cli->out, "existing node key kept (use --force to replace it)\n");
    if (!res.config_created &&
        (octo_args_has(&cli->args, "role") || octo_args_has(&cli->args, "listen")))
        fprintf(cli->out, "existing config.ini kept: --role/--listen were not written "
                          "(edit it or use --force)\n");
    fprintf(cli->out, "peer identity: %s\n", id);
    return OCTO_EXIT_OK;
}

const struct octo_cli_cmd octo_cmd_init = {
    .name = "init",
    .run = run_init,
    .flags = init_flags,
    .needs_config = true,
    .usage = "init [--home DIR] [--role ROLE] [--listen MULTIADDR]... [--force] "
             "[--passphrase-file FILE]",
    .summary = "create the node home: config, node key, data directory",
};
