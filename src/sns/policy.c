/*
 * policy.c - SNS delivery policies: parsing, validation and the delay
 * before each retry.
 *
 * A retry policy has four phases: numNoDelayRetries immediate retries,
 * numMinDelayRetries at minDelayTarget, the backoff phase from
 * minDelayTarget to maxDelayTarget shaped by backoffFunction, then
 * numMaxDelayRetries at maxDelayTarget.  The backoff phase has
 * numRetries - (no + min + max delay retries) steps.  The delays here are
 * before jitter; the delivery engine adds it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sns/sns.h"

void sns_policy_default(sns_retry_policy *p)
{
    memset(p, 0, sizeof *p);
    p->min_delay = 20;
    p->max_delay = 20;
    p->num_retries = 3;
    p->backoff = SNS_BACKOFF_LINEAR;
    snprintf(p->content_type, sizeof p->content_type, "text/plain; charset=UTF-8");
}

static const char *const backoff_names[] = {"linear", "arithmetic", "geometric", "exponential"};

static int get_int(json_t *obj, const char *name, int *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);

    if (!v)
        return 0;
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "%s must be an integer", name);
        return -1;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

int sns_policy_parse(const char *text, bool sub, sns_retry_policy *p, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    json_t *http, *retry, *req;
    int rc = -1;

    if (!json_is_object(doc)) {
        snprintf(err, errlen, "DeliveryPolicy: failed to parse JSON");
        goto done;
    }
    http = sub ? doc : json_object_get(doc, "http");
    if (!http) {
        rc = 0;
        goto done;
    }
    if (!json_is_object(http)) {
        snprintf(err, errlen, "DeliveryPolicy: http must be an object");
        goto done;
    }
    if (!sub) {
        json_t *dso = json_object_get(http, "disableSubscriptionOverrides");
        if (dso && !json_is_boolean(dso)) {
            snprintf(err, errlen, "DeliveryPolicy: disableSubscriptionOverrides must be a "
                     "boolean");
            goto done;
        }
        p->disable_overrides = json_is_true(dso);
    }
    retry = json_object_get(http, sub ? "healthyRetryPolicy" : "defaultHealthyRetryPolicy");
    if (retry) {
        if (!json_is_object(retry)) {
            snprintf(err, errlen, "DeliveryPolicy: retry policy must be an object");
            goto done;
        }
        if (get_int(retry, "minDelayTarget", &p->min_delay, err, errlen) < 0 ||
            get_int(retry, "maxDelayTarget", &p->max_delay, err, errlen) < 0 ||
            get_int(retry, "numRetries", &p->num_retries, err, errlen) < 0 ||
            get_int(retry, "numNoDelayRetries", &p->num_no_delay, err, errlen) < 0 ||
            get_int(retry, "numMinDelayRetries", &p->num_min_delay, err, errlen) < 0 ||
            get_int(retry, "numMaxDelayRetries", &p->num_max_delay, err, errlen) < 0)
            goto done;
        json_t *bf = json_object_get(retry, "backoffFunction");
        if (bf) {
            const char *name = json_string_value(bf);
            int found = -1;
            for (int i = 0; name && i < 4; i++)
                if (strcmp(name, backoff_names[i]) == 0)
                    found = i;
            if (found < 0) {
                snprintf(err, errlen, "DeliveryPolicy: backoffFunction must be one of "
                         "linear, arithmetic, geometric, exponential");
                goto done;
            }
            p->backoff = found;
        }
    }
    json_t *throttle = json_object_get(http, sub ? "throttlePolicy" : "defaultThrottlePolicy");
    if (json_is_object(throttle) &&
        get_int(throttle, "maxReceivesPerSecond", &p->max_per_second, err, errlen) < 0)
        goto done;
    req = json_object_get(http, sub ? "requestPolicy" : "defaultRequestPolicy");
    if (json_is_object(req)) {
        const char *ct = json_string_value(json_object_get(req, "headerContentType"));
        if (ct)
            snprintf(p->content_type, sizeof p->content_type, "%s", ct);
    }
    if (p->num_retries < 0 || p->num_retries > 100) {
        snprintf(err, errlen, "DeliveryPolicy: numRetries must be between 0 and 100");
        goto done;
    }
    /* AWS's ranges: minDelayTarget 1 to maxDelayTarget, maxDelayTarget
     * minDelayTarget to 3600 */
    if (p->min_delay < 1) {
        snprintf(err, errlen, "DeliveryPolicy: minDelayTarget must be between 1 and "
                 "maxDelayTarget");
        goto done;
    }
    if (p->max_delay > 3600) {
        snprintf(err, errlen, "DeliveryPolicy: maxDelayTarget must be between "
                 "minDelayTarget and 3600");
        goto done;
    }
    if (p->min_delay > p->max_delay) {
        snprintf(err, errlen, "DeliveryPolicy: minDelayTarget must be less than or equal "
                 "to maxDelayTarget");
        goto done;
    }
    if (p->num_no_delay < 0 || p->num_min_delay < 0 || p->num_max_delay < 0 ||
        p->num_no_delay + p->num_min_delay + p->num_max_delay > p->num_retries) {
        snprintf(err, errlen, "DeliveryPolicy: numRetries must be greater than or equal to "
                 "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries");
        goto done;
    }
    double total = 0;
    for (int i = 1; i <= p->num_retries; i++)
        total += sns_policy_delay(p, i);
    if (total > 3600) {
        snprintf(err, errlen, "DeliveryPolicy: total retry time must not exceed 3600 seconds");
        goto done;
    }
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

void sns_policy_for_sub(const char *topic_dp, const char *sub_dp, sns_retry_policy *p)
{
    char err[256];
    sns_retry_policy tmp;

    sns_policy_default(p);
    if (topic_dp && *topic_dp) {
        tmp = *p;
        if (sns_policy_parse(topic_dp, false, &tmp, err, sizeof err) == 0)
            *p = tmp;
    }
    if (sub_dp && *sub_dp && !p->disable_overrides) {
        tmp = *p;
        if (sns_policy_parse(sub_dp, true, &tmp, err, sizeof err) == 0)
            *p = tmp;
    }
}

double sns_policy_delay(const sns_retry_policy *p, int retry)
{
    int backoff_n = p->num_retries - p->num_no_delay - p->num_min_delay - p->num_max_delay;
    double lo = p->min_delay, hi = p->max_delay;

    if (retry < 1 || retry > p->num_retries)
        return -1;
    if (retry <= p->num_no_delay)
        return 0;
    retry -= p->num_no_delay;
    if (retry <= p->num_min_delay)
        return lo;
    retry -= p->num_min_delay;
    if (retry <= backoff_n) {
        /* step i of n goes from lo (i = 1) to hi (i = n) */
        if (backoff_n <= 1)
            return backoff_n == 1 ? lo : hi;
        double x = (double)(retry - 1) / (double)(backoff_n - 1);
        switch (p->backoff) {
        case SNS_BACKOFF_ARITHMETIC:
            /* quadratic growth: slow start, fast finish */
            return lo + (hi - lo) * x * x;
        case SNS_BACKOFF_GEOMETRIC:
            if (lo <= 0)
                lo = 1;
            return lo * pow(hi / lo, x);
        case SNS_BACKOFF_EXPONENTIAL:
            /* steeper than geometric near the end */
            return lo + (hi - lo) * (pow(2.0, 10.0 * x) - 1.0) / 1023.0;
        default:
            return lo + (hi - lo) * x;
        }
    }
    return hi;
}

char *sns_policy_effective_topic(const sns_retry_policy *p)
{
    json_t *retry = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:s}", "minDelayTarget", p->min_delay,
                              "maxDelayTarget", p->max_delay, "numRetries", p->num_retries,
                              "numMaxDelayRetries", p->num_max_delay, "numNoDelayRetries",
                              p->num_no_delay, "numMinDelayRetries", p->num_min_delay,
                              "backoffFunction", backoff_names[p->backoff]);
    json_t *http = json_pack("{s:o,s:b,s:{s:s}}", "defaultHealthyRetryPolicy", retry,
                             "disableSubscriptionOverrides", (int)p->disable_overrides,
                             "defaultRequestPolicy", "headerContentType", p->content_type);
    if (p->max_per_second > 0)
        json_object_set_new(http, "defaultThrottlePolicy",
                            json_pack("{s:i}", "maxReceivesPerSecond", p->max_per_second));
    json_t *doc = json_pack("{s:o}", "http", http);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}
