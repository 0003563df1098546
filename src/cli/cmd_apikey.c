/*
 * cmd_apikey.c — `octo apikey`: the gateway's API keys in the home's store.
 *
 *   octo apikey create --account ADDR --budget OCTO [--rate N] [--json]
 *   octo apikey list [--json]
 *   octo apikey revoke ID
 *
 * create draws the key's id and secret (libsodium's generator), stores the SHA-256 of the
 * secret with the account it is bound to, its budget (OCTO, up to six decimals) and rate
 * (requests per minute, default 60), and prints the key once: it cannot be shown again. A
 * running node reads the same store, so a key works at once. Exit statuses: 0 done, 1 failed
 * (one line "octo: apikey: ..."), 2 usage.
 */
#include "base/hex.h"
#include "cli/cli.h"
#include "node/home.h"
#include "node/sysclock.h"
#include "store/apikeys.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <string.h>

static const struct octo_flag apikey_flags[] = {
    {"account", 0, true, false, "ADDR", "create: the ledger account the key spends for"},
    {"budget", 0, true, false, "OCTO", "create: what the key may spend, in OCTO"},
    {"rate", 0, true, false, "N", "create: requests per minute (default 60)"},
    {"json", 0, false, false, NULL, "print JSON"},
    {NULL, 0, false, false, NULL, NULL},
};

static int open_store(struct octo_cli *cli, struct octo_store **s)
{
    char path[OCTO_PATH_MAX];
    int rc = octo_config_path(&cli->cfg, cli->cfg.store_path, path, sizeof(path));
    if (rc == 0)
        rc = octo_store_open_sqlite(s, path, NULL);
    if (rc == 0)
        rc = octo_store_migrate_node(*s);
    if (rc != 0) {
        if (*s != NULL)
            octo_store_close(*s);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "apikey: %s: cannot open the store: %s", path,
                             octo_strerror(rc));
    }
    return OCTO_EXIT_OK;
}

static cJSON *key_json(const struct octo_apikey *k)
{
    cJSON *o = cJSON_CreateObject();
    char acct[65], amount[40];
    OCTO_ASSERT(octo_hex_encode(k->account, 32, acct, sizeof(acct)) == 64);
    cJSON_AddStringToObject(o, "id", k->id);
    cJSON_AddStringToObject(o, "account", acct);
    octo_cli_format_amount(k->budget, amount, sizeof(amount));
    cJSON_AddStringToObject(o, "budget", amount);
    octo_cli_format_amount(k->spent, amount, sizeof(amount));
    cJSON_AddStringToObject(o, "spent", amount);
    cJSON_AddNumberToObject(o, "rate_per_min", k->rate_per_min);
    cJSON_AddBoolToObject(o, "revoked", k->revoked);
    return o;
}

static int create(struct octo_cli *cli, struct octo_store *s)
{
    const struct octo_args *a = &cli->args;
    const char *acct = octo_args_get(a, "account"), *budget = octo_args_get(a, "budget"),
               *rate = octo_args_get(a, "rate");
    uint8_t account[32];
    uint64_t amount, per_min = 60;
    if (acct == NULL || strlen(acct) != 64 || octo_hex_decode(acct, 64, account, 32) != 32)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "apikey create: --account: 64 hex digits");
    if (budget == NULL || octo_cli_parse_amount(budget, &amount) != 0 ||
        amount > OCTO_APIKEY_U64_MAX)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "apikey create: --budget: an OCTO amount");
    if (rate != NULL &&
        (octo_cli_parse_u64(rate, OCTO_APIKEY_RATE_MAX, &per_min) != 0 || per_min == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "apikey create: --rate: 1..%u per minute",
                             OCTO_APIKEY_RATE_MAX);
    uint8_t id[OCTO_APIKEY_ID_HEX / 2], secret[OCTO_APIKEY_SECRET_LEN];
    struct octo_apikey k;
    char text[OCTO_APIKEY_TEXT_LEN + 1];
    int rc;
    do { /* a taken id (one in 2^48) draws again */
        randombytes_buf(id, sizeof(id));
        randombytes_buf(secret, sizeof(secret));
        octo_apikey_make(id, secret, account, amount, (uint32_t)per_min,
                         (uint64_t)octo_clock_wall(octo_sysclock()) / OCTO_NS_PER_MS, &k, text);
        sodium_memzero(secret, sizeof(secret));
        rc = octo_apikey_insert(s, &k);
    } while (rc == OCTO_EEXIST);
    if (rc != 0) {
        sodium_memzero(text, sizeof(text));
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "apikey: cannot store the key: %s",
                             octo_strerror(rc));
    }
    if (octo_args_has(a, "json")) {
        cJSON *o = key_json(&k);
        cJSON_AddStringToObject(o, "key", text);
        octo_cli_print_json(cli, o);
    } else {
        fprintf(cli->out, "%s\n(shown once: the node keeps only its hash)\n", text);
    }
    sodium_memzero(text, sizeof(text));
    return OCTO_EXIT_OK;
}

static int print_key(void *ctx, const struct octo_apikey *k)
{
    cJSON *arr = ctx;
    cJSON_AddItemToArray(arr, key_json(k));
    return 0;
}

static int list(struct octo_cli *cli, struct octo_store *s)
{
    cJSON *arr = cJSON_CreateArray();
    int rc = octo_apikey_list(s, print_key, arr);
    if (rc != 0) {
        cJSON_Delete(arr);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "apikey: %s", octo_strerror(rc));
    }
    if (octo_args_has(&cli->args, "json")) {
        octo_cli_print_json(cli, arr);
        return OCTO_EXIT_OK;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, arr)
    {
        fprintf(cli->out, "%s  account %.16s…  spent %s of %s OCTO  %d/min%s\n",
                cJSON_GetObjectItem(k, "id")->valuestring,
                cJSON_GetObjectItem(k, "account")->valuestring,
                cJSON_GetObjectItem(k, "spent")->valuestring,
                cJSON_GetObjectItem(k, "budget")->valuestring,
                cJSON_GetObjectItem(k, "rate_per_min")->valueint,
                cJSON_IsTrue(cJSON_GetObjectItem(k, "revoked")) ? "  revoked" : "");
    }
    cJSON_Delete(arr);
    return OCTO_EXIT_OK;
}

static int run_apikey(struct octo_cli *cli)
{
    const struct octo_args *a = &cli->args;
    const char *what = a->positional_count > 0 ? a->positional[0] : "";
    bool is_create = strcmp(what, "create") == 0 && a->positional_count == 1,
         is_list = strcmp(what, "list") == 0 && a->positional_count == 1,
         is_revoke = strcmp(what, "revoke") == 0 && a->positional_count == 2;
    if (!is_create && !is_list && !is_revoke)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "usage: octo apikey create --account ADDR --budget OCTO [--rate N]"
                             " | list | revoke ID");
    struct octo_store *s = NULL;
    int st = open_store(cli, &s);
    if (st != OCTO_EXIT_OK)
        return st;
    if (is_create) {
        st = create(cli, s);
    } else if (is_list) {
        st = list(cli, s);
    } else {
        int rc = octo_apikey_revoke(s, a->positional[1]);
        st = rc == 0 ? OCTO_EXIT_OK
                     : octo_cli_fail(cli, OCTO_EXIT_FAIL, "apikey revoke: %s: %s", a->positional[1],
                                     rc == OCTO_ENOTFOUND ? "no such key" : octo_strerror(rc));
    }
    octo_store_close(s);
    return st;
}

const struct octo_cli_cmd octo_cmd_apikey = {
    .name = "apikey",
    .run = run_apikey,
    .flags = apikey_flags,
    .needs_config = true,
    .usage = "apikey create --account ADDR --budget OCTO [--rate N] | list | revoke ID [--json]",
    .summary = "create, list and revoke the gateway's API keys (in the home's store)",
};
