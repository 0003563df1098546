/*
 * cmd_data.c — `octo data`: the operator's view of the Data Manager's blob store
 * (exec/blob.h) in the node home's data/blobs, or in --dir.
 *
 *   octo data put [--class public|shared|confidential|private] [--ref] FILE|-   prints the CID
 *   octo data get CID [-o FILE] [--allow confidential|private|all]...          the content
 *   octo data ls [--json]                                                      CID, class, size
 *   octo data rm CID [--class C] [--force]                 refuses a referenced blob
 *   octo data ref|unref CID [--class C]                    reference counts (kept by gc)
 *   octo data gc [--min-age SECONDS]                       removes unreferenced blobs
 *
 * get streams the content as it is verified; a failure (corruption, truncation, wrong key) is
 * reported at the end with exit status 1, and with -o the file is only created on success
 * (written to a temp name, renamed). PRIVATE and CONFIDENTIAL blobs need --allow.
 */
#include "cli/cli.h"
#include "exec/blob.h"
#include "node/home.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct octo_flag data_flags[] = {
    {"dir", 0, true, false, "DIR", "blob store directory (default HOME/data/blobs)"},
    {"class", 0, true, false, "CLASS", "public (default for put), shared, confidential, private"},
    {"allow", 0, true, true, "CLASS", "get: also read confidential, private (or all) blobs"},
    {"output", 'o', true, false, "FILE", "get: write the content to FILE"},
    {"ref", 0, false, false, NULL, "put: add a reference (kept by gc)"},
    {"force", 0, false, false, NULL, "rm: remove even a referenced blob"},
    {"min-age", 0, true, false, "SECONDS", "gc: keep unreferenced blobs younger than this"},
    {"size-max", 0, true, false, "BYTES", "largest blob accepted (default 1 GiB)"},
    {"quota", 0, true, false, "BYTES", "put: bytes the store may use on disk (default none)"},
    {"json", 0, false, false, NULL, "ls: print JSON"},
    {NULL, 0, false, false, NULL, NULL},
};

#define IO_CHUNK (64u * 1024u)

/* Opens the blob store in --dir (default: the node home's data/blobs) with the --size-max and
 * --quota limits; OCTO_EXIT_OK, or an exit status after printing the error. */
static int open_store(struct octo_cli *cli, struct octo_blob_store *s)
{
    struct octo_blob_options o = {0};
    const char *v = octo_args_get(&cli->args, "size-max");
    if (v != NULL &&
        (octo_cli_parse_u64(v, OCTO_BLOB_SIZE_MAX, &o.size_max) < 0 || o.size_max == 0))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "--size-max: expected 1..%llu, got '%.32s'",
                             (unsigned long long)OCTO_BLOB_SIZE_MAX, v);
    v = octo_args_get(&cli->args, "quota");
    if (v != NULL && octo_cli_parse_u64(v, UINT64_MAX, &o.quota) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "--quota: expected a byte count, got '%.32s'",
                             v);
    char path[OCTO_PATH_MAX];
    const char *dir = octo_args_get(&cli->args, "dir");
    if (dir == NULL) {
        char data[OCTO_PATH_MAX];
        struct stat st;
        if (octo_home_path(&cli->cfg, OCTO_HOME_DATA_DIR, data, sizeof(data)) < 0 ||
            octo_home_path(&cli->cfg, OCTO_HOME_DATA_DIR "/blobs", path, sizeof(path)) < 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE, "%s: path too long", cli->cfg.home);
        if (stat(data, &st) != 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: no node home here (run 'octo init')",
                                 cli->cfg.home);
        dir = path;
    }
    int rc = octo_blob_init(s, dir, &o);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: cannot open the blob store: %s", dir,
                             octo_strerror(rc));
    return OCTO_EXIT_OK;
}

static int parse_cid(struct octo_cli *cli, const char *text, struct octo_blob_cid *cid)
{
    int rc = octo_blob_cid_parse(text, strlen(text), cid);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "'%.80s' is not a blob CID (CIDv1 raw sha2-256"
                             ", base32 'b...'): %s",
                             text, octo_strerror(rc));
    return OCTO_EXIT_OK;
}

/* --class, or def when absent; -1 (after printing) on a bad name. */
static int get_class(struct octo_cli *cli, int def)
{
    const char *v = octo_args_get(&cli->args, "class");
    enum octo_blob_class c;
    if (v == NULL)
        return def;
    if (octo_blob_class_parse(v, &c) < 0) {
        octo_cli_fail(cli, OCTO_EXIT_USAGE,
                      "--class: expected public, shared, confidential or private, got '%.32s'", v);
        return -1;
    }
    return (int)c;
}

/* ---- put ---- */

static int put_stream(struct octo_cli *cli, struct octo_blob_put *p, int fd, const char *name)
{
    static uint8_t buf[IO_CHUNK];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", name, strerror(errno));
        if (n == 0)
            return OCTO_EXIT_OK;
        int rc = octo_blob_put_update(p, buf, (size_t)n);
        if (rc < 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", name,
                                 rc == OCTO_ETOOBIG  ? "larger than the blob size limit"
                                 : rc == OCTO_ELIMIT ? "the store quota is exhausted"
                                                     : octo_strerror(rc));
    }
}

static int cmd_put(struct octo_cli *cli, struct octo_blob_store *s, const char *file)
{
    int cls = get_class(cli, OCTO_BLOB_PUBLIC);
    if (cls < 0)
        return OCTO_EXIT_USAGE;
    bool is_stdin = strcmp(file, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", file, strerror(errno));
    struct octo_blob_put p;
    int rc = octo_blob_put_init(&p, s, (enum octo_blob_class)cls);
    int status = rc < 0 ? octo_cli_fail(cli, OCTO_EXIT_FAIL, "put: %s", octo_strerror(rc))
                        : put_stream(cli, &p, fd, is_stdin ? "stdin" : file);
    if (!is_stdin)
        close(fd);
    if (status != OCTO_EXIT_OK) {
        octo_blob_put_abort(&p);
        return status;
    }
    struct octo_blob_cid cid;
    rc = octo_blob_put_final(&p, &cid);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "put: %s", octo_strerror(rc));
    if (octo_args_has(&cli->args, "ref")) {
        rc = octo_blob_ref(s, &cid, (enum octo_blob_class)cls);
        if (rc < 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "ref: %s", octo_strerror(rc));
    }
    char text[OCTO_BLOB_CID_TEXT_MAX];
    OCTO_ASSERT(octo_blob_cid_to_text(&cid, text, sizeof(text)) > 0);
    fprintf(cli->out, "%s\n", text);
    return OCTO_EXIT_OK;
}

/* ---- get ---- */

static int get_allow(struct octo_cli *cli, unsigned *allow)
{
    *allow = OCTO_BLOB_ALLOW_DEFAULT;
    for (size_t i = 0; i < cli->args.count; i++) {
        const struct octo_arg *a = &cli->args.items[i];
        enum octo_blob_class c;
        if (strcmp(a->flag->name, "allow") != 0)
            continue;
        if (strcmp(a->value, "all") == 0)
            *allow = OCTO_BLOB_ALLOW_ALL;
        else if (octo_blob_class_parse(a->value, &c) == 0)
            *allow |= OCTO_BLOB_ALLOW(c);
        else
            return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                                 "--allow: expected confidential, private or all, got '%.32s'",
                                 a->value);
    }
    return OCTO_EXIT_OK;
}

static int get_stream(struct octo_cli *cli, struct octo_blob_get *g, FILE *out, const char *cid)
{
    static uint8_t buf[IO_CHUNK];
    for (;;) {
        int n = octo_blob_get_read(g, buf, sizeof(buf));
        if (n == 0)
            return fflush(out) == 0
                       ? OCTO_EXIT_OK
                       : octo_cli_fail(cli, OCTO_EXIT_FAIL, "write: %s", strerror(errno));
        if (n < 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s (output discarded)", cid,
                                 n == OCTO_EDECRYPT     ? "corrupted or wrong key"
                                 : n == OCTO_EMALFORMED ? "truncated or malformed blob file"
                                                        : octo_strerror(n));
        if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "write: %s", strerror(errno));
    }
}

static int get_open_fail(struct octo_cli *cli, const char *cid, int rc)
{
    if (rc == OCTO_EPERM)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: permission denied (its class needs --allow)",
                             cid);
    return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", cid,
                         rc == OCTO_EDECRYPT ? "wrong store key" : octo_strerror(rc));
}

static int cmd_get(struct octo_cli *cli, struct octo_blob_store *s, const char *text)
{
    struct octo_blob_cid cid;
    unsigned allow;
    int status = parse_cid(cli, text, &cid);
    if (status == OCTO_EXIT_OK)
        status = get_allow(cli, &allow);
    if (status != OCTO_EXIT_OK)
        return status;
    struct octo_blob_get g;
    int rc = octo_blob_get_init(&g, s, &cid, allow, NULL);
    if (rc < 0)
        return get_open_fail(cli, text, rc);
    const char *path = octo_args_get(&cli->args, "output");
    if (path == NULL) {
        status = get_stream(cli, &g, cli->out, text);
        octo_blob_get_deinit(&g);
        return status;
    }
    char tmp[OCTO_PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.octo-tmp", path) >= (int)sizeof(tmp)) {
        octo_blob_get_deinit(&g);
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "-o: path too long");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
    if (f == NULL) {
        status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        octo_blob_get_deinit(&g);
        return status;
    }
    status = get_stream(cli, &g, f, text);
    octo_blob_get_deinit(&g);
    if (status == OCTO_EXIT_OK && fsync(fileno(f)) != 0)
        status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && status == OCTO_EXIT_OK)
        status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", tmp, strerror(errno));
    if (status == OCTO_EXIT_OK && rename(tmp, path) != 0)
        status = octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", path, strerror(errno));
    if (status != OCTO_EXIT_OK)
        unlink(tmp);
    return status;
}

/* ---- ls ---- */

struct ls_out {
    struct octo_cli *cli;
    cJSON *array; /* NULL: text */
};

static int ls_one(void *ctx, const struct octo_blob_info *info)
{
    struct ls_out *l = ctx;
    char text[OCTO_BLOB_CID_TEXT_MAX];
    OCTO_ASSERT(octo_blob_cid_to_text(&info->cid, text, sizeof(text)) > 0);
    if (l->array == NULL) {
        fprintf(l->cli->out, "%s  %-12s %12llu  refs %u\n", text, octo_blob_class_name(info->cls),
                (unsigned long long)info->size, (unsigned)info->refs);
        return 0;
    }
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return OCTO_ENOMEM;
    cJSON_AddStringToObject(o, "cid", text);
    cJSON_AddStringToObject(o, "class", octo_blob_class_name(info->cls));
    cJSON_AddNumberToObject(o, "size", (double)info->size);
    cJSON_AddNumberToObject(o, "disk_size", (double)info->disk_size);
    cJSON_AddNumberToObject(o, "refs", (double)info->refs);
    cJSON_AddItemToArray(l->array, o);
    return 0;
}

static int cmd_ls(struct octo_cli *cli, struct octo_blob_store *s)
{
    struct ls_out l = {.cli = cli};
    if (octo_args_has(&cli->args, "json")) {
        l.array = cJSON_CreateArray();
        if (l.array == NULL)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "out of memory");
    }
    int rc = octo_blob_ls(s, ls_one, &l);
    if (rc != 0) {
        cJSON_Delete(l.array);
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "ls: %s", octo_strerror(rc));
    }
    return l.array != NULL ? octo_cli_print_json(cli, l.array) : OCTO_EXIT_OK;
}

/* ---- rm, ref, unref, gc ---- */

/* The classes in which the blob exists, as an OCTO_BLOB_ALLOW mask. */
static unsigned present_in(const struct octo_blob_store *s, const struct octo_blob_cid *cid)
{
    unsigned mask = 0;
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++) {
        struct octo_blob_info info;
        if (octo_blob_stat(s, cid, (enum octo_blob_class)c, &info) != OCTO_ENOTFOUND)
            mask |= OCTO_BLOB_ALLOW(c);
    }
    return mask;
}

static int cmd_rm(struct octo_cli *cli, struct octo_blob_store *s, const char *text)
{
    struct octo_blob_cid cid;
    int status = parse_cid(cli, text, &cid);
    int cls = get_class(cli, -2);
    if (status != OCTO_EXIT_OK || cls == -1)
        return OCTO_EXIT_USAGE;
    unsigned mask = cls >= 0 ? OCTO_BLOB_ALLOW(cls) : present_in(s, &cid);
    bool force = octo_args_has(&cli->args, "force");
    bool any = false;
    for (unsigned c = 0; c < OCTO_BLOB_CLASSES; c++) {
        if ((mask & OCTO_BLOB_ALLOW(c)) == 0)
            continue;
        int rc = octo_blob_rm(s, &cid, (enum octo_blob_class)c, force);
        if (rc == OCTO_ENOTFOUND)
            continue;
        if (rc == OCTO_EBUSY)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL,
                                 "%s: referenced (%s); use --force to remove it anyway", text,
                                 octo_blob_class_name((enum octo_blob_class)c));
        if (rc < 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", text, octo_strerror(rc));
        any = true;
    }
    if (!any)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: not found", text);
    return OCTO_EXIT_OK;
}

static int cmd_ref(struct octo_cli *cli, struct octo_blob_store *s, const char *text, bool add)
{
    struct octo_blob_cid cid;
    int status = parse_cid(cli, text, &cid);
    int cls = get_class(cli, -2);
    if (status != OCTO_EXIT_OK || cls == -1)
        return OCTO_EXIT_USAGE;
    if (cls == -2) {
        unsigned mask = present_in(s, &cid);
        if (mask == 0)
            return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: not found", text);
        if ((mask & (mask - 1)) != 0)
            return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                                 "%s: stored in several classes; give "
                                 "--class",
                                 text);
        cls = __builtin_ctz(mask);
    }
    int rc = add ? octo_blob_ref(s, &cid, (enum octo_blob_class)cls)
                 : octo_blob_unref(s, &cid, (enum octo_blob_class)cls);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "%s: %s", text,
                             rc == OCTO_ESTATE ? "not referenced" : octo_strerror(rc));
    fprintf(cli->out, "%d\n", rc);
    return OCTO_EXIT_OK;
}

static int cmd_gc(struct octo_cli *cli, struct octo_blob_store *s)
{
    uint64_t min_age = 0;
    const char *v = octo_args_get(&cli->args, "min-age");
    if (v != NULL && octo_cli_parse_u64(v, UINT32_MAX, &min_age) < 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "--min-age: expected seconds, got '%.32s'", v);
    struct octo_blob_gc_stats st;
    int rc = octo_blob_gc(s, min_age, &st);
    if (rc < 0)
        return octo_cli_fail(cli, OCTO_EXIT_FAIL, "gc: %s", octo_strerror(rc));
    fprintf(cli->out,
            "removed %llu blobs (%llu bytes), %llu temp files, %llu orphan refs; kept "
            "%llu\n",
            (unsigned long long)st.blobs_removed, (unsigned long long)st.bytes_removed,
            (unsigned long long)st.temps_removed, (unsigned long long)st.refs_removed,
            (unsigned long long)st.blobs_kept);
    return OCTO_EXIT_OK;
}

/* ---- dispatch ---- */

static int dispatch(struct octo_cli *cli, struct octo_blob_store *s, const char *sub,
                    const char *arg)
{
    if (strcmp(sub, "put") == 0)
        return cmd_put(cli, s, arg);
    if (strcmp(sub, "get") == 0)
        return cmd_get(cli, s, arg);
    if (strcmp(sub, "rm") == 0)
        return cmd_rm(cli, s, arg);
    if (strcmp(sub, "ref") == 0 || strcmp(sub, "unref") == 0)
        return cmd_ref(cli, s, arg, strcmp(sub, "ref") == 0);
    if (strcmp(sub, "ls") == 0)
        return cmd_ls(cli, s);
    return cmd_gc(cli, s);
}

static int run_data(struct octo_cli *cli)
{
    static const struct {
        const char *name;
        size_t args;
    } subs[] = {{"put", 1}, {"get", 1}, {"ls", 0}, {"rm", 1}, {"ref", 1}, {"unref", 1}, {"gc", 0}};
    const struct octo_args *a = &cli->args;
    if (a->positional_count == 0)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE,
                             "data: expected put, get, ls, rm, ref, unref or gc");
    const char *sub = a->positional[0];
    size_t i = 0;
    while (i < OCTO_ARRAY_LEN(subs) && strcmp(subs[i].name, sub) != 0)
        i++;
    if (i == OCTO_ARRAY_LEN(subs))
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "data: unknown subcommand '%.32s'", sub);
    if (a->positional_count != 1 + subs[i].args)
        return octo_cli_fail(cli, OCTO_EXIT_USAGE, "data %s: expected %s", sub,
                             subs[i].args == 0         ? "no argument"
                             : strcmp(sub, "put") == 0 ? "one FILE (or - for stdin)"
                                                       : "one CID");
    struct octo_blob_store s;
    int status = open_store(cli, &s);
    if (status != OCTO_EXIT_OK)
        return status;
    status = dispatch(cli, &s, sub, subs[i].args > 0 ? a->positional[1] : NULL);
    octo_blob_deinit(&s);
    return status;
}

const struct octo_cli_cmd octo_cmd_data = {
    .name = "data",
    .run = run_data,
    .flags = data_flags,
    .needs_config = true,
    .usage = "data put [--class CLASS] [--ref] FILE|- | get CID [-o FILE] [--allow CLASS] | "
             "ls [--json] | rm CID [--force] | ref|unref CID | gc [--min-age S] [--dir DIR]",
    .summary = "the blob store: content-addressed, encrypted at rest by data class",
};
