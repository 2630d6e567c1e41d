/* Unit tests: limit flags (defaults, parsing, refusals) and per-account counts. */
#include <stdio.h>

#include "check.h"
#include "core/limits.h"

TEST(defaults_are_aws_quotas)
{
    limits l;
    limits_init(&l);
    CHECK_INT(l.max_connections, 4096);
    CHECK_INT(l.max_topics, 100000);
    CHECK_INT(l.max_subscriptions_per_topic, 12500000);
    CHECK_INT(l.max_event_buses, 100);
    CHECK_INT(l.max_rules_per_bus, 300);
    CHECK_INT(l.max_schedules, 1000000);
    CHECK_INT(l.max_inflight, 120000);
    CHECK_INT(l.max_inflight_fifo, 20000);
    CHECK(limits_default()->max_queues == l.max_queues);
}

TEST(set_by_flag_name)
{
    limits l;
    char err[160];
    limits_init(&l);
    CHECK_INT(limits_set(&l, "max-rules-per-bus", "2", err, sizeof err), 0);
    CHECK_INT(l.max_rules_per_bus, 2);
    CHECK_INT(limits_set(&l, "request-timeout", "5", err, sizeof err), 0);
    CHECK_INT(l.request_timeout, 5);
    CHECK_INT(l.max_event_buses, 100); /* the others keep their defaults */
}

TEST(set_refuses_bad_values)
{
    limits l;
    char err[160];
    const char *bad[] = {"0", "-1", "+3", "", "3x", "x", "99999999999999999999999"};
    limits_init(&l);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_INT(limits_set(&l, "max-topics", bad[i], err, sizeof err), -1);
        CHECK(strstr(err, "--max-topics") != NULL);
    }
    CHECK_INT(l.max_topics, 100000);
    CHECK_INT(limits_set(&l, "max-nothing", "3", err, sizeof err), -1);
    CHECK(strstr(err, "unknown limit") != NULL);
}

TEST(counts_per_account)
{
    account_counts c;
    account_counts_init(&c);
    CHECK_INT(account_counts_get(&c, "111111111111"), 0);
    account_counts_add(&c, "111111111111", 1);
    account_counts_add(&c, "111111111111", 1);
    account_counts_add(&c, "222222222222", 1);
    CHECK_INT(account_counts_get(&c, "111111111111"), 2);
    CHECK_INT(account_counts_get(&c, "222222222222"), 1);
    account_counts_add(&c, "111111111111", -1);
    CHECK_INT(account_counts_get(&c, "111111111111"), 1);
    /* down to zero the entry goes; below zero it does not */
    account_counts_add(&c, "222222222222", -1);
    account_counts_add(&c, "222222222222", -1);
    CHECK_INT(account_counts_get(&c, "222222222222"), 0);
    CHECK_INT(c.by_account.count, 1);
    account_counts_free(&c);
}

int main(void)
{
    RUN(defaults_are_aws_quotas);
    RUN(set_by_flag_name);
    RUN(set_refuses_bad_values);
    RUN(counts_per_account);
    return check_report();
}
