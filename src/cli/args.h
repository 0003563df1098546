/*
 * args.h — command-line flag parsing for the CLI, table-driven (wireguard-tools style).
 *
 * Accepted forms: --name, --name value, --name=value, and "--" to end flags. Short aliases
 * are listed in the table (e.g. -h). Unknown flags, a missing value, a value given to a
 * boolean flag, or a non-repeatable flag given twice are errors whose message names the
 * flag, e.g. "unknown flag '--frob' for 'octo init'".
 */
#ifndef OCTO_CLI_ARGS_H
#define OCTO_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define OCTO_ARGS_MAX 64             /* flag occurrences per command line */
#define OCTO_ARGS_POSITIONAL_MAX 256 /* `octo exec -- CMD ARGS...` passes a whole command */

struct octo_flag {
    const char *name; /* without dashes: "home" */
    char short_name;  /* 0 or 'h' */
    bool has_value;
    bool repeatable;
    const char *value_name; /* for help: "DIR" */
    const char *help;
};

struct octo_arg {
    const struct octo_flag *flag;
    const char *value; /* NULL for boolean flags */
};

struct octo_args {
    struct octo_arg items[OCTO_ARGS_MAX];
    size_t count;
    const char *positional[OCTO_ARGS_POSITIONAL_MAX];
    size_t positional_count;
};

/* Parses argv[0..argc) against two flag tables (common, then command-specific; either may be
 * NULL-terminated by a {NULL} entry). cmd names the command in error messages. Returns 0, or
 * -1 with a one-line message in err. */
int octo_args_parse(struct octo_args *a, const char *cmd, const struct octo_flag *common,
                    const struct octo_flag *specific, int argc, char **argv, char *err,
                    size_t err_size);

/* Last value of a flag, or NULL. */
const char *octo_args_get(const struct octo_args *a, const char *name);
bool octo_args_has(const struct octo_args *a, const char *name);

/* Prints "  --name VALUE   help" lines for a table. */
void octo_args_print_help(const struct octo_flag *flags, void *file);

#endif
