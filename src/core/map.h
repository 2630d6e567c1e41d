/*
 * map.h - two hash maps the services index by: 64-bit key -> pointer, and
 * string key -> pointer.  Open addressing with linear probing and
 * backward-shift deletion, so there are no tombstones to clean.  The maps
 * never own the values; map_str copies its keys.
 */
#ifndef SLUICE_MAP_H
#define SLUICE_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct map_u64 {
    uint64_t *keys;   /* 0 marks an empty slot: key 0 is not allowed */
    void **vals;
    size_t cap;       /* power of two */
    size_t count;
} map_u64;

void map_u64_init(map_u64 *m);
void map_u64_free(map_u64 *m);
void *map_u64_get(const map_u64 *m, uint64_t key);
/* Inserts or replaces.  key must not be 0. */
void map_u64_put(map_u64 *m, uint64_t key, void *val);
/* Removes and returns the value, or NULL if absent. */
void *map_u64_del(map_u64 *m, uint64_t key);

typedef struct map_str {
    char **keys;      /* NULL marks an empty slot */
    void **vals;
    uint64_t *hashes;
    size_t cap;
    size_t count;
} map_str;

void map_str_init(map_str *m);
void map_str_free(map_str *m);
void *map_str_get(const map_str *m, const char *key);
void map_str_put(map_str *m, const char *key, void *val);
void *map_str_del(map_str *m, const char *key);
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->keys[i]) ... */

#endif
