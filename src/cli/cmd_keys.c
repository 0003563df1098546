/*
 * cmd_keys.c — `octo keys show | export-public`: inspect the node key and export its public
 * half (the libp2p PublicKey protobuf) as base64, hex or raw bytes, to stdout or a file.
 * The private key is never printed.
 */
#include "base/hex.h"
#include "cli/cli.h"
#include "crypto/keystore.h"
#include "crypto/peerid.h"
#include "node/home.h"

#include <cjson/cJSON.h>
#include <string.h>

static const struct octo_flag keys_flags[] = {
    {"json", 0, false, false, NULL, "print JSON (show)"},
    {"format", 0, true, false, "FMT", "export format: base64 (default), hex or raw"},
    {"out", 'o', true, false, "FILE", "write the export to FILE instead of stdout"},
    {"passphrase-file", 0, true, false, "FILE", "passphrase of an encrypted key"},
    {NULL, 0, false, false, NULL, NULL},
};

static int is_encrypted(struct octo_cli *cli)
{
    char path[OCTO_PATH_MAX];
    if (octo_home_path(&cli->cfg, OCTO_HOME_KEY_FILE, path, sizeof(path)) < 0)
        return 0;
    struct octo_buf file;
    octo_buf_init_secret(&file, OCTO_KEYSTORE_FILE_MAX);
    int enc =
        octo_fs_read(path, &file, NULL) == 0 ? octo_keystore_is_encrypted(file.data, file.len) : 0;
    octo_buf_deinit(&file);
    return enc == 1;
}

static int keys_show(struct octo_cli *cli, const struct octo_identity *id)
{
    struct octo_peerid pid;
    octo_peerid_from_pubkey(&id->pub, &pid);
    char b58[OCTO_PEERID_TEXT_MAX], cid[OCTO_PEERID_TEXT_MAX], pk[64];
    char hex[2 * OCTO_ED25519_PK_LEN + 1];
    OCTO_ASSERT(octo_peerid_to_base58(&pid, b58, sizeof(b58)) > 0);
    OCTO_ASSERT(octo_peerid_to_cid(&pid, cid, sizeof(cid)) > 0);
    OCTO_ASSERT(octo_hex_encode(id->pub.bytes, OCTO_ED25519_PK_LEN, hex, sizeof(hex)) > 0);
    octo_cli_pubkey_base64(&id->pub, pk, sizeof(pk));
    char path[OCTO_PATH_MAX];
    OCTO_ASSERT(octo_home_path(&cli->cfg, OCTO_HOME_KEY_FILE, path, sizeof(path)) == 0);
    const char *enc = is_encrypted(cli) ? "yes (argon2id + xchacha20-poly1305)" : "no";
    if (octo_args_has(&cli->args, "json")) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddStringToObject(o, "type", "ed25519");
        cJSON_AddBoolToObject(o, "encrypted", enc[0] == 'y');
        cJSON_AddStringToObject(o, "id", b58);
        cJSON_AddStringToObject(o, "cid", cid);
        cJSON_AddStringToObject(o, "public_key", pk);
        cJSON_AddStringToObject(o, "public_key_hex", hex);
        return octo_cli_print_json(cli, o);
    }
    fprintf(cli->out,
            "file            %s\ntype            ed25519\nencrypted       %s\npeer id         %s\n"
            "cid             %s\npublic key      %s\npublic key hex  %s\n",
            path, enc, b58, cid, pk, hex);
    return OCTO_EXIT_OK;
}

static int write_export(struct octo_cli *cli, const void *data, size_t len)
{
    const char *out = octo_args_get(&cli->args, "out");
    if (out == NULL) {
        fwrite(data, 1, len, cli->out);
        return OCTO_EXIT_OK;
    }
    struct octo_fs_error ferr;
    if (octo_fs_write_atomic(out, data, len, 0644, false, &ferr) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s", ferr.msg);
    return OCTO_EXIT_OK;
}

static int keys_export(struct octo_cli *cli, const struct octo_identity *id)
{
    const char *fmt = octo_args_get(&cli->args, "format");
    if (fmt == NULL)
        fmt = "base64";
    uint8_t pb[OCTO_PUBKEY_PB_LEN];
    octo_pubkey_encode(&id->pub, pb);
    char text[2 * OCTO_PUBKEY_PB_LEN + 2];
    if (strcmp(fmt, "raw") == 0)
        return write_export(cli, pb, sizeof(pb));
    if (strcmp(fmt, "hex") == 0) {
        OCTO_ASSERT(octo_hex_encode(pb, sizeof(pb), text, sizeof(text)) > 0);
    } else if (strcmp(fmt, "base64") == 0) {
        octo_cli_pubkey_base64(&id->pub, text, sizeof(text));
    } else {
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "flag --format: invalid value '%.32s' (expected base64, hex or raw)",
                             fmt);
    }
    size_t n = strlen(text);
    text[n] = '\n';
    return write_export(cli, text, n + 1);
}

static int run_keys(struct octo_cli *cli)
{
    if (cli->args.positional_count != 1)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "usage: octo keys show|export-public (see 'octo keys --help')");
    const char *sub = cli->args.positional[0];
    bool show = strcmp(sub, "show") == 0;
    if (!show && strcmp(sub, "export-public") != 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "unknown subcommand 'keys %.32s' (expected show or export-public)",
                             sub);
    struct octo_identity id;
    int status = octo_cli_load_identity(cli, &id);
    if (status != OCTO_EXIT_OK)
        return status;
    status = show ? keys_show(cli, &id) : keys_export(cli, &id);
    octo_identity_deinit(&id);
    return status;
}

const struct octo_cli_cmd octo_cmd_keys = {
    .name = "keys",
    .run = run_keys,
    .flags = keys_flags,
    .needs_config = true,
    .usage = "keys show [--json] | keys export-public [--format base64|hex|raw] [--out FILE]",
    .summary = "show the node key or export its public key",
};
