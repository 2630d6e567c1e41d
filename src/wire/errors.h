/*
 * errors.h - the table of AWS errors, one X-macro list.
 *
 * Each row: identifier, the error's name in the JSON protocols (`__type`
 * after the '#'), its code in the Query protocol (also sent in the
 * x-amzn-query-error header of JSON responses), the HTTP status, and
 * whether the sender (1) or the service (0) is at fault.  A handler returns
 * one of these with a message; only the wire layer turns it into bytes.
 */
#ifndef SLUICE_ERRORS_H
#define SLUICE_ERRORS_H

#define AWS_ERRORS(X)                                                                   \
    /* shared by the services */                                                       \
    X(INVALID_ACTION, "InvalidAction", "InvalidAction", 400, 1)                         \
    X(MISSING_ACTION, "MissingAction", "MissingAction", 400, 1)                         \
    X(INVALID_PARAMETER_VALUE, "InvalidParameterValue", "InvalidParameterValue", 400, 1) \
    X(MISSING_PARAMETER, "MissingParameter", "MissingParameter", 400, 1)                \
    X(INVALID_QUERY_PARAMETER, "InvalidQueryParameter", "InvalidQueryParameter", 400, 1) \
    X(MALFORMED_QUERY_STRING, "MalformedQueryString", "MalformedQueryString", 400, 1)   \
    X(SERIALIZATION, "SerializationException", "SerializationException", 400, 1)        \
    X(UNKNOWN_OPERATION, "UnknownOperationException", "UnknownOperationException", 400, 1) \
    X(VALIDATION, "ValidationException", "ValidationError", 400, 1)                     \
    X(INTERNAL, "InternalFailure", "InternalFailure", 500, 0)                           \
    X(SERVICE_UNAVAILABLE, "ServiceUnavailable", "ServiceUnavailable", 503, 0)          \
    X(ACCESS_DENIED, "AccessDenied", "AccessDenied", 403, 1)                            \
    X(REQUEST_TOO_LARGE, "RequestEntityTooLarge", "RequestEntityTooLarge", 413, 1)      \
    /* authentication (wire/sigv4.h, server/credentials.h) */                        \
    X(AUTH_MISSING_TOKEN, "MissingAuthenticationTokenException",                        \
      "MissingAuthenticationToken", 403, 1)                                             \
    X(AUTH_INCOMPLETE_SIGNATURE, "IncompleteSignatureException", "IncompleteSignature", \
      400, 1)                                                                          \
    X(AUTH_INVALID_CLIENT_TOKEN_ID, "UnrecognizedClientException", "InvalidClientTokenId", \
      403, 1)                                                                          \
    X(AUTH_SIGNATURE_MISMATCH, "InvalidSignatureException", "SignatureDoesNotMatch",    \
      403, 1)                                                                          \
    /* SQS */                                                                          \
    X(SQS_QUEUE_DOES_NOT_EXIST, "QueueDoesNotExist",                                    \
      "AWS.SimpleQueueService.NonExistentQueue", 400, 1)                                \
    X(SQS_QUEUE_NAME_EXISTS, "QueueNameExists", "QueueAlreadyExists", 400, 1)           \
    X(SQS_QUEUE_DELETED_RECENTLY, "QueueDeletedRecently",                               \
      "AWS.SimpleQueueService.QueueDeletedRecently", 400, 1)                            \
    X(SQS_INVALID_ATTRIBUTE_NAME, "InvalidAttributeName", "InvalidAttributeName", 400, 1) \
    X(SQS_INVALID_ATTRIBUTE_VALUE, "InvalidAttributeValue", "InvalidAttributeValue", 400, 1) \
    X(SQS_INVALID_MESSAGE_CONTENTS, "InvalidMessageContents", "InvalidMessageContents", \
      400, 1)                                                                          \
    X(SQS_RECEIPT_HANDLE_INVALID, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",   \
      400, 1)                                                                          \
    X(SQS_MESSAGE_NOT_INFLIGHT, "MessageNotInflight",                                   \
      "AWS.SimpleQueueService.MessageNotInflight", 400, 1)                              \
    X(SQS_PURGE_IN_PROGRESS, "PurgeQueueInProgress",                                    \
      "AWS.SimpleQueueService.PurgeQueueInProgress", 403, 1)                            \
    X(SQS_TOO_MANY_ENTRIES, "TooManyEntriesInBatchRequest",                             \
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, 1)                    \
    X(SQS_EMPTY_BATCH, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", \
      400, 1)                                                                          \
    X(SQS_BATCH_IDS_NOT_DISTINCT, "BatchEntryIdsNotDistinct",                           \
      "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400, 1)                        \
    X(SQS_INVALID_BATCH_ENTRY_ID, "InvalidBatchEntryId",                                \
      "AWS.SimpleQueueService.InvalidBatchEntryId", 400, 1)                             \
    X(SQS_BATCH_TOO_LONG, "BatchRequestTooLong",                                        \
      "AWS.SimpleQueueService.BatchRequestTooLong", 400, 1)                             \
    X(SQS_UNSUPPORTED_OPERATION, "UnsupportedOperation",                                \
      "AWS.SimpleQueueService.UnsupportedOperation", 400, 1)                            \
    X(SQS_OVER_LIMIT, "OverLimit", "OverLimit", 403, 1)                                 \
    X(SQS_REQUEST_THROTTLED, "RequestThrottled", "RequestThrottled", 403, 1)            \
    X(SQS_INVALID_ID_FORMAT, "InvalidIdFormat", "InvalidIdFormat", 400, 1)              \
    X(SQS_RESOURCE_NOT_FOUND, "ResourceNotFoundException", "ResourceNotFoundException", \
      404, 1)                                                                          \
    /* EventBridge */                                                                  \
    X(EVENTS_RESOURCE_NOT_FOUND, "ResourceNotFoundException", "ResourceNotFoundException", \
      400, 1)                                                                          \
    X(EVENTS_RESOURCE_EXISTS, "ResourceAlreadyExistsException",                         \
      "ResourceAlreadyExistsException", 400, 1)                                         \
    X(EVENTS_INVALID_PATTERN, "InvalidEventPatternException",                           \
      "InvalidEventPatternException", 400, 1)                                           \
    X(EVENTS_LIMIT_EXCEEDED, "LimitExceededException", "LimitExceededException", 400, 1) \
    X(EVENTS_CONCURRENT_MODIFICATION, "ConcurrentModificationException",                \
      "ConcurrentModificationException", 400, 1)                                        \
    X(EVENTS_MANAGED_RULE, "ManagedRuleException", "ManagedRuleException", 400, 1)      \
    X(EVENTS_INVALID_STATE, "InvalidStateException", "InvalidStateException", 400, 1)   \
    X(EVENTS_ILLEGAL_STATUS, "IllegalStatusException", "IllegalStatusException", 400, 1) \
    X(EVENTS_ACCESS_DENIED, "AccessDeniedException", "AccessDeniedException", 400, 1) \
    X(EVENTS_POLICY_LENGTH_EXCEEDED, "PolicyLengthExceededException",                   \
      "PolicyLengthExceededException", 400, 1)                                          \
    X(EVENTS_VALIDATION, "ValidationException", "ValidationException", 400, 1)         \
    X(EVENTS_INTERNAL, "InternalException", "InternalException", 500, 0)             \
    /* SNS */                                                                          \
    X(SNS_NOT_FOUND, "NotFoundException", "NotFound", 404, 1)                           \
    X(SNS_INVALID_PARAMETER, "InvalidParameterException", "InvalidParameter", 400, 1)   \
    X(SNS_PARAMETER_VALUE_INVALID, "InvalidParameterValueException",                    \
      "ParameterValueInvalid", 400, 1)                                                 \
    X(SNS_AUTHORIZATION, "AuthorizationErrorException", "AuthorizationError", 403, 1)   \
    X(SNS_INTERNAL, "InternalErrorException", "InternalError", 500, 0)                  \
    X(SNS_RESOURCE_NOT_FOUND, "ResourceNotFoundException", "ResourceNotFound", 404, 1)  \
    X(SNS_TAG_LIMIT, "TagLimitExceededException", "TagLimitExceeded", 400, 1)           \
    X(SNS_TAG_POLICY, "TagPolicyException", "TagPolicy", 400, 1)                        \
    X(SNS_TOO_MANY_ENTRIES, "TooManyEntriesInBatchRequestException",                    \
      "TooManyEntriesInBatchRequest", 400, 1)                                          \
    X(SNS_BATCH_IDS_NOT_DISTINCT, "BatchEntryIdsNotDistinctException",                  \
      "BatchEntryIdsNotDistinct", 400, 1)                                              \
    X(SNS_EMPTY_BATCH, "EmptyBatchRequestException", "EmptyBatchRequest", 400, 1)       \
    X(SNS_INVALID_BATCH_ENTRY_ID, "InvalidBatchEntryIdException", "InvalidBatchEntryId", \
      400, 1)                                                                          \
    X(SNS_BATCH_TOO_LONG, "BatchRequestTooLongException", "BatchRequestTooLong", 400, 1) \
    X(SNS_TOPIC_LIMIT, "TopicLimitExceededException", "TopicLimitExceeded", 403, 1)     \
    X(SNS_SUBSCRIPTION_LIMIT, "SubscriptionLimitExceededException",                     \
      "SubscriptionLimitExceeded", 403, 1)                                             \
    X(SNS_FILTER_POLICY_LIMIT, "FilterPolicyLimitExceededException",                    \
      "FilterPolicyLimitExceeded", 403, 1)                                             \
    /* EventBridge Scheduler (REST-JSON: status from the model) */                     \
    X(SCHEDULER_NOT_FOUND, "ResourceNotFoundException", "ResourceNotFoundException",    \
      404, 1)                                                                          \
    X(SCHEDULER_CONFLICT, "ConflictException", "ConflictException", 409, 1)             \
    X(SCHEDULER_QUOTA, "ServiceQuotaExceededException", "ServiceQuotaExceededException", \
      402, 1)                                                                          \
    X(SCHEDULER_INTERNAL, "InternalServerException", "InternalServerException", 500, 0)

typedef enum aws_error_id {
#define X(id, json, query, status, sender) AWS_ERR_##id,
    AWS_ERRORS(X)
#undef X
        AWS_ERR_COUNT
} aws_error_id;

typedef struct aws_error {
    const char *json_name;
    const char *query_code;
    int http_status;
    int sender_fault;
} aws_error;

const aws_error *aws_error_get(aws_error_id id);

#endif
