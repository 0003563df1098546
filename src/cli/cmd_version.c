/*
 * cmd_version.c — `octo version`: the program version and the versions of the libraries it
 * runs on (as linked at run time, which is what matters for bug reports).
 */
#include "cli/cli.h"
#include "octo/octo.h"

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>
#include <sqlite3.h>

static const struct octo_flag version_flags[] = {
    {"json", 0, false, false, NULL, "print JSON"},
    {NULL, 0, false, false, NULL, NULL},
};

static int run_version(struct octo_cli *cli)
{
    if (octo_args_has(&cli->args, "json")) {
        fprintf(cli->out,
                "{\"version\":\"%s\",\"libsodium\":\"%s\",\"sqlite\":\"%s\","
                "\"protobuf_c\":\"%s\",\"cjson\":\"%s\"}\n",
                OCTO_VERSION_STRING, sodium_version_string(), sqlite3_libversion(),
                protobuf_c_version(), cJSON_Version());
        return OCTO_EXIT_OK;
    }
    fprintf(cli->out, "octo %s\nlibsodium %s, sqlite %s, protobuf-c %s, cjson %s\n",
            OCTO_VERSION_STRING, sodium_version_string(), sqlite3_libversion(),
            protobuf_c_version(), cJSON_Version());
    return OCTO_EXIT_OK;
}

const struct octo_cli_cmd octo_cmd_version = {
    .name = "version",
    .run = run_version,
    .flags = version_flags,
    .needs_config = false,
    .usage = "version [--json]",
    .summary = "print the version of octo and of its libraries",
};
