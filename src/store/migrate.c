/*
 * migrate.c — versioned schema migrations, and the node schema (settings, peerstore,
 * provider registry, task records, blockstore).
 *
 * A schema is an ordered array of {version, name, sql_sqlite, sql_pg}; a table (by default
 * schema_migrations) records each applied version with its name and time. Migrating applies,
 * in order, every migration newer than the highest recorded version, each in its own write
 * transaction together with its version row, so a crash or a failing migration leaves the
 * database at the previous version with none of the failed migration's changes (SQLite and
 * PostgreSQL both roll back DDL). A database recording a version newer than the program's
 * latest is refused: an older binary must not write to a schema it does not know.
 *
 * Several processes may migrate the same database at once: the version is re-read inside each
 * migration's write transaction (which holds the write lock), so each migration runs once.
 *
 * SQL dialect notes for the PostgreSQL text: BYTEA for BLOB, BIGINT for 64-bit integers (PG's
 * INTEGER is 32-bit), COLLATE "C" on text keys so ordering is bytewise as in SQLite,
 * octet_length (bytes) where SQLite says length(CAST(x AS BLOB)) (SQLite's length() of a
 * text counts characters), CHECK constraints on every length and enum, and typeof() checks
 * on SQLite (whose columns accept any type) so a value of the wrong type cannot slip in.
 */
#include "base/assert.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* Longest version-table name. */
#define MIGRATE_TABLE_NAME_MAX 48
/* Room for the SQL built around a table name. */
#define MIGRATE_SQL_BUF 256

/* ---- the node schema ---- */

static const struct octo_store_migration node_migrations[] = {
    {
        .version = 1,
        .name = "settings",
        .sql_sqlite = "CREATE TABLE settings ("
                      " key TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 128),"
                      " value BLOB NOT NULL CHECK (length(value) <= 65536)"
                      ") WITHOUT ROWID;",
        .sql_pg = "CREATE TABLE settings ("
                  " key TEXT COLLATE \"C\" PRIMARY KEY"
                  "  CHECK (octet_length(key) BETWEEN 1 AND 128),"
                  " value BYTEA NOT NULL CHECK (octet_length(value) <= 65536)"
                  ");",
    },
    {
        .version = 2,
        .name = "peerstore",
        .sql_sqlite = "CREATE TABLE peers ("
                      " id BLOB PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),"
                      " pubkey BLOB,"
                      " agent TEXT,"
                      " last_seen_ms INTEGER NOT NULL"
                      ");"
                      "CREATE INDEX peers_last_seen ON peers (last_seen_ms, id);"
                      "CREATE TABLE peer_addrs ("
                      " peer_id BLOB NOT NULL REFERENCES peers (id) ON DELETE CASCADE,"
                      " addr BLOB NOT NULL,"
                      " PRIMARY KEY (peer_id, addr)"
                      ") WITHOUT ROWID;"
                      "CREATE TABLE peer_protocols ("
                      " peer_id BLOB NOT NULL REFERENCES peers (id) ON DELETE CASCADE,"
                      " protocol TEXT NOT NULL,"
                      " PRIMARY KEY (peer_id, protocol)"
                      ") WITHOUT ROWID;",
        .sql_pg = "CREATE TABLE peers ("
                  " id BYTEA PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 64),"
                  " pubkey BYTEA,"
                  " agent TEXT,"
                  " last_seen_ms BIGINT NOT NULL"
                  ");"
                  "CREATE INDEX peers_last_seen ON peers (last_seen_ms, id);"
                  "CREATE TABLE peer_addrs ("
                  " peer_id BYTEA NOT NULL REFERENCES peers (id) ON DELETE CASCADE,"
                  " addr BYTEA NOT NULL,"
                  " PRIMARY KEY (peer_id, addr)"
                  ");"
                  "CREATE TABLE peer_protocols ("
                  " peer_id BYTEA NOT NULL REFERENCES peers (id) ON DELETE CASCADE,"
                  " protocol TEXT COLLATE \"C\" NOT NULL,"
                  " PRIMARY KEY (peer_id, protocol)"
                  ");",
    },
    {
        /* Provider registry (providers.h): the signed advert bytes as received, keyed by
         * provider id; expiry index for delete_expired. */
        .version = 3,
        .name = "providers",
        .sql_sqlite = "CREATE TABLE providers ("
                      " id BLOB PRIMARY KEY NOT NULL"
                      "  CHECK (typeof(id) = 'blob' AND length(id) BETWEEN 1 AND 64),"
                      " seq INTEGER NOT NULL CHECK (seq >= 0),"
                      " expiry_ms INTEGER NOT NULL CHECK (expiry_ms >= 0),"
                      " received_ms INTEGER NOT NULL CHECK (received_ms >= 0),"
                      " advert BLOB NOT NULL"
                      "  CHECK (typeof(advert) = 'blob' AND length(advert) BETWEEN 1 AND 16384)"
                      ");"
                      "CREATE INDEX providers_expiry ON providers (expiry_ms);",
        .sql_pg = "CREATE TABLE providers ("
                  " id BYTEA PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 64),"
                  " seq BIGINT NOT NULL CHECK (seq >= 0),"
                  " expiry_ms BIGINT NOT NULL CHECK (expiry_ms >= 0),"
                  " received_ms BIGINT NOT NULL CHECK (received_ms >= 0),"
                  " advert BYTEA NOT NULL CHECK (octet_length(advert) BETWEEN 1 AND 16384)"
                  ");"
                  "CREATE INDEX providers_expiry ON providers (expiry_ms);",
    },
    {
        /* Task records (tasks.h). state: 0 queued, 1 running, 2 succeeded, 3 failed,
         * 4 expired, 5 cancelled (stable values). Partial indexes serve the recovery listing
         * (unfinished, by created_ms, id) and the purge (finished, by updated_ms). */
        .version = 4,
        .name = "tasks",
        .sql_sqlite = "CREATE TABLE tasks ("
                      " id BLOB PRIMARY KEY NOT NULL"
                      "  CHECK (typeof(id) = 'blob' AND length(id) = 16),"
                      " owner BLOB NOT NULL"
                      "  CHECK (typeof(owner) = 'blob' AND length(owner) BETWEEN 1 AND 64),"
                      " model TEXT NOT NULL CHECK (typeof(model) = 'text'"
                      "  AND length(CAST(model AS BLOB)) BETWEEN 1 AND 128),"
                      " priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 7),"
                      " state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 5),"
                      " reason TEXT NOT NULL CHECK (typeof(reason) = 'text'"
                      "  AND length(CAST(reason AS BLOB)) <= 64),"
                      " deadline_ms INTEGER NOT NULL CHECK (deadline_ms >= 0),"
                      " created_ms INTEGER NOT NULL CHECK (created_ms >= 0),"
                      " updated_ms INTEGER NOT NULL CHECK (updated_ms >= 0),"
                      " attempts INTEGER NOT NULL CHECK (attempts BETWEEN 0 AND 4294967295),"
                      " provider BLOB NOT NULL"
                      "  CHECK (typeof(provider) = 'blob' AND length(provider) <= 64),"
                      " charged_amount INTEGER NOT NULL CHECK (charged_amount >= 0),"
                      " charged INTEGER NOT NULL CHECK (charged IN (0, 1)),"
                      " request BLOB NOT NULL"
                      "  CHECK (typeof(request) = 'blob' AND length(request) <= 1048576),"
                      " result BLOB NOT NULL"
                      "  CHECK (typeof(result) = 'blob' AND length(result) <= 1048576)"
                      ");"
                      "CREATE INDEX tasks_unfinished ON tasks (created_ms, id)"
                      " WHERE state IN (0, 1);"
                      "CREATE INDEX tasks_finished ON tasks (updated_ms) WHERE state >= 2;",
        .sql_pg = "CREATE TABLE tasks ("
                  " id BYTEA PRIMARY KEY CHECK (octet_length(id) = 16),"
                  " owner BYTEA NOT NULL CHECK (octet_length(owner) BETWEEN 1 AND 64),"
                  " model TEXT COLLATE \"C\" NOT NULL"
                  "  CHECK (octet_length(model) BETWEEN 1 AND 128),"
                  " priority SMALLINT NOT NULL CHECK (priority BETWEEN 0 AND 7),"
                  " state SMALLINT NOT NULL CHECK (state BETWEEN 0 AND 5),"
                  " reason TEXT COLLATE \"C\" NOT NULL CHECK (octet_length(reason) <= 64),"
                  " deadline_ms BIGINT NOT NULL CHECK (deadline_ms >= 0),"
                  " created_ms BIGINT NOT NULL CHECK (created_ms >= 0),"
                  " updated_ms BIGINT NOT NULL CHECK (updated_ms >= 0),"
                  " attempts BIGINT NOT NULL CHECK (attempts BETWEEN 0 AND 4294967295),"
                  " provider BYTEA NOT NULL CHECK (octet_length(provider) <= 64),"
                  " charged_amount BIGINT NOT NULL CHECK (charged_amount >= 0),"
                  " charged SMALLINT NOT NULL CHECK (charged IN (0, 1)),"
                  " request BYTEA NOT NULL CHECK (octet_length(request) <= 1048576),"
                  " result BYTEA NOT NULL CHECK (octet_length(result) <= 1048576)"
                  ");"
                  "CREATE INDEX tasks_unfinished ON tasks (created_ms, id)"
                  " WHERE state IN (0, 1);"
                  "CREATE INDEX tasks_finished ON tasks (updated_ms) WHERE state >= 2;",
    },
    {
        /* The blockstore (chainstore.h): one info row (genesis hash, height, ledger meta),
         * finalized blocks by height, the ledger's objects by index, transactions by id. */
        .version = 5,
        .name = "chain",
        .sql_sqlite =
            "CREATE TABLE chain_info ("
            " k INTEGER PRIMARY KEY CHECK (k = 0),"
            " genesis BLOB NOT NULL CHECK (typeof(genesis) = 'blob'"
            "  AND length(genesis) = 32),"
            " height INTEGER NOT NULL CHECK (height >= 0),"
            " meta BLOB NOT NULL CHECK (typeof(meta) = 'blob'"
            "  AND length(meta) BETWEEN 1 AND 4096)"
            ");"
            "CREATE TABLE chain_blocks ("
            " height INTEGER PRIMARY KEY CHECK (height >= 1),"
            " view INTEGER NOT NULL CHECK (view >= 1),"
            " id BLOB NOT NULL UNIQUE CHECK (typeof(id) = 'blob' AND length(id) = 32),"
            " parent_view INTEGER NOT NULL CHECK (parent_view >= 0),"
            " parent BLOB NOT NULL CHECK (typeof(parent) = 'blob'"
            "  AND length(parent) = 32),"
            " signer INTEGER NOT NULL CHECK (signer BETWEEN 0 AND 65535),"
            " sig BLOB NOT NULL CHECK (typeof(sig) = 'blob' AND length(sig) = 64),"
            " payload BLOB NOT NULL CHECK (typeof(payload) = 'blob'"
            "  AND length(payload) <= 1048576),"
            " results BLOB NOT NULL CHECK (typeof(results) = 'blob'"
            "  AND length(results) <= 1048576)"
            ");"
            "CREATE TABLE chain_objects ("
            " idx INTEGER PRIMARY KEY CHECK (idx >= 0),"
            " enc BLOB NOT NULL CHECK (typeof(enc) = 'blob'"
            "  AND length(enc) BETWEEN 1 AND 1024)"
            ");"
            "CREATE TABLE chain_txs ("
            " id BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob' AND length(id) = 32),"
            " height INTEGER NOT NULL,"
            " pos INTEGER NOT NULL CHECK (pos >= 0)"
            ") WITHOUT ROWID;",
        .sql_pg = "CREATE TABLE chain_info ("
                  " k SMALLINT PRIMARY KEY CHECK (k = 0),"
                  " genesis BYTEA NOT NULL CHECK (octet_length(genesis) = 32),"
                  " height BIGINT NOT NULL CHECK (height >= 0),"
                  " meta BYTEA NOT NULL CHECK (octet_length(meta) BETWEEN 1 AND 4096)"
                  ");"
                  "CREATE TABLE chain_blocks ("
                  " height BIGINT PRIMARY KEY CHECK (height >= 1),"
                  " view BIGINT NOT NULL CHECK (view >= 1),"
                  " id BYTEA NOT NULL UNIQUE CHECK (octet_length(id) = 32),"
                  " parent_view BIGINT NOT NULL CHECK (parent_view >= 0),"
                  " parent BYTEA NOT NULL CHECK (octet_length(parent) = 32),"
                  " signer INTEGER NOT NULL CHECK (signer BETWEEN 0 AND 65535),"
                  " sig BYTEA NOT NULL CHECK (octet_length(sig) = 64),"
                  " payload BYTEA NOT NULL CHECK (octet_length(payload) <= 1048576),"
                  " results BYTEA NOT NULL CHECK (octet_length(results) <= 1048576)"
                  ");"
                  "CREATE TABLE chain_objects ("
                  " idx BIGINT PRIMARY KEY CHECK (idx >= 0),"
                  " enc BYTEA NOT NULL CHECK (octet_length(enc) BETWEEN 1 AND 1024)"
                  ");"
                  "CREATE TABLE chain_txs ("
                  " id BYTEA PRIMARY KEY CHECK (octet_length(id) = 32),"
                  " height BIGINT NOT NULL,"
                  " pos INTEGER NOT NULL CHECK (pos >= 0)"
                  ");",
    },
    {
        /* Finality proofs of the blocks that end a validator set (chainstore.h): a node that
         * was away across the change catches up to them under the set it knows. */
        .version = 6,
        .name = "chain_proofs",
        .sql_sqlite = "CREATE TABLE chain_proofs ("
                      " height INTEGER PRIMARY KEY CHECK (height >= 1),"
                      " proof BLOB NOT NULL CHECK (typeof(proof) = 'blob'"
                      "  AND length(proof) BETWEEN 1 AND 65536)"
                      ");",
        .sql_pg = "CREATE TABLE chain_proofs ("
                  " height BIGINT PRIMARY KEY CHECK (height >= 1),"
                  " proof BYTEA NOT NULL CHECK (octet_length(proof) BETWEEN 1 AND 65536)"
                  ");",
    },
    {
        /* The gateway's API keys (apikeys.h): the SHA-256 of each secret, never the secret. */
        .version = 7,
        .name = "api_keys",
        .sql_sqlite = "CREATE TABLE api_keys ("
                      " id TEXT PRIMARY KEY CHECK (length(id) = 12),"
                      " hash BLOB NOT NULL CHECK (typeof(hash) = 'blob' AND length(hash) = 32),"
                      " account BLOB NOT NULL CHECK (typeof(account) = 'blob'"
                      "  AND length(account) = 32),"
                      " budget INTEGER NOT NULL CHECK (budget >= 0),"
                      " spent INTEGER NOT NULL CHECK (spent >= 0 AND spent <= budget),"
                      " rate_per_min INTEGER NOT NULL CHECK (rate_per_min BETWEEN 1 AND 1000000),"
                      " created_ms INTEGER NOT NULL CHECK (created_ms >= 0),"
                      " revoked INTEGER NOT NULL CHECK (revoked IN (0, 1))"
                      ") WITHOUT ROWID;",
        .sql_pg = "CREATE TABLE api_keys ("
                  " id TEXT PRIMARY KEY CHECK (length(id) = 12),"
                  " hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),"
                  " account BYTEA NOT NULL CHECK (octet_length(account) = 32),"
                  " budget BIGINT NOT NULL CHECK (budget >= 0),"
                  " spent BIGINT NOT NULL CHECK (spent >= 0 AND spent <= budget),"
                  " rate_per_min INTEGER NOT NULL CHECK (rate_per_min BETWEEN 1 AND 1000000),"
                  " created_ms BIGINT NOT NULL CHECK (created_ms >= 0),"
                  " revoked SMALLINT NOT NULL CHECK (revoked IN (0, 1))"
                  ");",
    },
    {
        /* A key's tasks, newest first (tasks.h: octo_taskstore_list_owner). */
        .version = 8,
        .name = "tasks_by_owner",
        .sql_sqlite = "CREATE INDEX tasks_owner ON tasks (owner, created_ms, id);",
        .sql_pg = "CREATE INDEX tasks_owner ON tasks (owner, created_ms, id);",
    },
    {
        /* Registered agents (agents.h): the canonical manifest, its hash, the registering
         * node's signature; names unique per owner. */
        .version = 9,
        .name = "agents",
        .sql_sqlite = "CREATE TABLE agents ("
                      " id TEXT PRIMARY KEY CHECK (length(id) = 36),"
                      " owner TEXT NOT NULL CHECK (length(owner) BETWEEN 1 AND 64),"
                      " name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
                      " manifest TEXT NOT NULL CHECK (length(manifest) BETWEEN 1 AND 16384),"
                      " manifest_hash BLOB NOT NULL CHECK (typeof(manifest_hash) = 'blob'"
                      "  AND length(manifest_hash) = 32),"
                      " registrar BLOB NOT NULL CHECK (typeof(registrar) = 'blob'"
                      "  AND length(registrar) = 32),"
                      " sig BLOB NOT NULL CHECK (typeof(sig) = 'blob' AND length(sig) = 64),"
                      " created_ms INTEGER NOT NULL CHECK (created_ms >= 0),"
                      " UNIQUE (owner, name)"
                      ") WITHOUT ROWID;",
        .sql_pg = "CREATE TABLE agents ("
                  " id TEXT PRIMARY KEY CHECK (length(id) = 36),"
                  " owner TEXT NOT NULL CHECK (length(owner) BETWEEN 1 AND 64),"
                  " name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
                  " manifest TEXT NOT NULL CHECK (octet_length(manifest) BETWEEN 1 AND 16384),"
                  " manifest_hash BYTEA NOT NULL CHECK (octet_length(manifest_hash) = 32),"
                  " registrar BYTEA NOT NULL CHECK (octet_length(registrar) = 32),"
                  " sig BYTEA NOT NULL CHECK (octet_length(sig) = 64),"
                  " created_ms BIGINT NOT NULL CHECK (created_ms >= 0),"
                  " UNIQUE (owner, name)"
                  ");",
    },
};

const struct octo_store_schema octo_store_node_schema = {
    .name = "node",
    .table = "schema_migrations",
    .migrations = node_migrations,
    .count = OCTO_ARRAY_LEN(node_migrations),
};

/* ---- the engine ---- */

/* Programmer errors in a schema definition abort. */
static void check_schema(const struct octo_store_schema *sc)
{
    OCTO_ASSERT(sc != NULL);
    OCTO_ASSERT(sc->name != NULL);
    OCTO_ASSERT(sc->table != NULL);
    size_t n = strlen(sc->table);
    OCTO_ASSERT(n > 0 && n <= MIGRATE_TABLE_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        OCTO_ASSERT((sc->table[i] >= 'a' && sc->table[i] <= 'z') || sc->table[i] == '_');
    OCTO_ASSERT(sc->count == 0 || sc->migrations != NULL);
    int64_t prev = 0;
    for (size_t i = 0; i < sc->count; i++) {
        const struct octo_store_migration *m = &sc->migrations[i];
        OCTO_ASSERT(m->version > prev);
        OCTO_ASSERT(m->version <= OCTO_STORE_MIGRATION_VERSION_MAX);
        OCTO_ASSERT(m->name != NULL);
        OCTO_ASSERT(m->sql_sqlite != NULL);
        prev = m->version;
    }
}

static int64_t latest_version(const struct octo_store_schema *sc)
{
    return sc->count == 0 ? 0 : sc->migrations[sc->count - 1].version;
}

static int table_exists(struct octo_store *s, const char *table, bool *exists)
{
    const char *sql = s->backend == OCTO_STORE_SQLITE
                          ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
                          : "SELECT count(*) FROM information_schema.tables"
                            " WHERE table_schema = current_schema() AND table_name = $1";
    struct octo_store_value p[] = {octo_store_textn(table, strlen(table))};
    int64_t count = 0;
    int rc = octo_store_query_int64(s, sql, p, 1, &count);
    if (rc < 0)
        return rc;
    *exists = count > 0;
    return 0;
}

/* The recorded version, the version table known to exist. */
static int read_version(struct octo_store *s, const char *table, int64_t *out)
{
    char sql[MIGRATE_SQL_BUF];
    snprintf(sql, sizeof(sql), "SELECT max(version) FROM %s", table);
    int rc = octo_store_query_int64(s, sql, NULL, 0, out);
    if (rc == OCTO_ENOTFOUND) {
        *out = 0; /* an empty table: max() is NULL */
        return 0;
    }
    return rc;
}

int octo_store_schema_version(struct octo_store *s, const struct octo_store_schema *schema,
                              int64_t *out)
{
    OCTO_ASSERT(s != NULL);
    check_schema(schema);
    bool exists = false;
    int rc = table_exists(s, schema->table, &exists);
    if (rc < 0)
        return rc;
    if (!exists) {
        *out = 0;
        return 0;
    }
    return read_version(s, schema->table, out);
}

static int create_version_table(struct octo_store *s, const char *table)
{
    char sql[MIGRATE_SQL_BUF];
    const char *types = s->backend == OCTO_STORE_SQLITE ? "INTEGER" : "BIGINT";
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS %s (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
             " applied_at %s)",
             table, types);
    return octo_store_exec_script(s, sql);
}

/* Prefixes the store's message with which migration failed. */
static void blame(struct octo_store *s, const struct octo_store_schema *sc,
                  const struct octo_store_migration *m)
{
    char saved[OCTO_STORE_ERRMSG_MAX];
    memcpy(saved, s->errmsg, sizeof(saved));
    octo__store_seterr(s, "%s migration %lld (%s) failed: %s", sc->name, (long long)m->version,
                       m->name, saved);
}

/* Body of one migration inside its write transaction. */
static int apply_in_tx(struct octo_store *s, const struct octo_store_schema *sc,
                       const struct octo_store_migration *m, int64_t applied_at_ms)
{
    int64_t current = 0;
    int rc = read_version(s, sc->table, &current);
    if (rc < 0)
        return rc;
    if (current >= m->version)
        return 0; /* another connection applied it meanwhile */
    const char *script = s->backend == OCTO_STORE_SQLITE ? m->sql_sqlite : m->sql_pg;
    if (script == NULL) {
        octo__store_seterr(s, "no SQL for the %s backend", octo_store_backend_name(s));
        return OCTO_EUNSUPPORTED;
    }
    rc = octo_store_exec_script(s, script);
    if (rc < 0)
        return rc;
    char sql[MIGRATE_SQL_BUF];
    snprintf(sql, sizeof(sql), "INSERT INTO %s (version, name, applied_at) VALUES ($1, $2, $3)",
             sc->table);
    struct octo_store_value p[] = {
        octo_store_int64(m->version),
        octo_store_textn(m->name, strlen(m->name)),
        applied_at_ms < 0 ? octo_store_null() : octo_store_int64(applied_at_ms),
    };
    return octo_store_exec(s, sql, p, OCTO_ARRAY_LEN(p), NULL, NULL);
}

static int apply_one(struct octo_store *s, const struct octo_store_schema *sc,
                     const struct octo_store_migration *m, int64_t applied_at_ms)
{
    bool owned = false;
    int rc = octo_store_tx_enter(s, true, &owned);
    if (rc < 0)
        return rc;
    OCTO_ASSERT(owned);
    rc = apply_in_tx(s, sc, m, applied_at_ms);
    rc = octo_store_tx_leave(s, owned, rc);
    if (rc < 0)
        blame(s, sc, m);
    return rc;
}

int octo_store_migrate(struct octo_store *s, const struct octo_store_schema *schema,
                       int64_t applied_at_ms)
{
    OCTO_ASSERT(s != NULL);
    check_schema(schema);
    if (s->tx != OCTO_STORE_TX_NONE) {
        octo__store_seterr(s, "migrate: must run outside a transaction");
        return OCTO_ESTATE;
    }
    int rc = create_version_table(s, schema->table);
    if (rc < 0)
        return rc;
    int64_t current = 0;
    rc = read_version(s, schema->table, &current);
    if (rc < 0)
        return rc;
    int64_t latest = latest_version(schema);
    if (current > latest) {
        octo__store_seterr(s,
                           "the database's %s schema is version %lld, newer than this program's"
                           " latest (%lld): use a newer octo",
                           schema->name, (long long)current, (long long)latest);
        return OCTO_EUNSUPPORTED;
    }
    for (size_t i = 0; i < schema->count; i++) {
        const struct octo_store_migration *m = &schema->migrations[i];
        if (m->version <= current)
            continue;
        rc = apply_one(s, schema, m, applied_at_ms);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int octo_store_migrate_node(struct octo_store *s)
{
    return octo_store_migrate(s, &octo_store_node_schema, -1);
}

int octo_store_migrate_node_at(struct octo_store *s, int64_t now_ms)
{
    return octo_store_migrate(s, &octo_store_node_schema, now_ms);
}
