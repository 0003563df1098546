/*
 * fuzz_config.c — libFuzzer harness for the INI configuration loader: arbitrary text must
 * either load or give OCTO_ECONFIG with a non-empty one-line message; a loaded config must
 * format to text that loads again to the same values.
 */
#include "base/assert.h"
#include "base/buf.h"
#include "node/config.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *no_env[] = {NULL};

static void check_round_trip(const struct octo_config *cfg)
{
    struct octo_buf text;
    octo_buf_init(&text, OCTO_CONFIG_FILE_MAX);
    OCTO_ASSERT(octo_config_format(cfg, &text) == 0);
    struct octo_config again;
    struct octo_config_error err;
    OCTO_ASSERT(octo_config_init(&again, "/fuzz", no_env, &err) == 0);
    int rc = octo_config_load_text(&again, "formatted", (const char *)text.data, text.len, &err);
    /* values with characters INI cannot carry (';' comments, over-long lines) may not
     * survive; everything else must. */
    if (rc == 0) {
        OCTO_ASSERT(again.roles == cfg->roles);
        OCTO_ASSERT(again.listen_count == cfg->listen_count);
        for (size_t i = 0; i < cfg->listen_count; i++)
            OCTO_ASSERT(octo_multiaddr_equal(&again.listen[i], &cfg->listen[i]));
        OCTO_ASSERT(again.log_level == cfg->log_level);
        OCTO_ASSERT(again.log_format == cfg->log_format);
    }
    octo_buf_deinit(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct octo_config cfg;
    struct octo_config_error err;
    OCTO_ASSERT(octo_config_init(&cfg, "/fuzz", no_env, &err) == 0);
    int rc = octo_config_load_text(&cfg, "fuzz.ini", (const char *)data, size, &err);
    if (rc == 0) {
        check_round_trip(&cfg);
        return 0;
    }
    OCTO_ASSERT(rc == OCTO_ECONFIG);
    OCTO_ASSERT(err.msg[0] != '\0');
    OCTO_ASSERT(strchr(err.msg, '\n') == NULL);
    return 0;
}
