/*
 * Unit tests: bulk deletions (a deleted container, a purge) are hidden at
 * once and swept away in the background (src/store/sqlite.c).
 *
 * Checked: a purge hides the purged rows from loading and keeps newer rows;
 * a deleted resource hides all its rows; rows named by a doomed marker that
 * is still on disk at open (a crash before the sweep finished) stay hidden,
 * the ids and seqs it names are not handed out again, and the committer
 * sweeps them away without anything being submitted; while clients commit
 * one batch after another, sweeping takes a small share of the committer's
 * time instead of a chunk in every gap between their batches.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/clock.h"
#include "store/store.h"

#define KEPT 1
#define PURGED 2
#define DELETED 3
#define PER_CONTAINER 5000 /* more than one sweeping chunk */

static char dir[64];

static store *open_store(void)
{
    char err[256] = "";
    store *s = store_open(dir, NULL, NULL, err, sizeof err);
    if (!s)
        fprintf(stderr, "  store_open: %s\n", err);
    return s;
}

static void record_status(void *arg, int status)
{
    *(int *)arg = status;
}

static int commit(store *s, store_batch *b)
{
    int status = 99;
    store_submit(s, b, record_status, &status);
    store_flush(s);
    return status;
}

/* Fills containers KEPT, PURGED and DELETED; returns the last seq used. */
static uint64_t fill(store *s)
{
    store_batch *b = store_batch_new();
    uint64_t seq = 0;

    for (uint64_t c = KEPT; c <= DELETED; c++) {
        char name[16];
        snprintf(name, sizeof name, "q%llu", (unsigned long long)c);
        store_put_resource(b, c, "test.queue", "000000000000", name, "{}");
    }
    for (int i = 0; i < PER_CONTAINER; i++) {
        for (uint64_t c = KEPT; c <= DELETED; c++) {
            store_message m = {.seq = store_next_message_seq(s), .container = c,
                               .message_id = "m", .body = "body", .body_len = 4};
            store_put_message(b, &m);
            seq = m.seq;
        }
    }
    CHECK_INT(commit(s, b), 0);
    return seq;
}

typedef struct counts {
    long per[4];
    uint64_t max_seq;
} counts;

static void count_message(void *arg, const store_message *m)
{
    counts *c = arg;
    if (m->container < 4)
        c->per[m->container]++;
    if (m->seq > c->max_seq)
        c->max_seq = m->seq;
}

static counts load(store *s)
{
    counts c = {{0}, 0};
    CHECK_INT(store_load_messages(s, count_message, &c), 0);
    return c;
}

/* Rows on disk, whatever the markers say. */
static long rows_on_disk(const char *sql)
{
    char path[128];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;

    snprintf(path, sizeof path, "%s/sluice.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static bool wait_swept(void)
{
    for (int i = 0; i < 200; i++) {
        if (rows_on_disk("SELECT count(*) FROM doomed") == 0)
            return true;
        usleep(20000);
    }
    return false;
}

TEST(purge_and_delete_hide_then_sweep)
{
    store *s = open_store();
    CHECK(s != NULL);
    if (!s)
        return;
    fill(s);
    uint64_t purge_at = store_next_message_seq(s);
    store_batch *b = store_batch_new();
    store_purge_messages(b, PURGED, purge_at);
    store_delete_container(b, DELETED);
    CHECK_INT(commit(s, b), 0);

    /* A message sent after the purge survives it. */
    b = store_batch_new();
    store_message late = {.seq = store_next_message_seq(s), .container = PURGED,
                          .message_id = "late", .body = "x", .body_len = 1};
    store_put_message(b, &late);
    CHECK_INT(commit(s, b), 0);

    counts c = load(s);
    CHECK_INT(c.per[KEPT], PER_CONTAINER);
    CHECK_INT(c.per[PURGED], 1);
    CHECK_INT(c.per[DELETED], 0);
    CHECK(wait_swept());
    CHECK_INT(rows_on_disk("SELECT count(*) FROM messages"), PER_CONTAINER + 1);
    store_close(s);
}

TEST(markers_left_by_a_crash_hide_and_get_swept)
{
    store *s = open_store();
    CHECK(s != NULL);
    if (!s)
        return;
    uint64_t last = fill(s);
    store_close(s);

    /* As if the server died right after committing the markers: the rows are
     * all still there. */
    char path[128], sql[256];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/sluice.db", dir);
    snprintf(sql, sizeof sql,
             "INSERT INTO doomed VALUES (%d, %llu), (%d, 9223372036854775807);"
             "DELETE FROM resources WHERE id = %d;",
             PURGED, (unsigned long long)last + 10, DELETED, DELETED);
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    s = open_store();
    CHECK(s != NULL);
    if (!s)
        return;
    /* Neither a seq under the purge marker nor the deleted id comes back. */
    CHECK(store_next_message_seq(s) > last + 10);
    CHECK(store_next_resource_id(s) > DELETED);
    counts c = load(s);
    CHECK_INT(c.per[KEPT], PER_CONTAINER);
    CHECK_INT(c.per[PURGED], 0);
    CHECK_INT(c.per[DELETED], 0);
    CHECK(wait_swept());
    CHECK_INT(rows_on_disk("SELECT count(*) FROM messages"), PER_CONTAINER);
    store_close(s);
}

#define BIG 60000 /* 30 sweeping chunks */
#define CLOSED_LOOP 150
#define CLOSED_LOOP_NS 500000000LL

TEST(sweeping_yields_to_a_closed_loop_of_commits)
{
    store *s = open_store();
    CHECK(s != NULL);
    if (!s)
        return;
    store_batch *b = store_batch_new();
    store_put_resource(b, KEPT, "test.queue", "000000000000", "kept", "{}");
    store_put_resource(b, DELETED, "test.queue", "000000000000", "big", "{}");
    for (int i = 0; i < BIG; i++) {
        store_message m = {.seq = store_next_message_seq(s), .container = DELETED,
                           .message_id = "m", .body = "body", .body_len = 4};
        store_put_message(b, &m);
    }
    CHECK_INT(commit(s, b), 0);
    b = store_batch_new();
    store_delete_container(b, DELETED);
    CHECK_INT(commit(s, b), 0);

    /* A client that sends its next batch as soon as the last is answered
     * leaves the committer nothing to do between them, but is not idle. */
    uint64_t chunks0, chunks1;
    int64_t swept0, swept1, start = clock_mono_ns();
    store_sweep_stats(s, &chunks0, &swept0);
    /* Long enough that one chunk is a small part of it, even where a
     * commit is quick (a tmpfs). */
    int sent = 0;
    for (; sent < CLOSED_LOOP || clock_mono_ns() - start < CLOSED_LOOP_NS; sent++) {
        b = store_batch_new();
        store_message m = {.seq = store_next_message_seq(s), .container = KEPT,
                           .message_id = "k", .body = "x", .body_len = 1};
        store_put_message(b, &m);
        CHECK_INT(commit(s, b), 0);
    }
    int64_t elapsed = clock_mono_ns() - start;
    store_sweep_stats(s, &chunks1, &swept1);
    /* Paced at a tenth; a third leaves room for a slow machine. */
    CHECK(swept1 - swept0 <= elapsed / 3);
    if (swept1 - swept0 > elapsed / 3)
        fprintf(stderr, "  swept %lld of %lld ns in %llu chunks\n",
                (long long)(swept1 - swept0), (long long)elapsed,
                (unsigned long long)(chunks1 - chunks0));
    /* Left alone, it finishes. */
    CHECK(wait_swept());
    counts c = load(s);
    CHECK_INT(c.per[KEPT], sent);
    CHECK_INT(c.per[DELETED], 0);
    store_close(s);
}

static bool new_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/sluice-unit-sweep.XXXXXX");
    if (mkdtemp(dir))
        return true;
    perror("mkdtemp");
    return false;
}

static void remove_dir(void)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot clean %s\n", dir);
}

int main(void)
{
    if (!new_dir())
        return 1;
    RUN(purge_and_delete_hide_then_sweep);
    remove_dir();
    if (!new_dir())
        return 1;
    RUN(markers_left_by_a_crash_hide_and_get_swept);
    remove_dir();
    if (!new_dir())
        return 1;
    RUN(sweeping_yields_to_a_closed_loop_of_commits);
    remove_dir();
    return check_report();
}
