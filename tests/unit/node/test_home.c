/*
 * test_home.c — node/home.c: `init` creates the layout with the right modes, derives the
 * LIBP2P.md §2 vector identity from its seed, is idempotent, never replaces a key without
 * force, encrypts with a passphrase, and refuses key files that others can read.
 */
#define _GNU_SOURCE
#include "base/alloc.h"
#include "node/home.h"
#include "store/settings.h"
#include "store/store.h"
#include "test.h"

#include <sys/stat.h>

static char *no_env[] = {NULL};

static const uint8_t *vector_seed(void)
{
    size_t n;
    return octo_test_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &n);
}

static int mode_of(const char *dir, const char *rel)
{
    char path[OCTO_PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (int)(st.st_mode & 0777);
}

static void test_init_layout_and_vector(void)
{
    const char *dir = octo_test_tmpdir("home");
    char home[OCTO_PATH_MAX];
    snprintf(home, sizeof(home), "%s/h", dir);
    struct octo_config cfg;
    struct octo_config_error cerr;
    CHECK_OK(octo_config_init(&cfg, home, no_env, &cerr));
    CHECK_OK(octo_config_set(&cfg, OCTO_CFG_LISTEN, "/ip4/127.0.0.1/tcp/4001", OCTO_SRC_FLAG,
                             "--listen", &cerr));
    struct octo_home_init_options opts = {.seed = vector_seed()};
    struct octo_home_init_result res;
    struct octo_home_error err;
    CHECK_OK(octo_home_init(&cfg, &opts, &res, &err));
    CHECK(res.key_created);
    CHECK(res.config_created);
    char text[OCTO_PEERID_TEXT_MAX];
    CHECK_OK(octo_peerid_to_base58(&res.peer_id, text, sizeof(text)));
    CHECK_STR(text, "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
    CHECK_EQ_INT(mode_of(home, ""), 0700);
    CHECK_EQ_INT(mode_of(home, "keys"), 0700);
    CHECK_EQ_INT(mode_of(home, "keys/node.key"), 0600);
    CHECK_EQ_INT(mode_of(home, "data"), 0700);
    CHECK_EQ_INT(mode_of(home, "config.ini"), 0644);
    /* the listen address with /p2p/<id> gives the LIBP2P.md §3 vector bytes */
    struct octo_multiaddr ma = cfg.listen[0];
    CHECK_OK(octo_multiaddr_push(&ma, OCTO_MA_P2P, res.peer_id.bytes, res.peer_id.len));
    CHECK_HEX(ma.bytes, ma.len,
              "047f000001060fa1a5032600240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d"
              "5f1ddc8664125531b8");
    /* the store exists, is migrated and records the peer id */
    char dbpath[OCTO_PATH_MAX];
    CHECK_OK(octo_config_path(&cfg, cfg.store_path, dbpath, sizeof(dbpath)));
    struct octo_store *store = NULL;
    CHECK_OK(octo_store_open_sqlite(&store, dbpath, NULL));
    struct octo_buf v;
    octo_buf_init(&v, 256);
    CHECK_OK(octo_settings_get(store, "node.peer_id", &v));
    CHECK_EQ_INT(v.len, strlen(text));
    CHECK_MEM(v.data, text, v.len);
    octo_buf_deinit(&v);
    octo_store_close(store);
    /* the identity loads back */
    struct octo_identity id;
    CHECK_OK(octo_home_load_identity(&cfg, NULL, &id, &err));
    CHECK_HEX(id.pub.bytes, 32, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    octo_identity_deinit(&id);
    octo_test_rmtree(dir);
}

static void test_init_idempotent_and_force(void)
{
    const char *home = octo_test_tmpdir("home");
    struct octo_config cfg;
    struct octo_config_error cerr;
    CHECK_OK(octo_config_init(&cfg, home, no_env, &cerr));
    struct octo_home_init_options opts = {0};
    struct octo_home_init_result first, again;
    struct octo_home_error err;
    CHECK_OK(octo_home_init(&cfg, &opts, &first, &err));
    CHECK_OK(octo_home_init(&cfg, &opts, &again, &err));
    CHECK(!again.key_created);
    CHECK(!again.config_created);
    CHECK(octo_peerid_equal(&first.peer_id, &again.peer_id));
    /* a seed without force does not replace the key either */
    opts.seed = vector_seed();
    CHECK_OK(octo_home_init(&cfg, &opts, &again, &err));
    CHECK(octo_peerid_equal(&first.peer_id, &again.peer_id));
    opts.force = true;
    CHECK_OK(octo_home_init(&cfg, &opts, &again, &err));
    CHECK(again.key_created);
    CHECK(!octo_peerid_equal(&first.peer_id, &again.peer_id));
    CHECK_EQ_INT(mode_of(home, "keys/node.key"), 0600);
    octo_test_rmtree(home);
}

static void test_passphrase(void)
{
    const char *home = octo_test_tmpdir("home");
    struct octo_config cfg;
    struct octo_config_error cerr;
    CHECK_OK(octo_config_init(&cfg, home, no_env, &cerr));
    struct octo_home_init_options opts = {.seed = vector_seed(), .passphrase = "correct horse"};
    struct octo_home_init_result res;
    struct octo_home_error err;
    CHECK_OK(octo_home_init(&cfg, &opts, &res, &err));
    struct octo_identity id;
    CHECK_ERR(octo_home_load_identity(&cfg, NULL, &id, &err), OCTO_EPERM);
    CHECK(strstr(err.msg, "passphrase") != NULL);
    CHECK_ERR(octo_home_load_identity(&cfg, "wrong", &id, &err), OCTO_EDECRYPT);
    CHECK_OK(octo_home_load_identity(&cfg, "correct horse", &id, &err));
    CHECK_HEX(id.pub.bytes, 32, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    octo_identity_deinit(&id);
    /* re-running init on an encrypted home needs the passphrase to report the identity */
    opts.passphrase = NULL;
    CHECK_ERR(octo_home_init(&cfg, &opts, &res, &err), OCTO_EPERM);
    octo_test_rmtree(home);
}

static void test_key_file_checks(void)
{
    const char *home = octo_test_tmpdir("home");
    struct octo_config cfg;
    struct octo_config_error cerr;
    CHECK_OK(octo_config_init(&cfg, home, no_env, &cerr));
    struct octo_identity id;
    struct octo_home_error err;
    CHECK_ERR(octo_home_load_identity(&cfg, NULL, &id, &err), OCTO_ENOTFOUND);
    CHECK(strstr(err.msg, "run 'octo init'") != NULL);
    struct octo_home_init_options opts = {0};
    struct octo_home_init_result res;
    CHECK_OK(octo_home_init(&cfg, &opts, &res, &err));
    char path[OCTO_PATH_MAX];
    CHECK_OK(octo_home_path(&cfg, OCTO_HOME_KEY_FILE, path, sizeof(path)));
    CHECK(chmod(path, 0644) == 0);
    CHECK_ERR(octo_home_load_identity(&cfg, NULL, &id, &err), OCTO_EPERM);
    CHECK(strstr(err.msg, "too open") != NULL);
    CHECK(chmod(path, 0600) == 0);
    FILE *f = fopen(path, "r+b");
    fseek(f, 20, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    CHECK(octo_home_load_identity(&cfg, NULL, &id, &err) < 0);
    CHECK(strstr(err.msg, "invalid key file") != NULL);
    octo_test_rmtree(home);
}

static void test_passphrase_file(void)
{
    const char *dir = octo_test_tmpdir("home");
    char path[OCTO_PATH_MAX];
    snprintf(path, sizeof(path), "%s/pass", dir);
    FILE *f = fopen(path, "w");
    fputs("s3cret\r\nsecond line ignored\n", f);
    fclose(f);
    struct octo_buf b;
    struct octo_home_error err;
    octo_buf_init_secret(&b, OCTO_PASSPHRASE_MAX + 2);
    CHECK_OK(octo_home_read_passphrase(path, &b, &err));
    CHECK_STR((const char *)b.data, "s3cret");
    octo_buf_deinit(&b);
    f = fopen(path, "w");
    fclose(f);
    octo_buf_init_secret(&b, OCTO_PASSPHRASE_MAX + 2);
    CHECK_ERR(octo_home_read_passphrase(path, &b, &err), OCTO_EINVAL);
    octo_buf_deinit(&b);
    octo_test_rmtree(dir);
}

int main(void)
{
    if (octo_crypto_init() < 0)
        return 1;
    OCTO_RUN(test_init_layout_and_vector);
    OCTO_RUN(test_init_idempotent_and_force);
    OCTO_RUN(test_passphrase);
    OCTO_RUN(test_key_file_checks);
    OCTO_RUN(test_passphrase_file);
    return octo_test_finish();
}
