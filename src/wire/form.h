/*
 * form.h - application/x-www-form-urlencoded decoding, strict: a '%' not
 * followed by two hex digits is an error, '+' is a space, values keep
 * embedded NUL bytes (lengths are explicit).
 */
#ifndef SLUICE_FORM_H
#define SLUICE_FORM_H

#include <stddef.h>

typedef struct form_pair {
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
} form_pair;

typedef struct form {
    form_pair *pairs;
    size_t n, cap;
} form;

void form_init(form *f);
void form_free(form *f);
/* Appends the pairs of text[0..len) to f.  Returns 0, or -1 on bad encoding. */
int form_parse(form *f, const char *text, size_t len);
/* The first value of key, or NULL. */
const char *form_get(const form *f, const char *key);

#endif
