/*
 * Unit tests: the store on a file system that fills up (docs/durability.md).
 *
 * The process moves into a mount namespace of its own (as root; otherwise a
 * user namespace too) and mounts a 4 MiB tmpfs there, so the store meets a
 * real ENOSPC.  Without either privilege the tests are skipped and say so.
 *
 * Checked: the reserve file is made at open; the commit that first runs out
 * of space still succeeds (the reserve is released for it) and the store
 * reports itself full; later batches fail with status -1 and the committer
 * keeps going; a batch without a completion that fails is kept and applied
 * once space returns; the store accepts writes again within a few seconds of
 * space returning, re-creating the reserve; everything acknowledged is there
 * after a reopen; a store opened without room for its reserve starts full.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "check.h"
#include "store/store.h"

#define DISK_BYTES (4 << 20)
#define RESERVE_BYTES (DISK_BYTES / 16)
#define MSG_BYTES (16 << 10)
#define CONTAINER 1

static char root[64];
static char data[96];

static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A private tmpfs at root; false (with the reason printed) if impossible. */
static bool mount_small_disk(void)
{
    char opts[64], map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();

    snprintf(root, sizeof root, "/tmp/sluice-unit-full.%d", (int)getpid());
    snprintf(data, sizeof data, "%s/data", root);
    if (mkdir(root, 0700) != 0) {
        printf("skipped: cannot create %s: %s\n", root, strerror(errno));
        return false;
    }
    if (unshare(CLONE_NEWNS) != 0) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            printf("skipped: no mount namespace: %s\n", strerror(errno));
            return false;
        }
        snprintf(map, sizeof map, "0 %d 1", (int)uid);
        write_file("/proc/self/setgroups", "deny");
        if (!write_file("/proc/self/uid_map", map)) {
            printf("skipped: cannot map the user id\n");
            return false;
        }
        snprintf(map, sizeof map, "0 %d 1", (int)gid);
        write_file("/proc/self/gid_map", map);
    }
    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
    snprintf(opts, sizeof opts, "size=%d", DISK_BYTES);
    if (mount("tmpfs", root, "tmpfs", 0, opts) != 0) {
        printf("skipped: cannot mount a tmpfs: %s\n", strerror(errno));
        return false;
    }
    return true;
}

/* A file of n bytes, allocated; with n < 0 as much as still fits. */
static void fill(const char *name, long long n)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", root, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (n >= 0) {
        posix_fallocate(fd, 0, n);
    } else {
        off_t at = 0;
        while (posix_fallocate(fd, at, 4096) == 0)
            at += 4096;
    }
    close(fd);
}

/* A file that leaves about left bytes free. */
static void fill_leaving(const char *name, long long left)
{
    struct statvfs v;
    if (statvfs(root, &v) == 0)
        fill(name, (long long)v.f_bfree * (long long)v.f_frsize - left);
}

static void unfill(const char *name)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", root, name);
    unlink(path);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void record_status(void *arg, int status)
{
    *(int *)arg = status;
}

/* Puts one message and waits for its commit; returns the status. */
static int put_message(store *s, uint64_t seq)
{
    static char body[MSG_BYTES];
    int status = 99;
    store_batch *b = store_batch_new();
    store_message m = {.seq = seq, .container = CONTAINER, .message_id = "m",
                       .body = body, .body_len = sizeof body};

    memset(body, 'a' + (int)(seq % 26), sizeof body);
    store_put_message(b, &m);
    store_submit(s, b, record_status, &status);
    store_flush(s);
    return status;
}

typedef struct seen {
    bool present[512];
    int64_t visible_at[512];
} seen;

static void on_message(void *arg, const store_message *m)
{
    seen *v = arg;
    if (m->seq < 512) {
        v->present[m->seq] = true;
        v->visible_at[m->seq] = m->visible_at_ms;
    }
}

static bool wait_not_full(store *s, int seconds)
{
    for (int i = 0; i < seconds * 20 && store_is_full(s); i++)
        usleep(50000);
    return !store_is_full(s);
}

static store *open_store(void)
{
    char err[256] = "";
    store *s = store_open(data, NULL, NULL, err, sizeof err);
    if (!s)
        fprintf(stderr, "  store_open: %s\n", err);
    return s;
}

TEST(fills_up_refuses_and_recovers)
{
    char reserve[160];
    bool acked[512] = {false};
    int failed = 0;
    uint64_t seq = 1;
    store *s = open_store();

    CHECK(s != NULL);
    if (!s)
        return;
    snprintf(reserve, sizeof reserve, "%s/sluice.reserve", data);
    CHECK_INT(file_size(reserve), RESERVE_BYTES);
    CHECK(!store_is_full(s));

    /* Room for a few messages only, then sends until commits fail. */
    fill("filler", DISK_BYTES - 3 * RESERVE_BYTES);
    while (seq < 500 && failed < 3) {
        int st = put_message(s, seq);
        if (st == 0) {
            acked[seq] = true;
            /* Nothing acknowledged after the first failure: it is full. */
            CHECK_INT(failed, 0);
        } else {
            CHECK_INT(st, -1);
            CHECK(store_is_full(s));
            failed++;
        }
        seq++;
    }
    CHECK_INT(failed, 3);
    CHECK(store_is_full(s));
    CHECK_INT(file_size(reserve), -1);

    /* A change without a completion, made while not a byte is free. */
    fill("crumbs", -1);
    store_batch *b = store_batch_new();
    store_update_message(b, 1, 424242, 7, 0);
    store_submit(s, b, NULL, NULL);
    store_flush(s);
    CHECK(put_message(s, seq++) == -1);

    /* Space returns: accepted again, the reserve is back. */
    unfill("crumbs");
    unfill("filler");
    CHECK(wait_not_full(s, 5));
    CHECK_INT(file_size(reserve), RESERVE_BYTES);
    uint64_t later = seq++;
    CHECK_INT(put_message(s, later), 0);
    acked[later] = true;
    store_close(s);

    /* Reopened: every acknowledged message, the kept change, nothing else. */
    s = open_store();
    CHECK(s != NULL);
    if (!s)
        return;
    seen *v = calloc(1, sizeof *v);
    CHECK_INT(store_load_messages(s, on_message, v), 0);
    int wrong = 0;
    for (uint64_t i = 1; i < seq; i++)
        if (v->present[i] != acked[i])
            wrong++;
    CHECK_INT(wrong, 0);
    CHECK_INT(v->visible_at[1], 424242);
    free(v);
    store_close(s);
}

TEST(starts_full_without_room_for_the_reserve)
{
    char reserve[160];

    snprintf(reserve, sizeof reserve, "%s/sluice.reserve", data);
    unlink(reserve);
    fill_leaving("filler", RESERVE_BYTES / 2);
    store *s = open_store();
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(store_is_full(s));
    unfill("filler");
    CHECK(wait_not_full(s, 5));
    CHECK_INT(file_size(reserve), RESERVE_BYTES);
    store_close(s);
}

int main(void)
{
    if (!mount_small_disk())
        return check_report();
    RUN(fills_up_refuses_and_recovers);
    RUN(starts_full_without_room_for_the_reserve);
    umount2(root, MNT_DETACH);
    rmdir(root);
    return check_report();
}
