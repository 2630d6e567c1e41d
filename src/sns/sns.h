/*
 * sns.h - the SNS service's model, shared by the files of src/sns/.
 *
 * Ownership: one sns_service per server; it, its topics, subscriptions and
 * outbound HTTP deliveries belong to the event-loop thread, the only thread
 * that touches them.  Durable state lives in the store:
 *   - a topic is a resource of kind "sns.topic" (name = topic name),
 *   - a subscription is a resource of kind "sns.subscription" (name = its id),
 *   - pending HTTP/HTTPS deliveries are store messages in the container of
 *     the one resource of kind "sns.outbox", deleted when delivered or given
 *     up, so a restart resumes them.
 * A publish stages its SQS copies (sqs_stage) and its HTTP outbox rows in
 * one store batch: either every matching subscriber has it or none.
 *
 * Deleted topics and subscriptions are unlinked from the registries at once
 * but their memory is kept until the service is freed, because callbacks of
 * commits or HTTP transfers in flight may still point at them.
 *
 * The pure parts (envelope text, string to sign, delivery-policy arithmetic)
 * are in envelope.c and policy.c and have unit tests in tests/unit/sns/.
 */
#ifndef SLUICE_SNS_H
#define SLUICE_SNS_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/map.h"
#include "match/match.h"
#include "sqs/sqs.h"
#include "store/store.h"
#include "wire/api.h"

#define SNS_XMLNS "http://sns.amazonaws.com/doc/2010-03-31/"
#define SNS_MAX_MESSAGE 262144
#define SNS_LIST_PAGE 100
#define SNS_MAX_BATCH 10
#define SNS_MAX_TAGS 50
#define SNS_DEDUP_WINDOW_MS (5 * 60 * 1000)

typedef struct sns_service sns_service;
typedef struct sns_topic sns_topic;
typedef struct sns_sub sns_sub;
typedef struct sns_http sns_http;

struct sns_topic {
    uint64_t id;
    char *account;
    char *name;
    char *arn;
    bool fifo;
    bool deleted;
    int64_t created_ms;
    json_t *attrs;           /* settable attributes as given, name -> string */
    json_t *tags;            /* key -> value */
    char *data_protection;   /* DataProtectionPolicy text (stored, not enforced), or NULL */
    json_t *dedup;           /* FIFO: dedup id -> [message id, ms, seq] */
    uint64_t fifo_seq;       /* FIFO: last sequence number handed out */
    long subs_deleted;
    sns_sub **subs;          /* live subscriptions, in creation order */
    size_t nsubs, subs_cap;
    sns_topic *grave_next;
};

struct sns_sub {
    uint64_t id;
    char *arn;
    char *topic_arn;
    char *account;
    char *protocol;          /* "sqs", "http", "https", ... */
    char *endpoint;
    char *token;             /* confirmation token */
    bool confirmed;
    bool confirmed_signed;   /* confirmed by a signed call (ConfirmationWasAuthenticated) */
    bool auth_unsubscribe;   /* confirmed with AuthenticateOnUnsubscribe=true */
    bool deleted;
    int64_t unsubscribed_ms; /* when an Unsubscribe told the endpoint: restorable */
    json_t *attrs;           /* settable attributes as given, name -> string */
    match_pattern *filter;   /* compiled FilterPolicy, or NULL */
    sns_topic *topic;
    sns_sub *grave_next;
};

struct sns_service {
    struct event_base *base;
    store *store;
    sqs_service *sqs;
    const char *region;
    const char *default_account;
    char *data_dir;
    map_str topics;          /* arn -> sns_topic */
    map_str subs;            /* arn -> sns_sub */
    map_str tokens;          /* confirmation token -> sns_sub */
    /* token of an UnsubscribeConfirmation -> the unsubscribed sns_sub (in
     * the grave), which ConfirmSubscription with it restores; in memory only */
    map_str restore_tokens;
    sns_topic *topic_grave;
    sns_sub *sub_grave;
    uint64_t outbox_id;      /* container of pending HTTP deliveries */
    sns_http *http;          /* outbound HTTP engine */
    void *signer;            /* EVP_PKEY * */
    char *cert_pem;          /* the signing certificate, PEM */
    const limits *limits;    /* not owned */
    account_counts topic_counts; /* topics per account */
    account_counts fifo_topic_counts; /* FIFO topics per account */
    char *ca_file;           /* CA bundle for outbound HTTPS, or NULL: the system's */
};

/* --- service.c ------------------------------------------------------- */

/* Creates the service; data_dir holds the signing key and certificate
 * (generated on first start).  Returns NULL (logged) on failure. */
sns_service *sns_service_new(struct event_base *base, store *st, sqs_service *sqs,
                             const char *region, const char *default_account,
                             const char *data_dir);
/* Loads topics, subscriptions and pending deliveries; starts delivering. */
int sns_service_load(sns_service *svc);
/* Uses lim (not owned; outlives the service) instead of the defaults. */
void sns_service_set_limits(sns_service *svc, const limits *lim);
/* Trusts only the PEM CA bundle at path (NULL: the system's store) for
 * HTTPS deliveries from now on; call before the event loop runs. */
void sns_service_set_ca_file(sns_service *svc, const char *path);
/* Stops deliveries in flight (they stay in the outbox) and frees it all. */
void sns_service_free(sns_service *svc);
/* The api_service to register with the HTTP front (caller frees it). */
api_service *sns_api_service(sns_service *svc);

sns_topic *sns_topic_find(sns_service *svc, const char *arn);
sns_sub *sns_sub_find(sns_service *svc, const char *arn);
/* Writes the topic's / subscription's document into b. */
void sns_topic_put(store_batch *b, const sns_topic *t);
void sns_sub_put(store_batch *b, const sns_sub *s);
/* Unlinks (memory kept until the service is freed). */
void sns_topic_unlink(sns_service *svc, sns_topic *t);
void sns_sub_unlink(sns_service *svc, sns_sub *s);
/* Links a new subscription into the registries and its topic. */
void sns_sub_link(sns_service *svc, sns_sub *s, sns_topic *t);
/* Links an unlinked (grave) subscription back into its topic. */
void sns_sub_revive(sns_service *svc, sns_sub *s);
/* Commits b and finishes the call once durable; returns API_PENDING. */
api_status sns_commit_and_finish(sns_service *svc, api_call *call, store_batch *b);
/* "http://host" of the caller, for URLs in messages. */
void sns_base_url(const api_call *call, char *out, size_t n);

static inline sns_service *sns_of(api_call *call)
{
    return (sns_service *)call->service->ctx;
}

/* --- topics.c -------------------------------------------------------- */
api_status sns_create_topic(api_call *call);
api_status sns_delete_topic(api_call *call);
api_status sns_list_topics(api_call *call);
api_status sns_get_topic_attributes(api_call *call);
api_status sns_set_topic_attributes(api_call *call);
api_status sns_tag_resource(api_call *call);
api_status sns_untag_resource(api_call *call);
api_status sns_list_tags_for_resource(api_call *call);
api_status sns_add_permission(api_call *call);
api_status sns_remove_permission(api_call *call);
api_status sns_put_data_protection_policy(api_call *call);
api_status sns_get_data_protection_policy(api_call *call);
/* The topic's attribute, or its default; NULL if none. */
const char *sns_topic_attr(const sns_topic *t, const char *name);
/* Checks that arn is an ARN of the caller's region; -1 with AWS's error. */
int sns_check_arn(api_call *call, const char *param, const char *arn);
/* Finds the topic named by an ARN parameter; sets NotFound if absent
 * (see sns_topic_missing). */
sns_topic *sns_topic_from_param(api_call *call, const char *param);
/* The error for a topic ARN that names no topic: NotFound with message in
 * the caller's account, AuthorizationError in another (as for a topic there
 * that the caller may not use, so that existence cannot be probed). */
void sns_topic_missing(api_call *call, const char *arn, const char *message);
/* Whether the caller may act on t (the key's allow list; the topic's Policy
 * for another account); false with AuthorizationError set. */
bool sns_topic_permits(api_call *call, const sns_topic *t);
/* Whether a service ("events.amazonaws.com") may publish to the topic named
 * by topic_arn for source_arn of source_account: the topic's Policy asked
 * for sns:Publish (core/policy.h, policy_service_permits).  True when
 * there is no such topic (the publish reports that). */
bool sns_topic_accepts(sns_service *svc, const char *topic_arn, const char *service,
                       const char *source_arn, const char *source_account);

/* --- subs.c ---------------------------------------------------------- */
api_status sns_subscribe(api_call *call);
api_status sns_confirm_subscription(api_call *call);
api_status sns_unsubscribe(api_call *call);
api_status sns_list_subscriptions(api_call *call);
api_status sns_list_subscriptions_by_topic(api_call *call);
api_status sns_get_subscription_attributes(api_call *call);
api_status sns_set_subscription_attributes(api_call *call);
bool sns_sub_raw(const sns_sub *s);

/* --- publish.c ------------------------------------------------------- */
api_status sns_publish(api_call *call);
api_status sns_publish_batch(api_call *call);
/* Stages a SubscriptionConfirmation (or, with unsubscribe, an
 * UnsubscribeConfirmation) for s in b, commits, answers the call and starts
 * the delivery once durable.  Returns API_PENDING. */
api_status sns_confirmation_commit(api_call *call, sns_sub *s, bool unsubscribe,
                                   store_batch *b);
/* Serves the signing certificate (GET ?Action=GetSigningCert). */
api_status sns_get_signing_cert(api_call *call);
/* Publishing from inside the server (EventBridge and Scheduler targets): the
 * copies for SQS subscriptions are staged in st and the HTTP deliveries in b;
 * after b's commit the caller finishes st and calls sns_pending_finish with
 * the commit's status.  NULL (and err filled) if the topic cannot take it. */
typedef struct sns_pending sns_pending;
sns_pending *sns_publish_internal(sns_service *svc, const char *topic_arn, const char *message,
                                  size_t len, const char *subject, const char *group_id,
                                  const char *dedup_id, store_batch *b, sqs_staged *st,
                                  char *err, size_t errlen);
void sns_pending_finish(sns_pending *pending, int status);

/* Where sluice serves the signing certificate as a PEM file (SigningCertURL). */
#define SNS_CERT_PATH "/_sluice/sns/SimpleNotificationService-sluice.pem"
/* The http_raw_fn that serves it; ctx is the sns_service. */
void sns_serve_cert(void *ctx, buf *out, const char **content_type);

/* --- envelope.c: message texts (pure) -------------------------------- */

/* The fields of a message to a subscriber; NULL members are left out. */
typedef struct sns_envelope {
    const char *type;            /* "Notification", "SubscriptionConfirmation", ... */
    const char *message_id;
    const char *sequence_number; /* FIFO only */
    const char *token;           /* confirmations */
    const char *topic_arn;
    const char *subject;
    const char *message;
    const char *subscribe_url;   /* confirmations */
    const char *timestamp;
    const char *signature_version;
    const char *signature;       /* base64; with signing_cert_url */
    const char *signing_cert_url;
    const char *unsubscribe_url; /* notifications */
    json_t *attributes;          /* SNS MessageAttributes as published, or NULL */
} sns_envelope;

/* Appends the AWS string to sign for e (keys sorted, "key\nvalue\n"). */
void sns_string_to_sign(const sns_envelope *e, buf *out);
/* Appends the envelope as AWS writes it: keys in AWS's order, two-space
 * indent, "key" : value.  Message attributes as {"Type":..,"Value":..}. */
void sns_envelope_write(const sns_envelope *e, buf *out);
/* ISO-8601 UTC with milliseconds: out needs 25 bytes. */
void sns_timestamp(int64_t ms, char out[32]);
/* Signs text with key (EVP_PKEY *), version 1 (SHA-1) or 2 (SHA-256);
 * out receives base64 (caller frees).  Returns 0 or -1. */
int sns_sign(void *key, int version, const char *text, size_t n, char **out);

/* --- policy.c: delivery policy (pure) -------------------------------- */

typedef struct sns_retry_policy {
    int min_delay;       /* seconds */
    int max_delay;
    int num_retries;
    int num_no_delay;
    int num_min_delay;
    int num_max_delay;
    int backoff;         /* SNS_BACKOFF_* */
    int max_per_second;  /* 0: no throttle */
    bool disable_overrides; /* topic: http.disableSubscriptionOverrides */
    char content_type[128];
} sns_retry_policy;

enum { SNS_BACKOFF_LINEAR, SNS_BACKOFF_ARITHMETIC, SNS_BACKOFF_GEOMETRIC,
       SNS_BACKOFF_EXPONENTIAL };

/* AWS's default HTTP/S policy (3 retries, 20 s apart, linear). */
void sns_policy_default(sns_retry_policy *p);
/* Parses a topic DeliveryPolicy ({"http":{"defaultHealthyRetryPolicy":..}})
 * or, with sub=true, a subscription one ({"healthyRetryPolicy":..}) over p.
 * Returns 0, or -1 with AWS's reason in err. */
int sns_policy_parse(const char *json, bool sub, sns_retry_policy *p, char *err, size_t errlen);
/* The policy a subscription's HTTP deliveries follow: the default, then
 * the topic's DeliveryPolicy (topic_dp), then the subscription's (sub_dp)
 * unless the topic's sets disableSubscriptionOverrides.  NULL or invalid
 * texts are skipped. */
void sns_policy_for_sub(const char *topic_dp, const char *sub_dp, sns_retry_policy *p);
/* Delay in seconds before retry number `retry` (1-based), before jitter;
 * -1 when the policy has no such retry. */
double sns_policy_delay(const sns_retry_policy *p, int retry);
/* The EffectiveDeliveryPolicy JSON text of a topic policy (caller frees). */
char *sns_policy_effective_topic(const sns_retry_policy *p);

/* --- delivery.c: outbound HTTP --------------------------------------- */

/* One HTTP message to send: the payload and the x-amz-sns-* headers. */
typedef struct sns_http_msg {
    const char *sub_arn;     /* NULL for confirmations */
    const char *topic_arn;
    const char *url;
    const char *type;        /* x-amz-sns-message-type */
    const char *message_id;
    const char *body;
    bool raw;
} sns_http_msg;

sns_http *sns_http_new(sns_service *svc);
void sns_http_free(sns_http *h);
/* Adds the message's outbox row to b and returns a handle that starts
 * sending once b is durable (sns_http_start) or is dropped (status != 0). */
void *sns_http_stage(sns_http *h, const sns_http_msg *m, store_batch *b);
/* After b's commit: status 0 starts sending, anything else drops it. */
void sns_http_started(sns_http *h, void *staged, int status);
/* Loads pending deliveries from the store and schedules them. */
int sns_http_load(sns_http *h);

#endif
