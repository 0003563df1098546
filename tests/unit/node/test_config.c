/*
 * test_config.c — node/config.c: defaults, the precedence flag > env > file > default, and
 * the one-line errors for bad files, variables and flags (file and line named).
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "base/assert.h"
#include "node/config.h"
#include "test.h"

#include <stdarg.h>
#include <sys/stat.h>

static char *no_env[] = {NULL};

/* Builds a NULL-terminated environment from string literals (copied: env is char *const *). */
static char **mkenv(const char *first, ...) __attribute__((sentinel));

static char **mkenv(const char *first, ...)
{
    static char store[8][OCTO_PATH_MAX + 32];
    static char *env[9];
    va_list ap;
    va_start(ap, first);
    int n = 0;
    for (const char *s = first; s != NULL && n < 8; s = va_arg(ap, const char *)) {
        snprintf(store[n], sizeof(store[n]), "%s", s);
        env[n] = store[n];
        n++;
    }
    va_end(ap);
    env[n] = NULL;
    return env;
}

static const char *write_cfg(const char *dir, const char *text)
{
    static char path[OCTO_PATH_MAX];
    snprintf(path, sizeof(path), "%s/config.ini", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_defaults(void)
{
    struct octo_config cfg;
    struct octo_config_error err;
    char **env = mkenv("HOME=/home/u", NULL);
    CHECK_OK(octo_config_init(&cfg, NULL, env, &err));
    CHECK_STR(cfg.home, "/home/u/.octo");
    CHECK_EQ_INT(cfg.roles, OCTO_ROLE_OBSERVER);
    CHECK_EQ_INT(cfg.listen_count, 1);
    CHECK_HEX(cfg.listen[0].bytes, cfg.listen[0].len, "0400000000060fa1");
    CHECK_EQ_INT(cfg.log_level, OCTO_LOG_INFO);
    CHECK_STR(cfg.store_backend, "sqlite");
    CHECK_EQ_INT(cfg.source[OCTO_CFG_ROLE], OCTO_SRC_DEFAULT);
    char **env2 = mkenv("HOME=/home/u", "OCTO_HOME=/srv/octo", NULL);
    CHECK_OK(octo_config_init(&cfg, NULL, env2, &err));
    CHECK_STR(cfg.home, "/srv/octo");
    CHECK_OK(octo_config_init(&cfg, "/flag/home", env2, &err));
    CHECK_STR(cfg.home, "/flag/home");
    CHECK_ERR(octo_config_init(&cfg, NULL, no_env, &err), OCTO_ECONFIG);
    CHECK(strstr(err.msg, "OCTO_HOME") != NULL);
}

static void test_precedence(void)
{
    const char *dir = octo_test_tmpdir("cfg");
    write_cfg(dir, "# comment\n[node]\nrole = provider\nlisten = /ip4/127.0.0.1/tcp/4001\n"
                   "[log]\nlevel = debug ; inline comment\nformat = json\n");
    struct octo_config cfg;
    struct octo_config_error err;
    char home_env[OCTO_PATH_MAX + 16];
    snprintf(home_env, sizeof(home_env), "OCTO_HOME=%s", dir);
    char **env = mkenv(home_env, "OCTO_LOG_LEVEL=warn", NULL);
    CHECK_OK(octo_config_load(&cfg, NULL, env, &err));
    CHECK_EQ_INT(cfg.roles, OCTO_ROLE_PROVIDER); /* file */
    CHECK_EQ_INT(cfg.source[OCTO_CFG_ROLE], OCTO_SRC_FILE);
    CHECK_EQ_INT(cfg.log_level, OCTO_LOG_WARN); /* env beats file */
    CHECK_EQ_INT(cfg.source[OCTO_CFG_LOG_LEVEL], OCTO_SRC_ENV);
    CHECK_EQ_INT(cfg.log_format, OCTO_LOG_JSON);
    CHECK_HEX(cfg.listen[0].bytes, cfg.listen[0].len, "047f000001060fa1");
    /* flags beat env; repeated --listen flags accumulate */
    CHECK_OK(
        octo_config_set(&cfg, OCTO_CFG_LOG_LEVEL, "error", OCTO_SRC_FLAG, "--log-level", &err));
    CHECK_EQ_INT(cfg.log_level, OCTO_LOG_ERROR);
    CHECK_OK(octo_config_set(&cfg, OCTO_CFG_LISTEN, "/ip6/::1/tcp/4001", OCTO_SRC_FLAG, "--listen",
                             &err));
    CHECK_OK(octo_config_set(&cfg, OCTO_CFG_LISTEN, "/ip4/10.0.0.1/tcp/5", OCTO_SRC_FLAG,
                             "--listen", &err));
    CHECK_EQ_INT(cfg.listen_count, 2);
    CHECK_HEX(cfg.listen[0].bytes, cfg.listen[0].len, "2900000000000000000000000000000001060fa1");
    octo_test_rmtree(dir);
}

static void test_listen_lists(void)
{
    const char *dir = octo_test_tmpdir("cfg");
    const char *path = write_cfg(dir, "[node]\nlisten = /ip4/1.2.3.4/tcp/1, /ip4/1.2.3.4/tcp/2\n"
                                      "listen = /ip6/::/tcp/3\n");
    struct octo_config cfg;
    struct octo_config_error err;
    CHECK_OK(octo_config_init(&cfg, dir, no_env, &err));
    CHECK_OK(octo_config_load_file(&cfg, path, false, &err));
    CHECK_EQ_INT(cfg.listen_count, 3);
    CHECK_OK(octo_config_set(&cfg, OCTO_CFG_LISTEN, "", OCTO_SRC_ENV, "OCTO_LISTEN", &err));
    CHECK_EQ_INT(cfg.listen_count, 0);
    char many[1000] = "";
    for (int i = 0; i < OCTO_CONFIG_LISTEN_MAX + 1; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s/ip4/1.1.1.1/tcp/%d",
                 i ? "," : "", i + 1);
    CHECK_ERR(octo_config_set(&cfg, OCTO_CFG_LISTEN, many, OCTO_SRC_ENV, "OCTO_LISTEN", &err),
              OCTO_ECONFIG);
    CHECK(strstr(err.msg, "too many listen addresses") != NULL);
    CHECK_ERR(octo_config_set(&cfg, OCTO_CFG_LISTEN, "/ip4/1.1.1.1/tcp/1,,/ip4/1.1.1.1/tcp/2",
                              OCTO_SRC_ENV, "OCTO_LISTEN", &err),
              OCTO_ECONFIG);
    octo_test_rmtree(dir);
}

/* Loads text as a config file and checks the error message equals "PATH:" + want. */
static int file_error(const char *text, const char *want)
{
    const char *dir = octo_test_tmpdir("cfg");
    const char *path = write_cfg(dir, text);
    struct octo_config cfg;
    struct octo_config_error err;
    int ok = octo_config_init(&cfg, dir, no_env, &err) == 0 &&
             octo_config_load_file(&cfg, path, false, &err) == OCTO_ECONFIG;
    char expect[OCTO_PATH_MAX + 256];
    snprintf(expect, sizeof(expect), "%s:%s", path, want);
    if (!ok || strcmp(err.msg, expect) != 0) {
        fprintf(stderr, "  got:  %s\n  want: %s\n", ok ? err.msg : "(no error)", expect);
        ok = 0;
    }
    octo_test_rmtree(dir);
    return ok;
}

static void test_file_errors(void)
{
    CHECK(
        file_error("[node]\nrole = provider\nrle = x\n", "3: unknown key 'rle' in section [node]"));
    CHECK(file_error("[nodes]\nrole = provider\n", "2: unknown section [nodes]"));
    CHECK(file_error("role = provider\n", "1: key 'role' outside any section"));
    CHECK(file_error("[node]\nrole = boss\n",
                     "2: [node] role: invalid value 'boss' (expected roles from validator, "
                     "provider, orchestrator and observer, comma-separated)"));
    CHECK(file_error("[log]\nlevel = loud\n",
                     "2: [log] level: invalid value 'loud' (expected trace, debug, info, warn, "
                     "error or off)"));
    CHECK(file_error("[node]\nlisten = /ip4/300.1.1.1/tcp/1\n",
                     "2: [node] listen: invalid multiaddr '/ip4/300.1.1.1/tcp/1': malformed "
                     "encoding"));
    CHECK(file_error("[node]\n\nthis line is junk\n",
                     "3: syntax error (expected [section] or key = value)"));
    CHECK(file_error("[store]\nbackend = mongo\n",
                     "2: [store] backend: unsupported backend 'mongo' (supported: sqlite)"));
    char longline[400];
    snprintf(longline, sizeof(longline), "[log]\nfile = %0300d\n", 0);
    CHECK(file_error(longline, "2: line too long (limit 198 characters)"));
}

static void test_unreadable_and_missing(void)
{
    const char *dir = octo_test_tmpdir("cfg");
    struct octo_config cfg;
    struct octo_config_error err;
    char path[OCTO_PATH_MAX];
    snprintf(path, sizeof(path), "%s/absent.ini", dir);
    CHECK_OK(octo_config_init(&cfg, dir, no_env, &err));
    CHECK_OK(octo_config_load_file(&cfg, path, true, &err)); /* optional */
    CHECK_ERR(octo_config_load_file(&cfg, path, false, &err), OCTO_ECONFIG);
    CHECK(strstr(err.msg, path) == err.msg);
    CHECK(strstr(err.msg, "No such file") != NULL);
    CHECK_ERR(octo_config_load_file(&cfg, dir, false, &err), OCTO_ECONFIG); /* a directory */
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    FILE *f = fopen(path, "wb");
    fwrite("[node]\0role=x\n", 1, 14, f);
    fclose(f);
    CHECK_ERR(octo_config_load_file(&cfg, path, false, &err), OCTO_ECONFIG);
    CHECK(strstr(err.msg, "NUL") != NULL);
    octo_test_rmtree(dir);
}

static void test_env_errors(void)
{
    struct octo_config cfg;
    struct octo_config_error err;
    char **env = mkenv("OCTO_HOME=/x", "OCTO_LOG_FORMAT=xml", NULL);
    CHECK_OK(octo_config_init(&cfg, NULL, env, &err));
    CHECK_ERR(octo_config_apply_env(&cfg, env, &err), OCTO_ECONFIG);
    CHECK_STR(err.msg, "environment variable OCTO_LOG_FORMAT: invalid value 'xml' (expected "
                       "plain or json)");
}

static void test_format_round_trip(void)
{
    const char *dir = octo_test_tmpdir("cfg");
    struct octo_config a, b;
    struct octo_config_error err;
    CHECK_OK(octo_config_init(&a, dir, no_env, &err));
    CHECK_OK(octo_config_set(&a, OCTO_CFG_ROLE, "validator", OCTO_SRC_FLAG, "--role", &err));
    CHECK_OK(octo_config_set(&a, OCTO_CFG_LISTEN, "/ip4/127.0.0.1/tcp/9,/dns4/a.example/tcp/9",
                             OCTO_SRC_FLAG, "--listen", &err));
    struct octo_buf text;
    octo_buf_init(&text, OCTO_CONFIG_FILE_MAX);
    CHECK_OK(octo_config_format(&a, &text));
    const char *path = write_cfg(dir, (const char *)text.data);
    octo_buf_deinit(&text);
    CHECK_OK(octo_config_init(&b, dir, no_env, &err));
    CHECK_OK(octo_config_load_file(&b, path, false, &err));
    CHECK_EQ_INT(b.roles, OCTO_ROLE_VALIDATOR);
    CHECK_EQ_INT(b.listen_count, 2);
    CHECK(octo_multiaddr_equal(&a.listen[1], &b.listen[1]));
    CHECK_STR(b.store_path, a.store_path);
    octo_test_rmtree(dir);
}

/* Roles are a set: any combination, each at most once, in any order; written back in a
 * fixed order. */
static void test_roles(void)
{
    unsigned r = 0;
    CHECK_OK(octo_roles_parse("validator", &r));
    CHECK_EQ_INT(r, OCTO_ROLE_VALIDATOR);
    CHECK_OK(octo_roles_parse("orchestrator,validator,provider", &r));
    CHECK_EQ_INT(r, OCTO_ROLE_VALIDATOR | OCTO_ROLE_PROVIDER | OCTO_ROLE_ORCHESTRATOR);
    char text[OCTO_ROLES_TEXT_MAX];
    octo_roles_format(r, text);
    CHECK_STR(text, "validator,provider,orchestrator");
    octo_roles_format(OCTO_ROLES_ALL, text);
    CHECK_STR(text, "observer,validator,provider,orchestrator");
    const char *bad[] = {"",
                         ",",
                         "validator,",
                         ",validator",
                         "validator,,provider",
                         "validator,validator",
                         "Validator",
                         "miner",
                         "validator provider"};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(bad); i++) {
        r = 77;
        CHECK_EQ_INT(octo_roles_parse(bad[i], &r), OCTO_EINVAL);
        CHECK_EQ_INT(r, 77);
    }
    struct octo_config cfg;
    struct octo_config_error err;
    CHECK_OK(octo_config_init(&cfg, "/tmp", no_env, &err));
    CHECK_OK(
        octo_config_set(&cfg, OCTO_CFG_ROLE, "provider,observer", OCTO_SRC_FLAG, "--role", &err));
    CHECK_EQ_INT(cfg.roles, OCTO_ROLE_PROVIDER | OCTO_ROLE_OBSERVER);
    CHECK_EQ_INT(
        octo_config_set(&cfg, OCTO_CFG_ROLE, "provider,gpu", OCTO_SRC_FLAG, "--role", &err),
        OCTO_ECONFIG);
    CHECK(strstr(err.msg, "--role") != NULL);
}

int main(void)
{
    OCTO_RUN(test_roles);
    OCTO_RUN(test_defaults);
    OCTO_RUN(test_precedence);
    OCTO_RUN(test_listen_lists);
    OCTO_RUN(test_file_errors);
    OCTO_RUN(test_unreadable_and_missing);
    OCTO_RUN(test_env_errors);
    OCTO_RUN(test_format_round_trip);
    return octo_test_finish();
}
