/*
 * codec.h - small byte encodings the wire formats need: hex, base64,
 * random ids and UUIDs, UTF-8 validation.
 */
#ifndef SLUICE_CODEC_H
#define SLUICE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Standard base64 with padding.  out needs base64_encoded_len(n)+1 bytes. */
size_t base64_encoded_len(size_t n);
void base64_encode(const uint8_t *in, size_t n, char *out);
/* Strict decode (padding required, no whitespace).  out needs n*3/4+3 bytes.
 * Returns the decoded length, or -1 if the input is not valid base64. */
long base64_decode(const char *in, size_t n, uint8_t *out);

/* URL-safe base64 without padding, for tokens we mint (receipt handles). */
void base64url_encode(const uint8_t *in, size_t n, char *out);
long base64url_decode(const char *in, size_t n, uint8_t *out);

/* Random bytes for ids and nonces (xoshiro256**, seeded from the kernel). */
void random_bytes(void *out, size_t n);

/* A random (version 4) UUID in its 36-character text form plus NUL. */
void uuid_v4(char out[37]);

/* True if s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

#endif
