/*
 * test_durability.c — acknowledged writes survive a crash.
 *
 * A forked child opens the store and writes, one per committed transaction and in turn, a
 * setting, a peer, a new task record, and the charge of the task written just before (the
 * "never charged twice" state must survive too); after each commit returns it writes the
 * write's index to a pipe: the
 * acknowledgement. The parent reads some acknowledgements, then SIGKILLs the child mid-stream
 * (usually in the middle of a transaction or its fsync), drains the acknowledgements already
 * in the pipe, and reopens the database: every acknowledged write must be there with its
 * value, at most one unacknowledged write (the one in flight) may be, and
 * PRAGMA integrity_check and foreign_key_check must pass. Repeated for several kill points.
 *
 * This checks crash consistency of a killed process (WAL + synchronous=FULL + our commit
 * path), not power loss, which a test cannot simulate honestly.
 */
#define _GNU_SOURCE
#include "base/assert.h"
#include "base/buf.h"
#include "base/log.h"
#include "store/peerstore.h"
#include "store/settings.h"
#include "store/tasks.h"
#include "test.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child stops by itself after this many writes (it is killed long before). */
#define DUR_WRITES_MAX 100000

static void key_for(uint32_t i, char *key, size_t size)
{
    snprintf(key, size, "dur.%08u", i);
}

static void id_for(uint32_t i, uint8_t id[8])
{
    id[0] = 0x00;
    id[1] = 0x24;
    id[2] = 0xd0;
    id[3] = 0x0d;
    id[4] = (uint8_t)(i >> 24);
    id[5] = (uint8_t)(i >> 16);
    id[6] = (uint8_t)(i >> 8);
    id[7] = (uint8_t)i;
}

static void task_id_for(uint32_t i, uint8_t id[OCTO_TASKSTORE_ID_LEN])
{
    memset(id, 0x5e, OCTO_TASKSTORE_ID_LEN);
    id[12] = (uint8_t)(i >> 24);
    id[13] = (uint8_t)(i >> 16);
    id[14] = (uint8_t)(i >> 8);
    id[15] = (uint8_t)i;
}

/* Write i % 4 == 2: a new task record with id i. */
static int write_task(struct octo_taskstore *ts, uint32_t i)
{
    struct octo_taskstore_record r;
    memset(&r, 0, sizeof(r));
    task_id_for(i, r.id);
    memcpy(r.owner, "dur", 3);
    r.owner_len = 3;
    snprintf(r.model, sizeof(r.model), "m");
    r.state = OCTO_TASKSTORE_RUNNING;
    r.created_ms = 1000 + (uint64_t)i;
    r.updated_ms = r.created_ms;
    r.deadline_ms = r.created_ms + 1000;
    r.request = (const uint8_t *)&i;
    r.request_len = sizeof(i);
    return octo_taskstore_insert(ts, &r, NULL);
}

static int write_one(struct octo_store *s, struct octo_peerstore *ps, struct octo_taskstore *ts,
                     uint32_t i)
{
    if (i % 4 == 0) {
        char key[32];
        key_for(i, key, sizeof(key));
        return octo_settings_set(s, key, &i, sizeof(i));
    }
    if (i % 4 == 2)
        return write_task(ts, i);
    if (i % 4 == 3) {
        /* Charge the task written by i - 1, with amount i. */
        uint8_t id[OCTO_TASKSTORE_ID_LEN];
        task_id_for(i - 1, id);
        return octo_taskstore_charge(ts, id, &i, sizeof(i), i, 5000 + (uint64_t)i);
    }
    uint8_t id[8];
    id_for(i, id);
    uint8_t addr[] = {0x04, 127, 0, 0, 1, 0x06, (uint8_t)(i >> 8), (uint8_t)i};
    struct octo_peer_addr a = {addr, sizeof(addr)};
    const char *protos[] = {"/ipfs/ping/1.0.0"};
    struct octo_peerstore_entry r = {
        .id = id,
        .id_len = sizeof(id),
        .agent = "durability",
        .addrs = &a,
        .addr_count = 1,
        .protocols = protos,
        .protocol_count = 1,
        .last_seen_ms = 1000 + (int64_t)i,
    };
    return octo_peerstore_put(ps, &r);
}

/* The child: never returns. */
static void child_run(const char *path, int wfd)
{
    struct octo_store *s = NULL;
    if (octo_store_open_sqlite(&s, path, NULL) < 0)
        _exit(2);
    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 0);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    for (uint32_t i = 0; i < DUR_WRITES_MAX; i++) {
        if (write_one(s, &ps, &ts, i) < 0)
            _exit(3);
        if (write(wfd, &i, sizeof(i)) != (ssize_t)sizeof(i))
            _exit(4);
    }
    _exit(0);
}

struct text_out {
    char s[64];
};

static int text_cb(const struct octo_store_row *row, void *ctx)
{
    struct text_out *t = ctx;
    size_t len = 0;
    const char *p = octo_store_row_text(row, 0, &len);
    if (p == NULL || len >= sizeof(t->s))
        return OCTO_EINVAL;
    memcpy(t->s, p, len);
    t->s[len] = '\0';
    return 1;
}

static int count_rows(const struct octo_store_row *row, void *ctx)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

/* Checks the reopened database against the last acknowledged index. */
static void verify(const char *path, int64_t last_acked)
{
    struct octo_store *s = NULL;
    CHECK_OK(octo_store_open_sqlite(&s, path, NULL));
    struct text_out ic = {{0}};
    CHECK_OK(octo_store_exec(s, "PRAGMA integrity_check", NULL, 0, text_cb, &ic));
    CHECK_STR(ic.s, "ok");
    int fk_problems = 0;
    CHECK_OK(octo_store_exec(s, "PRAGMA foreign_key_check", NULL, 0, count_rows, &fk_problems));
    CHECK_EQ_INT(fk_problems, 0);

    struct octo_peerstore ps;
    octo_peerstore_init(&ps, s, 0);
    struct octo_buf b;
    octo_buf_init(&b, 64);
    struct octo_arena arena;
    octo_arena_init(&arena, 4096, 1 << 20);
    struct octo_taskstore ts;
    octo_taskstore_init(&ts, s);
    for (int64_t i = 0; i <= last_acked; i++) {
        uint32_t u = (uint32_t)i;
        if (u % 4 == 0) {
            char key[32];
            key_for(u, key, sizeof(key));
            int rc = octo_settings_get(s, key, &b);
            if (rc < 0)
                fprintf(stderr, "acknowledged setting %u lost\n", u);
            CHECK_OK(rc);
            CHECK_EQ_U64(b.len, sizeof(u));
            CHECK_MEM(b.data, &u, sizeof(u));
        } else if (u % 4 == 1) {
            uint8_t id[8];
            id_for(u, id);
            struct octo_peerstore_entry out;
            int rc = octo_peerstore_get(&ps, id, sizeof(id), &arena, &out);
            if (rc < 0)
                fprintf(stderr, "acknowledged peer %u lost\n", u);
            CHECK_OK(rc);
            CHECK_EQ_INT(out.last_seen_ms, 1000 + i);
            CHECK_EQ_U64(out.addr_count, 1);
            CHECK_EQ_U64(out.protocol_count, 1);
            octo_arena_reset(&arena);
        } else {
            /* 2: the task exists with its request; 3: the task of u - 1 is charged. */
            uint32_t t = u % 4 == 2 ? u : u - 1;
            uint8_t id[OCTO_TASKSTORE_ID_LEN];
            task_id_for(t, id);
            struct octo_taskstore_record out;
            int rc = octo_taskstore_get(&ts, id, &b, NULL, &out);
            if (rc < 0)
                fprintf(stderr, "acknowledged task %u lost\n", t);
            CHECK_OK(rc);
            CHECK_EQ_U64(out.request_len, sizeof(t));
            CHECK_MEM(out.request, &t, sizeof(t));
            CHECK_EQ_INT(out.state, OCTO_TASKSTORE_RUNNING);
            if (u % 4 == 3) {
                if (!out.charged)
                    fprintf(stderr, "acknowledged charge %u lost\n", u);
                CHECK(out.charged);
                CHECK_EQ_U64(out.charged_amount, u);
                /* And it is still refused a second time after the crash. */
                CHECK_ERR(octo_taskstore_charge(&ts, id, NULL, 0, 1, 1), OCTO_EEXIST);
            }
        }
    }
    /* Nothing beyond the write in flight. */
    int64_t settings = 0;
    int64_t peers = 0;
    int64_t tasks = 0;
    int64_t charged = 0;
    CHECK_OK(octo_store_query_int64(s, "SELECT count(*) FROM settings", NULL, 0, &settings));
    CHECK_OK(octo_store_query_int64(s, "SELECT count(*) FROM peers", NULL, 0, &peers));
    CHECK_OK(octo_store_query_int64(s, "SELECT count(*) FROM tasks", NULL, 0, &tasks));
    CHECK_OK(octo_store_query_int64(s, "SELECT count(*) FROM tasks WHERE charged = 1", NULL, 0,
                                    &charged));
    int64_t written = settings + peers + tasks + charged;
    CHECK(written >= last_acked + 1);
    CHECK(written <= last_acked + 2);
    /* The recovered database takes writes. */
    CHECK_OK(octo_settings_set(s, "after.crash", "1", 1));
    octo_arena_deinit(&arena);
    octo_buf_deinit(&b);
    octo_store_close(s);
}

static void crash_at(unsigned acks_before_kill, unsigned delay_us)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/db.sqlite", octo_test_tmpdir("durability"));
    struct octo_store *s = NULL;
    CHECK_OK(octo_store_open_sqlite(&s, path, NULL));
    CHECK_OK(octo_store_migrate_node(s));
    octo_store_close(s); /* no connection crosses the fork */

    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_run(path, fds[1]);
    }
    close(fds[1]);
    int64_t last = -1;
    uint32_t ack = 0;
    for (unsigned n = 0; n < acks_before_kill; n++) {
        if (octo_test_read_full(fds[0], &ack, sizeof(ack)) != 1)
            break;
        last = ack;
    }
    /* A delay lets the child run on, so the kill lands at a less predictable point of its
     * write path and more acknowledgements are left in the pipe. */
    if (delay_us > 0)
        usleep(delay_us);
    kill(pid, SIGKILL);
    int status = 0;
    pid_t w = waitpid(pid, &status, 0);
    /* Acknowledgements sent before the kill landed are acknowledged writes too. */
    while (octo_test_read_full(fds[0], &ack, sizeof(ack)) == 1)
        last = ack;
    close(fds[0]);
    CHECK_EQ_INT(w, pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(last >= (int64_t)acks_before_kill - 1);
    verify(path, last);
}

static void test_kill_points(void)
{
    static const struct {
        unsigned acks;
        unsigned delay_us;
    } points[] = {{1, 0}, {2, 0}, {5, 300}, {13, 0}, {30, 1000}, {64, 0}, {3, 3000}, {40, 50}};
    for (size_t i = 0; i < OCTO_ARRAY_LEN(points); i++) {
        crash_at(points[i].acks, points[i].delay_us);
        if (octo_test_failed) {
            fprintf(stderr, "  (kill after %u acknowledgements + %u us)\n", points[i].acks,
                    points[i].delay_us);
            return;
        }
    }
}

int main(void)
{
    struct octo_log_config lc = {.level = OCTO_LOG_OFF};
    octo_log_configure(&lc);
    OCTO_RUN(test_kill_points);
    return octo_test_finish();
}
