/*
 * policy.c - allow lists and resource-policy evaluation; see policy.h.
 *
 * Evaluation is the IAM order for the forms supported: every statement is
 * tested; one applying Deny decides at once; otherwise an applying Allow
 * allows; otherwise nothing matched.  A statement applies when its
 * principal, action, resource and condition blocks all match.
 */
#include "core/policy.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* --- wildcards --------------------------------------------------------------- */

static bool chars_equal(char a, char b, bool fold)
{
    return fold ? tolower((unsigned char)a) == tolower((unsigned char)b) : a == b;
}

/* Glob match with '*' and '?', backtracking only to the last star. */
static bool glob(const char *pat, const char *s, bool fold)
{
    const char *star = NULL, *resume = NULL;

    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat && (*pat == '?' || chars_equal(*pat, *s, fold))) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

bool policy_action_match(const char *pattern, const char *action)
{
    return pattern && action && glob(pattern, action, true);
}

bool policy_arn_match(const char *pattern, const char *arn)
{
    return pattern && arn && glob(pattern, arn, false);
}

/* Calls match(pattern, value) for a string or each string of a list;
 * true if any matches. */
static bool any_string(const json_t *v, bool (*match)(const char *, const char *),
                       const char *value)
{
    size_t i;
    json_t *e;

    if (json_is_string(v))
        return match(json_string_value(v), value);
    if (json_is_array(v))
        json_array_foreach((json_t *)v, i, e)
            if (json_is_string(e) && match(json_string_value(e), value))
                return true;
    return false;
}

/* --- identity allow lists -------------------------------------------------------- */

static bool any_match_resource(const char *pattern, const char *unused)
{
    (void)pattern;
    (void)unused;
    return true;
}

bool policy_allow_list_permits(const json_t *allow, const char *action, const char *resource)
{
    size_t i;
    json_t *entry;

    if (!allow)
        return true;
    json_array_foreach((json_t *)allow, i, entry) {
        json_t *actions = json_object_get(entry, "actions");
        json_t *resources = json_object_get(entry, "resources");
        if (!any_string(actions, policy_action_match, action))
            continue;
        if (!resources)
            return true;
        if (!resource ? any_string(resources, any_match_resource, "")
                      : any_string(resources, policy_arn_match, resource))
            return true;
    }
    return false;
}

static bool string_or_strings(const json_t *v)
{
    size_t i;
    json_t *e;

    if (json_is_string(v))
        return true;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    json_array_foreach((json_t *)v, i, e)
        if (!json_is_string(e))
            return false;
    return true;
}

int policy_allow_list_check(const json_t *allow, char *err, size_t errlen)
{
    size_t i;
    json_t *entry;

    if (!json_is_array(allow)) {
        snprintf(err, errlen, "\"allow\" must be a list of {\"actions\", \"resources\"}");
        return -1;
    }
    json_array_foreach((json_t *)allow, i, entry) {
        const char *key;
        json_t *v;
        if (!json_is_object(entry)) {
            snprintf(err, errlen, "allow entry %zu is not an object", i);
            return -1;
        }
        if (!string_or_strings(json_object_get(entry, "actions"))) {
            snprintf(err, errlen, "allow entry %zu needs \"actions\": a string or a list of "
                     "strings", i);
            return -1;
        }
        json_t *res = json_object_get(entry, "resources");
        if (res && !string_or_strings(res)) {
            snprintf(err, errlen, "allow entry %zu: \"resources\" must be a string or a list "
                     "of strings", i);
            return -1;
        }
        json_object_foreach(entry, key, v) {
            if (strcmp(key, "actions") != 0 && strcmp(key, "resources") != 0) {
                snprintf(err, errlen, "allow entry %zu has an unknown member \"%s\"", i, key);
                return -1;
            }
        }
    }
    return 0;
}

/* --- principals ------------------------------------------------------------------- */

static bool digits12(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isdigit((unsigned char)s[n]))
            return false;
    return n == 12;
}

/* One entry of {"AWS": ...}: "*", an account id, or an account's root ARN. */
static bool aws_principal_match(const char *p, const char *account)
{
    char root[64];

    if (!account)
        return false;
    if (strcmp(p, "*") == 0)
        return true;
    if (digits12(p))
        return strcmp(p, account) == 0;
    snprintf(root, sizeof root, "arn:aws:iam::%s:root", account);
    return strcmp(p, root) == 0;
}

static bool service_match(const char *p, const char *service)
{
    return service && strcasecmp(p, service) == 0;
}

static bool principal_match(const json_t *principal, const policy_request *r)
{
    if (json_is_string(principal))
        return strcmp(json_string_value(principal), "*") == 0;
    if (!json_is_object(principal))
        return false;
    return any_string(json_object_get(principal, "AWS"), aws_principal_match,
                      r->principal_account) ||
           any_string(json_object_get(principal, "Service"), service_match,
                      r->principal_service);
}

/* --- conditions ----------------------------------------------------------------------- */

typedef enum cond_result { COND_FALSE, COND_TRUE, COND_UNKNOWN } cond_result;

static bool str_equals(const char *p, const char *v) { return strcmp(p, v) == 0; }
static bool str_equals_fold(const char *p, const char *v) { return strcasecmp(p, v) == 0; }
static bool str_like(const char *p, const char *v) { return glob(p, v, false); }

/* The request's value of a condition key; *known false for keys this
 * module does not know. */
static const char *cond_value(const policy_request *r, const char *key, bool *known)
{
    *known = true;
    if (strcasecmp(key, "aws:SourceArn") == 0)
        return r->source_arn;
    if (strcasecmp(key, "aws:SourceAccount") == 0 || strcasecmp(key, "aws:SourceOwner") == 0)
        return r->source_account;
    if (strcasecmp(key, "aws:PrincipalAccount") == 0)
        return r->principal_account;
    *known = false;
    return NULL;
}

/* One operator block: {"aws:SourceArn": value-or-list, ...}, all keys ANDed. */
static cond_result eval_operator(const char *op, const json_t *block, const policy_request *r)
{
    char name[64];
    bool if_exists = false, negate = false;
    bool (*match)(const char *, const char *);
    size_t n = strlen(op);

    if (n >= sizeof name || !json_is_object(block))
        return COND_UNKNOWN;
    memcpy(name, op, n + 1);
    if (n > 8 && strcmp(name + n - 8, "IfExists") == 0) {
        if_exists = true;
        name[n - 8] = '\0';
    }
    if (strcmp(name, "StringEquals") == 0 || strcmp(name, "ArnEquals") == 0 ||
        strcmp(name, "ArnLike") == 0 || strcmp(name, "StringLike") == 0) {
        match = name[0] == 'A' || strcmp(name, "StringLike") == 0 ? str_like : str_equals;
    } else if (strcmp(name, "StringNotEquals") == 0 || strcmp(name, "ArnNotEquals") == 0 ||
               strcmp(name, "ArnNotLike") == 0 || strcmp(name, "StringNotLike") == 0) {
        match = name[0] == 'A' || strcmp(name, "StringNotLike") == 0 ? str_like : str_equals;
        negate = true;
    } else if (strcmp(name, "StringEqualsIgnoreCase") == 0) {
        match = str_equals_fold;
    } else if (strcmp(name, "StringNotEqualsIgnoreCase") == 0) {
        match = str_equals_fold;
        negate = true;
    } else {
        return COND_UNKNOWN;
    }

    const char *key;
    json_t *want;
    json_object_foreach((json_t *)block, key, want) {
        bool known;
        const char *have = cond_value(r, key, &known);
        if (!known)
            return COND_UNKNOWN;
        if (!have) {
            if (if_exists || negate)
                continue;
            return COND_FALSE;
        }
        bool hit = false;
        if (json_is_string(want) || json_is_array(want)) {
            hit = any_string(want, match, have);
        } else if (json_is_integer(want)) {
            char num[32];
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(want));
            hit = match(num, have);
        } else {
            return COND_UNKNOWN;
        }
        if (hit == negate)
            return COND_FALSE;
    }
    return COND_TRUE;
}

static cond_result eval_condition(const json_t *cond, const policy_request *r)
{
    const char *op;
    json_t *block;
    cond_result result = COND_TRUE;

    if (!cond)
        return COND_TRUE;
    if (!json_is_object(cond))
        return COND_UNKNOWN;
    json_object_foreach((json_t *)cond, op, block) {
        cond_result c = eval_operator(op, block, r);
        if (c == COND_FALSE)
            return COND_FALSE;
        if (c == COND_UNKNOWN)
            result = COND_UNKNOWN;
    }
    return result;
}

/* --- statements ------------------------------------------------------------------------ */

static policy_decision eval_statement(const json_t *st, const policy_request *r)
{
    const char *effect = json_string_value(json_object_get(st, "Effect"));
    bool deny;
    json_t *v;

    if (!effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0))
        return POLICY_NO_MATCH;
    deny = strcmp(effect, "Deny") == 0;

    if ((v = json_object_get(st, "Principal"))) {
        if (!principal_match(v, r))
            return POLICY_NO_MATCH;
    } else if ((v = json_object_get(st, "NotPrincipal"))) {
        if (principal_match(v, r))
            return POLICY_NO_MATCH;
    } else {
        return POLICY_NO_MATCH;
    }

    if ((v = json_object_get(st, "Action"))) {
        if (!any_string(v, policy_action_match, r->action))
            return POLICY_NO_MATCH;
    } else if ((v = json_object_get(st, "NotAction"))) {
        if (any_string(v, policy_action_match, r->action))
            return POLICY_NO_MATCH;
    } else {
        return POLICY_NO_MATCH;
    }

    if ((v = json_object_get(st, "Resource"))) {
        if (!any_string(v, policy_arn_match, r->resource))
            return POLICY_NO_MATCH;
    } else if ((v = json_object_get(st, "NotResource"))) {
        if (any_string(v, policy_arn_match, r->resource))
            return POLICY_NO_MATCH;
    }

    switch (eval_condition(json_object_get(st, "Condition"), r)) {
    case COND_FALSE:
        return POLICY_NO_MATCH;
    case COND_UNKNOWN:
        return deny ? POLICY_DENY : POLICY_NO_MATCH;
    case COND_TRUE:
        break;
    }
    return deny ? POLICY_DENY : POLICY_ALLOW;
}

policy_decision policy_evaluate(const json_t *policy, const policy_request *r)
{
    json_t *stmts = json_is_object(policy) ? json_object_get(policy, "Statement") : NULL;
    policy_decision result = POLICY_NO_MATCH;
    size_t i;
    json_t *st;

    if (json_is_object(stmts))
        return eval_statement(stmts, r);
    if (!json_is_array(stmts))
        return POLICY_NO_MATCH;
    json_array_foreach(stmts, i, st) {
        policy_decision d = json_is_object(st) ? eval_statement(st, r) : POLICY_NO_MATCH;
        if (d == POLICY_DENY)
            return POLICY_DENY;
        if (d == POLICY_ALLOW)
            result = POLICY_ALLOW;
    }
    return result;
}

policy_decision policy_evaluate_text(const char *text, const policy_request *r)
{
    if (!text || !*text)
        return POLICY_NO_MATCH;
    json_t *doc = json_loads(text, 0, NULL);
    policy_decision d = policy_evaluate(doc, r);
    json_decref(doc);
    return d;
}

bool policy_permits(const char *caller_account, const json_t *allow, const char *action,
                    const char *resource_arn, const char *owner_account,
                    const char *resource_policy)
{
    policy_request r = {action, resource_arn, caller_account, NULL, NULL, NULL};

    if (!policy_allow_list_permits(allow, action, resource_arn))
        return false;
    policy_decision d = policy_evaluate_text(resource_policy, &r);
    if (d == POLICY_DENY)
        return false;
    if (caller_account && owner_account && strcmp(caller_account, owner_account) == 0)
        return true;
    return d == POLICY_ALLOW;
}

bool policy_service_permits(const char *service, const char *action, const char *resource_arn,
                            const char *owner_account, const char *resource_policy,
                            const char *source_arn, const char *source_account)
{
    policy_request r = {action, resource_arn, NULL, service, source_arn, source_account};
    bool has_policy = resource_policy && *resource_policy;

    switch (policy_evaluate_text(resource_policy, &r)) {
    case POLICY_DENY:
        return false;
    case POLICY_ALLOW:
        return true;
    case POLICY_NO_MATCH:
        break;
    }
    return !has_policy && source_account && owner_account &&
           strcmp(source_account, owner_account) == 0;
}

bool policy_arn_account(const char *arn, char *out, size_t outlen)
{
    const char *p = arn;
    int colons = 0;

    if (outlen)
        out[0] = '\0';
    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return false;
    while (*p && colons < 4)
        if (*p++ == ':')
            colons++;
    const char *end = strchr(p, ':');
    if (colons < 4 || !end || end == p || (size_t)(end - p) >= outlen)
        return false;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return true;
}
