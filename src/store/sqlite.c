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
 * each, so one bad batch (or a full disk that frees up) fails only itself.
 */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/log.h"

enum op_kind {
    OP_PUT_RESOURCE,
    OP_DELETE_RESOURCE,
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
    ST_PURGE,
    ST_PUT_DEDUP,
    ST_DELETE_DEDUP,
    ST_DELETE_CONTAINER_DEDUP,
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
                        "receive_count = ?5, first_receive_ms = 0, meta = coalesce(?6, meta) "
                        "WHERE seq = ?1",
    [ST_DELETE_MESSAGE] = "DELETE FROM messages WHERE seq = ?1",
    [ST_PURGE] = "DELETE FROM messages WHERE container = ?1 AND seq <= ?2",
    [ST_PUT_DEDUP] = "INSERT OR REPLACE INTO dedup(key, container, doc, expires_ms) "
                     "VALUES (?1, ?2, ?3, ?4)",
    [ST_DELETE_DEDUP] = "DELETE FROM dedup WHERE key = ?1",
    [ST_DELETE_CONTAINER_DEDUP] = "DELETE FROM dedup WHERE container = ?1",
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
    "  expires_ms INTEGER NOT NULL) WITHOUT ROWID;";

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
    uint64_t commits, batches;

    store_wakeup_fn wakeup;
    void *wakeup_arg;

    uint64_t next_resource_id;   /* owner thread only */
    uint64_t next_seq;           /* owner thread only */
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
                        int64_t visible_at_ms, uint32_t receive_count, const char *meta)
{
    op *o = batch_add(b, OP_MOVE_MESSAGE);
    o->s1 = dup_or_null(meta);
    o->id = seq;
    o->id2 = new_seq;
    o->id3 = container;
    o->t1 = visible_at_ms;
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
        st = s->stmts[ST_DELETE_RESOURCE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        if ((rc = step_reset(st)) != SQLITE_OK)
            return rc;
        st = s->stmts[ST_DELETE_CONTAINER_DEDUP];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        if ((rc = step_reset(st)) != SQLITE_OK)
            return rc;
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
        return step_reset(st);
    case OP_DELETE_MESSAGE:
        st = s->stmts[ST_DELETE_MESSAGE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        return step_reset(st);
    case OP_PURGE:
        st = s->stmts[ST_PURGE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)o->id2);
        return step_reset(st);
    }
    return SQLITE_MISUSE;
}

static int exec_simple(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Applies a chain of batches in one transaction.  Returns an SQLite code. */
static int commit_chain(store *s, store_batch *first, store_batch *stop)
{
    int rc = exec_simple(s->writer, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return rc;
    for (store_batch *b = first; b != stop && rc == SQLITE_OK; b = b->next)
        for (size_t i = 0; i < b->n && rc == SQLITE_OK; i++)
            rc = apply_op(s, &b->ops[i]);
    if (rc == SQLITE_OK)
        rc = exec_simple(s->writer, "COMMIT");
    if (rc != SQLITE_OK)
        exec_simple(s->writer, "ROLLBACK");
    return rc;
}

static void commit_group(store *s, store_batch *group)
{
    int rc = commit_chain(s, group, NULL);

    if (rc == SQLITE_OK) {
        for (store_batch *b = group; b; b = b->next)
            b->status = 0;
        return;
    }
    log_warn("store", "grouped commit failed (%s), retrying batch by batch",
             sqlite3_errstr(rc));
    for (store_batch *b = group; b; b = b->next) {
        rc = commit_chain(s, b, b->next);
        b->status = rc == SQLITE_OK ? 0 : -1;
        if (rc != SQLITE_OK)
            log_error("store", "commit failed: %s ops=%zu", sqlite3_errstr(rc), b->n);
    }
}

static void *committer_main(void *arg)
{
    store *s = arg;

    for (;;) {
        store_batch *group;
        uint64_t n = 0;

        pthread_mutex_lock(&s->mu);
        while (!s->pending && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        group = s->pending;
        s->pending = s->pending_tail = NULL;
        s->busy = group != NULL;
        if (!group && s->stopping) {
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        pthread_mutex_unlock(&s->mu);

        commit_group(s, group);

        store_batch *last = group;
        for (store_batch *b = group; b; b = b->next) {
            last = b;
            n++;
        }
        pthread_mutex_lock(&s->mu);
        if (s->done_tail)
            s->done_tail->next = group;
        else
            s->done = group;
        s->done_tail = last;
        s->commits++;
        s->batches += n;
        s->busy = false;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (s->wakeup)
            s->wakeup(s->wakeup_arg);
    }
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

store *store_open(const char *dir, store_wakeup_fn wakeup, void *wakeup_arg, char *err,
                  size_t errlen)
{
    char path[4096];
    store *s;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data dir %s: %s", dir, strerror(errno));
        return NULL;
    }
    snprintf(path, sizeof path, "%s/sluice.db", dir);
    s = xcalloc(1, sizeof *s);
    s->wakeup = wakeup;
    s->wakeup_arg = wakeup_arg;
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
    s->next_resource_id = query_u64(s->reader, "SELECT max(id) FROM resources") + 1;
    s->next_seq = query_u64(s->reader, "SELECT max(seq) FROM messages") + 1;

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
                            "FROM messages ORDER BY seq",
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
