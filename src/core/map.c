/* map.c - the hash maps of map.h. */
#include "core/map.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return mix64(h);
}

void map_u64_init(map_u64 *m)
{
    memset(m, 0, sizeof *m);
}

void map_u64_free(map_u64 *m)
{
    free(m->keys);
    free(m->vals);
    map_u64_init(m);
}

static void u64_grow(map_u64 *m)
{
    map_u64 n;

    n.cap = m->cap ? m->cap * 2 : 64;
    n.count = 0;
    n.keys = xcalloc(n.cap, sizeof *n.keys);
    n.vals = xcalloc(n.cap, sizeof *n.vals);
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            map_u64_put(&n, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    *m = n;
}

void *map_u64_get(const map_u64 *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (!m->keys[i])
            return NULL;
    }
}

void map_u64_put(map_u64 *m, uint64_t key, void *val)
{
    if ((m->count + 1) * 4 > m->cap * 3)
        u64_grow(m);
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return;
        }
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->vals[i] = val;
            m->count++;
            return;
        }
    }
}

void *map_u64_del(map_u64 *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1, i = mix64(key) & mask;
    while (m->keys[i] != key) {
        if (!m->keys[i])
            return NULL;
        i = (i + 1) & mask;
    }
    void *val = m->vals[i];
    /* Backward-shift: pull later members of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = mix64(m->keys[j]) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->count--;
    return val;
}

void map_str_init(map_str *m)
{
    memset(m, 0, sizeof *m);
}

void map_str_free(map_str *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    free(m->hashes);
    map_str_init(m);
}

static void str_insert(map_str *m, char *key, uint64_t h, void *val)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->hashes[i] = h;
            m->vals[i] = val;
            m->count++;
            return;
        }
    }
}

static void str_grow(map_str *m)
{
    map_str n;

    n.cap = m->cap ? m->cap * 2 : 16;
    n.count = 0;
    n.keys = xcalloc(n.cap, sizeof *n.keys);
    n.vals = xcalloc(n.cap, sizeof *n.vals);
    n.hashes = xcalloc(n.cap, sizeof *n.hashes);
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            str_insert(&n, m->keys[i], m->hashes[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    free(m->hashes);
    *m = n;
}

static long str_find(const map_str *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return -1;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (!m->keys[i])
            return -1;
        if (m->hashes[i] == h && strcmp(m->keys[i], key) == 0)
            return (long)i;
    }
}

void *map_str_get(const map_str *m, const char *key)
{
    long i = str_find(m, key, hash_str(key));
    return i < 0 ? NULL : m->vals[i];
}

void map_str_put(map_str *m, const char *key, void *val)
{
    uint64_t h = hash_str(key);
    long i = str_find(m, key, h);
    if (i >= 0) {
        m->vals[i] = val;
        return;
    }
    if ((m->count + 1) * 4 > m->cap * 3)
        str_grow(m);
    str_insert(m, xstrdup(key), h, val);
}

void *map_str_del(map_str *m, const char *key)
{
    long found = str_find(m, key, hash_str(key));
    if (found < 0)
        return NULL;
    size_t mask = m->cap - 1, i = (size_t)found;
    void *val = m->vals[i];
    free(m->keys[i]);
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = m->hashes[j] & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->keys[i] = m->keys[j];
            m->hashes[i] = m->hashes[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = NULL;
    m->vals[i] = NULL;
    m->count--;
    return val;
}
