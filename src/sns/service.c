/*
 * service.c - the SNS service: registries of topics and subscriptions,
 * loading from the store, the signing key and certificate, the action
 * table and the Query-protocol rules, and helpers the handlers share.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "sns/sns.h"
#include "wire/query.h"

#define TOPIC_KIND "sns.topic"
#define SUB_KIND "sns.subscription"
#define OUTBOX_KIND "sns.outbox"

static const query_in_rule sns_in_rules[] = {
    {"Attributes", "Attributes", QUERY_MAP, "key", "value"},
    {"MessageAttributes", "MessageAttributes", QUERY_MAP, "Name", "Value"},
    {"Tags", "Tags", QUERY_LIST, NULL, NULL},
    {"TagKeys", "TagKeys", QUERY_LIST, NULL, NULL},
    {"AWSAccountId", "AWSAccountId", QUERY_LIST, NULL, NULL},
    {"ActionName", "ActionName", QUERY_LIST, NULL, NULL},
    {"PublishBatchRequestEntries", "PublishBatchRequestEntries", QUERY_LIST, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL},
};

static const query_out_rule sns_out_rules[] = {
    {"Attributes", NULL, "Attributes", QUERY_MAP, "key", "value"},
    {NULL, NULL, NULL, 0, NULL, NULL},
};

static const query_rules sns_query_rules = {sns_in_rules, sns_out_rules, false};

static const api_action sns_actions[] = {
    {"CreateTopic", sns_create_topic},
    {"DeleteTopic", sns_delete_topic},
    {"ListTopics", sns_list_topics},
    {"GetTopicAttributes", sns_get_topic_attributes},
    {"SetTopicAttributes", sns_set_topic_attributes},
    {"Subscribe", sns_subscribe},
    {"ConfirmSubscription", sns_confirm_subscription},
    {"Unsubscribe", sns_unsubscribe},
    {"ListSubscriptions", sns_list_subscriptions},
    {"ListSubscriptionsByTopic", sns_list_subscriptions_by_topic},
    {"GetSubscriptionAttributes", sns_get_subscription_attributes},
    {"SetSubscriptionAttributes", sns_set_subscription_attributes},
    {"Publish", sns_publish},
    {"PublishBatch", sns_publish_batch},
    {"TagResource", sns_tag_resource},
    {"UntagResource", sns_untag_resource},
    {"ListTagsForResource", sns_list_tags_for_resource},
    {"AddPermission", sns_add_permission},
    {"RemovePermission", sns_remove_permission},
    {"PutDataProtectionPolicy", sns_put_data_protection_policy},
    {"GetDataProtectionPolicy", sns_get_data_protection_policy},
    {"GetSigningCert", sns_get_signing_cert},
    {NULL, NULL},
};

/* --- signing key ------------------------------------------------------------------ */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    buf b;
    char chunk[4096];
    size_t n;

    if (!f)
        return NULL;
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    buf_putc(&b, 0);
    b.len--;
    return buf_steal(&b);
}

/* Generates an RSA key and a self-signed certificate into the data dir. */
static int generate_signer(const char *key_path, const char *cert_path)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    FILE *f = NULL;
    int rc = -1;

    if (!key || !x)
        goto done;
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(clock_now_ms() / 1000));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"sluice SNS signing", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (!X509_sign(x, key, EVP_sha256()))
        goto done;
    f = fopen(key_path, "wb");
    if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))
        goto done;
    fclose(f);
    chmod(key_path, 0600);
    f = fopen(cert_path, "wb");
    if (!f || !PEM_write_X509(f, x))
        goto done;
    rc = 0;
done:
    if (f)
        fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static int load_signer(sns_service *svc)
{
    char key_path[4096], cert_path[4096];

    snprintf(key_path, sizeof key_path, "%s/sns-signing-key.pem", svc->data_dir);
    snprintf(cert_path, sizeof cert_path, "%s/sns-signing-cert.pem", svc->data_dir);
    struct stat st;
    if (stat(key_path, &st) != 0 || stat(cert_path, &st) != 0) {
        if (generate_signer(key_path, cert_path) < 0) {
            log_error("sns", "cannot create the signing key in data_dir=%s", svc->data_dir);
            return -1;
        }
        log_info("sns", "created a signing key and certificate in data_dir=%s", svc->data_dir);
    }
    FILE *f = fopen(key_path, "rb");
    if (!f)
        return -1;
    svc->signer = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    svc->cert_pem = read_file(cert_path);
    return svc->signer && svc->cert_pem ? 0 : -1;
}

/* --- lifecycle -------------------------------------------------------------------- */

sns_service *sns_service_new(struct event_base *base, store *st, sqs_service *sqs,
                             const char *region, const char *default_account,
                             const char *data_dir)
{
    sns_service *svc = xcalloc(1, sizeof *svc);

    svc->base = base;
    svc->store = st;
    svc->sqs = sqs;
    svc->region = region;
    svc->default_account = default_account;
    svc->data_dir = xstrdup(data_dir);
    map_str_init(&svc->topics);
    svc->limits = limits_default();
    account_counts_init(&svc->topic_counts);
    account_counts_init(&svc->fifo_topic_counts);
    map_str_init(&svc->subs);
    map_str_init(&svc->tokens);
    map_str_init(&svc->restore_tokens);
    if (load_signer(svc) < 0) {
        sns_service_free(svc);
        return NULL;
    }
    svc->http = sns_http_new(svc);
    return svc;
}

api_service *sns_api_service(sns_service *svc)
{
    api_service *a = xcalloc(1, sizeof *a);

    a->name = "sns";
    a->json_target = NULL;
    a->json_type_ns = "com.amazonaws.sns";
    a->xml_namespace = SNS_XMLNS;
    a->query_rules = &sns_query_rules;
    a->actions = sns_actions;
    a->ctx = svc;
    a->commit_error = AWS_ERR_SNS_INTERNAL;
    a->commit_message = "Internal Error";
    a->store = svc ? svc->store : NULL; /* NULL: a description only (fuzz targets) */
    return a;
}

static void topic_free(sns_topic *t)
{
    free(t->account);
    free(t->name);
    free(t->arn);
    json_decref(t->attrs);
    json_decref(t->tags);
    free(t->data_protection);
    json_decref(t->dedup);
    free(t->subs);
    free(t);
}

static void sub_free(sns_sub *s)
{
    free(s->arn);
    free(s->topic_arn);
    free(s->account);
    free(s->protocol);
    free(s->endpoint);
    free(s->token);
    json_decref(s->attrs);
    match_free(s->filter);
    free(s);
}

void sns_service_set_ca_file(sns_service *svc, const char *path)
{
    free(svc->ca_file);
    svc->ca_file = path ? xstrdup(path) : NULL;
}

void sns_service_set_limits(sns_service *svc, const limits *lim)
{
    svc->limits = lim;
}

void sns_service_free(sns_service *svc)
{
    if (!svc)
        return;
    sns_http_free(svc->http);
    for (size_t i = 0; i < svc->subs.cap; i++)
        if (svc->subs.keys[i])
            sub_free(svc->subs.vals[i]);
    for (size_t i = 0; i < svc->topics.cap; i++)
        if (svc->topics.keys[i])
            topic_free(svc->topics.vals[i]);
    while (svc->sub_grave) {
        sns_sub *s = svc->sub_grave;
        svc->sub_grave = s->grave_next;
        sub_free(s);
    }
    while (svc->topic_grave) {
        sns_topic *t = svc->topic_grave;
        svc->topic_grave = t->grave_next;
        topic_free(t);
    }
    map_str_free(&svc->topics);
    account_counts_free(&svc->topic_counts);
    account_counts_free(&svc->fifo_topic_counts);
    map_str_free(&svc->subs);
    map_str_free(&svc->tokens);
    map_str_free(&svc->restore_tokens);
    EVP_PKEY_free(svc->signer);
    free(svc->cert_pem);
    free(svc->ca_file);
    free(svc->data_dir);
    free(svc);
}

/* --- registries ------------------------------------------------------------------- */

sns_topic *sns_topic_find(sns_service *svc, const char *arn)
{
    return arn ? map_str_get(&svc->topics, arn) : NULL;
}

sns_sub *sns_sub_find(sns_service *svc, const char *arn)
{
    return arn ? map_str_get(&svc->subs, arn) : NULL;
}

void sns_topic_put(store_batch *b, const sns_topic *t)
{
    json_t *doc = json_pack("{s:s,s:b,s:I,s:O,s:O,s:I}", "arn", t->arn, "fifo", t->fifo,
                            "created_ms", (json_int_t)t->created_ms, "attributes", t->attrs,
                            "tags", t->tags, "subs_deleted", (json_int_t)t->subs_deleted);
    if (t->data_protection)
        json_object_set_new(doc, "data_protection_policy", json_string(t->data_protection));
    char *text = json_dumps(doc, JSON_COMPACT);
    store_put_resource(b, t->id, TOPIC_KIND, t->account, t->name, text);
    free(text);
    json_decref(doc);
}

void sns_sub_put(store_batch *b, const sns_sub *s)
{
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:b,s:O}", "arn", s->arn, "topic_arn",
                            s->topic_arn, "protocol", s->protocol, "endpoint", s->endpoint,
                            "confirmed", s->confirmed, "attributes", s->attrs);
    json_object_set_new(doc, "confirmed_signed", json_boolean(s->confirmed_signed));
    if (s->token)
        json_object_set_new(doc, "token", json_string(s->token));
    if (s->auth_unsubscribe)
        json_object_set_new(doc, "auth_unsubscribe", json_true());
    char *text = json_dumps(doc, JSON_COMPACT);
    const char *id = strrchr(s->arn, ':');
    store_put_resource(b, s->id, SUB_KIND, s->account, id ? id + 1 : s->arn, text);
    free(text);
    json_decref(doc);
}

void sns_sub_link(sns_service *svc, sns_sub *s, sns_topic *t)
{
    s->topic = t;
    map_str_put(&svc->subs, s->arn, s);
    if (s->token)
        map_str_put(&svc->tokens, s->token, s);
    if (t->nsubs == t->subs_cap) {
        t->subs_cap = t->subs_cap ? t->subs_cap * 2 : 8;
        t->subs = xrealloc(t->subs, t->subs_cap * sizeof *t->subs);
    }
    t->subs[t->nsubs++] = s;
}

void sns_sub_revive(sns_service *svc, sns_sub *s)
{
    if (!s->deleted)
        return;
    for (sns_sub **p = &svc->sub_grave; *p; p = &(*p)->grave_next) {
        if (*p == s) {
            *p = s->grave_next;
            break;
        }
    }
    s->grave_next = NULL;
    s->deleted = false;
    sns_sub_link(svc, s, s->topic);
}

void sns_sub_unlink(sns_service *svc, sns_sub *s)
{
    sns_topic *t = s->topic;

    if (s->deleted)
        return;
    s->deleted = true;
    map_str_del(&svc->subs, s->arn);
    if (s->token && map_str_get(&svc->tokens, s->token) == s)
        map_str_del(&svc->tokens, s->token);
    for (size_t i = 0; t && i < t->nsubs; i++) {
        if (t->subs[i] == s) {
            memmove(t->subs + i, t->subs + i + 1, (t->nsubs - i - 1) * sizeof *t->subs);
            t->nsubs--;
            break;
        }
    }
    s->grave_next = svc->sub_grave;
    svc->sub_grave = s;
}

void sns_topic_unlink(sns_service *svc, sns_topic *t)
{
    while (t->nsubs)
        sns_sub_unlink(svc, t->subs[t->nsubs - 1]);
    t->deleted = true;
    map_str_del(&svc->topics, t->arn);
    account_counts_add(&svc->topic_counts, t->account, -1);
    if (t->fifo)
        account_counts_add(&svc->fifo_topic_counts, t->account, -1);
    t->grave_next = svc->topic_grave;
    svc->topic_grave = t;
}

api_status sns_commit_and_finish(sns_service *svc, api_call *call, store_batch *b)
{
    return api_commit_and_finish(call, svc->store, b);
}

void sns_base_url(const api_call *call, char *out, size_t n)
{
    snprintf(out, n, "%s://%s", call && call->tls ? "https" : "http",
             call && call->host && *call->host ? call->host : "localhost:4566");
}

/* --- loading ---------------------------------------------------------------------- */

static void load_topic(void *arg, uint64_t id, const char *kind, const char *account,
                       const char *name, const char *text)
{
    sns_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);
    const char *arn = json_string_value(json_object_get(doc, "arn"));

    if (!arn) {
        log_error("sns", "unreadable topic document, skipped id=%llu", (unsigned long long)id);
        json_decref(doc);
        return;
    }
    sns_topic *t = xcalloc(1, sizeof *t);
    t->id = id;
    t->account = xstrdup(account);
    t->name = xstrdup(name);
    t->arn = xstrdup(arn);
    t->fifo = json_is_true(json_object_get(doc, "fifo"));
    t->created_ms = json_integer_value(json_object_get(doc, "created_ms"));
    t->subs_deleted = (long)json_integer_value(json_object_get(doc, "subs_deleted"));
    t->attrs = json_incref(json_object_get(doc, "attributes"));
    t->tags = json_incref(json_object_get(doc, "tags"));
    if (!t->attrs)
        t->attrs = json_object();
    if (!t->tags)
        t->tags = json_object();
    const char *dpp = json_string_value(json_object_get(doc, "data_protection_policy"));
    t->data_protection = dpp ? xstrdup(dpp) : NULL;
    t->dedup = json_object();
    map_str_put(&svc->topics, t->arn, t);
    account_counts_add(&svc->topic_counts, t->account, 1);
    if (t->fifo)
        account_counts_add(&svc->fifo_topic_counts, t->account, 1);
    json_decref(doc);
}

static void load_sub(void *arg, uint64_t id, const char *kind, const char *account,
                     const char *name, const char *text)
{
    sns_service *svc = arg;
    json_t *doc = json_loads(text, 0, NULL);
    const char *arn = json_string_value(json_object_get(doc, "arn"));
    const char *topic_arn = json_string_value(json_object_get(doc, "topic_arn"));
    sns_topic *t = sns_topic_find(svc, topic_arn);

    if (!arn || !t) {
        log_warn("sns", "subscription without topic skipped id=%llu", (unsigned long long)id);
        json_decref(doc);
        return;
    }
    sns_sub *s = xcalloc(1, sizeof *s);
    s->id = id;
    s->arn = xstrdup(arn);
    s->topic_arn = xstrdup(topic_arn);
    s->account = xstrdup(account);
    s->protocol = xstrdup(json_string_value(json_object_get(doc, "protocol")));
    s->endpoint = xstrdup(json_string_value(json_object_get(doc, "endpoint")));
    s->confirmed = json_is_true(json_object_get(doc, "confirmed"));
    s->auth_unsubscribe = json_is_true(json_object_get(doc, "auth_unsubscribe"));
    /* documents from before the flag: confirmed ones counted as signed */
    json_t *signed_flag = json_object_get(doc, "confirmed_signed");
    s->confirmed_signed = signed_flag ? json_is_true(signed_flag) : s->confirmed;
    const char *token = json_string_value(json_object_get(doc, "token"));
    s->token = token ? xstrdup(token) : NULL;
    s->attrs = json_incref(json_object_get(doc, "attributes"));
    if (!s->attrs)
        s->attrs = json_object();
    const char *fp = json_string_value(json_object_get(s->attrs, "FilterPolicy"));
    if (fp && *fp) {
        const char *scope = json_string_value(json_object_get(s->attrs, "FilterPolicyScope"));
        bool body = scope && strcmp(scope, "MessageBody") == 0;
        s->filter = match_compile(fp, strlen(fp), body ? MATCH_SNS_BODY
                                                       : MATCH_SNS_ATTRIBUTES, NULL, 0);
    }
    sns_sub_link(svc, s, t);
    json_decref(doc);
}

static void ignore_done(void *arg, int status)
{
}

typedef struct outbox_find {
    uint64_t id;
} outbox_find;

static void load_outbox(void *arg, uint64_t id, const char *kind, const char *account,
                        const char *name, const char *text)
{
    outbox_find *f = arg;
    f->id = id;
}

int sns_service_load(sns_service *svc)
{
    outbox_find f = {0};

    if (store_load_resources(svc->store, TOPIC_KIND, load_topic, svc) < 0 ||
        store_load_resources(svc->store, SUB_KIND, load_sub, svc) < 0 ||
        store_load_resources(svc->store, OUTBOX_KIND, load_outbox, &f) < 0)
        return -1;
    svc->outbox_id = f.id;
    if (!svc->outbox_id) {
        /* Made once; its row is written with the first delivery's batch. */
        svc->outbox_id = store_next_resource_id(svc->store);
        store_batch *b = store_batch_new();
        store_put_resource(b, svc->outbox_id, OUTBOX_KIND, svc->default_account, "outbox",
                           "{}");
        store_submit(svc->store, b, ignore_done, NULL);
    }
    if (sns_http_load(svc->http) < 0)
        return -1;
    log_info("sns", "loaded topics=%zu subscriptions=%zu", svc->topics.count, svc->subs.count);
    return 0;
}
