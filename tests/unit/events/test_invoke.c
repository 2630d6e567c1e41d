/*
 * test_invoke.c - API destination requests: the target's and the
 * connection's HTTP parameters, Retry-After and the retry schedule, the
 * OAuth client-credentials request and answer, secret values in views.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "events/invoke.h"

static json_t *js(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    CHECK(v != NULL);
    return v;
}

TEST(connection_parameters_win)
{
    json_t *conn = js("{\"HeaderParameters\":[{\"Key\":\"x-same\",\"Value\":\"conn\"},"
                      "{\"Key\":\"X-Conn\",\"Value\":\"c\",\"IsValueSecret\":true}],"
                      "\"QueryStringParameters\":[{\"Key\":\"q\",\"Value\":\"conn\"},"
                      "{\"Key\":\"cq\",\"Value\":\"a b\"}]}");
    json_t *target = js("{\"HeaderParameters\":{\"X-Same\":\"target\",\"X-T\":\"t\"},"
                        "\"QueryStringParameters\":{\"q\":\"target\",\"tq\":\"1\"}}");
    events_invocation inv;
    events_invocation_build(conn, target, "{\"a\":1}", &inv);
    CHECK(json_object_get(inv.headers, "X-Same") == NULL);
    CHECK_STR(json_string_value(json_object_get(inv.headers, "x-same")), "conn");
    CHECK_STR(json_string_value(json_object_get(inv.headers, "X-T")), "t");
    CHECK_STR(json_string_value(json_object_get(inv.headers, "X-Conn")), "c");
    CHECK_STR(json_string_value(json_object_get(inv.headers, "Content-Type")),
              "application/json; charset=utf-8");
    CHECK_STR(inv.body, "{\"a\":1}");
    json_t *path = js("[\"v/1\"]");
    char *url = events_invocation_url("http://h/p/*", path, inv.query);
    json_decref(path);
    CHECK_STR(url, "http://h/p/v%2F1?q=conn&tq=1&cq=a%20b");
    free(url);
    url = events_invocation_url("http://h/p?x=1", NULL, inv.query);
    CHECK_STR(url, "http://h/p?x=1&q=conn&tq=1&cq=a%20b");
    free(url);
    events_invocation_free(&inv);
    json_decref(conn);
    json_decref(target);
}

TEST(body_parameters)
{
    json_t *conn = js("{\"BodyParameters\":[{\"Key\":\"k\",\"Value\":\"v\"},"
                      "{\"Key\":\"a\",\"Value\":\"from-conn\"}]}");
    events_invocation inv;
    events_invocation_build(conn, NULL, "{\"a\":1}", &inv);
    json_t *body = js(inv.body);
    CHECK_STR(json_string_value(json_object_get(body, "k")), "v");
    CHECK_STR(json_string_value(json_object_get(body, "a")), "from-conn");
    json_decref(body);
    events_invocation_free(&inv);
    /* a payload that is not an object goes as it is */
    events_invocation_build(conn, NULL, "\"text\"", &inv);
    CHECK_STR(inv.body, "\"text\"");
    events_invocation_free(&inv);
    events_invocation_build(NULL, NULL, "[1]", &inv);
    CHECK_STR(inv.body, "[1]");
    CHECK_INT(json_array_size(inv.query), 0);
    events_invocation_free(&inv);
    json_decref(conn);
}

TEST(retry_after_values)
{
    long long s = 99;
    CHECK(events_retry_after_parse("5", &s) && s == 5);
    CHECK(events_retry_after_parse(" -1 ", &s) && s == -1);
    CHECK(events_retry_after_parse("+7", &s) && s == 7);
    CHECK(events_retry_after_parse("0", &s) && s == 0);
    CHECK(events_retry_after_parse("99999999999999999999", &s) && s == 100000000LL);
    CHECK(!events_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", &s));
    CHECK(!events_retry_after_parse("", &s));
    CHECK(!events_retry_after_parse("5s", &s));
    CHECK(!events_retry_after_parse("-", &s));
    CHECK(!events_retry_after_parse(NULL, &s));
}

TEST(retry_schedule)
{
    events_retry_in in = {.attempts = 1, .retries_allowed = 185, .age_allowed_ms = 86400000,
                          .first_ms = 1000, .now_ms = 2000, .random = 0};
    int64_t wait = -1;
    CHECK(events_retry_next(&in, &wait) == NULL);
    CHECK_INT(wait, 500); /* half of the first second, with no jitter */
    in.random = 0xffffffffu;
    in.attempts = 30;
    CHECK(events_retry_next(&in, &wait) == NULL);
    CHECK(wait >= 150000 && wait <= 300000);
    /* attempts spent */
    in.retries_allowed = 2;
    in.attempts = 3;
    CHECK_STR(events_retry_next(&in, &wait), "MaximumRetryAttempts");
    /* a negative Retry-After stops at once */
    in.retries_allowed = 185;
    in.attempts = 1;
    in.has_retry_after = true;
    in.retry_after_s = -1;
    CHECK_STR(events_retry_next(&in, &wait), "MaximumRetryAttempts");
    /* a positive one is the wait */
    in.retry_after_s = 7;
    CHECK(events_retry_next(&in, &wait) == NULL);
    CHECK_INT(wait, 7000);
    /* zero: the usual backoff */
    in.retry_after_s = 0;
    in.random = 0;
    CHECK(events_retry_next(&in, &wait) == NULL);
    CHECK_INT(wait, 500);
    /* not after the event's age limit */
    in.retry_after_s = 60;
    in.age_allowed_ms = 30000;
    CHECK_STR(events_retry_next(&in, &wait), "MaximumEventAgeInSeconds");
    in.retry_after_s = 20;
    CHECK(events_retry_next(&in, &wait) == NULL);
    CHECK_INT(wait, 20000);
}

TEST(oauth_request)
{
    json_t *oauth = js("{\"AuthorizationEndpoint\":\"https://a/token\",\"HttpMethod\":\"POST\","
                       "\"ClientParameters\":{\"ClientID\":\"id\",\"ClientSecret\":\"pw\"},"
                       "\"OAuthHttpParameters\":{\"BodyParameters\":[{\"Key\":\"scope\","
                       "\"Value\":\"a b\"}],\"QueryStringParameters\":[{\"Key\":\"q\","
                       "\"Value\":\"1\"}],\"HeaderParameters\":[{\"Key\":\"X-H\","
                       "\"Value\":\"h\"}]}}");
    char *url = NULL, *body = NULL;
    json_t *headers = NULL;
    CHECK(events_oauth_request(oauth, &url, &headers, &body));
    CHECK_STR(url, "https://a/token?q=1");
    CHECK_STR(body, "grant_type=client_credentials&scope=a%20b");
    CHECK_STR(json_string_value(json_object_get(headers, "Authorization")), "Basic aWQ6cHc=");
    CHECK_STR(json_string_value(json_object_get(headers, "Content-Type")),
              "application/x-www-form-urlencoded");
    CHECK_STR(json_string_value(json_object_get(headers, "X-H")), "h");
    free(url);
    free(body);
    json_decref(headers);
    /* GET: the form goes into the query */
    json_object_set_new(oauth, "HttpMethod", json_string("GET"));
    CHECK(events_oauth_request(oauth, &url, &headers, &body));
    CHECK_STR(url, "https://a/token?q=1&grant_type=client_credentials&scope=a%20b");
    CHECK_STR(body, "");
    CHECK(json_object_get(headers, "Content-Type") == NULL);
    free(url);
    free(body);
    json_decref(headers);
    json_object_del(json_object_get(oauth, "ClientParameters"), "ClientSecret");
    CHECK(!events_oauth_request(oauth, &url, &headers, &body));
    json_decref(oauth);
}

TEST(oauth_token_answer)
{
    long long exp = -5;
    char *t = events_oauth_token("{\"access_token\":\"abc\",\"expires_in\":3600}", &exp);
    CHECK_STR(t, "abc");
    CHECK_INT(exp, 3600);
    free(t);
    t = events_oauth_token("{\"access_token\":\"abc\",\"expires_in\":\"60\"}", &exp);
    CHECK_INT(exp, 60);
    free(t);
    t = events_oauth_token("{\"access_token\":\"abc\"}", &exp);
    CHECK_INT(exp, 0);
    free(t);
    CHECK(events_oauth_token("{\"error\":\"invalid_client\"}", &exp) == NULL);
    CHECK(events_oauth_token("not json", &exp) == NULL);
    CHECK(events_oauth_token("{\"access_token\":\"\"}", &exp) == NULL);
    CHECK(events_oauth_token(NULL, &exp) == NULL);
}

TEST(params_view_and_validation)
{
    json_t *p = js("{\"HeaderParameters\":[{\"Key\":\"a\",\"Value\":\"1\",\"IsValueSecret\":"
                   "true},{\"Key\":\"b\",\"Value\":\"2\",\"IsValueSecret\":false}],"
                   "\"BodyParameters\":[{\"Key\":\"c\",\"Value\":\"3\"}]}");
    char err[256];
    CHECK(events_http_params_valid(p, err, sizeof err));
    json_t *v = events_http_params_view(p);
    json_t *h = json_object_get(v, "HeaderParameters");
    CHECK(json_object_get(json_array_get(h, 0), "Value") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_array_get(h, 0), "Key")), "a");
    CHECK_STR(json_string_value(json_object_get(json_array_get(h, 1), "Value")), "2");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(v, "BodyParameters"), 0), "Value")),
              "3");
    CHECK(json_object_get(v, "QueryStringParameters") == NULL);
    json_decref(v);
    json_decref(p);
    static const char *const bad[] = {
        "[]",
        "{\"HeaderParameters\":{}}",
        "{\"HeaderParameters\":[{\"Value\":\"x\"}]}",
        "{\"HeaderParameters\":[{\"Key\":\"bad key\",\"Value\":\"x\"}]}",
        "{\"HeaderParameters\":[{\"Key\":\"k\",\"Value\":\"a\\nb\"}]}",
        "{\"QueryStringParameters\":[{\"Key\":\"k\",\"Value\":1}]}",
        "{\"BodyParameters\":[{\"Key\":\"k\",\"IsValueSecret\":\"yes\"}]}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        json_t *b = js(bad[i]);
        err[0] = '\0';
        CHECK(!events_http_params_valid(b, err, sizeof err));
        CHECK(err[0] != '\0');
        json_decref(b);
    }
}

TEST(header_set_ignores_case)
{
    json_t *h = json_object();
    events_header_set(h, "Content-Type", "a");
    events_header_set(h, "content-type", "b");
    CHECK_INT(json_object_size(h), 1);
    CHECK_STR(json_string_value(json_object_get(h, "content-type")), "b");
    json_decref(h);
}

int main(void)
{
    RUN(connection_parameters_win);
    RUN(body_parameters);
    RUN(retry_after_values);
    RUN(retry_schedule);
    RUN(oauth_request);
    RUN(oauth_token_answer);
    RUN(params_view_and_validation);
    RUN(header_set_ignores_case);
    return check_report();
}
