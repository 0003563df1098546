/*
 * policy.c — the routing policy's JSON form (contracts and the key list in policy.h).
 *
 * Parsing runs in three steps:
 *  1. prescan: one pass over the raw bytes, no allocation, enforcing the named limits (size,
 *     depth, entries per array or object, string length, no control characters, no \u0000
 *     escape). It does not validate the syntax (cJSON does); it only bounds what cJSON will
 *     allocate, and names the key whose value broke a limit.
 *  2. cJSON builds a tree of the (NUL-terminated copy of the) input; hooks route its heap use
 *     through octo_malloc, and a thread-local flag tells an out-of-memory from a syntax error.
 *  3. a walk over the provider object dispatches each key through a table to a field reader;
 *     a reader checks the JSON type and the value and fills struct octo_policy. Unknown and
 *     repeated keys are errors; OpenRouter keys we do not implement set a bit in `ignored`.
 *     Finally the cross-field rules (min_reputation forms, geo needs a region) and
 *     octo_route_policy_check run.
 * Every error writes "provider.<path>: <what is wrong>" into the caller's buffer.
 *
 * Writing (to_json, explain_json) appends to the caller's buffer with snprintf through a
 * small cursor that records overflow, so nothing is allocated and output is deterministic.
 */
#include "intel/policy.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/multihash.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 96 /* "provider.max_price.completion" plus an index and a key */

/* Longest to_json output: three peer-id lists (base58 of 64 bytes is at most 88 characters,
 * plus quotes and a comma), the quantizations, and every other key with its longest value. */
#define BASE58_PEERID_MAX 88
#define JSON_OUT_WORST                                                                             \
    (3 * (16 + OCTO_ROUTE_LIST_MAX * (BASE58_PEERID_MAX + 3)) +                                    \
     (24 + OCTO_ROUTE_LIST_MAX * (OCTO_ROUTE_QUANT_LEN_MAX + 3)) + 600)
_Static_assert(JSON_OUT_WORST <= OCTO_POLICY_JSON_MAX, "to_json output is always parseable");
_Static_assert(OCTO_PEERID_TEXT_MAX <= OCTO_POLICY_STRING_MAX, "peer ids fit the string limit");
_Static_assert(OCTO_ROUTE_QUANT_LEN_MAX < OCTO_POLICY_STRING_MAX, "quantizations fit");

static const char *const class_names[] = {"public", "shared", "confidential", "private"};
static const char *const isolation_names[] = {"none", "process", "container", "tee"};
static const char *const sort_names[] = {"", "price", "throughput", "latency"};
static const char *const verify_names[] = {"none",    "attestation", "fingerprint",
                                           "sampled", "redundant",   "reexec"};
static const char *const ignored_names[] = {"enforce_distillable_text", "preferred_min_throughput",
                                            "preferred_max_latency",    "experimental",
                                            "sort.partition",           "max_price.request",
                                            "max_price.image",          "max_price.audio"};

_Static_assert(OCTO_ARRAY_LEN(class_names) == OCTO_DATA_PRIVATE + 1, "data class names");
_Static_assert(OCTO_ARRAY_LEN(isolation_names) == OCTO_ISOLATION_MAX + 1, "isolation names");
_Static_assert(OCTO_ARRAY_LEN(sort_names) == OCTO_SORT_LATENCY + 1, "sort names");
_Static_assert(OCTO_ARRAY_LEN(verify_names) == OCTO_POLICY_VERIFY_MAX + 1, "verify names");
_Static_assert(OCTO_ARRAY_LEN(ignored_names) == OCTO_POLICY_IGNORED_COUNT, "ignored names");

void octo_policy_init(struct octo_policy *p)
{
    OCTO_ASSERT(p != NULL);
    memset(p, 0, sizeof(*p));
    octo_route_policy_init(&p->route);
    p->strategy = OCTO_ROUTE_COST;
    p->ignored = 0;
}

const char *octo_policy_ignored_name(uint32_t bit)
{
    for (unsigned i = 0; i < OCTO_POLICY_IGNORED_COUNT; i++) {
        if (bit == (1u << i))
            return ignored_names[i];
    }
    return NULL;
}

const char *octo_policy_verify_name(unsigned level)
{
    return level <= OCTO_POLICY_VERIFY_MAX ? verify_names[level] : NULL;
}

/* ---- errors ---- */

struct ctx {
    char *err;
    size_t err_cap;
    struct octo_policy *out;
    bool have_rep_percent, have_rep_bp;
};

/* Copies a key into dst (dst_size > 0) keeping only [A-Za-z0-9_.-]; others become '?'. */
static void safe_key(char *dst, size_t dst_size, const char *key)
{
    size_t i = 0;
    for (; key[i] != '\0' && i + 1 < dst_size; i++) {
        char c = key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        dst[i] = ok ? c : '?';
    }
    dst[i] = '\0';
}

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const char *path,
                                                      const char *fmt, ...)
{
    if (c->err_cap > 0) {
        int n = snprintf(c->err, c->err_cap, "%s: ", path);
        if (n >= 0 && (size_t)n < c->err_cap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->err_cap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return OCTO_EINVAL;
}

/* path = parent "." key (key made safe). */
static void join_path(char *path, size_t size, const char *parent, const char *key)
{
    char safe[OCTO_POLICY_STRING_MAX + 1];
    safe_key(safe, sizeof(safe), key);
    /* truncation is fine (a message names a path); spelled out to keep -O3 quiet */
    size_t p = strlen(parent), k = strlen(safe);
    OCTO_ASSERT(size > 0);
    if (p > size - 1)
        p = size - 1;
    memmove(path, parent, p);
    size_t n = p;
    if (n < size - 1)
        path[n++] = '.';
    if (k > size - 1 - n)
        k = size - 1 - n;
    memcpy(path + n, safe, k);
    path[n + k] = '\0';
}

/* ---- step 1: the prescan ---- */

struct scan_level {
    bool array;
    bool nonempty;
    uint32_t commas;
    char key[OCTO_POLICY_STRING_MAX + 1]; /* key whose value this container is */
};

struct scan {
    struct scan_level level[OCTO_POLICY_DEPTH_MAX];
    size_t depth;
    char last[OCTO_POLICY_STRING_MAX + 1];    /* the last string seen (a key if ':' follows) */
    char pending[OCTO_POLICY_STRING_MAX + 1]; /* the key whose value comes next */
};

/* Path of the innermost container for a prescan message. */
static void scan_path(const struct scan *s, char *path, size_t size)
{
    snprintf(path, size, "provider");
    for (size_t d = 1; d < s->depth; d++) {
        if (s->level[d].key[0] == '\0')
            continue;
        char parent[PATH_MAX_LEN];
        snprintf(parent, sizeof(parent), "%s", path);
        join_path(path, size, parent, s->level[d].key);
    }
}

static int scan_fail(struct ctx *c, const struct scan *s, const char *what)
{
    char path[PATH_MAX_LEN];
    scan_path(s, path, sizeof(path));
    return fail(c, path, "%s", what);
}

/* Reads the string starting after the opening quote at in[*pos]; leaves *pos after the
 * closing quote and the string's raw bytes (up to the limit) in s->last. */
static int scan_string(struct ctx *c, struct scan *s, const char *in, size_t len, size_t *pos)
{
    size_t start = *pos, i = *pos;
    while (i < len && in[i] != '"') {
        if ((unsigned char)in[i] < 0x20)
            return scan_fail(c, s, "control character in a string");
        if (in[i] == '\\') {
            if (i + 5 < len && in[i + 1] == 'u' && memcmp(in + i + 2, "0000", 4) == 0)
                return scan_fail(c, s, "\\u0000 is not allowed in a string");
            i++;
        }
        i++;
        if (i - start > OCTO_POLICY_STRING_MAX)
            return scan_fail(c, s, "string longer than 128 bytes");
    }
    size_t n = (i < len ? i : len) - start;
    if (n > OCTO_POLICY_STRING_MAX)
        return scan_fail(c, s, "string longer than 128 bytes");
    memcpy(s->last, in + start, n);
    s->last[n] = '\0';
    *pos = i + 1; /* past the quote (or past the end: cJSON reports the syntax error) */
    return 0;
}

static int scan_open(struct ctx *c, struct scan *s, bool array)
{
    if (s->depth > 0)
        s->level[s->depth - 1].nonempty = true;
    if (s->depth == OCTO_POLICY_DEPTH_MAX) {
        char msg[64];
        snprintf(msg, sizeof(msg), "nested deeper than %d levels", OCTO_POLICY_DEPTH_MAX);
        return scan_fail(c, s, msg);
    }
    struct scan_level *l = &s->level[s->depth++];
    l->array = array;
    l->nonempty = false;
    l->commas = 0;
    /* an array element container is named after the array */
    if (s->depth >= 2 && s->level[s->depth - 2].array)
        l->key[0] = '\0';
    else
        memcpy(l->key, s->pending, sizeof(l->key));
    s->pending[0] = '\0';
    return 0;
}

static int scan_comma(struct ctx *c, struct scan *s)
{
    if (s->depth == 0)
        return 0; /* junk outside the object: cJSON rejects it */
    struct scan_level *l = &s->level[s->depth - 1];
    l->commas++;
    uint32_t max = l->array ? OCTO_ROUTE_LIST_MAX : OCTO_POLICY_MEMBERS_MAX;
    if (l->commas + 1 > max) {
        char msg[64];
        snprintf(msg, sizeof(msg), "more than %" PRIu32 " %s", max, l->array ? "entries" : "keys");
        return scan_fail(c, s, msg);
    }
    return 0;
}

static int prescan(struct ctx *c, const char *in, size_t len)
{
    struct scan s;
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < len;) {
        char ch = in[i];
        int rc = 0;
        if (ch == '"') {
            i++;
            rc = scan_string(c, &s, in, len, &i);
            if (s.depth > 0)
                s.level[s.depth - 1].nonempty = true;
            if (rc < 0)
                return rc;
            continue;
        }
        if ((unsigned char)ch < 0x20 && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            return scan_fail(c, &s, "control character in the JSON text");
        if (ch == '{' || ch == '[')
            rc = scan_open(c, &s, ch == '[');
        else if ((ch == '}' || ch == ']') && s.depth > 0)
            s.depth--;
        else if (ch == ',')
            rc = scan_comma(c, &s);
        else if (ch == ':')
            memcpy(s.pending, s.last, sizeof(s.pending));
        else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && s.depth > 0)
            s.level[s.depth - 1].nonempty = true;
        if (rc < 0)
            return rc;
        i++;
    }
    return 0;
}

/* ---- step 2: cJSON with the counted allocator ---- */

static _Thread_local bool json_oom; /* set when a cJSON allocation failed on this thread */

static void *json_malloc(size_t size)
{
    void *p = octo_malloc(size);
    if (p == NULL)
        json_oom = true;
    return p;
}

static void json_free(void *p)
{
    octo_free(p);
}

/* Installs the hooks exactly once per process, race-free without a thread library. */
static void install_hooks(void)
{
    static atomic_int state; /* 0 none, 1 installing, 2 done */
    if (atomic_load_explicit(&state, memory_order_acquire) == 2)
        return;
    int expected = 0;
    if (atomic_compare_exchange_strong(&state, &expected, 1)) {
        cJSON_Hooks hooks = {.malloc_fn = json_malloc, .free_fn = json_free};
        cJSON_InitHooks(&hooks);
        atomic_store_explicit(&state, 2, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&state, memory_order_acquire) != 2) {
        /* another thread is installing: a few instructions */
    }
}

void octo_policy_json_init(void)
{
    install_hooks();
}

/* ---- step 3: the field readers ---- */

typedef int (*field_fn)(struct ctx *c, const cJSON *v, const char *path);

static int read_bool(struct ctx *c, const cJSON *v, const char *path, bool *out)
{
    if (!cJSON_IsBool(v))
        return fail(c, path, "must be true or false");
    *out = cJSON_IsTrue(v);
    return 0;
}

/* A JSON number whose value is an integer in [min, max] (max <= OCTO_POLICY_INT_MAX). */
static int read_uint(struct ctx *c, const cJSON *v, const char *path, uint64_t min, uint64_t max,
                     uint64_t *out)
{
    OCTO_ASSERT(max <= OCTO_POLICY_INT_MAX);
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        /* the range test first: it also rejects NaN and infinities before the conversion */
        if (d >= (double)min && d <= (double)max && (double)(uint64_t)d == d) {
            *out = (uint64_t)d;
            return 0;
        }
    }
    return fail(c, path, "must be an integer from %" PRIu64 " to %" PRIu64, min, max);
}

/* A string equal to one of names[0..n); *out receives its index. */
static int read_name(struct ctx *c, const cJSON *v, const char *path, const char *const *names,
                     size_t n, unsigned *out)
{
    if (cJSON_IsString(v)) {
        for (size_t i = 0; i < n; i++) {
            if (names[i][0] != '\0' && strcmp(v->valuestring, names[i]) == 0) {
                *out = (unsigned)i;
                return 0;
            }
        }
    }
    char list[160];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (names[i][0] == '\0')
            continue;
        int w = snprintf(list + used, sizeof(list) - used, "%s\"%s\"", used ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - used)
            break;
        used += (size_t)w;
    }
    return fail(c, path, "must be one of %s", list);
}

/* Peer ids go through octo_peerid_from_text, which unpacks an identity key's protobuf: an
 * out-of-memory there reads as "must be a peer id" (crypto reports it as EMALFORMED). */
static int read_peer_list(struct ctx *c, const cJSON *v, const char *path, struct octo_peerid *ids,
                          size_t *count)
{
    if (!cJSON_IsArray(v))
        return fail(c, path, "must be an array of peer ids");
    int n = cJSON_GetArraySize(v);
    if (n < 0 || n > OCTO_ROUTE_LIST_MAX)
        return fail(c, path, "more than %d entries", OCTO_ROUTE_LIST_MAX);
    size_t i = 0;
    for (const cJSON *e = v->child; e != NULL; e = e->next, i++) {
        char at[PATH_MAX_LEN];
        snprintf(at, sizeof(at), "%s[%zu]", path, i);
        if (!cJSON_IsString(e) || octo_peerid_from_text(e->valuestring, &ids[i]) < 0)
            return fail(c, at, "must be a peer id (base58 or CIDv1 text)");
    }
    *count = i;
    return 0;
}

static int f_order(struct ctx *c, const cJSON *v, const char *path)
{
    return read_peer_list(c, v, path, c->out->route.order, &c->out->route.order_count);
}

static int f_only(struct ctx *c, const cJSON *v, const char *path)
{
    return read_peer_list(c, v, path, c->out->route.only, &c->out->route.only_count);
}

static int f_ignore(struct ctx *c, const cJSON *v, const char *path)
{
    return read_peer_list(c, v, path, c->out->route.ignore, &c->out->route.ignore_count);
}

static int f_allow_fallbacks(struct ctx *c, const cJSON *v, const char *path)
{
    return read_bool(c, v, path, &c->out->route.allow_fallbacks);
}

static int f_zdr(struct ctx *c, const cJSON *v, const char *path)
{
    return read_bool(c, v, path, &c->out->route.zdr);
}

static int f_require_parameters(struct ctx *c, const cJSON *v, const char *path)
{
    return read_bool(c, v, path, &c->out->route.require_parameters);
}

static bool quant_ok(const char *q)
{
    size_t n = strlen(q);
    if (n == 0 || n > OCTO_ROUTE_QUANT_LEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = q[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == '-'))
            return false;
    }
    return true;
}

static int f_quantizations(struct ctx *c, const cJSON *v, const char *path)
{
    if (!cJSON_IsArray(v))
        return fail(c, path, "must be an array of strings");
    int n = cJSON_GetArraySize(v);
    if (n < 0 || n > OCTO_ROUTE_LIST_MAX)
        return fail(c, path, "more than %d entries", OCTO_ROUTE_LIST_MAX);
    size_t i = 0;
    for (const cJSON *e = v->child; e != NULL; e = e->next, i++) {
        char at[PATH_MAX_LEN];
        snprintf(at, sizeof(at), "%s[%zu]", path, i);
        if (!cJSON_IsString(e) || !quant_ok(e->valuestring))
            return fail(c, at, "must be 1 to %d characters of [a-z0-9_.-]",
                        OCTO_ROUTE_QUANT_LEN_MAX);
        memcpy(c->out->route.quantizations[i], e->valuestring, strlen(e->valuestring) + 1);
    }
    c->out->route.quantizations_count = i;
    return 0;
}

static int f_data_collection(struct ctx *c, const cJSON *v, const char *path)
{
    static const char *const names[] = {"allow", "deny"};
    unsigned i = 0;
    int rc = read_name(c, v, path, names, OCTO_ARRAY_LEN(names), &i);
    if (rc == 0)
        c->out->route.deny_data_collection = i == 1;
    return rc;
}

static int f_privacy(struct ctx *c, const cJSON *v, const char *path)
{
    unsigned i = 0;
    int rc = read_name(c, v, path, class_names, OCTO_ARRAY_LEN(class_names), &i);
    if (rc == 0)
        c->out->route.privacy = (enum octo_data_class)i;
    return rc;
}

static int f_isolation_min(struct ctx *c, const cJSON *v, const char *path)
{
    unsigned i = 0;
    int rc = read_name(c, v, path, isolation_names, OCTO_ARRAY_LEN(isolation_names), &i);
    if (rc == 0)
        c->out->route.isolation_min = (enum octo_isolation)i;
    return rc;
}

static int f_strategy(struct ctx *c, const cJSON *v, const char *path)
{
    static const char *const names[] = {"cost", "speed", "quality", "privacy", "geo"};
    _Static_assert(OCTO_ARRAY_LEN(names) == OCTO_ROUTE_GEO + 1, "strategy names");
    unsigned i = 0;
    int rc = read_name(c, v, path, names, OCTO_ARRAY_LEN(names), &i);
    if (rc == 0)
        c->out->strategy = (enum octo_route_strategy)i;
    return rc;
}

static int f_verify(struct ctx *c, const cJSON *v, const char *path)
{
    if (cJSON_IsNumber(v)) {
        uint64_t level = 0;
        int rc = read_uint(c, v, path, 0, OCTO_POLICY_VERIFY_MAX, &level);
        if (rc == 0)
            c->out->route.verify = (uint8_t)level;
        return rc;
    }
    unsigned i = 0;
    int rc = read_name(c, v, path, verify_names, OCTO_ARRAY_LEN(verify_names), &i);
    if (rc < 0) /* rewrite: the number form is allowed too */
        return fail(c, path,
                    "must be 0 to %d or one of \"none\", \"attestation\", "
                    "\"fingerprint\", \"sampled\", \"redundant\", \"reexec\"",
                    OCTO_POLICY_VERIFY_MAX);
    c->out->route.verify = (uint8_t)i;
    return 0;
}

static int f_min_reputation(struct ctx *c, const cJSON *v, const char *path)
{
    uint64_t pct = 0;
    int rc = read_uint(c, v, path, 0, 100, &pct);
    if (rc == 0) {
        c->out->route.min_reputation_bp = (uint16_t)(pct * 100);
        c->have_rep_percent = true;
    }
    return rc;
}

static int f_min_reputation_bp(struct ctx *c, const cJSON *v, const char *path)
{
    uint64_t bp = 0;
    int rc = read_uint(c, v, path, 0, 10000, &bp);
    if (rc == 0) {
        c->out->route.min_reputation_bp = (uint16_t)bp;
        c->have_rep_bp = true;
    }
    return rc;
}

struct field {
    const char *name;
    field_fn fn;      /* NULL: accepted and ignored */
    uint32_t ignored; /* the bit to set for an ignored key */
};

static int walk_object(struct ctx *c, const cJSON *obj, const char *path,
                       const struct field *fields, size_t n);

static int f_sort_by(struct ctx *c, const cJSON *v, const char *path)
{
    unsigned i = 0;
    int rc = read_name(c, v, path, sort_names, OCTO_ARRAY_LEN(sort_names), &i);
    if (rc == 0)
        c->out->route.sort = (enum octo_route_sort)i;
    return rc;
}

static int f_sort(struct ctx *c, const cJSON *v, const char *path)
{
    static const struct field fields[] = {
        {"by", f_sort_by, 0},
        {"partition", NULL, OCTO_POLICY_IGNORED_SORT_PARTITION},
    };
    if (!cJSON_IsObject(v))
        return f_sort_by(c, v, path);
    if (cJSON_GetObjectItemCaseSensitive(v, "by") == NULL)
        return fail(c, path, "the object form needs \"by\"");
    return walk_object(c, v, path, fields, OCTO_ARRAY_LEN(fields));
}

static int f_price_prompt(struct ctx *c, const cJSON *v, const char *path)
{
    return read_uint(c, v, path, 1, OCTO_POLICY_INT_MAX, &c->out->route.max_price_in);
}

static int f_price_completion(struct ctx *c, const cJSON *v, const char *path)
{
    return read_uint(c, v, path, 1, OCTO_POLICY_INT_MAX, &c->out->route.max_price_out);
}

static int f_max_price(struct ctx *c, const cJSON *v, const char *path)
{
    static const struct field fields[] = {
        {"prompt", f_price_prompt, 0},
        {"completion", f_price_completion, 0},
        {"request", NULL, OCTO_POLICY_IGNORED_PRICE_REQUEST},
        {"image", NULL, OCTO_POLICY_IGNORED_PRICE_IMAGE},
        {"audio", NULL, OCTO_POLICY_IGNORED_PRICE_AUDIO},
    };
    if (!cJSON_IsObject(v))
        return fail(c, path, "must be an object {\"prompt\": N, \"completion\": N}");
    return walk_object(c, v, path, fields, OCTO_ARRAY_LEN(fields));
}

static int f_country(struct ctx *c, const cJSON *v, const char *path)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    if (!(s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0'))
        return fail(c, path, "must be an ISO 3166-1 alpha-2 code (two upper-case letters)");
    memcpy(c->out->route.country, s, 3);
    return 0;
}

static int f_continent(struct ctx *c, const cJSON *v, const char *path)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    if (strlen(s) != 2 || octo_advert_continent_index(s) == 0)
        return fail(c, path, "must be one of AF, AN, AS, EU, NA, OC, SA");
    memcpy(c->out->route.continent, s, 3);
    return 0;
}

static int f_region(struct ctx *c, const cJSON *v, const char *path)
{
    static const struct field fields[] = {
        {"country", f_country, 0},
        {"continent", f_continent, 0},
    };
    if (!cJSON_IsObject(v))
        return fail(c, path, "must be an object {\"country\": \"DE\", \"continent\": \"EU\"}");
    return walk_object(c, v, path, fields, OCTO_ARRAY_LEN(fields));
}

static const struct field provider_fields[] = {
    {"order", f_order, 0},
    {"only", f_only, 0},
    {"ignore", f_ignore, 0},
    {"allow_fallbacks", f_allow_fallbacks, 0},
    {"sort", f_sort, 0},
    {"max_price", f_max_price, 0},
    {"quantizations", f_quantizations, 0},
    {"data_collection", f_data_collection, 0},
    {"zdr", f_zdr, 0},
    {"require_parameters", f_require_parameters, 0},
    {"privacy", f_privacy, 0},
    {"isolation_min", f_isolation_min, 0},
    {"region", f_region, 0},
    {"min_reputation", f_min_reputation, 0},
    {"min_reputation_bp", f_min_reputation_bp, 0},
    {"verify", f_verify, 0},
    {"strategy", f_strategy, 0},
    {"enforce_distillable_text", NULL, OCTO_POLICY_IGNORED_DISTILLABLE},
    {"preferred_min_throughput", NULL, OCTO_POLICY_IGNORED_MIN_THROUGHPUT},
    {"preferred_max_latency", NULL, OCTO_POLICY_IGNORED_MAX_LATENCY},
    {"experimental", NULL, OCTO_POLICY_IGNORED_EXPERIMENTAL},
};

static const struct field *find_field(const struct field *fields, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i].name, key) == 0)
            return &fields[i];
    }
    return NULL;
}

/* Dispatches every member of obj; unknown and repeated keys are errors, null values and
 * ignored keys' values are skipped. */
static int walk_object(struct ctx *c, const cJSON *obj, const char *path,
                       const struct field *fields, size_t n)
{
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        char at[PATH_MAX_LEN];
        join_path(at, sizeof(at), path, m->string);
        for (const cJSON *prev = obj->child; prev != m; prev = prev->next) {
            if (strcmp(prev->string, m->string) == 0)
                return fail(c, at, "key given twice");
        }
        const struct field *f = find_field(fields, n, m->string);
        if (f == NULL)
            return fail(c, at, "unknown key");
        if (cJSON_IsNull(m))
            continue;
        if (f->fn == NULL) {
            c->out->ignored |= f->ignored;
            continue;
        }
        int rc = f->fn(c, m, at);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cross_checks(struct ctx *c)
{
    const struct octo_route_policy *r = &c->out->route;
    if (c->have_rep_percent && c->have_rep_bp)
        return fail(c, "provider.min_reputation",
                    "give min_reputation or min_reputation_bp, "
                    "not both");
    if (c->out->strategy == OCTO_ROUTE_GEO && r->country[0] == '\0' && r->continent[0] == '\0')
        return fail(c, "provider.strategy", "\"geo\" needs provider.region");
    const char *why;
    if (octo_route_policy_check(r, &why) < 0)
        return fail(c, "provider", "%s", why);
    return 0;
}

/* Parses the NUL-terminated text[0..len) (prescan done) and walks it. */
static int parse_tree(struct ctx *c, const char *text, size_t len)
{
    install_hooks();
    json_oom = false;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        if (json_oom) {
            (void)fail(c, "provider", "out of memory");
            return OCTO_ENOMEM;
        }
        size_t at = end != NULL && end >= text ? (size_t)(end - text) : 0;
        return fail(c, "provider", "malformed JSON near byte %zu", at);
    }
    int rc = 0;
    size_t at = end != NULL ? (size_t)(end - text) : len;
    while (at < len &&
           (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
        at++;
    if (at < len)
        rc = fail(c, "provider", "unexpected data after the object at byte %zu", at);
    else if (!cJSON_IsObject(root))
        rc = fail(c, "provider", "must be a JSON object");
    else
        rc = walk_object(c, root, "provider", provider_fields, OCTO_ARRAY_LEN(provider_fields));
    cJSON_Delete(root);
    return rc;
}

int octo_policy_parse(const char *json, size_t len, struct octo_policy *out, char *err,
                      size_t err_cap)
{
    OCTO_ASSERT(out != NULL);
    OCTO_ASSERT(json != NULL || len == 0);
    OCTO_ASSERT(err != NULL || err_cap == 0);
    octo_policy_init(out);
    if (err_cap > 0)
        err[0] = '\0';
    struct ctx c = {.err = err, .err_cap = err_cap, .out = out};
    if (len > OCTO_POLICY_JSON_MAX) {
        (void)fail(&c, "provider", "longer than %d bytes", OCTO_POLICY_JSON_MAX);
        return OCTO_ETOOBIG;
    }
    int rc = prescan(&c, json, len);
    if (rc == 0) {
        char *text = octo_malloc(len + 1);
        if (text == NULL) {
            (void)fail(&c, "provider", "out of memory");
            rc = OCTO_ENOMEM;
        } else {
            if (len > 0)
                memcpy(text, json, len);
            text[len] = '\0';
            rc = parse_tree(&c, text, len);
            octo_free(text);
        }
    }
    if (rc == 0)
        rc = cross_checks(&c);
    if (rc < 0)
        octo_policy_init(out); /* defaults, nothing ignored */
    return rc;
}

/* ---- writing ---- */

struct cursor {
    char *buf;
    size_t cap, len;
    bool overflow;
};

__attribute__((format(printf, 2, 3))) static void put(struct cursor *w, const char *fmt, ...)
{
    if (w->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->overflow = true;
        return;
    }
    w->len += (size_t)n;
}

static int finish_cursor(struct cursor *w)
{
    if (w->overflow) {
        if (w->cap > 0)
            w->buf[0] = '\0';
        return OCTO_ENOSPACE;
    }
    OCTO_ASSERT(w->len <= (size_t)INT32_MAX);
    return (int)w->len;
}

static void put_peer_list(struct cursor *w, const char *key, const struct octo_peerid *ids,
                          size_t n)
{
    put(w, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        char text[OCTO_PEERID_TEXT_MAX];
        int rc = octo_peerid_to_base58(&ids[i], text, sizeof(text));
        OCTO_ASSERT(rc >= 0); /* OCTO_PEERID_TEXT_MAX holds any id */
        put(w, "%s\"%s\"", i ? "," : "", text);
    }
    put(w, "],");
}

/* The form of a peer id, checked without allocating (octo_peerid_from_bytes unpacks the key
 * protobuf): an Ed25519 identity multihash (00 24 08 01 12 20 || key) or a sha2-256 one. The
 * key's curve point is not checked here; parse checks it. */
static bool peerid_form_ok(const struct octo_peerid *id)
{
    static const uint8_t ed25519_prefix[] = {0x08, 0x01, 0x12, 0x20};
    struct octo_multihash mh;
    if (id->len == 0 || id->len > OCTO_PEERID_MAX_BYTES ||
        octo_multihash_decode(id->bytes, id->len, &mh) < 0)
        return false;
    if (mh.code == OCTO_MH_IDENTITY)
        return mh.digest_len == OCTO_PUBKEY_PB_LEN &&
               memcmp(mh.digest, ed25519_prefix, sizeof(ed25519_prefix)) == 0;
    return mh.code == OCTO_MH_SHA2_256 && mh.digest_len == 32;
}

static bool writable(const struct octo_policy *p)
{
    const struct octo_route_policy *r = &p->route;
    const char *why;
    if (octo_route_policy_check(r, &why) < 0 || (unsigned)p->strategy > OCTO_ROUTE_GEO ||
        r->verify > OCTO_POLICY_VERIFY_MAX || r->max_price_in > OCTO_POLICY_INT_MAX ||
        r->max_price_out > OCTO_POLICY_INT_MAX)
        return false;
    if (r->continent[0] != '\0' && octo_advert_continent_index(r->continent) == 0)
        return false;
    if (p->strategy == OCTO_ROUTE_GEO && r->country[0] == '\0' && r->continent[0] == '\0')
        return false;
    const struct octo_peerid *lists[] = {r->order, r->only, r->ignore};
    const size_t counts[] = {r->order_count, r->only_count, r->ignore_count};
    for (size_t l = 0; l < OCTO_ARRAY_LEN(lists); l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            if (!peerid_form_ok(&lists[l][i]))
                return false; /* parse would not read it back */
        }
    }
    for (size_t i = 0; i < r->quantizations_count; i++) {
        if (memchr(r->quantizations[i], '\0', sizeof(r->quantizations[i])) == NULL ||
            !quant_ok(r->quantizations[i]))
            return false;
    }
    return true;
}

static void put_extensions(struct cursor *w, const struct octo_policy *p)
{
    const struct octo_route_policy *r = &p->route;
    put(w, "\"privacy\":\"%s\",\"isolation_min\":\"%s\",", class_names[r->privacy],
        isolation_names[r->isolation_min]);
    if (r->country[0] != '\0' || r->continent[0] != '\0') {
        put(w, "\"region\":{");
        if (r->country[0] != '\0')
            put(w, "\"country\":\"%s\"%s", r->country, r->continent[0] ? "," : "");
        if (r->continent[0] != '\0')
            put(w, "\"continent\":\"%s\"", r->continent);
        put(w, "},");
    }
    if (r->min_reputation_bp % 100 == 0)
        put(w, "\"min_reputation\":%u,", (unsigned)(r->min_reputation_bp / 100));
    else
        put(w, "\"min_reputation_bp\":%u,", (unsigned)r->min_reputation_bp);
    put(w, "\"verify\":\"%s\",\"strategy\":\"%s\"}", verify_names[r->verify],
        octo_route_strategy_name(p->strategy));
}

int octo_policy_to_json(const struct octo_policy *p, char *buf, size_t cap)
{
    OCTO_ASSERT(p != NULL);
    OCTO_ASSERT(buf != NULL || cap == 0);
    if (!writable(p))
        return OCTO_EINVAL;
    const struct octo_route_policy *r = &p->route;
    struct cursor w = {.buf = buf, .cap = cap, .overflow = cap == 0};
    put(&w, "{");
    put_peer_list(&w, "order", r->order, r->order_count);
    put_peer_list(&w, "only", r->only, r->only_count);
    put_peer_list(&w, "ignore", r->ignore, r->ignore_count);
    put(&w, "\"allow_fallbacks\":%s,", r->allow_fallbacks ? "true" : "false");
    if (r->sort != OCTO_SORT_NONE)
        put(&w, "\"sort\":\"%s\",", sort_names[r->sort]);
    if (r->max_price_in != 0 || r->max_price_out != 0) {
        put(&w, "\"max_price\":{");
        if (r->max_price_in != 0)
            put(&w, "\"prompt\":%" PRIu64 "%s", r->max_price_in, r->max_price_out ? "," : "");
        if (r->max_price_out != 0)
            put(&w, "\"completion\":%" PRIu64, r->max_price_out);
        put(&w, "},");
    }
    put(&w, "\"quantizations\":[");
    for (size_t i = 0; i < r->quantizations_count; i++)
        put(&w, "%s\"%s\"", i ? "," : "", r->quantizations[i]);
    put(&w, "],\"data_collection\":\"%s\",\"zdr\":%s,\"require_parameters\":%s,",
        r->deny_data_collection ? "deny" : "allow", r->zdr ? "true" : "false",
        r->require_parameters ? "true" : "false");
    put_extensions(&w, p);
    return finish_cursor(&w);
}

int octo_policy_explain_json(const struct octo_route_explain *e, char *buf, size_t cap)
{
    OCTO_ASSERT(e != NULL);
    OCTO_ASSERT(buf != NULL || cap == 0);
    struct cursor w = {.buf = buf, .cap = cap, .overflow = cap == 0};
    put(&w,
        "{\"considered\":%" PRIu32 ",\"removed_only\":%" PRIu32 ",\"removed_ignore\":%" PRIu32
        ",\"removed_data_class\":%" PRIu32 ",\"removed_isolation\":%" PRIu32
        ",\"removed_region\":%" PRIu32 ",\"removed_price\":%" PRIu32
        ",\"removed_quantization\":%" PRIu32 ",\"removed_data_policy\":%" PRIu32,
        e->considered, e->removed_only, e->removed_ignore, e->removed_data_class,
        e->removed_isolation, e->removed_region, e->removed_price, e->removed_quantization,
        e->removed_data_policy);
    put(&w,
        ",\"removed_parameters\":%" PRIu32 ",\"removed_reputation\":%" PRIu32
        ",\"removed_unavailable\":%" PRIu32 ",\"removed_capacity\":%" PRIu32
        ",\"removed_not_in_order\":%" PRIu32 ",\"eligible\":%" PRIu32 "}",
        e->removed_parameters, e->removed_reputation, e->removed_unavailable, e->removed_capacity,
        e->removed_not_in_order, e->eligible);
    return finish_cursor(&w);
}

/* ---- equality ---- */

static bool peers_equal(const struct octo_peerid *a, const struct octo_peerid *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!octo_peerid_equal(&a[i], &b[i]))
            return false;
    }
    return true;
}

static bool strn_equal(const char *a, const char *b, size_t size)
{
    return strncmp(a, b, size) == 0;
}

bool octo_policy_equal(const struct octo_policy *a, const struct octo_policy *b)
{
    OCTO_ASSERT(a != NULL && b != NULL);
    const struct octo_route_policy *x = &a->route, *y = &b->route;
    if (a->strategy != b->strategy || x->order_count != y->order_count ||
        x->only_count != y->only_count || x->ignore_count != y->ignore_count ||
        x->quantizations_count != y->quantizations_count)
        return false;
    if (x->order_count > OCTO_ROUTE_LIST_MAX || x->only_count > OCTO_ROUTE_LIST_MAX ||
        x->ignore_count > OCTO_ROUTE_LIST_MAX || x->quantizations_count > OCTO_ROUTE_LIST_MAX)
        return false; /* not a policy: nothing to compare safely */
    if (!peers_equal(x->order, y->order, x->order_count) ||
        !peers_equal(x->only, y->only, x->only_count) ||
        !peers_equal(x->ignore, y->ignore, x->ignore_count))
        return false;
    for (size_t i = 0; i < x->quantizations_count; i++) {
        if (!strn_equal(x->quantizations[i], y->quantizations[i], sizeof(x->quantizations[i])))
            return false;
    }
    return x->allow_fallbacks == y->allow_fallbacks && x->sort == y->sort &&
           x->max_price_in == y->max_price_in && x->max_price_out == y->max_price_out &&
           x->deny_data_collection == y->deny_data_collection && x->zdr == y->zdr &&
           x->require_parameters == y->require_parameters && x->privacy == y->privacy &&
           x->isolation_min == y->isolation_min &&
           strn_equal(x->country, y->country, sizeof(x->country)) &&
           strn_equal(x->continent, y->continent, sizeof(x->continent)) &&
           x->min_reputation_bp == y->min_reputation_bp && x->verify == y->verify;
}
