/* Unit tests: the hash maps, including deletion inside probe runs. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "core/map.h"

TEST(u64_map_many)
{
    map_u64 m;
    map_u64_init(&m);
    for (uint64_t i = 1; i <= 10000; i++)
        map_u64_put(&m, i, (void *)(uintptr_t)(i * 2));
    CHECK_INT(m.count, 10000);
    for (uint64_t i = 1; i <= 10000; i += 2)
        CHECK(map_u64_del(&m, i) == (void *)(uintptr_t)(i * 2));
    CHECK_INT(m.count, 5000);
    int bad = 0;
    for (uint64_t i = 1; i <= 10000; i++) {
        void *v = map_u64_get(&m, i);
        if ((i % 2 == 1 && v) || (i % 2 == 0 && v != (void *)(uintptr_t)(i * 2)))
            bad++;
    }
    CHECK_INT(bad, 0);
    CHECK(map_u64_del(&m, 99999) == NULL);
    map_u64_free(&m);
}

TEST(str_map)
{
    map_str m;
    char key[32];
    map_str_init(&m);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "acct/q%d", i);
        map_str_put(&m, key, (void *)(uintptr_t)(i + 1));
    }
    for (int i = 0; i < 1000; i += 3) {
        snprintf(key, sizeof key, "acct/q%d", i);
        CHECK(map_str_del(&m, key) == (void *)(uintptr_t)(i + 1));
    }
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "acct/q%d", i);
        void *v = map_str_get(&m, key);
        if ((i % 3 == 0) != (v == NULL))
            bad++;
    }
    CHECK_INT(bad, 0);
    map_str_put(&m, "acct/q1", (void *)7);
    CHECK(map_str_get(&m, "acct/q1") == (void *)7);
    map_str_free(&m);
}

int main(void)
{
    RUN(u64_map_many);
    RUN(str_map);
    return check_report();
}
