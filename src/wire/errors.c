/* errors.c - the rows of the AWS error table; see errors.h. */
#include "wire/errors.h"

static const aws_error table[AWS_ERR_COUNT] = {
#define X(id, json, query, status, sender) [AWS_ERR_##id] = {json, query, status, sender},
    AWS_ERRORS(X)
#undef X
};

const aws_error *aws_error_get(aws_error_id id)
{
    return &table[id];
}
