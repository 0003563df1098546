/*
 * canary.c — Privacy Containers end to end, with real processes: the proof that a PRIVATE or
 * CONFIDENTIAL payload is in plaintext only inside the executing sandbox.
 *
 *   privacy_canary CASE OCTO_WORKER_PATH
 *
 * Three processes on the host, as in production: this program is the client (the data owner);
 * a forked provider node runs octo_privacy_serve (the sandbox with octo-worker, a software
 * attester, a blob store holding the accepted envelope, a log file); a forked relay carries the
 * bytes between them and records every one of them in a capture file (the network capture).
 * The canary — 32 random bytes, hex — is drawn only after both forks, so neither ever had it by
 * inheritance.
 *
 * The canary cases check, while the command inside the sandbox holds the canary (it sleeps
 * after echoing it) and again at the end:
 *   - the memory of every process on the host outside the sandbox's pid namespace, except this
 *     client, does not contain it (resident readable mappings via /proc/PID/mem): the provider,
 *     the relay, ctest, everything;
 *   - at least one process inside the sandbox does (so the scanner is shown to work);
 *   - no file of the node (log, stderr, blob store, its database) and not the wire capture
 *     contains it;
 *   - the client gets it back, opened from the sealed result.
 * The refusal cases check that the exchange fails closed: PRIVATE to a node the client does not
 * own and that has no TEE is never sent; a CONFIDENTIAL task whose ACL does not name the node
 * is refused by the provider, and the worker runs nothing.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "crypto/ident.h"
#include "crypto/random.h"
#include "exec/attest.h"
#include "exec/blob.h"
#include "exec/privacy.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCAN_REGION_MAX (UINT64_C(1) << 30) /* larger mappings are reservations (ASan) */
#define SCAN_CHUNK (1u << 20)
#define CANARY_HEX 64

static const char *g_worker;
static char g_home[512];

/* What the scanners look for: the canary, its hex and base64 forms, the client's reply key. */
#define NEEDLES_MAX 6
#define NEEDLE_MAX 160
struct needles {
    uint8_t bytes[NEEDLES_MAX][NEEDLE_MAX];
    size_t len[NEEDLES_MAX];
    size_t count;
};

static void needle_add(struct needles *n, const void *p, size_t len)
{
    OCTO_ASSERT(n->count < NEEDLES_MAX && len <= NEEDLE_MAX);
    memcpy(n->bytes[n->count], p, len);
    n->len[n->count++] = len;
}

/* The canary as ASCII, as hex of that ASCII (its first half), as base64 at each of the three
 * alignments (the middle, where the alignment does not matter), and the reply key. */
static void needles_init(struct needles *n, const char *canary, const uint8_t *reply_sk)
{
    memset(n, 0, sizeof(*n));
    size_t len = strlen(canary);
    needle_add(n, canary, len);
    char hex[NEEDLE_MAX + 1];
    OCTO_ASSERT(octo_hex_encode((const uint8_t *)canary, len / 2, hex, sizeof(hex)) > 0);
    needle_add(n, hex, len);
    for (size_t off = 0; off < 3; off++) {
        char b64[NEEDLE_MAX];
        sodium_bin2base64(b64, sizeof(b64), (const uint8_t *)canary + off, len - off,
                          sodium_base64_VARIANT_ORIGINAL);
        size_t b = strlen(b64);
        needle_add(n, b64 + 4, b - 12);
    }
    if (reply_sk != NULL)
        needle_add(n, reply_sk, OCTO_X25519_SK_LEN);
    else
        n->count = 5;
}

static void needles_wipe(struct needles *n)
{
    octo_wipe(n, sizeof(*n));
}

struct scan_stats {
    int outside_procs; /* processes scanned outside the sandbox */
    int outside_hits;  /* of those, holding a needle (must stay 0) */
    int inside_procs;  /* processes of the executing sandbox */
    int inside_hits;   /* of those, holding the canary */
    pid_t first_hit;
    bool saw_provider, saw_relay; /* their memory was read */
};

/* ---- memory scanning ---- */

static bool buf_has(const uint8_t *buf, size_t len, const struct needles *n, size_t *which)
{
    for (size_t i = 0; i < n->count; i++) {
        if (memmem(buf, len, n->bytes[i], n->len[i]) != NULL) {
            *which = i;
            return true;
        }
    }
    return false;
}

static bool mem_contains(int mem, uint64_t a, uint64_t b, const struct needles *n, uint8_t *buf)
{
    bool found = false;
    for (uint64_t at = a; at < b && !found;) {
        size_t want = (size_t)(b - at < SCAN_CHUNK ? b - at : SCAN_CHUNK);
        ssize_t got = pread(mem, buf, want, (off_t)at);
        if (got <= 0)
            break;
        size_t which = 0;
        found = buf_has(buf, (size_t)got, n, &which);
        if (at + (uint64_t)got >= b)
            break;
        at += (size_t)got > NEEDLE_MAX ? (uint64_t)got - NEEDLE_MAX : (uint64_t)got; /* overlap */
    }
    octo_wipe(buf, SCAN_CHUNK); /* this scanner must not become a holder itself */
    return found;
}

/* Whether pid's memory holds a needle; -1 when it cannot be read (gone, kernel thread). Scans
 * the readable mappings that have resident pages (/proc/PID/smaps: a header line per mapping,
 * then its fields, Rss among them). No swap on the test machines: nothing is paged out. */
static int proc_contains(pid_t pid, const struct needles *n, uint8_t *buf)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
    FILE *smaps = fopen(path, "r");
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int mem = open(path, O_RDONLY | O_CLOEXEC);
    int found = smaps != NULL && mem >= 0 ? 0 : -1;
    char line[512];
    unsigned long a = 0, b = 0;
    bool candidate = false;
    while (found == 0 && fgets(line, sizeof(line), smaps) != NULL) {
        char perms[8] = "";
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3) {
            candidate = perms[0] == 'r' && b - a <= SCAN_REGION_MAX &&
                        strstr(line, "[vvar]") == NULL && strstr(line, "[vsyscall]") == NULL;
            continue;
        }
        if (candidate && strncmp(line, "Rss:", 4) == 0) {
            candidate = false;
            if (strtoul(line + 4, NULL, 10) > 0 && mem_contains(mem, a, b, n, buf))
                found = 1;
        }
    }
    if (smaps != NULL)
        fclose(smaps);
    if (mem >= 0)
        close(mem);
    return found;
}

static bool pidns_of(pid_t pid, struct stat *st)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
    return stat(path, st) == 0;
}

static pid_t ppid_of(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    pid_t pp = -1;
    if (fgets(line, sizeof(line), f) != NULL) {
        const char *close_paren = strrchr(line, ')');
        int v = 0;
        if (close_paren != NULL && sscanf(close_paren + 1, " %*c %d", &v) == 1)
            pp = v;
    }
    fclose(f);
    return pp;
}

/* The pid namespace of the executing sandbox: that of the provider's child (the sandbox's init)
 * living in another namespace than ours. false while there is none. */
static bool sandbox_ns(pid_t provider, struct stat *out)
{
    struct stat mine;
    OCTO_ASSERT(pidns_of(getpid(), &mine));
    DIR *d = opendir("/proc");
    OCTO_ASSERT(d != NULL);
    struct dirent *de;
    bool found = false;
    while (!found && (de = readdir(d)) != NULL) {
        char *end = NULL;
        long pid = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end != '\0' || ppid_of((pid_t)pid) != provider)
            continue;
        struct stat st;
        if (pidns_of((pid_t)pid, &st) && (st.st_ino != mine.st_ino || st.st_dev != mine.st_dev)) {
            *out = st;
            found = true;
        }
    }
    closedir(d);
    return found;
}

/* Scans every process but this client. Inside = in the executing sandbox's pid namespace (the
 * one place the canary may be); any other process, in any namespace, is outside. */
static void scan_all(const struct needles *n, pid_t provider, pid_t relay, struct scan_stats *s)
{
    struct stat sbx = {0};
    bool have_sbx = sandbox_ns(provider, &sbx);
    uint8_t *buf = octo_malloc(SCAN_CHUNK);
    OCTO_ASSERT(buf != NULL);
    DIR *d = opendir("/proc");
    OCTO_ASSERT(d != NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end = NULL;
        long pid = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end != '\0' || pid == (long)getpid())
            continue;
        struct stat st;
        bool inside = have_sbx && pidns_of((pid_t)pid, &st) && st.st_ino == sbx.st_ino &&
                      st.st_dev == sbx.st_dev;
        int hit = proc_contains((pid_t)pid, n, buf);
        if (hit < 0)
            continue;
        if (inside) {
            s->inside_procs++;
            s->inside_hits += hit;
            continue;
        }
        s->outside_procs++;
        s->outside_hits += hit;
        s->saw_provider |= pid == (long)provider;
        s->saw_relay |= pid == (long)relay;
        if (hit && s->first_hit == 0)
            s->first_hit = (pid_t)pid;
    }
    closedir(d);
    octo_free(buf);
}

/* ---- file scanning ---- */

static int file_contains(const char *path, const struct needles *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    int hit = 0;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        uint8_t *buf = octo_malloc((size_t)st.st_size);
        OCTO_ASSERT(buf != NULL);
        ssize_t got = read(fd, buf, (size_t)st.st_size);
        size_t which = 0;
        hit = got > 0 && buf_has(buf, (size_t)got, n, &which);
        octo_wipe(buf, (size_t)st.st_size);
        octo_free(buf);
    }
    close(fd);
    return hit;
}

/* Counts files under dir holding a needle; *files receives the number scanned. */
static int dir_hits(const char *dir, const struct needles *n, int *files)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int hits = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[1024];
        OCTO_ASSERT(snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path));
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            hits += dir_hits(path, n, files);
        } else if (S_ISREG(st.st_mode)) {
            (*files)++;
            hits += file_contains(path, n);
        }
    }
    closedir(d);
    return hits;
}

/* ---- the provider and the relay ---- */

struct node_state {
    struct octo_blob_store blobs;
    int accepted;
};

static int on_accept(void *ctx, const struct octo_envelope *task, const uint8_t *env, size_t len)
{
    struct node_state *ns = ctx;
    struct octo_blob_cid cid;
    ns->accepted++;
    return octo_blob_put(&ns->blobs, (enum octo_blob_class)task->cls, env, len, &cid);
}

static const char *const g_cmd[] = {
    "/bin/sh", "-c", "read -r x; printf 'got:%s\\n' \"$x\"; printf 'err:%s\\n' \"$x\" >&2; sleep 4",
    NULL};

/* The provider node: serves one task, writes its report, tells the client it is done (a byte
 * on done_fd), then stays alive — its memory is scanned after the task too — until the client
 * closes ctl_fd. */
static _Noreturn void provider_main(int fd, const struct octo_identity *node, int done_fd,
                                    int ctl_fd)
{
    signal(SIGPIPE, SIG_IGN);
    char path[600];
    snprintf(path, sizeof(path), "%s/node.stderr", g_home);
    int errfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (errfd >= 0)
        dup2(errfd, 2);
    snprintf(path, sizeof(path), "%s/node.log", g_home);
    FILE *log = fopen(path, "w");
    struct octo_log_config lc = {.level = OCTO_LOG_TRACE, .format = OCTO_LOG_PLAIN, .sink = log};
    octo_log_configure(&lc);
    struct node_state ns = {.accepted = 0};
    snprintf(path, sizeof(path), "%s/blobs", g_home);
    if (octo_blob_init(&ns.blobs, path, NULL) != 0)
        _exit(10);
    struct octo_att_soft soft;
    if (octo_att_soft_init(&soft, node, "canary test node", NULL) != 0)
        _exit(11);
    struct octo_attester att = {&octo_att_soft_ops, &soft};
    struct octo_privacy_provider p = {.node = node,
                                      .attester = &att,
                                      .worker_exe = g_worker,
                                      .limits = {.wall_ms = 20000},
                                      .io_timeout_ms = 10000,
                                      .on_accept = on_accept,
                                      .ctx = &ns};
    struct octo_privacy_report rep;
    int rc = octo_privacy_serve(&p, fd, fd, g_cmd, &rep);
    OCTO_INFO("served: rc %d accepted %d result %d outcome %s exit %d reason '%s'", rc,
              (int)rep.accepted, (int)rep.result_sent,
              octo_sandbox_outcome_name(rep.sandbox.outcome), rep.sandbox.exit_code, rep.reason);
    snprintf(path, sizeof(path), "%s/report", g_home);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fprintf(f, "%d %d %d %d %d %d\n", rc, (int)rep.accepted, (int)rep.result_sent,
                (int)rep.sandbox.outcome, rep.sandbox.exit_code, ns.accepted);
        fclose(f);
    }
    if (log != NULL)
        fflush(log);
    if (write(done_fd, "d", 1) != 1) {
        /* the client already hung up (a refusal case): nothing waits for us */
    }
    char b;
    while (read(ctl_fd, &b, 1) > 0) {
    }
    octo_att_soft_deinit(&soft);
    octo_blob_deinit(&ns.blobs);
    if (log != NULL)
        fclose(log);
    _exit(0);
}

/* Forwards bytes both ways between a and b, appending each to the capture file, until both
 * directions have closed. */
static _Noreturn void relay_main(int a, int b)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/wire.capture", g_home);
    int cap = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int from[2] = {a, b}, to[2] = {b, a};
    bool open_[2] = {true, true};
    uint8_t buf[65536];
    while (open_[0] || open_[1]) {
        struct pollfd pf[2] = {{open_[0] ? a : -1, POLLIN, 0}, {open_[1] ? b : -1, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (!open_[i] || pf[i].revents == 0)
                continue;
            ssize_t n = read(from[i], buf, sizeof(buf));
            if (n <= 0) {
                open_[i] = false;
                shutdown(to[i], SHUT_WR);
                continue;
            }
            if (cap >= 0 && write(cap, buf, (size_t)n) != n)
                _exit(12);
            if (octo_privacy_write_all(to[i], buf, (size_t)n, 10000) != 0)
                open_[i] = false;
        }
    }
    _exit(0);
}

struct world {
    struct octo_identity client, node, other;
    int fd;      /* the client's end */
    int done_fd; /* the provider writes a byte here once it has served */
    int ctl_fd;  /* closing it lets the provider exit */
    pid_t provider, relay;
};

static void world_start(struct world *w)
{
    CHECK_OK(octo_identity_generate(&w->client));
    CHECK_OK(octo_identity_generate(&w->node));
    CHECK_OK(octo_identity_generate(&w->other));
    int cr[2], rp[2], done[2], ctl[2];
    OCTO_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cr) == 0);
    OCTO_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rp) == 0);
    OCTO_ASSERT(pipe2(done, O_CLOEXEC) == 0 && pipe2(ctl, O_CLOEXEC) == 0);
    fflush(NULL);
    w->provider = fork();
    OCTO_ASSERT(w->provider >= 0);
    if (w->provider == 0) {
        close(cr[0]);
        close(cr[1]);
        close(rp[0]);
        close(done[0]);
        close(ctl[1]);
        provider_main(rp[1], &w->node, done[1], ctl[0]);
    }
    w->relay = fork();
    OCTO_ASSERT(w->relay >= 0);
    if (w->relay == 0) {
        close(cr[0]);
        close(rp[1]);
        close(done[0]);
        close(done[1]);
        close(ctl[0]);
        close(ctl[1]);
        relay_main(cr[1], rp[0]);
    }
    close(cr[1]);
    close(rp[0]);
    close(rp[1]);
    close(done[1]);
    close(ctl[0]);
    w->fd = cr[0];
    w->done_fd = done[0];
    w->ctl_fd = ctl[1];
}

/* Waits until the provider has served (its report is written); it stays alive. */
static bool world_served(struct world *w)
{
    struct pollfd pf = {w->done_fd, POLLIN, 0};
    char b;
    return poll(&pf, 1, 30000) == 1 && read(w->done_fd, &b, 1) == 1;
}

/* Lets the helpers exit and waits for them; reads the provider's report line into r[6]. */
static void world_end(struct world *w, int r[6])
{
    close(w->fd);
    close(w->ctl_fd);
    close(w->done_fd);
    int st = 0;
    OCTO_ASSERT(waitpid(w->provider, &st, 0) == w->provider);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    OCTO_ASSERT(waitpid(w->relay, &st, 0) == w->relay);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/report", g_home);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    memset(r, -1, 6 * sizeof(int));
    if (f != NULL) {
        CHECK_EQ_INT(fscanf(f, "%d %d %d %d %d %d", &r[0], &r[1], &r[2], &r[3], &r[4], &r[5]), 6);
        fclose(f);
    }
    octo_identity_deinit(&w->client);
    octo_identity_deinit(&w->node);
    octo_identity_deinit(&w->other);
}

/* Starts a client of class cls on w: HELLO out, KEY in (body/len point into io). */
static bool client_start(struct world *w, struct octo_privacy_client *c, enum octo_env_class cls,
                         struct octo_buf *io, const uint8_t **body, size_t *len)
{
    octo_buf_init(io, OCTO_FRAME_HEAD_LEN + OCTO_FRAME_BODY_MAX);
    if (octo_privacy_client_init(c, &w->client, cls, NULL) != 0 ||
        octo_privacy_client_hello(c, io) != 0 ||
        octo_privacy_write_all(w->fd, io->data, io->len, 10000) != 0)
        return false;
    return octo_privacy_read_frame(w->fd, OCTO_PRIVACY_KEY_MAX, 10000, io, body, len) ==
           OCTO_FRAME_KEY;
}

/* Sends payload as the client's TASK on w (io held the KEY frame: it is reused). */
static int client_send_task(struct world *w, const struct octo_privacy_client *c,
                            const struct octo_privacy_policy *pol, const char *payload, size_t n,
                            struct octo_buf *io)
{
    octo_buf_reset(io);
    int rc = octo_privacy_client_task(c, pol, (const uint8_t *)payload, n, io);
    if (rc == 0)
        rc = octo_privacy_write_all(w->fd, io->data, io->len, 10000);
    octo_buf_reset(io);
    return rc;
}

/* The anchors the client trusts for software-unverified evidence: the node's key. */
struct trust {
    struct octo_trust_anchor item;
    struct octo_trust_anchors anchors;
    struct octo_privacy_policy pol;
};

static void trust_init(struct trust *t, const struct world *w)
{
    memset(t, 0, sizeof(*t));
    t->item = (struct octo_trust_anchor){.type = OCTO_EV_SOFTWARE_UNVERIFIED,
                                         .kind = OCTO_ANCHOR_ED25519,
                                         .data = w->node.pub.bytes,
                                         .len = OCTO_ED25519_PK_LEN,
                                         .label = "the provider's node key"};
    t->anchors.items = &t->item;
    t->anchors.count = 1;
    t->pol.anchors[OCTO_EV_SOFTWARE_UNVERIFIED] = &t->anchors;
    t->pol.now_s = (int64_t)time(NULL);
}

/* Runs one sealed canary task of class cls and checks every place the canary must not be. */
static void canary_case(enum octo_env_class cls)
{
    struct world w;
    world_start(&w);
    struct trust t;
    trust_init(&t, &w);
    struct octo_pubkey acl[2] = {w.node.pub, w.other.pub};
    t.pol.command = g_cmd; /* the client pins the command its data goes to */
    if (cls == OCTO_ENV_PRIVATE) {
        t.pol.owned = &w.node.pub; /* the owner's own node: PRIVATE without a TEE */
        t.pol.owned_count = 1;
    } else {
        t.pol.acl = acl;
        t.pol.acl_count = 2;
    }
    struct octo_privacy_client c;
    struct octo_buf io;
    const uint8_t *body = NULL;
    size_t len = 0;
    CHECK(client_start(&w, &c, cls, &io, &body, &len));
    char why[160];
    int admit = octo_privacy_client_on_key(&c, &t.pol, body, len, why, sizeof(why));
    CHECK(c.att.verified); /* the software evidence verified and is bound to the worker key */
    CHECK(!c.att.hardware_rooted);
    if (cls == OCTO_ENV_PRIVATE) {
        CHECK_OK(admit);
    } else {
        /* CONFIDENTIAL needs a TEE, which this host does not have: the client refuses here.
         * The rest of this case stands for a client that verified TEE evidence (the TEE
         * verifiers are tested on synthetic evidence in test_attest_tee): what it checks is
         * the path of the bytes, not the admission. */
        CHECK_ERR(admit, OCTO_EPERM);
        CHECK(strstr(why, "TEE") != NULL);
        c.admitted = true;
    }

    /* The secret, drawn only now: no other process can have inherited it. */
    uint8_t raw[CANARY_HEX / 2];
    char canary[CANARY_HEX + 2];
    octo_random_bytes(raw, sizeof(raw));
    CHECK(octo_hex_encode(raw, sizeof(raw), canary, sizeof(canary)) == CANARY_HEX);
    octo_wipe(raw, sizeof(raw));
    canary[CANARY_HEX] = '\n';
    canary[CANARY_HEX + 1] = '\0';
    CHECK_OK(client_send_task(&w, &c, &t.pol, canary, CANARY_HEX + 1, &io));
    canary[CANARY_HEX] = '\0';
    struct needles nd;
    needles_init(&nd, canary, c.reply.sk);

    /* Scan while the command holds it (it sleeps after echoing), until the result arrives. */
    struct scan_stats during = {0};
    int type = 0;
    for (int round = 0; round < 80; round++) {
        struct pollfd pf = {w.fd, POLLIN, 0};
        if (poll(&pf, 1, 100) > 0)
            break;
        scan_all(&nd, w.provider, w.relay, &during);
    }
    type = octo_privacy_read_frame(w.fd, OCTO_FRAME_BODY_MAX, 20000, &io, &body, &len);
    CHECK_EQ_INT(type, OCTO_FRAME_RESULT);
    struct octo_privacy_outcome out;
    struct octo_buf so, se;
    octo_buf_init_secret(&so, 1 << 20);
    octo_buf_init_secret(&se, 1 << 20);
    CHECK_OK(octo_privacy_client_on_result(&c, body, len, &out, &so, &se));
    CHECK(out.have_result);
    CHECK_EQ_INT(out.how, OCTO_ENV_HOW_EXITED);
    CHECK_EQ_INT(out.code, 0);
    CHECK_EQ_INT(out.sandbox, OCTO_SANDBOX_EXITED);
    CHECK_EQ_INT(out.worker_exit, 0);
    char expect[CANARY_HEX + 16];
    snprintf(expect, sizeof(expect), "got:%s\n", canary);
    CHECK(so.len == strlen(expect) && memcmp(so.data, expect, so.len) == 0);
    snprintf(expect, sizeof(expect), "err:%s\n", canary);
    CHECK(se.len == strlen(expect) && memcmp(se.data, expect, se.len) == 0);
    octo_buf_deinit(&so);
    octo_buf_deinit(&se);

    /* After the task, with the provider and the relay still alive: memory and files. */
    CHECK(world_served(&w));
    struct scan_stats after = {0};
    scan_all(&nd, w.provider, w.relay, &after);
    int files = 0;
    int file_hits = dir_hits(g_home, &nd, &files);
    needles_wipe(&nd);
    int r[6];
    world_end(&w, r);
    CHECK_EQ_INT(r[0], 0); /* serve's return */
    CHECK_EQ_INT(r[1], 1); /* accepted */
    CHECK_EQ_INT(r[2], 1); /* result sent */
    CHECK_EQ_INT(r[5], 1); /* the envelope went to the blob store */
    printf("scans during the run: %d processes outside the sandbox (%d holding the canary), %d "
           "inside (%d holding it); after: %d outside (%d); node files scanned: %d (%d "
           "holding it)\n",
           during.outside_procs, during.outside_hits, during.inside_procs, during.inside_hits,
           after.outside_procs, after.outside_hits, files, file_hits);
    if (during.outside_hits > 0)
        printf("first process holding the canary: pid %d\n", (int)during.first_hit);
    CHECK(during.saw_provider && during.saw_relay); /* both were read, during and after */
    CHECK(after.saw_provider && after.saw_relay);
    CHECK_EQ_INT(during.outside_hits, 0);
    CHECK(during.inside_hits > 0); /* the scanner finds it where it is */
    CHECK_EQ_INT(after.outside_hits, 0);
    CHECK(files >= 4); /* node.log, node.stderr, wire.capture, the blob, its key, report */
    CHECK_EQ_INT(file_hits, 0);
    octo_wipe(canary, sizeof(canary));
    octo_buf_deinit(&io);
    octo_privacy_client_deinit(&c);
}

static void test_private_canary(void)
{
    canary_case(OCTO_ENV_PRIVATE);
}

static void test_confidential_canary(void)
{
    canary_case(OCTO_ENV_CONFIDENTIAL);
}

/* PRIVATE to a software-only node the client does not own: refused before any payload is
 * sealed; the worker gets no task and runs nothing. */
static void test_private_refused(void)
{
    struct world w;
    world_start(&w);
    struct trust t;
    trust_init(&t, &w);
    struct octo_privacy_client c;
    struct octo_buf io;
    const uint8_t *body = NULL;
    size_t len = 0;
    CHECK(client_start(&w, &c, OCTO_ENV_PRIVATE, &io, &body, &len));
    char why[160];
    CHECK_ERR(octo_privacy_client_on_key(&c, &t.pol, body, len, why, sizeof(why)), OCTO_EPERM);
    CHECK(strstr(why, "owner") != NULL);
    octo_buf_reset(&io);
    CHECK_ERR(octo_privacy_client_task(&c, &t.pol, (const uint8_t *)"x", 1, &io), OCTO_ESTATE);
    octo_buf_deinit(&io);
    octo_privacy_client_deinit(&c);
    int r[6];
    world_end(&w, r);                        /* the client hangs up: the provider's wait ends */
    CHECK_EQ_INT(r[1], 0);                   /* not accepted */
    CHECK_EQ_INT(r[2], 0);                   /* no result */
    CHECK_EQ_INT(r[3], OCTO_SANDBOX_EXITED); /* the worker ... */
    CHECK_EQ_INT(r[4], 3);                   /* ... refused: no command ran */
    CHECK_EQ_INT(r[5], 0);
}

/* A CONFIDENTIAL task whose ACL does not name the node (a client that skipped its own check):
 * the provider refuses it with a reason; nothing is stored, nothing runs. */
static void test_confidential_acl_refused(void)
{
    struct world w;
    world_start(&w);
    struct trust t;
    trust_init(&t, &w);
    struct octo_pubkey acl[1] = {w.other.pub};
    t.pol.acl = acl;
    t.pol.acl_count = 1;
    struct octo_privacy_client c;
    struct octo_buf io;
    const uint8_t *body = NULL;
    size_t len = 0;
    CHECK(client_start(&w, &c, OCTO_ENV_CONFIDENTIAL, &io, &body, &len));
    char why[160];
    CHECK_ERR(octo_privacy_client_on_key(&c, &t.pol, body, len, why, sizeof(why)), OCTO_EPERM);
    CHECK(strstr(why, "ACL") != NULL);
    c.admitted = true; /* a misbehaving client sends it anyway */
    CHECK_OK(client_send_task(&w, &c, &t.pol, "secret\n", 7, &io));
    CHECK_EQ_INT(octo_privacy_read_frame(w.fd, OCTO_PRIVACY_ERROR_MAX, 20000, &io, &body, &len),
                 OCTO_FRAME_ERROR);
    CHECK(len > 0 && memmem(body, len, "ACL", 3) != NULL);
    octo_buf_deinit(&io);
    octo_privacy_client_deinit(&c);
    int r[6];
    world_end(&w, r);
    CHECK_ERR(r[0], OCTO_EPERM);
    CHECK_EQ_INT(r[1], 0);
    CHECK_EQ_INT(r[4], 3); /* the worker read EOF: refused, no command ran */
    CHECK_EQ_INT(r[5], 0);
}

/* SHARED: the same exchange with a plaintext body (Noise protects it in transit). */
static void test_shared_round_trip(void)
{
    struct world w;
    world_start(&w);
    struct trust t;
    trust_init(&t, &w);
    struct octo_privacy_client c;
    struct octo_buf io;
    const uint8_t *body = NULL;
    size_t len = 0;
    CHECK(client_start(&w, &c, OCTO_ENV_SHARED, &io, &body, &len));
    CHECK_OK(octo_privacy_client_on_key(&c, &t.pol, body, len, NULL, 0));
    CHECK_OK(client_send_task(&w, &c, &t.pol, "hello\n", 6, &io));
    CHECK_EQ_INT(octo_privacy_read_frame(w.fd, OCTO_FRAME_BODY_MAX, 20000, &io, &body, &len),
                 OCTO_FRAME_RESULT);
    struct octo_privacy_outcome out;
    struct octo_buf so;
    octo_buf_init(&so, 4096);
    CHECK_OK(octo_privacy_client_on_result(&c, body, len, &out, &so, NULL));
    CHECK(so.len == 10 && memcmp(so.data, "got:hello\n", 10) == 0);
    octo_buf_deinit(&so);
    octo_buf_deinit(&io);
    octo_privacy_client_deinit(&c);
    int r[6];
    world_end(&w, r);
    CHECK_EQ_INT(r[2], 1);
}

struct canary_case {
    const char *name;
    void (*fn)(void);
};

static const struct canary_case g_cases[] = {
    {.name = "private_canary", .fn = test_private_canary},
    {.name = "confidential_canary", .fn = test_confidential_canary},
    {.name = "private_refused", .fn = test_private_refused},
    {.name = "confidential_acl_refused", .fn = test_confidential_acl_refused},
    {.name = "shared_round_trip", .fn = test_shared_round_trip},
};

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof(g_cases) / sizeof(g_cases[0]); i++)
            printf("%s\n", g_cases[i].name);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: privacy_canary CASE OCTO_WORKER\n");
        return 2;
    }
    if (geteuid() != 0) {
        printf("SKIP: the sandbox needs root\n");
        return 77;
    }
    g_worker = argv[2];
    if (octo_crypto_init() != 0)
        return 1;
    const char *tmp = getenv("OCTO_TEST_TMP");
    snprintf(g_home, sizeof(g_home), "%s/canary-%s-%d", tmp != NULL ? tmp : "/tmp", argv[1],
             (int)getpid());
    if (tmp != NULL)
        (void)mkdir(tmp, 0755);
    OCTO_ASSERT(mkdir(g_home, 0700) == 0);
    for (size_t i = 0; i < sizeof(g_cases) / sizeof(g_cases[0]); i++) {
        if (strcmp(argv[1], g_cases[i].name) == 0) {
            octo_test_run(g_cases[i].name, g_cases[i].fn);
            return octo_test_finish();
        }
    }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
