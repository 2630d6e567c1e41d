/*
 * sqlite.c - the embedded storage engine: SQLite in WAL mode.
 *
 * Two connections.  The committer thread owns the writer: it takes every
 * batch submitted since its last commit, applies them in one transaction and
 * commits with synchronous=FULL, so one fsync covers many requests (grouped
 * commit).  The owner thread (the event loop) owns the reader, used at start
 * to load state and later to fetch message bodies that are not cached.
 *
 * If a grouped transaction fails, the batches are retried one transaction
 * each, so one bad batch fails only itself.
 *
 * A full disk (docs/durability.md): the store keeps a preallocated reserve
 * file beside the database.  The first commit that fails for want of space
 * deletes it and retries, so what was already submitted (and is already in
 * the services' memory) still commits; the store then reports itself full
 * and the services refuse new writes before touching memory.  While full, the
 * committer checks every second whether the reserve fits again; when it does
 * it re-creates it and writes are accepted again.  Batches without a
 * completion (memory already holds their change, nobody waits) are kept when
 * their commit fails and applied first in the next transaction that succeeds.
 *
 * Bulk deletions (a deleted queue or archive, a purge) do not delete their
 * messages in the transaction that acknowledges them: that could take
 * seconds and hold every other write back.  The transaction records the
 * container in the doomed table (with the highest seq it covers); from then
 * on loading skips those rows, and the committer sweeps them away a chunk at
 * a time, between group commits or when idle.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"

#define RESERVE_NAME "sluice.reserve"
#define RESERVE_MIN (64 << 10)
#define RESERVE_MAX (16 << 20)
#define SPACE_CHECK_NS 1000000000LL
/* Failed batches without a completion kept for the next commit; beyond this
 * the oldest are dropped (and counted): a bound on memory while full. */
#define OWED_MAX 100000
/* Rows of doomed containers deleted per sweeping transaction. */
#define SWEEP_CHUNK 2000
/* Under load, sweeping takes at most about 1/SWEEP_SHARE of the committer's
 * time: after a chunk that took t, the next waits (SWEEP_SHARE - 1) * t,
 * whether or not a group is waiting at that moment (clients that wait for
 * their answers leave the queue empty between groups).  Chunks go back to
 * back only when no group was committed since the previous one. */
#define SWEEP_SHARE 10
/* max_seq of a container that is gone: every row of it. */
#define DOOM_ALL INT64_MAX

enum op_kind {
    OP_PUT_RESOURCE,
    OP_DELETE_RESOURCE,
    OP_DELETE_CONTAINER,
    OP_PUT_MESSAGE,
    OP_UPDATE_MESSAGE,
    OP_MOVE_MESSAGE,
    OP_DELETE_MESSAGE,
    OP_PURGE,
    OP_PUT_DEDUP,
    OP_DELETE_DEDUP,
};

typedef struct op {
    enum op_kind kind;
    uint64_t id;        /* resource id, or message seq */
    uint64_t id2;       /* container, or new seq */
    uint64_t id3;       /* container for a move */
    int64_t t1, t2, t3; /* times */
    uint32_t count;
    char *s1, *s2, *s3, *s4; /* owned strings */
    void *blob1, *blob2;     /* owned blobs */
    size_t len1, len2;
} op;

struct store_batch {
    op *ops;
    size_t n, cap;
    store_done_fn done;
    void *arg;
    int status;
    struct store_batch *next;
};

enum stmt_id {
    ST_PUT_RESOURCE,
    ST_DELETE_RESOURCE,
    ST_DELETE_CONTAINER_MESSAGES,
    ST_PUT_MESSAGE,
    ST_UPDATE_MESSAGE,
    ST_MOVE_MESSAGE,
    ST_DELETE_MESSAGE,
    ST_PUT_DEDUP,
    ST_DELETE_DEDUP,
    ST_DELETE_CONTAINER_DEDUP,
    ST_DOOM,
    ST_DOOMED_NEXT,
    ST_SWEEP,
    ST_UNDOOM,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_PUT_RESOURCE] = "INSERT OR REPLACE INTO resources(id, kind, account, name, doc) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_DELETE_RESOURCE] = "DELETE FROM resources WHERE id = ?1",
    [ST_DELETE_CONTAINER_MESSAGES] = "DELETE FROM messages WHERE container = ?1",
    [ST_PUT_MESSAGE] = "INSERT INTO messages(seq, container, message_id, sent_ms, "
                       "visible_at_ms, first_receive_ms, receive_count, meta, attributes, body) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_UPDATE_MESSAGE] = "UPDATE messages SET visible_at_ms = ?2, receive_count = ?3, "
                          "first_receive_ms = ?4 WHERE seq = ?1",
    [ST_MOVE_MESSAGE] = "UPDATE messages SET seq = ?2, container = ?3, visible_at_ms = ?4, "
                        "receive_count = ?5, first_receive_ms = 0, meta = coalesce(?6, meta), "
                        "sent_ms = ?7 WHERE seq = ?1",
    [ST_DELETE_MESSAGE] = "DELETE FROM messages WHERE seq = ?1",
    [ST_PUT_DEDUP] = "INSERT OR REPLACE INTO dedup(key, container, doc, expires_ms) "
                     "VALUES (?1, ?2, ?3, ?4)",
    [ST_DELETE_DEDUP] = "DELETE FROM dedup WHERE key = ?1",
    [ST_DELETE_CONTAINER_DEDUP] = "DELETE FROM dedup WHERE container = ?1",
    [ST_DOOM] = "INSERT INTO doomed(container, max_seq) VALUES (?1, ?2) "
                "ON CONFLICT(container) DO UPDATE SET max_seq = max(max_seq, excluded.max_seq)",
    [ST_DOOMED_NEXT] = "SELECT container, max_seq FROM doomed LIMIT 1",
    [ST_SWEEP] = "DELETE FROM messages WHERE seq IN (SELECT seq FROM messages "
                 "WHERE container = ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3)",
    [ST_UNDOOM] = "DELETE FROM doomed WHERE container = ?1 AND max_seq = ?2",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS resources ("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, account TEXT NOT NULL,"
    "  name TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (kind, account, name));"
    "CREATE TABLE IF NOT EXISTS messages ("
    "  seq INTEGER PRIMARY KEY, container INTEGER NOT NULL, message_id TEXT NOT NULL,"
    "  sent_ms INTEGER NOT NULL, visible_at_ms INTEGER NOT NULL,"
    "  first_receive_ms INTEGER NOT NULL, receive_count INTEGER NOT NULL,"
    "  meta TEXT, attributes BLOB, body BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS messages_by_container ON messages (container, seq);"
    "CREATE TABLE IF NOT EXISTS dedup ("
    "  key TEXT PRIMARY KEY, container INTEGER NOT NULL, doc TEXT NOT NULL,"
    "  expires_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS doomed ("
    "  container INTEGER PRIMARY KEY, max_seq INTEGER NOT NULL);";

struct store {
    sqlite3 *writer;             /* committer thread only */
    sqlite3 *reader;             /* owner thread only */
    sqlite3_stmt *stmts[ST_COUNT];
    sqlite3_stmt *read_payload;

    pthread_t thread;
    pthread_mutex_t mu;          /* guards the lists, stopping and the counters */
    pthread_cond_t cv;
    store_batch *pending, *pending_tail;
    store_batch *done, *done_tail;
    bool stopping;
    bool busy;                   /* the committer holds a group */
    bool sweeping;               /* committer thread: doomed rows may remain */
    int64_t sweep_resume_ns;     /* committer thread: no chunk before */
    uint64_t sweep_commits;      /* committer thread: commits at the last chunk */
    uint64_t commits, batches;
    uint64_t sweep_chunks;       /* under mu, with sweep_ns */
    int64_t sweep_ns;

    store_wakeup_fn wakeup;
    void *wakeup_arg;

    uint64_t next_resource_id;   /* owner thread only */
    uint64_t next_seq;           /* owner thread only */

    /* Storage failures: the committer thread's, except full (any thread). */
    char *dir;
    char *reserve_path;
    off_t reserve_size;
    bool reserve_held;
    atomic_bool full;            /* refusing writes for want of space */
    int failing_rc;              /* commits fail with this (not space), or 0 */
    uint64_t failed_commits;     /* since the last change of state */
    int64_t next_space_check_ns;
    store_batch *owed, *owed_tail; /* failed batches without a completion */
    size_t owed_count;
    uint64_t owed_dropped;
};

/* --- batches ------------------------------------------------------------ */

store_batch *store_batch_new(void)
{
    return xcalloc(1, sizeof(store_batch));
}

void store_batch_free(store_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        op *o = &b->ops[i];
        free(o->s1);
        free(o->s2);
        free(o->s3);
        free(o->s4);
        free(o->blob1);
        free(o->blob2);
    }
    free(b->ops);
    free(b);
}

bool store_batch_empty(const store_batch *b)
{
    return b->n == 0;
}

static op *batch_add(store_batch *b, enum op_kind kind)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->ops = xrealloc(b->ops, b->cap * sizeof(op));
    }
    op *o = &b->ops[b->n++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    return o;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void *blob_dup(const void *p, size_t n)
{
    if (!p)
        return NULL;
    void *c = xmalloc(n);
    memcpy(c, p, n);
    return c;
}

void store_put_resource(store_batch *b, uint64_t id, const char *kind, const char *account,
                        const char *name, const char *doc)
{
    op *o = batch_add(b, OP_PUT_RESOURCE);
    o->id = id;
    o->s1 = xstrdup(kind);
    o->s2 = xstrdup(account);
    o->s3 = xstrdup(name);
    o->s4 = xstrdup(doc);
}

void store_delete_resource(store_batch *b, uint64_t id)
{
    batch_add(b, OP_DELETE_RESOURCE)->id = id;
}

void store_delete_container(store_batch *b, uint64_t id)
{
    batch_add(b, OP_DELETE_CONTAINER)->id = id;
}

void store_put_message(store_batch *b, const store_message *m)
{
    op *o = batch_add(b, OP_PUT_MESSAGE);
    o->id = m->seq;
    o->id2 = m->container;
    o->s1 = xstrdup(m->message_id);
    o->s2 = dup_or_null(m->meta);
    o->t1 = m->sent_ms;
    o->t2 = m->visible_at_ms;
    o->t3 = m->first_receive_ms;
    o->count = m->receive_count;
    o->blob1 = blob_dup(m->attributes, m->attributes_len);
    o->len1 = m->attributes_len;
    o->blob2 = blob_dup(m->body ? m->body : "", m->body_len);
    o->len2 = m->body_len;
}

void store_update_message(store_batch *b, uint64_t seq, int64_t visible_at_ms,
                          uint32_t receive_count, int64_t first_receive_ms)
{
    op *o = batch_add(b, OP_UPDATE_MESSAGE);
    o->id = seq;
    o->t1 = visible_at_ms;
    o->count = receive_count;
    o->t2 = first_receive_ms;
}

void store_move_message(store_batch *b, uint64_t seq, uint64_t new_seq, uint64_t container,
                        int64_t sent_ms, int64_t visible_at_ms, uint32_t receive_count,
                        const char *meta)
{
    op *o = batch_add(b, OP_MOVE_MESSAGE);
    o->s1 = dup_or_null(meta);
    o->id = seq;
    o->id2 = new_seq;
    o->id3 = container;
    o->t1 = visible_at_ms;
    o->t2 = sent_ms;
    o->count = receive_count;
}

void store_delete_message(store_batch *b, uint64_t seq)
{
    batch_add(b, OP_DELETE_MESSAGE)->id = seq;
}

void store_put_dedup(store_batch *b, uint64_t container, const char *key, const char *doc,
                     int64_t expires_ms)
{
    op *o = batch_add(b, OP_PUT_DEDUP);
    o->id = container;
    o->s1 = xstrdup(key);
    o->s2 = xstrdup(doc);
    o->t1 = expires_ms;
}

void store_delete_dedup(store_batch *b, const char *key)
{
    batch_add(b, OP_DELETE_DEDUP)->s1 = xstrdup(key);
}

void store_purge_messages(store_batch *b, uint64_t container, uint64_t max_seq)
{
    op *o = batch_add(b, OP_PURGE);
    o->id = container;
    o->id2 = max_seq;
}

/* --- the committer ------------------------------------------------------ */

static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Marks a container's rows up to max_seq as deleted (swept later). */
static int doom(store *s, uint64_t container, int64_t max_seq)
{
    sqlite3_stmt *st = s->stmts[ST_DOOM];

    sqlite3_bind_int64(st, 1, (sqlite3_int64)container);
    sqlite3_bind_int64(st, 2, max_seq);
    s->sweeping = true;
    return step_reset(st);
}

static int apply_op(store *s, const op *o)
{
    sqlite3_stmt *st;
    int rc;

    switch (o->kind) {
    case OP_PUT_RESOURCE:
        st = s->stmts[ST_PUT_RESOURCE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        sqlite3_bind_text(st, 2, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, o->s2, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, o->s3, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, o->s4, -1, SQLITE_STATIC);
        return step_reset(st);
    case OP_DELETE_RESOURCE:
    case OP_DELETE_CONTAINER:
        st = s->stmts[ST_DELETE_RESOURCE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        if ((rc = step_reset(st)) != SQLITE_OK)
            return rc;
        st = s->stmts[ST_DELETE_CONTAINER_DEDUP];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        if ((rc = step_reset(st)) != SQLITE_OK)
            return rc;
        if (o->kind == OP_DELETE_CONTAINER)
            return doom(s, o->id, DOOM_ALL);
        st = s->stmts[ST_DELETE_CONTAINER_MESSAGES];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        return step_reset(st);
    case OP_PUT_DEDUP:
        st = s->stmts[ST_PUT_DEDUP];
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)o->id);
        sqlite3_bind_text(st, 3, o->s2, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, o->t1);
        return step_reset(st);
    case OP_DELETE_DEDUP:
        st = s->stmts[ST_DELETE_DEDUP];
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        return step_reset(st);
    case OP_PUT_MESSAGE:
        st = s->stmts[ST_PUT_MESSAGE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)o->id2);
        sqlite3_bind_text(st, 3, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, o->t1);
        sqlite3_bind_int64(st, 5, o->t2);
        sqlite3_bind_int64(st, 6, o->t3);
        sqlite3_bind_int64(st, 7, o->count);
        if (o->s2)
            sqlite3_bind_text(st, 8, o->s2, -1, SQLITE_STATIC);
        if (o->blob1)
            sqlite3_bind_blob(st, 9, o->blob1, (int)o->len1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, o->blob2, (int)o->len2, SQLITE_STATIC);
        return step_reset(st);
    case OP_UPDATE_MESSAGE:
        st = s->stmts[ST_UPDATE_MESSAGE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        sqlite3_bind_int64(st, 2, o->t1);
        sqlite3_bind_int64(st, 3, o->count);
        sqlite3_bind_int64(st, 4, o->t2);
        return step_reset(st);
    case OP_MOVE_MESSAGE:
        st = s->stmts[ST_MOVE_MESSAGE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)o->id2);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)o->id3);
        sqlite3_bind_int64(st, 4, o->t1);
        sqlite3_bind_int64(st, 5, o->count);
        if (o->s1)
            sqlite3_bind_text(st, 6, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, o->t2);
        return step_reset(st);
    case OP_DELETE_MESSAGE:
        st = s->stmts[ST_DELETE_MESSAGE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        return step_reset(st);
    case OP_PURGE:
        return doom(s, o->id, (int64_t)o->id2);
    }
    return SQLITE_MISUSE;
}

static int exec_simple(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Whether a failed commit ran out of space (SQLite reports a short write as
 * SQLITE_FULL; an fsync or a quota can fail with ENOSPC or EDQUOT). */
static bool rc_is_full(sqlite3 *db, int rc)
{
    if ((rc & 0xff) == SQLITE_FULL)
        return true;
    if ((rc & 0xff) == SQLITE_IOERR) {
        int e = sqlite3_system_errno(db);
        return e == ENOSPC || e == EDQUOT;
    }
    return false;
}

static int apply_batch(store *s, const store_batch *b)
{
    int rc = SQLITE_OK;

    for (size_t i = 0; i < b->n && rc == SQLITE_OK; i++)
        rc = apply_op(s, &b->ops[i]);
    return rc;
}

/* Applies the owed batches (with_owed), then the chain first..stop, in one
 * transaction.  Returns an SQLite code; *full tells a want of space. */
static int commit_chain(store *s, store_batch *first, store_batch *stop, bool with_owed,
                        bool *full)
{
    int rc = exec_simple(s->writer, "BEGIN IMMEDIATE");

    for (store_batch *b = with_owed ? s->owed : NULL; b && rc == SQLITE_OK; b = b->next)
        rc = apply_batch(s, b);
    for (store_batch *b = first; b != stop && rc == SQLITE_OK; b = b->next)
        rc = apply_batch(s, b);
    if (rc == SQLITE_OK)
        rc = exec_simple(s->writer, "COMMIT");
    *full = rc != SQLITE_OK && rc_is_full(s->writer, rc);
    if (rc != SQLITE_OK)
        exec_simple(s->writer, "ROLLBACK");
    return rc;
}

/* --- the reserve and the states of failure -------------------------------- */

/* Allocates the reserve file; true if it now holds its full size. */
static bool reserve_create(store *s)
{
    int fd = open(s->reserve_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    int err;

    if (fd < 0)
        return false;
    err = posix_fallocate(fd, 0, s->reserve_size);
    close(fd);
    if (err != 0) {
        unlink(s->reserve_path);
        return false;
    }
    s->reserve_held = true;
    return true;
}

static void owed_free_all(store *s)
{
    while (s->owed) {
        store_batch *next = s->owed->next;
        store_batch_free(s->owed);
        s->owed = next;
    }
    s->owed_tail = NULL;
    s->owed_count = 0;
}

/* Keeps a failed batch without a completion for the next commit. */
static void owe(store *s, store_batch *b)
{
    b->next = NULL;
    if (s->owed_tail)
        s->owed_tail->next = b;
    else
        s->owed = b;
    s->owed_tail = b;
    if (++s->owed_count <= OWED_MAX)
        return;
    store_batch *oldest = s->owed;
    s->owed = oldest->next;
    s->owed_count--;
    store_batch_free(oldest);
    if (s->owed_dropped++ == 0)
        log_error("store", "too many unsaved delivery-state changes: dropping the oldest "
                           "kept=%d", OWED_MAX);
}

/* A commit failed.  Returns true if the reserve was just released, so that
 * a retry may now fit. */
static bool note_failure(store *s, int rc, bool full)
{
    s->failed_commits++;
    if (full && !atomic_load(&s->full)) {
        bool released = s->reserve_held;
        if (released) {
            unlink(s->reserve_path);
            s->reserve_held = false;
        }
        atomic_store(&s->full, true);
        s->next_space_check_ns = clock_mono_ns() + SPACE_CHECK_NS;
        log_error("store", "disk full (%s): write requests refused until space returns "
                           "data_dir=%s reserve_released=%s",
                  sqlite3_errstr(rc), s->dir, released ? "yes" : "no");
        return released;
    }
    if (!full && !atomic_load(&s->full) && s->failing_rc == 0) {
        s->failing_rc = rc;
        log_error("store", "commits failing (%s): writes fail until one succeeds data_dir=%s",
                  sqlite3_errstr(rc), s->dir);
    }
    return false;
}

/* A commit succeeded: the owed batches are on disk. */
static void note_success(store *s)
{
    owed_free_all(s);
    if (s->failing_rc == 0 || atomic_load(&s->full))
        return;
    log_warn("store", "commits succeed again failed_commits=%llu dropped_changes=%llu",
             (unsigned long long)s->failed_commits, (unsigned long long)s->owed_dropped);
    s->failing_rc = 0;
    s->failed_commits = 0;
    s->owed_dropped = 0;
}

/* While full: once the reserve fits again with as much free beside it,
 * re-creates it and accepts writes. */
static void check_space(store *s)
{
    struct statvfs v;
    int64_t now = clock_mono_ns();

    if (!atomic_load(&s->full) || now < s->next_space_check_ns)
        return;
    s->next_space_check_ns = now + SPACE_CHECK_NS;
    if (statvfs(s->dir, &v) != 0)
        return;
    /* root may write into the blocks kept for it, and so may SQLite then. */
    uint64_t avail = (uint64_t)(geteuid() == 0 ? v.f_bfree : v.f_bavail) * v.f_frsize;
    if (avail < 2 * (uint64_t)s->reserve_size || !reserve_create(s))
        return;
    atomic_store(&s->full, false);
    log_warn("store", "disk space available again: write requests accepted data_dir=%s "
                      "failed_commits=%llu free_bytes=%llu",
             s->dir, (unsigned long long)s->failed_commits,
             (unsigned long long)(avail - (uint64_t)s->reserve_size));
    s->failing_rc = 0;
    s->failed_commits = 0;
}

/* Commits the owed batches on their own (nothing new is pending). */
static void commit_owed(store *s)
{
    bool full;

    if (s->owed && commit_chain(s, NULL, NULL, true, &full) == SQLITE_OK)
        note_success(s);
}

/* Commits one batch on its own, after the owed ones.  An owed change that
 * fails for a reason other than space (it can never be applied) must not
 * block every later batch: then the batch is tried alone and, if that
 * works, the owed changes are dropped. */
static int commit_one(store *s, store_batch *b, bool *full)
{
    store_batch *next = b->next;
    int rc = commit_chain(s, b, next, true, full);

    if (rc != SQLITE_OK && !*full && s->owed &&
        commit_chain(s, b, next, false, full) == SQLITE_OK) {
        log_error("store", "dropped unsaved changes that could not be applied (%s) batches=%zu",
                  sqlite3_errstr(rc), s->owed_count);
        s->owed_dropped += s->owed_count;
        owed_free_all(s);
        rc = SQLITE_OK;
    }
    return rc;
}

/* Commits a group; returns the batches whose completions are to run (the
 * failed ones without a completion are kept as owed instead). */
static store_batch *commit_group(store *s, store_batch *group)
{
    bool full;
    int rc = commit_chain(s, group, NULL, true, &full);

    if (rc != SQLITE_OK && note_failure(s, rc, full))
        rc = commit_chain(s, group, NULL, true, &full);
    if (rc == SQLITE_OK) {
        note_success(s);
        for (store_batch *b = group; b; b = b->next)
            b->status = 0;
        return group;
    }
    /* One transaction each, so one bad batch fails only itself. */
    store_batch *out = NULL, *tail = NULL;
    for (store_batch *b = group, *next; b; b = next) {
        next = b->next;
        rc = commit_one(s, b, &full);
        if (rc != SQLITE_OK && note_failure(s, rc, full))
            rc = commit_one(s, b, &full);
        b->next = NULL;
        if (rc == SQLITE_OK) {
            note_success(s);
            b->status = 0;
        } else {
            b->status = -1;
            if (!b->done) {
                owe(s, b);
                continue;
            }
        }
        if (tail)
            tail->next = b;
        else
            out = b;
        tail = b;
    }
    return out;
}

/* Deletes one chunk of a doomed container's rows, in its own transaction,
 * and forgets the container once none are left.  A failure stops sweeping
 * until the next bulk deletion or start (the rows stay hidden meanwhile).
 * The sweep's commits are not synced (synchronous=NORMAL): losing one to a
 * crash only leaves rows to sweep again, and the next synced commit syncs
 * them too. */
static void sweep_chunk(store *s)
{
    sqlite3_stmt *next = s->stmts[ST_DOOMED_NEXT], *st;
    sqlite3_int64 container, max_seq;
    int rc = exec_simple(s->writer, "BEGIN IMMEDIATE");

    if (rc != SQLITE_OK)
        goto failed;
    rc = sqlite3_step(next);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(next);
        s->sweeping = false;
        exec_simple(s->writer, rc == SQLITE_DONE ? "COMMIT" : "ROLLBACK");
        return;
    }
    container = sqlite3_column_int64(next, 0);
    max_seq = sqlite3_column_int64(next, 1);
    sqlite3_reset(next);
    st = s->stmts[ST_SWEEP];
    sqlite3_bind_int64(st, 1, container);
    sqlite3_bind_int64(st, 2, max_seq);
    sqlite3_bind_int64(st, 3, SWEEP_CHUNK);
    rc = step_reset(st);
    if (rc == SQLITE_OK && sqlite3_changes(s->writer) < SWEEP_CHUNK) {
        st = s->stmts[ST_UNDOOM];
        sqlite3_bind_int64(st, 1, container);
        sqlite3_bind_int64(st, 2, max_seq);
        rc = step_reset(st);
    }
    if (rc == SQLITE_OK)
        rc = exec_simple(s->writer, "COMMIT");
    if (rc == SQLITE_OK)
        return;
    exec_simple(s->writer, "ROLLBACK");
failed:
    s->sweeping = false;
    log_warn("store", "sweeping deleted messages stopped (%s): they stay hidden and are "
                      "swept after the next restart data_dir=%s",
             sqlite3_errstr(rc), s->dir);
}

static void sweep_step(store *s)
{
    int64_t start = clock_mono_ns(), end;

    exec_simple(s->writer, "PRAGMA synchronous=NORMAL");
    sweep_chunk(s);
    exec_simple(s->writer, "PRAGMA synchronous=FULL");
    end = clock_mono_ns();
    /* commits is written by this thread only (under mu, for readers). */
    if (s->commits == s->sweep_commits)
        s->sweep_resume_ns = end;
    else
        s->sweep_resume_ns = end + (SWEEP_SHARE - 1) * (end - start);
    s->sweep_commits = s->commits;
    pthread_mutex_lock(&s->mu);
    s->sweep_chunks++;
    s->sweep_ns += end - start;
    pthread_mutex_unlock(&s->mu);
}

/* Waits on cv (mu held) for at most wait_ns; true when the time ran out. */
static bool wait_cv_ns(store *s, int64_t wait_ns)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    wait_ns += ts.tv_nsec;
    ts.tv_sec += wait_ns / 1000000000LL;
    ts.tv_nsec = wait_ns % 1000000000LL;
    return pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT;
}

/* Waits on cv (mu held) until a group arrives or the next sweeping chunk is
 * due; true when it is due. */
static bool sweep_wait(store *s)
{
    int64_t wait = s->sweep_resume_ns - clock_mono_ns();

    if (wait <= 0)
        return true;
    return wait_cv_ns(s, wait) && !s->pending && !s->stopping;
}

static void *committer_main(void *arg)
{
    store *s = arg;

    for (;;) {
        store_batch *group;
        uint64_t n = 0;

        pthread_mutex_lock(&s->mu);
        while (!s->pending && !s->stopping) {
            if (s->sweeping && !atomic_load(&s->full)) {
                if (sweep_wait(s))
                    break;
                continue;
            }
            if (!atomic_load(&s->full) && !s->owed) {
                pthread_cond_wait(&s->cv, &s->mu);
                continue;
            }
            /* Full, or changes owed: look again every second. */
            if (wait_cv_ns(s, 1000000000LL))
                break;
        }
        group = s->pending;
        s->pending = s->pending_tail = NULL;
        s->busy = group != NULL;
        if (!group) {
            bool stop = s->stopping;
            pthread_mutex_unlock(&s->mu);
            check_space(s);
            commit_owed(s);
            if (stop)
                return NULL;
            if (s->sweeping && !atomic_load(&s->full) &&
                clock_mono_ns() >= s->sweep_resume_ns)
                sweep_step(s);
            continue;
        }
        pthread_mutex_unlock(&s->mu);

        check_space(s);
        group = commit_group(s, group);

        store_batch *last = group;
        for (store_batch *b = group; b; b = b->next) {
            last = b;
            n++;
        }
        pthread_mutex_lock(&s->mu);
        if (group) {
            if (s->done_tail)
                s->done_tail->next = group;
            else
                s->done = group;
            s->done_tail = last;
        }
        s->commits++;
        s->batches += n;
        s->busy = false;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (s->wakeup && group)
            s->wakeup(s->wakeup_arg);
        /* Under load, a chunk of sweeping now and then between groups. */
        if (s->sweeping && !atomic_load(&s->full) &&
            clock_mono_ns() >= s->sweep_resume_ns)
            sweep_step(s);
    }
}

bool store_is_full(const store *s)
{
    return atomic_load(&((store *)s)->full);
}

void store_submit(store *s, store_batch *b, store_done_fn done, void *arg)
{
    b->done = done;
    b->arg = arg;
    b->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->pending_tail)
        s->pending_tail->next = b;
    else
        s->pending = b;
    s->pending_tail = b;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void store_run_completions(store *s)
{
    store_batch *list;

    pthread_mutex_lock(&s->mu);
    list = s->done;
    s->done = s->done_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (list) {
        store_batch *next = list->next;
        if (list->done)
            list->done(list->arg, list->status);
        store_batch_free(list);
        list = next;
    }
}

void store_flush(store *s)
{
    /* Completions may submit more (a delivery's follow-up): a few rounds. */
    for (int round = 0; round < 16; round++) {
        pthread_mutex_lock(&s->mu);
        while (s->pending || s->busy)
            pthread_cond_wait(&s->cv, &s->mu);
        bool idle = !s->done;
        pthread_mutex_unlock(&s->mu);
        if (idle)
            return;
        store_run_completions(s);
    }
}

void store_stats(store *s, uint64_t *commits, uint64_t *batches)
{
    pthread_mutex_lock(&s->mu);
    *commits = s->commits;
    *batches = s->batches;
    pthread_mutex_unlock(&s->mu);
}

void store_sweep_stats(store *s, uint64_t *chunks, int64_t *ns)
{
    pthread_mutex_lock(&s->mu);
    *chunks = s->sweep_chunks;
    *ns = s->sweep_ns;
    pthread_mutex_unlock(&s->mu);
}

/* --- open / close -------------------------------------------------------- */

static sqlite3 *open_db(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    /* Extended codes tell a failed fsync from a failed write in the log. */
    sqlite3_extended_result_codes(db, 1);
    if (exec_simple(db, "PRAGMA journal_mode=WAL") != SQLITE_OK ||
        exec_simple(db, "PRAGMA synchronous=FULL") != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static uint64_t query_u64(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    uint64_t v = 0;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Sizes and allocates the reserve; without it the store starts full. */
static void reserve_open(store *s)
{
    struct statvfs v;
    uint64_t size = RESERVE_MIN;

    if (statvfs(s->dir, &v) == 0)
        size = (uint64_t)v.f_blocks * v.f_frsize / 16;
    if (size < RESERVE_MIN)
        size = RESERVE_MIN;
    if (size > RESERVE_MAX)
        size = RESERVE_MAX;
    s->reserve_size = (off_t)size;
    if (reserve_create(s))
        return;
    atomic_store(&s->full, true);
    s->next_space_check_ns = clock_mono_ns() + SPACE_CHECK_NS;
    log_error("store", "disk full at start: no room for the reserve, write requests refused "
                       "until space returns data_dir=%s reserve_bytes=%llu",
              s->dir, (unsigned long long)size);
}

store *store_open(const char *dir, store_wakeup_fn wakeup, void *wakeup_arg, char *err,
                  size_t errlen)
{
    char path[4096];
    store *s;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data dir %s: %s", dir, strerror(errno));
        return NULL;
    }
    s = xcalloc(1, sizeof *s);
    s->wakeup = wakeup;
    s->wakeup_arg = wakeup_arg;
    s->dir = xstrdup(dir);
    snprintf(path, sizeof path, "%s/%s", dir, RESERVE_NAME);
    s->reserve_path = xstrdup(path);
    snprintf(path, sizeof path, "%s/sluice.db", dir);
    s->writer = open_db(path, err, errlen);
    if (!s->writer)
        goto fail;
    if (sqlite3_exec(s->writer, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create schema: %s", sqlite3_errmsg(s->writer));
        goto fail;
    }
    /* Keep checkpoints from stalling a commit for long. */
    exec_simple(s->writer, "PRAGMA wal_autocheckpoint=4000");
    s->reader = open_db(path, err, errlen);
    if (!s->reader)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(s->writer, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->stmts[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare: %s", sqlite3_errmsg(s->writer));
            goto fail;
        }
    }
    if (sqlite3_prepare_v3(s->reader, "SELECT body, attributes FROM messages WHERE seq = ?1",
                           -1, SQLITE_PREPARE_PERSISTENT, &s->read_payload, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot prepare: %s", sqlite3_errmsg(s->reader));
        goto fail;
    }
    /* Ids and seqs named by a doomed container are not handed out again:
     * a new container or message must not fall under its marker. */
    s->next_resource_id =
        query_u64(s->reader, "SELECT max(coalesce((SELECT max(id) FROM resources), 0), "
                             "coalesce((SELECT max(container) FROM doomed), 0))") + 1;
    s->next_seq = query_u64(s->reader,
                            "SELECT max(coalesce((SELECT max(seq) FROM messages), 0), "
                            "coalesce((SELECT max(max_seq) FROM doomed WHERE max_seq < "
                            "9223372036854775807), 0))") + 1;
    s->sweeping = query_u64(s->reader, "SELECT count(*) FROM doomed") > 0;
    reserve_open(s);

    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, committer_main, s) != 0) {
        snprintf(err, errlen, "cannot start committer thread");
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        goto fail;
    }
    return s;

fail:
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_finalize(s->read_payload);
    sqlite3_close(s->reader);
    sqlite3_close(s->writer);
    free(s->dir);
    free(s->reserve_path);
    free(s);
    return NULL;
}

void store_close(store *s)
{
    if (!s)
        return;
    log_info("store", "closing commits=%llu batches=%llu", (unsigned long long)s->commits,
             (unsigned long long)s->batches);
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    store_run_completions(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_finalize(s->read_payload);
    sqlite3_close(s->reader);
    exec_simple(s->writer, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(s->writer);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    owed_free_all(s);
    free(s->dir);
    free(s->reserve_path);
    free(s);
}

uint64_t store_next_resource_id(store *s)
{
    return s->next_resource_id++;
}

uint64_t store_next_message_seq(store *s)
{
    return s->next_seq++;
}

/* --- reads ---------------------------------------------------------------- */

int store_load_resources(store *s, const char *kind, store_resource_fn fn, void *arg)
{
    sqlite3_stmt *st;
    int rc;

    rc = sqlite3_prepare_v2(s->reader,
                            "SELECT id, kind, account, name, doc FROM resources "
                            "WHERE kind = ?1 ORDER BY id",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(arg, (uint64_t)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
           (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
           (const char *)sqlite3_column_text(st, 4));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_load_messages(store *s, store_message_fn fn, void *arg)
{
    sqlite3_stmt *st;
    int rc;

    rc = sqlite3_prepare_v2(s->reader,
                            "SELECT seq, container, message_id, sent_ms, visible_at_ms, "
                            "first_receive_ms, receive_count, meta, length(body) "
                            "FROM messages m WHERE NOT EXISTS (SELECT 1 FROM doomed d "
                            "WHERE d.container = m.container AND m.seq <= d.max_seq) "
                            "ORDER BY seq",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_message m = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .container = (uint64_t)sqlite3_column_int64(st, 1),
            .message_id = (const char *)sqlite3_column_text(st, 2),
            .sent_ms = sqlite3_column_int64(st, 3),
            .visible_at_ms = sqlite3_column_int64(st, 4),
            .first_receive_ms = sqlite3_column_int64(st, 5),
            .receive_count = (uint32_t)sqlite3_column_int64(st, 6),
            .meta = (const char *)sqlite3_column_text(st, 7),
            .body_len = (size_t)sqlite3_column_int64(st, 8),
        };
        fn(arg, &m);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_load_dedup(store *s, store_dedup_fn fn, void *arg)
{
    sqlite3_stmt *st;
    int rc;

    rc = sqlite3_prepare_v2(s->reader,
                            "SELECT container, key, doc, expires_ms FROM dedup ORDER BY expires_ms",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(arg, (uint64_t)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
           (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_read_payload(store *s, uint64_t seq, char **body, size_t *body_len, char **attrs,
                       size_t *attrs_len)
{
    sqlite3_stmt *st = s->read_payload;
    int rc;

    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        *body = xmalloc(n + 1);
        if (n)
            memcpy(*body, sqlite3_column_blob(st, 0), n);
        (*body)[n] = '\0';
        *body_len = n;
        n = (size_t)sqlite3_column_bytes(st, 1);
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            *attrs = NULL;
            *attrs_len = 0;
        } else {
            *attrs = xmalloc(n + 1);
            if (n)
                memcpy(*attrs, sqlite3_column_blob(st, 1), n);
            (*attrs)[n] = '\0';
            *attrs_len = n;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}
