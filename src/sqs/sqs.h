/*
 * sqs.h - the SQS service's model, shared by the files of src/sqs/.
 *
 * Ownership: one sqs_service per server; it and every queue and message in
 * it belong to the event-loop thread, which is the only thread that touches
 * them.  Durable state lives in the store: a queue is a resource of kind
 * "sqs.queue" whose JSON document holds its attributes and tags; a message
 * is a store message whose container is its queue's id.
 *
 * In memory each queue keeps an index of its messages' delivery state, not
 * their bodies: a ready list (visible now, in arrival order) and a min-heap
 * of messages that become visible later (delayed or in flight).  Bodies are
 * cached while a budget allows and otherwise read back from the store when a
 * receive needs them, so a backlog does not cost memory in proportion to its
 * bodies.
 */
#ifndef SLUICE_SQS_H
#define SLUICE_SQS_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/map.h"
#include "store/store.h"
#include "wire/api.h"

#define SQS_MAX_BATCH 10
#define SQS_MAX_MESSAGE_ATTRIBUTES 10
#define SQS_MAX_VISIBILITY 43200
#define SQS_MAX_WAIT 20
#define SQS_MAX_DELAY 900
#define SQS_MAX_MESSAGE_SIZE 1048576
#define SQS_MIN_MESSAGE_SIZE 1024
#define SQS_DEFAULT_MESSAGE_SIZE 1048576
#define SQS_DEFAULT_RETENTION 345600
#define SQS_DEFAULT_VISIBILITY 30
#define SQS_PURGE_INTERVAL_MS 60000
#define SQS_BODY_CACHE_BYTES (256u << 20)
#define SQS_DEDUP_WINDOW_MS (5 * 60 * 1000)

typedef struct sqs_queue sqs_queue;
typedef struct sqs_message sqs_message;
typedef struct sqs_waiter sqs_waiter;
typedef struct sqs_service sqs_service;
typedef struct sqs_group sqs_group;
typedef struct sqs_move_task sqs_move_task;

enum sqs_message_state { MSG_PENDING, MSG_READY, MSG_DELAYED, MSG_INFLIGHT };

struct sqs_message {
    uint64_t seq;
    sqs_queue *queue;
    char message_id[37];
    enum sqs_message_state state;
    uint32_t receive_count;
    uint32_t receipt_nonce;     /* changes on every receive: stale handles fail */
    int64_t sent_ms;
    int64_t visible_at_ms;      /* when delayed or in flight */
    int64_t first_receive_ms;
    int64_t received_ms;        /* the current receive (memory only) */
    size_t heap_pos;            /* index in queue->heap while delayed/in flight */
    sqs_group *group;           /* while ready, or in flight on a FIFO queue */
    sqs_message *prev, *next;   /* links in the group's list */
    char *meta;                 /* JSON text (sender id, trace header) or NULL */
    char *group_id;             /* MessageGroupId, or NULL */
    char *body;                 /* cached, or NULL when only on disk */
    size_t body_len;
    char *attrs;                /* cached attributes JSON text, or NULL */
    size_t attrs_len;
    bool cached;                /* body/attrs hold the payload */
    bool has_md5;               /* body_md5 is known */
    uint8_t body_md5[16];       /* computed once at send; again after a restart */
};

/*
 * A message group.  Every queue has groups: messages sent without a
 * MessageGroupId belong to the group "".  On a standard queue a group's list
 * holds its ready messages and receives take from the groups in turn, so one
 * group's flood cannot starve the others.  On a FIFO queue the list holds the
 * group's ready and in-flight messages in send order, and the group is
 * offered to receives only while none of its messages is in flight.
 */
struct sqs_group {
    char *id;
    sqs_message *head, *tail;
    size_t count;               /* messages in the list */
    size_t inflight;            /* FIFO: messages of the group in flight */
    bool active;                /* in the queue's list of groups to serve */
    sqs_group *prev, *next;     /* links in that list */
};

/* A FIFO deduplication entry: the first message sent with its id. */
typedef struct sqs_dedup {
    struct sqs_dedup *older, *newer; /* the queue's entries in expiry order */
    char *key;
    char message_id[37];
    char sequence_number[24];
    int64_t expires_ms;
} sqs_dedup;

/* A FIFO receive that may be retried with its ReceiveRequestAttemptId. */
typedef struct sqs_attempt {
    int64_t expires_ms;
    size_t n;
    uint64_t seq[SQS_MAX_BATCH];
    uint32_t nonce[SQS_MAX_BATCH];
} sqs_attempt;

struct sqs_waiter {
    api_call *call;
    sqs_queue *queue;
    struct event *timer;
    sqs_waiter *prev, *next;
    /* the receive's parameters, parsed once */
    int max;
    int visibility;
    json_t *attribute_names;
    json_t *message_attribute_names;
};

struct sqs_queue {
    sqs_service *svc;
    uint64_t id;
    char *account;
    char *name;
    char *arn;
    bool fifo;
    bool deleted;
    int refs;                   /* pending commits holding the queue */
    int64_t created_ms, modified_ms;
    int64_t last_purge_ms;
    json_t *attributes;         /* the configurable attributes as set, strings */
    json_t *tags;

    /* attributes in typed form, refreshed by sqs_queue_apply_attributes */
    int visibility_timeout;
    int delay_seconds;
    int max_message_size;
    int retention_seconds;
    int receive_wait_seconds;
    char *dead_letter_arn;      /* from RedrivePolicy, or NULL */
    int max_receive_count;

    /* the delivery index */
    map_u64 by_seq;
    map_str groups;             /* group id -> sqs_group */
    sqs_group *active_head, *active_tail;
    size_t ready_count, delayed_count, inflight_count;
    sqs_message **heap;
    size_t heap_len, heap_cap;
    struct event *timer;
    int64_t timer_at;
    sqs_waiter *waiters, *waiters_tail;
    map_str dedup;              /* FIFO: dedup key -> sqs_dedup */
    sqs_dedup *dedup_oldest, *dedup_newest;
    map_str attempts;           /* FIFO: ReceiveRequestAttemptId -> sqs_attempt */
};

struct sqs_service {
    struct event_base *base;
    store *store;
    const char *region;
    const char *default_account;
    map_str queues;             /* "account/name" -> sqs_queue */
    map_u64 queues_by_id;
    size_t cache_bytes;         /* bytes of bodies cached in memory */
    sqs_move_task *move_tasks;  /* every task since start, newest first */
    struct event *sweeper;
    const limits *limits;       /* not owned */
    account_counts queue_counts; /* queues per account */
    size_t parked;              /* receives waiting on any queue */
};

/* service.c */
sqs_service *sqs_service_new(struct event_base *base, store *st, const char *region,
                             const char *default_account);
int sqs_service_load(sqs_service *svc);
/* Uses lim (not owned; outlives the service) instead of the defaults. */
void sqs_service_set_limits(sqs_service *svc, const limits *lim);
void sqs_service_free(sqs_service *svc);
api_service *sqs_api_service(sqs_service *svc);
/* Finds the queue named by QueueUrl (or the Query request's path); sets the
 * call's error and returns NULL if there is none. */
sqs_queue *sqs_queue_from_call(sqs_service *svc, api_call *call);
sqs_queue *sqs_queue_find(sqs_service *svc, const char *account, const char *name);
sqs_queue *sqs_queue_find_arn(sqs_service *svc, const char *arn);
/* Whether a service ("sns.amazonaws.com", "events.amazonaws.com") may put
 * a message on q for source_arn of source_account: the queue's Policy asked
 * for sqs:SendMessage (core/policy.h, policy_service_permits). */
bool sqs_queue_accepts(const sqs_queue *q, const char *service, const char *source_arn,
                       const char *source_account);
void sqs_queue_url(const api_call *call, const sqs_queue *q, char *out, size_t outlen);
sqs_queue *sqs_queue_new(sqs_service *svc, uint64_t id, const char *account, const char *name);
void sqs_queue_unref(sqs_service *svc, sqs_queue *q);
void sqs_queue_drop(sqs_service *svc, sqs_queue *q);
/* The queue's document for the store. */
char *sqs_queue_doc(const sqs_queue *q);

/* attributes.c */
/* Validates attrs (a map of name -> string) for create (creating=true) or
 * set; on error sets the call's error and returns -1. */
int sqs_attributes_validate(api_call *call, json_t *attrs, bool creating, bool fifo);
/* Applies validated attrs to the queue's stored attributes and typed fields. */
void sqs_queue_set_attributes(sqs_queue *q, json_t *attrs);
void sqs_queue_apply_attributes(sqs_queue *q);
/* Fills out (object) with the attributes named in names (NULL = none). */
int sqs_attributes_get(api_call *call, sqs_service *svc, sqs_queue *q, json_t *names,
                       json_t *out);
/* Compares given attributes with the queue's; true if all equal. */
bool sqs_attributes_match(const sqs_queue *q, json_t *attrs);

/* index.c: the delivery index of a queue */
void sqs_index_add(sqs_service *svc, sqs_message *m, int64_t now);
void sqs_index_remove(sqs_service *svc, sqs_message *m);
void sqs_index_make_visible_at(sqs_service *svc, sqs_message *m, int64_t at, int64_t now);
/* A FIFO queue's new DelaySeconds applies to the messages still waiting
 * out the old one (AWS: retroactive for FIFO queues): each delayed message
 * becomes visible at its send time plus delay_ms.  Adds their new
 * visibility to b; wakes parked receives when some are visible now. */
void sqs_index_redelay(sqs_service *svc, sqs_queue *q, int64_t delay_ms, int64_t now,
                       struct store_batch *b);
void sqs_index_mature(sqs_service *svc, sqs_queue *q, int64_t now);
void sqs_index_clear(sqs_service *svc, sqs_queue *q);
void sqs_index_timer_fired(evutil_socket_t fd, short what, void *arg);
/* Chooses up to max messages a receive may take now, in the order AWS would
 * hand them out (see sqs_group).  Changes nothing but the order of groups. */
size_t sqs_index_pick(sqs_queue *q, size_t max, sqs_message **out);
/* True if a receive could take something now. */
bool sqs_index_has_ready(const sqs_queue *q);
/* The group id a message was sent with ("" if none), from its meta. */
void sqs_message_set_group(sqs_message *m, const char *group_id);
sqs_message *sqs_message_new(sqs_queue *q, uint64_t seq);
void sqs_message_free(sqs_service *svc, sqs_message *m);
void sqs_message_cache(sqs_service *svc, sqs_message *m, const char *body, size_t body_len,
                       const char *attrs, size_t attrs_len);

/* receipt.c */
void sqs_receipt_encode(const sqs_message *m, char *out, size_t outlen);
/* Returns 0 and fills queue id, seq, nonce; -1 if the text is malformed. */
int sqs_receipt_decode(const char *text, uint64_t *queue_id, uint64_t *seq, uint32_t *nonce);

/* message_attrs.c */
/* Validates a MessageAttributes map; returns its size in bytes (names, types
 * and values), or -1 with the call's error set. */
long sqs_message_attrs_validate(api_call *call, json_t *attrs, bool system);
/* The AWS MD5 of a set of attributes (names sorted); out: 33 chars. */
void sqs_message_attrs_md5(json_t *attrs, char out[33]);
void sqs_md5_hex(const void *data, size_t n, char out[33]);
/* Checks that text is UTF-8 and follows the XML character rule; returns -1
 * if so, SQS_BODY_NOT_UTF8 if it is not UTF-8, else the offending code point. */
#define SQS_BODY_NOT_UTF8 (-2L)
long sqs_body_invalid_char(const char *body, size_t n);
/* A copy of text with every character SQS refuses (and every byte that is
 * not UTF-8) replaced by U+FFFD; the caller frees it. */
char *sqs_text_sanitize(const char *text, size_t n, size_t *out_len);

/* stage.c: new messages, made visible only once durable */
typedef struct sqs_staged sqs_staged;
typedef struct sqs_outgoing {
    const char *body;
    size_t body_len;
    const char *attrs;      /* MessageAttributes as JSON text, or NULL */
    const char *trace;      /* AWSTraceHeader, or NULL */
    const char *group_id;   /* MessageGroupId, or NULL */
    const char *dedup_id;   /* MessageDeduplicationId, or NULL */
    const char *sender;     /* SenderId */
    int delay_seconds;      /* -1: the queue's DelaySeconds */
} sqs_outgoing;

sqs_staged *sqs_staged_new(sqs_service *svc);
/* Builds a message for q (already validated by the caller) and adds its row
 * to b.  The message is not visible until sqs_staged_finish. */
sqs_message *sqs_stage(sqs_staged *st, sqs_queue *q, const sqs_outgoing *o, store_batch *b);
size_t sqs_staged_count(const sqs_staged *st);
/* A FIFO send answered as a duplicate of d's message: the answer must wait
 * for that message's own commit, and is wrong if that commit failed. */
void sqs_staged_note_duplicate(sqs_staged *st, sqs_queue *q, const sqs_dedup *d);
/* After b's commit: status 0 indexes the messages and wakes receivers,
 * anything else drops them (and the deduplication entries they made).
 * Frees st.  Returns 0, or -1 if status was 0 but the original of a noted
 * duplicate was not stored after all (its own commit failed). */
int sqs_staged_finish(sqs_staged *st, int status);

/* fifo.c */
bool sqs_fifo_valid_id(const char *s);
void sqs_fifo_content_dedup_id(const char *body, size_t len, char out[65]);
void sqs_fifo_sequence_number(const sqs_message *m, char out[24]);
sqs_dedup *sqs_fifo_dedup_find(sqs_queue *q, const char *group, const char *dedup, int64_t now);
void sqs_fifo_dedup_record(sqs_service *svc, sqs_queue *q, const char *group, const char *dedup,
                           const sqs_message *m, const char *sequence_number, store_batch *b);
void sqs_fifo_dedup_load(sqs_service *svc, const char *name, const char *doc);
/* Drops the entry m made, if it is still m's (m's commit failed). */
void sqs_fifo_dedup_forget(sqs_queue *q, const sqs_message *m);
/* Whether the entry under key still names message_id. */
bool sqs_fifo_dedup_holds(sqs_queue *q, const char *key, const char *message_id);
/* Drops expired entries (or all), deleting their rows through b if given. */
size_t sqs_fifo_dedup_expire(sqs_queue *q, int64_t now, store_batch *b, bool all);
void sqs_fifo_attempt_record(sqs_queue *q, const char *attempt_id, sqs_message **msgs, size_t n,
                             int64_t now);
size_t sqs_fifo_attempt_replay(sqs_queue *q, const char *attempt_id, int64_t now,
                               sqs_message **out);
void sqs_fifo_attempts_clear(sqs_queue *q, int64_t now, bool all);

/* Moves a stored message to another queue with a fresh receive count (a
 * dead-letter move records source_arn; a redrive passes NULL and, as AWS,
 * makes it a new message: a new MessageId, kept in its meta as "id", and
 * a new enqueue time). */
void sqs_message_move(sqs_service *svc, sqs_message *m, sqs_queue *to, const char *source_arn,
                      store_batch *b, int64_t now);

/* move_tasks.c */
api_status sqs_start_message_move_task(api_call *call);
api_status sqs_cancel_message_move_task(api_call *call);
api_status sqs_list_message_move_tasks(api_call *call);
void sqs_move_task_load(sqs_service *svc, uint64_t id, const char *handle, const char *doc);
void sqs_move_tasks_free(sqs_service *svc);

/* messages.c: the message actions */
api_status sqs_send_message(api_call *call);
api_status sqs_send_message_batch(api_call *call);
api_status sqs_receive_message(api_call *call);
api_status sqs_delete_message(api_call *call);
api_status sqs_delete_message_batch(api_call *call);
api_status sqs_change_message_visibility(api_call *call);
api_status sqs_change_message_visibility_batch(api_call *call);
/* Runs parked receives while the queue has ready messages. */
void sqs_wake_waiters(sqs_service *svc, sqs_queue *q);
void sqs_waiters_cancel_all(sqs_service *svc, sqs_queue *q);
/* Answers every parked receive now, empty (the server is stopping). */
void sqs_waiters_answer_all(sqs_service *svc);

/* queues.c: the queue actions */
api_status sqs_create_queue(api_call *call);
api_status sqs_delete_queue(api_call *call);
api_status sqs_get_queue_url(api_call *call);
api_status sqs_list_queues(api_call *call);
api_status sqs_get_queue_attributes(api_call *call);
api_status sqs_set_queue_attributes(api_call *call);
api_status sqs_tag_queue(api_call *call);
api_status sqs_untag_queue(api_call *call);
api_status sqs_list_queue_tags(api_call *call);
api_status sqs_add_permission(api_call *call);
api_status sqs_remove_permission(api_call *call);
api_status sqs_purge_queue(api_call *call);
api_status sqs_list_dead_letter_source_queues(api_call *call);

/* Commits batch and finishes the call when it is durable; returns API_PENDING. */
api_status sqs_commit_and_finish(sqs_service *svc, api_call *call, store_batch *batch);

static inline sqs_service *sqs_of(api_call *call)
{
    return (sqs_service *)call->service->ctx;
}

#endif
