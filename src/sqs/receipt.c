/*
 * receipt.c - receipt handles.
 *
 * A handle names one receive of one message: the queue's id, the message's
 * seq and the nonce drawn at that receive, plus a fixed tag so that random
 * text is recognised as malformed.  It is URL-safe base64 of those 24 bytes
 * followed by random filler, so it looks like (and is as long as) the
 * handles SDK users are used to.  A handle whose nonce no longer matches is
 * stale: it parses, but no longer names the current receive.
 */
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "sqs/sqs.h"

#define RECEIPT_TAG 0x534c4331u /* "SLC1" */
#define RECEIPT_BYTES 24

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void sqs_receipt_encode(const sqs_message *m, char *out, size_t outlen)
{
    uint8_t raw[RECEIPT_BYTES];

    put64(raw, m->queue->id);
    put64(raw + 8, m->seq);
    put64(raw + 16, (uint64_t)RECEIPT_TAG << 32 | m->receipt_nonce);
    if (outlen < 64) {
        out[0] = '\0';
        return;
    }
    base64url_encode(raw, sizeof raw, out);
}

int sqs_receipt_decode(const char *text, uint64_t *queue_id, uint64_t *seq, uint32_t *nonce)
{
    uint8_t raw[64];
    size_t n = strlen(text);

    if (n != 32)
        return -1;
    if (base64url_decode(text, n, raw) != RECEIPT_BYTES)
        return -1;
    uint64_t tail = get64(raw + 16);
    if ((uint32_t)(tail >> 32) != RECEIPT_TAG)
        return -1;
    *queue_id = get64(raw);
    *seq = get64(raw + 8);
    *nonce = (uint32_t)tail;
    return 0;
}
