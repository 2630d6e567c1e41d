/*
 * subs.c - the subscription actions: subscribe (idempotent for identical
 * attributes), confirm, unsubscribe, list, attributes.
 *
 * SQS subscriptions are confirmed at once; HTTP/HTTPS ones start pending
 * and get a SubscriptionConfirmation through the outbox, staged in the
 * same batch as the subscription itself.  Filter policies are compiled
 * with src/match when set and kept compiled on the subscription.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "sns/sns.h"

static const char *const known_protocols[] = {
    "sqs", "http", "https", "email", "email-json", "sms", "lambda", "firehose",
    "application", NULL,
};

/* How long the token of an UnsubscribeConfirmation restores the
 * subscription (as long as AWS's confirmation tokens last). */
#define RESTORE_WINDOW_MS (3LL * 24 * 3600 * 1000)

/* Protocols with raw message delivery (AWS: Firehose, SQS, HTTP/S). */
static bool raw_capable(const char *protocol)
{
    return strcmp(protocol, "sqs") == 0 || strcmp(protocol, "http") == 0 ||
           strcmp(protocol, "https") == 0 || strcmp(protocol, "firehose") == 0;
}

bool sns_sub_raw(const sns_sub *s)
{
    const char *v = json_string_value(json_object_get(s->attrs, "RawMessageDelivery"));
    return v && strcasecmp(v, "true") == 0;
}

static bool scope_is_body(const char *scope)
{
    return scope && strcmp(scope, "MessageBody") == 0;
}

/* Compiles a filter policy for the scope; on error sets the call's error
 * with AWS's envelope (prefix "Attributes Reason: " on Subscribe). */
static match_pattern *compile_filter(api_call *call, const char *policy, const char *scope,
                                     const char *prefix)
{
    char err[MATCH_ERR_MAX];
    match_pattern *p = match_compile(policy, strlen(policy),
                                     scope_is_body(scope) ? MATCH_SNS_BODY
                                                          : MATCH_SNS_ATTRIBUTES,
                                     err, sizeof err);
    if (!p) {
        if (strstr(err, "does not support nested filter policy"))
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: %s", err);
        else
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: %sFilterPolicy: %s",
                     prefix, err);
    }
    return p;
}

/* Validates one subscription attribute (not FilterPolicy, compiled apart). */
static int check_sub_attr(api_call *call, const char *name, const char *value,
                          bool topic_fifo, const char *protocol, const char *endpoint,
                          const char *prefix)
{
    char err[512];

    if (strcmp(name, "FilterPolicy") == 0)
        return 0;
    if (strcmp(name, "FilterPolicyScope") == 0) {
        if (strcmp(value, "MessageAttributes") != 0 && strcmp(value, "MessageBody") != 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: %sFilterPolicyScope: Invalid value [%s]. Please use "
                     "either MessageBody or MessageAttributes", prefix, value);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "RawMessageDelivery") == 0) {
        if (strcasecmp(value, "true") != 0 && strcasecmp(value, "false") != 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: %sRawMessageDelivery: Invalid value [%s]. Must be "
                     "true or false.", prefix, value);
            return -1;
        }
        if (strcasecmp(value, "true") == 0 && !raw_capable(protocol)) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: Delivery protocol [%s] does not support raw message "
                     "delivery.", protocol);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "RedrivePolicy") == 0) {
        if (!*value)
            return 0;
        json_t *doc = json_loads(value, 0, NULL);
        const char *dlq = json_string_value(json_object_get(doc, "deadLetterTargetArn"));
        int parts = 1;
        for (const char *p = dlq; p && *p; p++)
            parts += *p == ':';
        bool is_obj = json_is_object(doc);
        bool ok = dlq && strncmp(dlq, "arn:", 4) == 0 && parts >= 6;
        bool fifo_dlq = ok && strlen(dlq) > 5 && strcmp(dlq + strlen(dlq) - 5, ".fifo") == 0 &&
                        strstr(dlq, ":sqs:") != NULL;
        json_decref(doc);
        if (!is_obj) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: %sRedrivePolicy: failed to parse JSON.", prefix);
            return -1;
        }
        if (!ok) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: %sRedrivePolicy: deadLetterTargetArn is an invalid arn",
                     prefix);
            return -1;
        }
        size_t n = strlen(endpoint);
        bool fifo_endpoint = n > 5 && strcmp(endpoint + n - 5, ".fifo") == 0;
        if (topic_fifo && fifo_endpoint && !fifo_dlq) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                     "Invalid parameter: %sRedrivePolicy: must use a FIFO queue as DLQ for a "
                     "FIFO Subscription to a FIFO Topic.", prefix);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "DeliveryPolicy") == 0) {
        sns_retry_policy p;
        sns_policy_default(&p);
        if (*value && sns_policy_parse(value, true, &p, err, sizeof err) < 0) {
            api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: %s%s", prefix,
                     err);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "SubscriptionRoleArn") == 0 || strcmp(name, "ReplayPolicy") == 0)
        return 0;
    api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: %sAttributeName",
             prefix);
    return -1;
}

static void sub_arn_out(json_t *out, const sns_sub *s, bool real)
{
    json_object_set_new(out, "SubscriptionArn",
                        json_string(s->confirmed || real ? s->arn : "pending confirmation"));
}

/* Subscribing again is idempotent unless an attribute given now differs
 * from the existing subscription's (attributes not given are not compared). */
static bool attrs_conflict(json_t *given, json_t *have)
{
    const char *k;
    json_t *v;

    json_object_foreach(given, k, v) {
        json_t *h = json_object_get(have, k);
        if (json_string_length(v) && (!h || !json_equal(h, v)))
            return true;
    }
    return false;
}

/* RawMessageDelivery is kept lower-case, as AWS shows it. */
/* Whether a FilterPolicy value sets no filter: absent, empty, or the empty
 * object `{}`, which AWS documents as the way to remove a filter policy. */
static bool no_filter(const char *fp)
{
    if (!fp || !*fp)
        return true;
    json_t *doc = json_loads(fp, JSON_DECODE_ANY, NULL);
    bool empty = json_is_object(doc) && json_object_size(doc) == 0;
    json_decref(doc);
    return empty;
}

static void normalize_attrs(json_t *attrs)
{
    json_t *raw = json_object_get(attrs, "RawMessageDelivery");
    json_t *fp = json_object_get(attrs, "FilterPolicy");

    if (fp && no_filter(json_string_value(fp)))
        json_object_del(attrs, "FilterPolicy");

    if (json_is_string(raw)) {
        bool on = strcasecmp(json_string_value(raw), "true") == 0;
        json_object_set_new(attrs, "RawMessageDelivery", json_string(on ? "true" : "false"));
    }
}

api_status sns_subscribe(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *protocol = NULL, *endpoint = NULL, *k;
    json_t *attrs = NULL, *v;
    bool want_arn = false;
    sns_topic *t = sns_topic_from_param(call, "TopicArn");

    if (!t)
        return API_DONE;
    if (param_str(call, call->input, "Protocol", &protocol, NULL) < 0 ||
        param_str(call, call->input, "Endpoint", &endpoint, NULL) < 0 ||
        param_str_map(call, call->input, "Attributes", &attrs) < 0 ||
        param_bool(call, call->input, "ReturnSubscriptionArn", &want_arn) < 0)
        return API_DONE;
    if (!protocol)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Protocol");
    bool known = false;
    for (int i = 0; known_protocols[i]; i++)
        known |= strcmp(protocol, known_protocols[i]) == 0;
    if (!known)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                        "Invalid parameter: Amazon SNS does not support this protocol string: "
                        "%s", protocol);
    if (!endpoint || !*endpoint)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Endpoint");
    bool is_sqs = strcmp(protocol, "sqs") == 0;
    bool is_http = strcmp(protocol, "http") == 0, is_https = strcmp(protocol, "https") == 0;
    if (is_sqs) {
        int parts = 1;
        for (const char *p = endpoint; *p; p++)
            parts += *p == ':';
        if (strncmp(endpoint, "arn:", 4) != 0 || parts < 6)
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: SQS endpoint ARN");
        size_t n = strlen(endpoint);
        if (n > 5 && strcmp(endpoint + n - 5, ".fifo") == 0 && !t->fifo)
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS "
                            "Queues can not be subscribed to standard SNS topics");
    } else if ((is_http && strncasecmp(endpoint, "http://", 7) != 0) ||
               (is_https && strncasecmp(endpoint, "https://", 8) != 0)) {
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                        "Invalid parameter: Endpoint must match the specified protocol");
    } else if (t->fifo && !is_sqs && strcmp(protocol, "lambda") != 0 &&
               strcmp(protocol, "firehose") != 0) {
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                        "Invalid parameter: Invalid protocol type: %s", protocol);
    }
    json_object_foreach(attrs, k, v)
        if (check_sub_attr(call, k, json_string_value(v), t->fifo, protocol, endpoint,
                           "Attributes Reason: ") < 0)
            return API_DONE;
    match_pattern *filter = NULL;
    const char *fp = attrs ? json_string_value(json_object_get(attrs, "FilterPolicy")) : NULL;
    if (!no_filter(fp)) {
        filter = compile_filter(call, fp,
                                json_string_value(json_object_get(attrs, "FilterPolicyScope")),
                                "Attributes Reason: ");
        if (!filter)
            return API_DONE;
    }
    json_t *given = attrs ? json_deep_copy(attrs) : json_object();
    normalize_attrs(given);
    /* the same endpoint again: the same subscription back, or a conflict */
    for (size_t i = 0; i < t->nsubs; i++) {
        sns_sub *s = t->subs[i];
        if (strcmp(s->protocol, protocol) != 0 || strcmp(s->endpoint, endpoint) != 0)
            continue;
        match_free(filter);
        bool conflict = attrs_conflict(given, s->attrs);
        json_decref(given);
        if (conflict)
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                            "Invalid parameter: Attributes Reason: Subscription already "
                            "exists with different attributes");
        /* still pending: answered as the first Subscribe was */
        sub_arn_out(api_out(call), s, want_arn);
        return API_DONE;
    }
    size_t max_subs = svc->limits->max_subscriptions_per_topic;
    if (t->fifo && max_subs > LIMITS_FIFO_TOPIC_SUBSCRIPTIONS)
        max_subs = LIMITS_FIFO_TOPIC_SUBSCRIPTIONS;
    if (t->nsubs >= max_subs) {
        match_free(filter);
        json_decref(given);
        return api_fail(call, AWS_ERR_SNS_SUBSCRIPTION_LIMIT,
                        "Subscription limit exceeded: topic %s already has %zu "
                        "subscriptions.", t->arn, max_subs);
    }
    sns_sub *s = xcalloc(1, sizeof *s);
    char id[37], arn[600];
    uuid_v4(id);
    snprintf(arn, sizeof arn, "%s:%s", t->arn, id);
    s->id = store_next_resource_id(svc->store);
    s->arn = xstrdup(arn);
    s->topic_arn = xstrdup(t->arn);
    s->account = xstrdup(call->account);
    s->protocol = xstrdup(protocol);
    s->endpoint = xstrdup(endpoint);
    s->attrs = given;
    s->filter = filter;
    s->confirmed = is_sqs || strcmp(protocol, "lambda") == 0 ||
                   strcmp(protocol, "firehose") == 0 || strcmp(protocol, "application") == 0;
    s->confirmed_signed = s->confirmed; /* by the (signed) Subscribe itself */
    if (!s->confirmed) {
        uint8_t raw[64];
        char hex[129];
        random_bytes(raw, sizeof raw);
        hex_encode(raw, sizeof raw, hex);
        s->token = xstrdup(hex);
    }
    sns_sub_link(svc, s, t);
    store_batch *b = store_batch_new();
    sns_sub_put(b, s);
    sub_arn_out(api_out(call), s, want_arn);
    if (is_http || is_https)
        return sns_confirmation_commit(call, s, false, b);
    return sns_commit_and_finish(svc, call, b);
}

/* ConfirmSubscription with the token of an UnsubscribeConfirmation: the
 * subscription comes back (AWS: "To cancel this operation and restore the
 * subscription, visit the SubscribeURL") while the topic lives, within the
 * window, and unless the endpoint has subscribed again meanwhile. */
static api_status restore_sub(api_call *call, sns_topic *t, const char *token,
                              const char *auth_unsub)
{
    sns_service *svc = sns_of(call);
    sns_sub *s = map_str_get(&svc->restore_tokens, token);

    if (!s || s->topic != t || !s->deleted)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Token");
    if (clock_now_ms() - s->unsubscribed_ms > RESTORE_WINDOW_MS) {
        map_str_del(&svc->restore_tokens, token);
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Token");
    }
    for (size_t i = 0; i < t->nsubs; i++) {
        sns_sub *o = t->subs[i];
        if (strcmp(o->protocol, s->protocol) == 0 && strcmp(o->endpoint, s->endpoint) == 0) {
            map_str_del(&svc->restore_tokens, token);
            json_object_set_new(api_out(call), "SubscriptionArn", json_string(o->arn));
            return API_DONE;
        }
    }
    size_t max_subs = svc->limits->max_subscriptions_per_topic;
    if (t->fifo && max_subs > LIMITS_FIFO_TOPIC_SUBSCRIPTIONS)
        max_subs = LIMITS_FIFO_TOPIC_SUBSCRIPTIONS;
    if (t->nsubs >= max_subs)
        return api_fail(call, AWS_ERR_SNS_SUBSCRIPTION_LIMIT,
                        "Subscription limit exceeded: topic %s already has %zu "
                        "subscriptions.", t->arn, max_subs);
    map_str_del(&svc->restore_tokens, token);
    sns_sub_revive(svc, s);
    s->unsubscribed_ms = 0;
    s->confirmed = true;
    s->confirmed_signed = !call->unsigned_link;
    s->auth_unsubscribe = !call->anonymous && auth_unsub && strcasecmp(auth_unsub, "true") == 0;
    log_info("sns", "subscription restored by its unsubscribe token subscription=%s", s->arn);
    json_object_set_new(api_out(call), "SubscriptionArn", json_string(s->arn));
    store_batch *b = store_batch_new();
    sns_sub_put(b, s);
    return sns_commit_and_finish(svc, call, b);
}

api_status sns_confirm_subscription(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *token = NULL, *auth_unsub = NULL;
    sns_topic *t = sns_topic_from_param(call, "TopicArn");

    if (!t || param_str(call, call->input, "Token", &token, NULL) < 0 ||
        param_str(call, call->input, "AuthenticateOnUnsubscribe", &auth_unsub, NULL) < 0)
        return API_DONE;
    if (!token)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Token");
    sns_sub *s = map_str_get(&svc->tokens, token);
    if (!s)
        return restore_sub(call, t, token, auth_unsub);
    if (s->topic != t)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: Token");
    json_object_set_new(api_out(call), "SubscriptionArn", json_string(s->arn));
    if (s->confirmed)
        return API_DONE;
    s->confirmed = true;
    s->confirmed_signed = !call->unsigned_link;
    /* Only a signed confirmation can demand signed unsubscribes. */
    s->auth_unsubscribe = !call->anonymous && auth_unsub && strcasecmp(auth_unsub, "true") == 0;
    store_batch *b = store_batch_new();
    sns_sub_put(b, s);
    return sns_commit_and_finish(svc, call, b);
}

/* Checks the form of a SubscriptionArn parameter; -1 with AWS's error.
 * An ARN of six parts names a topic, not a subscription. */
static int check_sub_arn(api_call *call, const char **arn_out)
{
    const char *arn = NULL;

    if (param_str(call, call->input, "SubscriptionArn", &arn, NULL) < 0)
        return -1;
    if (!arn) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: SubscriptionArn Reason: no value for required parameter");
        return -1;
    }
    int parts = 1;
    for (const char *p = arn; *p; p++)
        parts += *p == ':';
    if (strncmp(arn, "arn:", 4) != 0 || parts < 6) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER,
                 "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 "
                 "elements, not %d", parts);
        return -1;
    }
    if (parts == 6) {
        api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: SubscriptionId");
        return -1;
    }
    *arn_out = arn;
    return 0;
}

/* A subscription answers its own account and its topic's owner; false
 * with AuthorizationError set for anyone else. */
static bool sub_permits(api_call *call, const sns_sub *s)
{
    if (strcmp(call->account, s->account) == 0 ||
        (s->topic && strcmp(call->account, s->topic->account) == 0))
        return true;
    api_fail(call, AWS_ERR_SNS_AUTHORIZATION,
             "User: %s is not authorized to perform: SNS:%s on resource: %s",
             call->access_key && *call->access_key ? call->access_key : call->account,
             call->action, s->arn);
    return false;
}

/* Finds the subscription named by SubscriptionArn; sets the error if not. */
static sns_sub *sub_from_param(api_call *call)
{
    const char *arn = NULL;

    if (check_sub_arn(call, &arn) < 0)
        return NULL;
    sns_sub *s = sns_sub_find(sns_of(call), arn);
    if (!s) {
        api_fail(call, AWS_ERR_SNS_NOT_FOUND, "Subscription does not exist");
        return NULL;
    }
    return sub_permits(call, s) ? s : NULL;
}

api_status sns_unsubscribe(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *arn = NULL;

    if (check_sub_arn(call, &arn) < 0)
        return API_DONE;
    sns_sub *s = sns_sub_find(svc, arn);
    if (!s)
        return API_DONE; /* unsubscribing twice succeeds */
    if (call->anonymous ? s->auth_unsubscribe : !sub_permits(call, s)) {
        if (call->anonymous)
            api_fail(call, AWS_ERR_SNS_AUTHORIZATION, "Unsubscribe of %s requires "
                     "authentication: it was confirmed with AuthenticateOnUnsubscribe", s->arn);
        return API_DONE;
    }
    sns_topic *t = s->topic;
    store_batch *b = store_batch_new();
    store_delete_resource(b, s->id);
    sns_sub_unlink(svc, s);
    t->subs_deleted++;
    sns_topic_put(b, t);
    /* a confirmed HTTP/HTTPS endpoint is told (AWS sends this too); its
     * token restores the subscription for a while (restore_sub) */
    if (s->confirmed && strncmp(s->protocol, "http", 4) == 0 && s->token) {
        s->unsubscribed_ms = clock_now_ms();
        map_str_put(&svc->restore_tokens, s->token, s);
        return sns_confirmation_commit(call, s, true, b);
    }
    return sns_commit_and_finish(svc, call, b);
}

static json_t *sub_summary(const sns_sub *s)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "SubscriptionArn",
                     s->confirmed ? s->arn : "PendingConfirmation", "Owner", s->account,
                     "Protocol", s->protocol, "Endpoint", s->endpoint, "TopicArn",
                     s->topic_arn);
}

static int cmp_sub(const void *a, const void *b)
{
    const sns_sub *x = *(sns_sub *const *)a, *y = *(sns_sub *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Pages through subs (in id order); the token is the next one's id. */
static api_status list_page(api_call *call, sns_sub **subs, size_t n)
{
    const char *token = NULL;
    size_t start = 0, i;

    if (param_str(call, call->input, "NextToken", &token, NULL) < 0)
        return API_DONE;
    qsort(subs, n, sizeof *subs, cmp_sub);
    if (token) {
        unsigned long long want = strtoull(token, NULL, 10);
        while (start < n && subs[start]->id < want)
            start++;
        if (!want)
            return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: NextToken");
    }
    json_t *list = json_array();
    for (i = start; i < n && i < start + SNS_LIST_PAGE; i++)
        json_array_append_new(list, sub_summary(subs[i]));
    json_object_set_new(api_out(call), "Subscriptions", list);
    if (i < n) {
        char tok[32];
        snprintf(tok, sizeof tok, "%llu", (unsigned long long)subs[i]->id);
        json_object_set_new(api_out(call), "NextToken", json_string(tok));
    }
    return API_DONE;
}

api_status sns_list_subscriptions(api_call *call)
{
    sns_service *svc = sns_of(call);
    sns_sub **subs = xcalloc(svc->subs.count + 1, sizeof *subs);
    size_t n = 0;

    for (size_t i = 0; i < svc->subs.cap; i++) {
        sns_sub *s = svc->subs.keys[i] ? svc->subs.vals[i] : NULL;
        if (s && strcmp(s->account, call->account) == 0)
            subs[n++] = s;
    }
    api_status rc = list_page(call, subs, n);
    free(subs);
    return rc;
}

api_status sns_list_subscriptions_by_topic(api_call *call)
{
    sns_topic *t = sns_topic_from_param(call, "TopicArn");

    if (!t)
        return API_DONE;
    sns_sub **subs = xcalloc(t->nsubs + 1, sizeof *subs);
    if (t->nsubs)
        memcpy(subs, t->subs, t->nsubs * sizeof *subs);
    api_status rc = list_page(call, subs, t->nsubs);
    free(subs);
    return rc;
}

api_status sns_get_subscription_attributes(api_call *call)
{
    sns_sub *s = sub_from_param(call);
    const char *k;
    json_t *v;

    if (!s)
        return API_DONE;
    json_t *out = json_object();
    json_object_foreach(s->attrs, k, v)
        json_object_set(out, k, v);
    json_object_set_new(out, "SubscriptionArn", json_string(s->arn));
    json_object_set_new(out, "TopicArn", json_string(s->topic_arn));
    json_object_set_new(out, "Owner", json_string(s->account));
    json_object_set_new(out, "Protocol", json_string(s->protocol));
    json_object_set_new(out, "Endpoint", json_string(s->endpoint));
    json_object_set_new(out, "PendingConfirmation", json_string(s->confirmed ? "false"
                                                                             : "true"));
    json_object_set_new(out, "ConfirmationWasAuthenticated",
                        json_string(s->confirmed && s->confirmed_signed ? "true" : "false"));
    char principal[128];
    snprintf(principal, sizeof principal, "arn:aws:iam::%s:user/sluice", s->account);
    json_object_set_new(out, "SubscriptionPrincipal", json_string(principal));
    if (!json_object_get(out, "RawMessageDelivery"))
        json_object_set_new(out, "RawMessageDelivery", json_string("false"));
    /* the scope shows only with a policy (it is kept for a later one) */
    const char *fp = json_string_value(json_object_get(s->attrs, "FilterPolicy"));
    if (!fp || !*fp)
        json_object_del(out, "FilterPolicyScope");
    else if (!json_object_get(out, "FilterPolicyScope"))
        json_object_set_new(out, "FilterPolicyScope", json_string("MessageAttributes"));
    if (strncmp(s->protocol, "http", 4) == 0) {
        sns_retry_policy p;
        const char *tdp = s->topic ? sns_topic_attr(s->topic, "DeliveryPolicy") : NULL;
        const char *dp = json_string_value(json_object_get(s->attrs, "DeliveryPolicy"));
        sns_policy_for_sub(tdp, dp, &p);
        json_t *eff = json_pack("{s:{s:i,s:i,s:i,s:i,s:i,s:i,s:s},s:{s:s}}",
                                "healthyRetryPolicy", "minDelayTarget", p.min_delay,
                                "maxDelayTarget", p.max_delay, "numRetries", p.num_retries,
                                "numMaxDelayRetries", p.num_max_delay, "numNoDelayRetries",
                                p.num_no_delay, "numMinDelayRetries", p.num_min_delay,
                                "backoffFunction",
                                (const char *[]){"linear", "arithmetic", "geometric",
                                                 "exponential"}[p.backoff],
                                "requestPolicy", "headerContentType", p.content_type);
        char *text = json_dumps(eff, JSON_COMPACT);
        json_object_set_new(out, "EffectiveDeliveryPolicy", json_string(text));
        free(text);
        json_decref(eff);
    }
    json_object_set_new(api_out(call), "Attributes", out);
    return API_DONE;
}

api_status sns_set_subscription_attributes(api_call *call)
{
    sns_service *svc = sns_of(call);
    const char *name = NULL, *value = NULL;
    sns_sub *s = sub_from_param(call);

    if (!s)
        return API_DONE;
    if (param_str(call, call->input, "AttributeName", &name, NULL) < 0 ||
        param_str(call, call->input, "AttributeValue", &value, NULL) < 0)
        return API_DONE;
    if (!name)
        return api_fail(call, AWS_ERR_SNS_INVALID_PARAMETER, "Invalid parameter: AttributeName");
    if (!value || (strcmp(name, "FilterPolicy") == 0 && no_filter(value)))
        value = "";
    if (check_sub_attr(call, name, value, s->topic && s->topic->fifo, s->protocol,
                       s->endpoint, "") < 0)
        return API_DONE;
    if (strcmp(name, "FilterPolicy") == 0 || strcmp(name, "FilterPolicyScope") == 0) {
        const char *fp = strcmp(name, "FilterPolicy") == 0
                             ? value
                             : json_string_value(json_object_get(s->attrs, "FilterPolicy"));
        const char *scope = strcmp(name, "FilterPolicyScope") == 0
                                ? value
                                : json_string_value(json_object_get(s->attrs,
                                                                    "FilterPolicyScope"));
        match_pattern *p = NULL;
        if (!no_filter(fp)) {
            p = compile_filter(call, fp, scope, "");
            if (!p)
                return API_DONE;
        }
        match_free(s->filter);
        s->filter = p;
    }
    if (!*value && (strcmp(name, "FilterPolicy") == 0 || strcmp(name, "RedrivePolicy") == 0 ||
                    strcmp(name, "DeliveryPolicy") == 0)) {
        json_object_del(s->attrs, name);
    } else {
        json_object_set_new(s->attrs, name, json_string(value));
        normalize_attrs(s->attrs);
    }
    store_batch *b = store_batch_new();
    sns_sub_put(b, s);
    return sns_commit_and_finish(svc, call, b);
}
