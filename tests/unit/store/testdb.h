/*
 * testdb.h — runs the backend-independent store tests against every configured backend:
 * SQLite always, PostgreSQL when OCTO_TEST_PG holds a libpq connection string in key=value
 * form (tests/pg/run_pg_tests.sh sets it). For PostgreSQL one database named
 * octo_t_<program>_<pid> is created at start through a maintenance connection (the database
 * OCTO_TEST_PG names) and dropped at the end; each test gets it with an empty public schema.
 */
#ifndef OCTO_TESTDB_H
#define OCTO_TESTDB_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Creates the PostgreSQL test database when OCTO_TEST_PG is set. Returns 0, or -1 after
 * printing why (the program should then fail). */
int tdb_init(const char *prog);
/* Drops the PostgreSQL test database (if any). */
void tdb_done(void);

/* Runs fn once per backend as "name[sqlite]" / "name[postgres]". */
void tdb_run(const char *name, void (*fn)(void));
#define TDB_RUN(fn) tdb_run(#fn, fn)

/* The backend of the test now running. */
bool tdb_is_pg(void);
/* sqlite_sql or pg_sql, for the backend of the test now running. */
const char *tdb_sql(const char *sqlite_sql, const char *pg_sql);

/* Opens a fresh, empty database (SQLite: a new file under a new temporary directory named
 * after tag; PostgreSQL: the test database with its public schema recreated). */
int tdb_open_fresh(struct octo_store **out, const char *tag);
/* tdb_open_fresh, then the node schema's migrations; NULL on failure (nothing left open). */
struct octo_store *tdb_open_migrated(const char *tag);
/* Opens another connection to the database of the last tdb_open_fresh; busy_ms 0 = default. */
int tdb_open_again(struct octo_store **out, uint32_t busy_ms);

#endif
