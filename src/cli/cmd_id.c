/*
 * cmd_id.c — `octo id`: the node's peer id (both text forms), public key, role and
 * configured listen addresses with the /p2p/ suffix, as text or JSON.
 */
#include "cli/cli.h"
#include "crypto/peerid.h"
#include "node/home.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <sodium.h>

static const struct octo_flag id_flags[] = {
    {"json", 0, false, false, NULL, "print JSON"},
    {"passphrase-file", 0, true, false, "FILE", "passphrase of an encrypted key"},
    {NULL, 0, false, false, NULL, NULL},
};

#define PUBKEY_B64_MAX 64

#define RUN_FILE_MAX (16u * 1024u)

/* The addresses to show: those the running node bound (from $home/node.run, written by
 * `octo node`, when its pid is alive), else the configured ones. */
struct listen_set {
    struct octo_multiaddr addrs[OCTO_CONFIG_LISTEN_MAX];
    size_t count;
    bool running;
};

static bool load_run_file(const struct octo_cli *cli, struct listen_set *set)
{
    char path[OCTO_PATH_MAX];
    struct octo_buf text;
    if (octo_home_path(&cli->cfg, "node.run", path, sizeof(path)) < 0)
        return false;
    octo_buf_init(&text, RUN_FILE_MAX);
    bool ok = false;
    cJSON *o = NULL;
    if (octo_fs_read(path, &text, NULL) == 0 && text.len > 0)
        o = cJSON_ParseWithLength((const char *)text.data, text.len);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
    const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(o, "addresses");
    if (cJSON_IsNumber(pid) && pid->valuedouble > 1 && pid->valuedouble < 4194304 &&
        kill((pid_t)pid->valuedouble, 0) == 0 && cJSON_IsArray(addrs)) {
        const cJSON *a;
        set->count = 0;
        cJSON_ArrayForEach(a, addrs)
        {
            if (set->count < OCTO_CONFIG_LISTEN_MAX && cJSON_IsString(a) &&
                octo_multiaddr_from_text(a->valuestring, &set->addrs[set->count]) == 0)
                set->count++;
        }
        ok = true;
    }
    cJSON_Delete(o);
    octo_buf_deinit(&text);
    return ok;
}

static void load_listen(const struct octo_cli *cli, struct listen_set *set)
{
    set->running = load_run_file(cli, set);
    if (set->running)
        return;
    set->count = cli->cfg.listen_count;
    for (size_t i = 0; i < set->count; i++)
        set->addrs[i] = cli->cfg.listen[i];
}

/* Address i with /p2p/<id> appended, as text. */
static int listen_text(const struct listen_set *set, size_t i, const struct octo_peerid *pid,
                       char *out, size_t out_size)
{
    struct octo_multiaddr ma = set->addrs[i];
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
    char roles[OCTO_ROLES_TEXT_MAX];
    octo_roles_format(cli->cfg.roles, roles);
    cJSON_AddStringToObject(root, "role", roles);
    struct listen_set set;
    load_listen(cli, &set);
    for (size_t i = 0; i < set.count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (listen_text(&set, i, pid, text, sizeof(text)) > 0)
            cJSON_AddItemToArray(addrs, cJSON_CreateString(text));
    }
    cJSON_AddBoolToObject(root, "running", set.running);
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
    char roles[OCTO_ROLES_TEXT_MAX];
    octo_roles_format(cli->cfg.roles, roles);
    fprintf(cli->out, "peer id     %s\ncid         %s\npublic key  %s\nrole        %s\n", b58, cid,
            pk, roles);
    struct listen_set set;
    load_listen(cli, &set);
    for (size_t i = 0; i < set.count; i++) {
        char text[OCTO_MULTIADDR_MAX_TEXT];
        if (listen_text(&set, i, &pid, text, sizeof(text)) > 0)
            fprintf(cli->out, "%s  %s\n", set.running ? "listening " : "listen    ", text);
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
