/*
 * policy.h - access decisions: identity allow lists and resource policies.
 *
 * Two sources of permission meet here.  An identity (an access key from
 * the credentials file) may carry an allow list, [{"actions": [...],
 * "resources": [...]}], with '*' and '?' wildcards; without one it may do
 * everything in its own account.  A resource (an SQS queue, an SNS topic)
 * may carry an IAM-style resource policy; this module evaluates its common
 * statement forms: Effect Allow/Deny (an explicit Deny wins), Principal
 * ("*", {"AWS": "*" | account id | "arn:aws:iam::<acct>:root" | list},
 * {"Service": name | list}, and NotPrincipal), Action/NotAction,
 * Resource/NotResource, and Condition with the String and Arn operators
 * (Equals, NotEquals, Like, NotLike, EqualsIgnoreCase, and the IfExists
 * forms) on aws:SourceArn, aws:SourceAccount (or aws:SourceOwner) and
 * aws:PrincipalAccount.
 *
 * A condition this module cannot evaluate (another operator or key) makes
 * an Allow statement not apply and a Deny statement apply: what is not
 * understood never grants access.
 *
 * Pure functions over borrowed jansson values; no state.
 */
#ifndef SLUICE_POLICY_H
#define SLUICE_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* True if action ("sqs:SendMessage") matches pattern ("sqs:Send*", "*"),
 * case-insensitively; '*' matches any run of characters, '?' one. */
bool policy_action_match(const char *pattern, const char *action);

/* True if arn matches pattern case-sensitively with the same wildcards
 * ("arn:aws:sqs:*:123456789012:orders-*"). */
bool policy_arn_match(const char *pattern, const char *arn);

/* Whether an identity's allow list permits action on resource.  A NULL
 * allow list permits everything; a NULL resource asks whether any entry
 * permits the action on some resource.  Entries' "actions" and
 * "resources" may be a string or a list of strings; an entry without
 * "resources" covers every resource. */
bool policy_allow_list_permits(const json_t *allow, const char *action, const char *resource);

/* Validates an allow list as read from a credentials file.  Returns 0, or
 * -1 with a reason in err. */
int policy_allow_list_check(const json_t *allow, char *err, size_t errlen);

/* Who asks for what, for a resource policy. */
typedef struct policy_request {
    const char *action;             /* "sqs:SendMessage" */
    const char *resource;           /* the resource's ARN */
    const char *principal_account;  /* the calling account, or NULL */
    const char *principal_service;  /* "sns.amazonaws.com" for a service, or NULL */
    const char *source_arn;         /* aws:SourceArn, or NULL */
    const char *source_account;     /* aws:SourceAccount, or NULL */
} policy_request;

typedef enum policy_decision {
    POLICY_NO_MATCH,  /* no statement applies: implicitly denied */
    POLICY_ALLOW,     /* an Allow applies and no Deny does */
    POLICY_DENY,      /* an explicit Deny applies */
} policy_decision;

/* Evaluates a policy document (an object with "Statement": a statement
 * object or a list of them) for r.  A NULL or malformed policy is
 * POLICY_NO_MATCH. */
policy_decision policy_evaluate(const json_t *policy, const policy_request *r);
/* The same for the policy's JSON text (NULL or unparsable: NO_MATCH). */
policy_decision policy_evaluate_text(const char *text, const policy_request *r);

/* The decision for a caller acting on a resource it addresses directly:
 * the identity's allow list must permit action on resource_arn; a Deny in
 * the resource's policy refuses; a resource of the caller's own account is
 * otherwise permitted, one of another account only if its policy allows
 * the caller's account.  resource_policy is the policy's JSON text or
 * NULL. */
bool policy_permits(const char *caller_account, const json_t *allow, const char *action,
                    const char *resource_arn, const char *owner_account,
                    const char *resource_policy);

/* The decision for a delivery the server makes on behalf of one of its
 * resources into another resource: SNS putting a topic's message on a
 * queue (service "sns.amazonaws.com", aws:SourceArn the topic's ARN),
 * EventBridge putting a rule's event on a queue or a topic
 * ("events.amazonaws.com", the rule's ARN).  aws:SourceAccount (and its
 * older name aws:SourceOwner) is source_account.  An applying Deny
 * refuses and an applying Allow permits.  With no statement applying the
 * delivery is permitted only when the resource has no policy at all and
 * belongs to source_account: AWS always wants the policy, sluice lets a
 * same-account delivery into a resource without one through. */
bool policy_service_permits(const char *service, const char *action, const char *resource_arn,
                            const char *owner_account, const char *resource_policy,
                            const char *source_arn, const char *source_account);

/* Copies the account field of an ARN ("arn:aws:sns:us-east-1:<acct>:name")
 * into out; returns false (out empty) if arn has no such field. */
bool policy_arn_account(const char *arn, char *out, size_t outlen);

#endif
