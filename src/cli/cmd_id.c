/*
 * cmd_id.c — `octo id`: the node's peer id (both text forms), public key, role and
 * configured listen addresses with the /p2p/ suffix, as text or JSON.
 */
#include "cli/cli.h"
#include "crypto/peerid.h"

#include <cjson/cJSON.h>
#include <sodium.h>

static const struct octo_flag id_flags[] = {
    {"json", 0, false, false, NULL, "print JSON"},
    {"passphrase-file", 0, true, false, "FILE", "passphrase of an encrypted key"},
    {NULL, 0, false, false, NULL, NULL},
};

#define PUBKEY_B64_MAX 64

/* Listen address i with /p2p/<id> appended, as text. */
static int listen_text(const struct octo_config *cfg, size_t i, const struct octo_peerid *pid,
                       char *out, size_t out_size)
{
    struct octo_multiaddr ma = cfg->listen[i];
    int rc = octo_multiaddr_push(&ma, OCTO_MA_P2P, pid->bytes, pid->len);
    if (rc < 0)
        return rc;
    return octo_multiaddr_to_text(&ma, out, out_size);
}

static int print_json(struct octo_cli *cli, const char *b58, const char *cid, const char *pk,
                      const struct octo_peerid *pid)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *addrs = cJSON_CreateArray();
    if (root == NULL || addrs == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(addrs);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    cJSON_AddStringToObject(root, "id", b58);
    cJSON_AddStringToObject(root, "cid", cid);
    cJSON_AddStringToObject(root, "public_key", pk);
    cJSON_AddStringToObject(root, "role", octo_role_name(cli->cfg.role));
    for (size_t i = 0; i < cli->cfg.listen_count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (listen_text(&cli->cfg, i, pid, text, sizeof(text)) > 0)
            cJSON_AddItemToArray(addrs, cJSON_CreateString(text));
    }
    cJSON_AddItemToObject(root, "addresses", addrs);
    return octo_cli_print_json(cli, root);
}

static int run_id(struct octo_cli *cli)
{
    struct octo_identity id;
    int status = octo_cli_load_identity(cli, &id);
    if (status != OCTO_EXIT_OK)
        return status;
    struct octo_peerid pid;
    octo_peerid_from_pubkey(&id.pub, &pid);
    char b58[OCTO_PEERID_TEXT_MAX], cid[OCTO_PEERID_TEXT_MAX], pk[PUBKEY_B64_MAX];
    OCTO_ASSERT(octo_peerid_to_base58(&pid, b58, sizeof(b58)) > 0);
    OCTO_ASSERT(octo_peerid_to_cid(&pid, cid, sizeof(cid)) > 0);
    octo_cli_pubkey_base64(&id.pub, pk, sizeof(pk));
    octo_identity_deinit(&id);
    if (octo_args_has(&cli->args, "json"))
        return print_json(cli, b58, cid, pk, &pid);
    fprintf(cli->out, "peer id     %s\ncid         %s\npublic key  %s\nrole        %s\n", b58, cid,
            pk, octo_role_name(cli->cfg.role));
    for (size_t i = 0; i < cli->cfg.listen_count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (listen_text(&cli->cfg, i, &pid, text, sizeof(text)) > 0)
            fprintf(cli->out, "listen      %s\n", text);
    }
    return OCTO_EXIT_OK;
}

const struct octo_cli_cmd octo_cmd_id = {
    .name = "id",
    .run = run_id,
    .flags = id_flags,
    .needs_config = true,
    .usage = "id [--home DIR] [--json] [--passphrase-file FILE]",
    .summary = "show the node's peer id, public key and listen addresses",
};
