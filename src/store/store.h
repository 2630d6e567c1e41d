/*
 * store.h - the storage engine interface.
 *
 * Everything durable goes through here; nothing above this layer writes SQL.
 * The interface is narrow on purpose so that a second engine (a shared
 * PostgreSQL) can implement it without the services noticing:
 *
 *   - resources: small JSON documents keyed by (kind, account, name) with a
 *     numeric id: queues now; topics, subscriptions, buses, rules and
 *     schedules later.
 *   - messages: rows of a queue-like container (an SQS queue, or an internal
 *     delivery queue), with a body and attributes stored as opaque bytes.
 *
 * Writes are collected into a store_batch and submitted; the engine groups
 * the batches of many requests into one transaction and one sync, then
 * calls each batch's completion on the owner thread (the thread that calls
 * store_run_completions, the event loop).  A request is answered only from
 * that completion, so every acknowledged change is on disk.
 *
 * Reads (store_load_*, store_read_payload) are made by the owner thread
 * only, through a connection of its own.
 */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_batch store_batch;

/* Called on the committer thread when completions are ready to run; the
 * owner should then call store_run_completions() on its own thread. */
typedef void (*store_wakeup_fn)(void *arg);
/* A batch's completion: status 0 = durable, else the change was not made. */
typedef void (*store_done_fn)(void *arg, int status);

/* Opens (creating if needed) the store in dir.  Returns NULL and fills err on
 * failure.  Starts the committer thread. */
store *store_open(const char *dir, store_wakeup_fn wakeup, void *wakeup_arg, char *err,
                  size_t errlen);
/* Commits what is pending, stops the committer, runs the last completions,
 * closes the database. */
void store_close(store *s);
/* Runs the completions of committed batches.  Owner thread only. */
void store_run_completions(store *s);
/* Waits until everything submitted is committed and its completions have
 * run (including what those completions submit).  Owner thread only; used
 * at shutdown before the services that own the completions go away. */
void store_flush(store *s);

/* Ids: never reused, allocated by the owner thread before a row is written. */
uint64_t store_next_resource_id(store *s);
uint64_t store_next_message_seq(store *s);

/* --- writes ----------------------------------------------------------- */

store_batch *store_batch_new(void);
void store_batch_free(store_batch *b);
bool store_batch_empty(const store_batch *b);

/* A resource row; doc is JSON text.  Inserts or replaces by id. */
void store_put_resource(store_batch *b, uint64_t id, const char *kind, const char *account,
                        const char *name, const char *doc);
/* Deletes a resource and, if it holds messages, all of them, in the
 * transaction: for resources that hold few. */
void store_delete_resource(store_batch *b, uint64_t id);
/* Deletes a resource that may hold many messages (a queue, an archive): they
 * are hidden in the transaction and swept away after it, a chunk at a time. */
void store_delete_container(store_batch *b, uint64_t id);

typedef struct store_message {
    uint64_t seq;            /* unique, increasing: the storage order */
    uint64_t container;      /* id of the resource holding it */
    const char *message_id;  /* text id shown to users */
    int64_t sent_ms;
    int64_t visible_at_ms;
    int64_t first_receive_ms;
    uint32_t receive_count;
    const char *meta;        /* small JSON text of per-message metadata, or NULL */
    const void *attributes;  /* opaque bytes, or NULL */
    size_t attributes_len;
    const void *body;
    size_t body_len;
} store_message;

/* Inserts a message (copies everything). */
void store_put_message(store_batch *b, const store_message *m);
/* Updates the delivery state of a message. */
void store_update_message(store_batch *b, uint64_t seq, int64_t visible_at_ms,
                          uint32_t receive_count, int64_t first_receive_ms);
/* Moves a message to another container (dead-letter queues, redrive) under a
 * new seq, with sent_ms as its send time (retention counts from it),
 * resetting its first-receive time; meta replaces its metadata unless
 * NULL. */
void store_move_message(store_batch *b, uint64_t seq, uint64_t new_seq, uint64_t container,
                        int64_t sent_ms, int64_t visible_at_ms, uint32_t receive_count,
                        const char *meta);
void store_delete_message(store_batch *b, uint64_t seq);
/* Deduplication entries (FIFO queues): small rows keyed by text, owned by a
 * container (deleted with it), kept until the owner deletes them. */
void store_put_dedup(store_batch *b, uint64_t container, const char *key, const char *doc,
                     int64_t expires_ms);
void store_delete_dedup(store_batch *b, const char *key);

/* Deletes the messages of a container whose seq is <= max_seq (hidden in the
 * transaction, swept away after it). */
void store_purge_messages(store_batch *b, uint64_t container, uint64_t max_seq);

/* Hands the batch to the committer; done(arg, status) runs on the owner
 * thread once it is durable (or failed).  Takes ownership of b.
 *
 * A batch submitted without done records what memory already holds and no
 * caller waits for (a receive's new visibility, a sweep's deletions): if its
 * commit fails it is kept, in order, and applied at the start of the next
 * transaction that succeeds, so the disk catches up with memory instead of
 * drifting from it. */
void store_submit(store *s, store_batch *b, store_done_fn done, void *arg);

/* --- a full disk (docs/durability.md) ----------------------------------
 * The store keeps a preallocated reserve file beside the database
 * (<dir>/sluice.reserve, 1/16 of the file system, 64 KiB to 16 MiB).  When a
 * commit fails because the file system is full, it deletes the reserve and
 * retries, so the batches already submitted (whose callers changed memory
 * first) still commit, and from then on reports itself full: callers refuse
 * new writes before changing anything.  Every second it checks for space;
 * once it can allocate the reserve again (with as much free beside it) it
 * reports writes accepted.  One log line for each change of state. */

/* True while the store refuses writes for want of space.  Any thread. */
bool store_is_full(const store *s);

/* --- reads (owner thread) ---------------------------------------------- */

typedef void (*store_resource_fn)(void *arg, uint64_t id, const char *kind,
                                  const char *account, const char *name, const char *doc);
/* Calls fn for every resource of the kind, in id order. */
int store_load_resources(store *s, const char *kind, store_resource_fn fn, void *arg);

/* Calls fn for every message, without body and attributes (they stay on
 * disk until a receive needs them), in seq order.  m->body is NULL. */
typedef void (*store_message_fn)(void *arg, const store_message *m);
int store_load_messages(store *s, store_message_fn fn, void *arg);

/* Calls fn for every deduplication entry, soonest to expire first. */
typedef void (*store_dedup_fn)(void *arg, uint64_t container, const char *key, const char *doc,
                               int64_t expires_ms);
int store_load_dedup(store *s, store_dedup_fn fn, void *arg);

/* Reads body and attributes of one message into malloc'd buffers owned by
 * the caller.  Returns 0, or -1 if the message is not stored. */
int store_read_payload(store *s, uint64_t seq, char **body, size_t *body_len, char **attrs,
                       size_t *attrs_len);

/* Counters for metrics: commits made and batches they carried. */
void store_stats(store *s, uint64_t *commits, uint64_t *batches);

/* Background sweeping of deleted and purged rows: chunks done and the
 * committer's time spent on them, in nanoseconds. */
void store_sweep_stats(store *s, uint64_t *chunks, int64_t *ns);

#endif
