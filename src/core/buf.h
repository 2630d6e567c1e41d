/*
 * buf.h - a growable byte buffer, always NUL-terminated for convenience.
 * The buffer owns its bytes; buf_free() releases them, buf_steal() hands
 * them to the caller.  Allocation failure aborts: the server cannot answer
 * anything sensible without memory for its reply.
 */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the bytes (NUL-terminated, caller frees) and leaves b empty. */
char *buf_steal(buf *b);

/* Counting allocators for the libraries whose allocation failures would
 * otherwise pass unnoticed (jansson, cJSON: a NULL they return reads as
 * "invalid input").  mem_failures() is the calling thread's count of failed
 * mem_malloc calls, so the HTTP front can answer a request whose decoding
 * ran out of memory with an internal error (docs/durability.md). */
void *mem_malloc(size_t n);
void mem_free(void *p);
unsigned long mem_failures(void);

/* Allocation helpers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
