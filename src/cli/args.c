/*
 * args.c — the flag parser behind args.h. Values are borrowed from argv (they live as long
 * as the process), so parsing allocates nothing.
 */
#include "cli/args.h"

#include "base/assert.h"

#include <stdio.h>
#include <string.h>

static const struct octo_flag *find_long(const struct octo_flag *tables[2], const char *name,
                                         size_t len)
{
    for (int t = 0; t < 2; t++) {
        for (const struct octo_flag *f = tables[t]; f != NULL && f->name != NULL; f++) {
            if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
                return f;
        }
    }
    return NULL;
}

static const struct octo_flag *find_short(const struct octo_flag *tables[2], char c)
{
    for (int t = 0; t < 2; t++) {
        for (const struct octo_flag *f = tables[t]; f != NULL && f->name != NULL; f++) {
            if (f->short_name != 0 && f->short_name == c)
                return f;
        }
    }
    return NULL;
}

static int add(struct octo_args *a, const char *cmd, const struct octo_flag *f, const char *value,
               char *err, size_t err_size)
{
    if (!f->repeatable && octo_args_has(a, f->name)) {
        snprintf(err, err_size, "flag '--%s' given more than once for '%s'", f->name, cmd);
        return -1;
    }
    if (a->count >= OCTO_ARGS_MAX) {
        snprintf(err, err_size, "too many flags for '%s' (limit %d)", cmd, OCTO_ARGS_MAX);
        return -1;
    }
    a->items[a->count].flag = f;
    a->items[a->count].value = value;
    a->count++;
    return 0;
}

int octo_args_parse(struct octo_args *a, const char *cmd, const struct octo_flag *common,
                    const struct octo_flag *specific, int argc, char **argv, char *err,
                    size_t err_size)
{
    const struct octo_flag *tables[2] = {common, specific};
    memset(a, 0, sizeof(*a));
    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const struct octo_flag *f = NULL;
        const char *value = NULL;
        if (flags_done || arg[0] != '-' || arg[1] == '\0') {
            if (a->positional_count >= OCTO_ARGS_POSITIONAL_MAX) {
                snprintf(err, err_size, "too many arguments for '%s'", cmd);
                return -1;
            }
            a->positional[a->positional_count++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
            f = find_long(tables, name, len);
            if (eq != NULL)
                value = eq + 1;
        } else if (arg[2] == '\0') {
            f = find_short(tables, arg[1]);
        }
        if (f == NULL) {
            snprintf(err, err_size, "unknown flag '%.64s' for '%s' (see '%s --help')", arg, cmd,
                     cmd);
            return -1;
        }
        if (f->has_value && value == NULL) {
            if (i + 1 >= argc) {
                snprintf(err, err_size, "flag '--%s' needs a value (%s)", f->name,
                         f->value_name != NULL ? f->value_name : "VALUE");
                return -1;
            }
            value = argv[++i];
        } else if (!f->has_value && value != NULL) {
            snprintf(err, err_size, "flag '--%s' takes no value", f->name);
            return -1;
        }
        if (add(a, cmd, f, value, err, err_size) < 0)
            return -1;
    }
    return 0;
}

const char *octo_args_get(const struct octo_args *a, const char *name)
{
    const char *value = NULL;
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->items[i].flag->name, name) == 0)
            value = a->items[i].value;
    }
    return value;
}

bool octo_args_has(const struct octo_args *a, const char *name)
{
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->items[i].flag->name, name) == 0)
            return true;
    }
    return false;
}

void octo_args_print_help(const struct octo_flag *flags, void *file)
{
    FILE *out = file;
    for (const struct octo_flag *f = flags; f != NULL && f->name != NULL; f++) {
        char left[64];
        char alias[8] = "    ";
        if (f->short_name != 0)
            snprintf(alias, sizeof(alias), "-%c, ", f->short_name);
        snprintf(left, sizeof(left), "%s--%s%s%s", alias, f->name, f->has_value ? " " : "",
                 f->has_value ? f->value_name : "");
        fprintf(out, "  %-28s %s\n", left, f->help);
    }
}
