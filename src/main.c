/*
 * main.c - the command line: `sluice serve`, `sluice schedule preview`,
 * `sluice version`.
 *
 * Threads of a running server: the event-loop thread (this one) owns the
 * HTTP front and every service's in-memory state; the store's committer
 * thread owns the database writer.  They meet only through the store's
 * submit/completion queues.
 */
#include <event2/event.h>
#include <event2/thread.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/tls_ca.h"
#include "events/events.h"
#include "scheduler/preview.h"
#include "scheduler/scheduler.h"
#include "scheduler/tz.h"
#include "server/credentials.h"
#include "server/http.h"
#include "sns/sns.h"
#include "sqs/sqs.h"
#include "store/store.h"

#define SLUICE_VERSION "0.1.0"
#define DRAIN_LIMIT_MS 10000

typedef struct serve_options {
    const char *host;
    int port;
    const char *data_dir;
    const char *region;
    const char *account;
    const char *log_level;
    const char *credentials;  /* --credentials FILE, or NULL */
    bool insecure;            /* --insecure-accept-any-signature */
    int tls_port;             /* --tls-port, or 0 */
    const char *tls_cert;     /* --tls-cert FILE (PEM chain) */
    const char *tls_key;      /* --tls-key FILE (PEM) */
    const char *ca_file;      /* --ca-file FILE: CA bundle for outbound HTTPS, or NULL */
    limits limits;            /* --max-connections, --max-queues, ... (core/limits.h) */
} serve_options;

/* The running server's parts, owned by serve() on the event-loop thread. */
typedef struct server {
    struct event_base *base;
    store *store;
    struct event *store_wakeup;
    http_server *http;
    sqs_service *sqs;
    api_service *sqs_api;
    sns_service *sns;
    api_service *sns_api;
    events_service *events;
    api_service *events_api;
    scheduler_service *scheduler;
    api_service *scheduler_api;
    struct event *drain_timer;
    int drain_ticks;
    bool draining;
} server;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sluice serve [options]\n"
            "       sluice schedule preview EXPRESSION [--timezone TZ] [--after TIME]\n"
            "                              [--count N] [--start-date TIME] [--end-date TIME]\n"
            "       sluice version\n"
            "\n"
            "serve options:\n"
            "  --host HOST        address to listen on (default 127.0.0.1)\n"
            "  --port PORT        port to listen on (default 4566)\n"
            "  --data-dir DIR     where state is kept (default ./data)\n"
            "  --region REGION    region in ARNs and URLs (default us-east-1)\n"
            "  --account-id ID    the callers' account without --credentials\n"
            "                     (default 000000000000)\n"
            "  --log-level LEVEL  debug, info, warn or error (default info)\n"
            "  --credentials FILE verify SigV4 signatures against the keys in FILE, a JSON\n"
            "                     array of {accessKeyId, secretAccessKey, accountId, allow}\n"
            "                     (see docs/security.md)\n"
            "  --insecure-accept-any-signature\n"
            "                     without --credentials, listen on a non-loopback address\n"
            "                     anyway, accepting any or no signature\n"
            "  --tls-port PORT    also serve every API over TLS on this port, with\n"
            "  --tls-cert FILE    the PEM certificate chain and\n"
            "  --tls-key FILE     the PEM private key\n"
            "  --ca-file FILE     trust only the PEM CA certificates in FILE for outbound\n"
            "                     HTTPS (SNS subscriptions, API destinations) instead of\n"
            "                     the system's store\n"
            "  --help             this text\n");
    limits_usage(out);
}

/* Runs on the committer thread: ask the loop to run completions. */
static void store_wakeup(void *arg)
{
    server *s = arg;
    event_active(s->store_wakeup, EV_READ, 0);
}

static void run_completions(evutil_socket_t fd, short what, void *arg)
{
    server *s = arg;
    store_run_completions(s->store);
}

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    server *s = arg;

    s->drain_ticks++;
    if (http_server_outstanding(s->http) == 0 || s->drain_ticks * 10 > DRAIN_LIMIT_MS) {
        event_del(s->drain_timer);
        event_base_loopexit(s->base, NULL);
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    server *s = arg;
    struct timeval tick = {0, 10000};

    if (s->draining)
        return;
    s->draining = true;
    log_info("main", "signal=%d received, finishing calls in progress", (int)sig);
    http_server_stop_accepting(s->http);
    /* Parked long polls answer now, empty, as if their wait had ended. */
    sqs_waiters_answer_all(s->sqs);
    s->drain_timer = event_new(s->base, -1, EV_PERSIST, drain_tick, s);
    event_add(s->drain_timer, &tick);
}

static int parse_serve(int argc, char **argv, serve_options *o)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},     {"port", required_argument, NULL, 'p'},
        {"data-dir", required_argument, NULL, 'd'}, {"region", required_argument, NULL, 'r'},
        {"account-id", required_argument, NULL, 'a'}, {"log-level", required_argument, NULL, 'l'},
        {"credentials", required_argument, NULL, 'c'},
        {"insecure-accept-any-signature", no_argument, NULL, 'i'},
        {"tls-port", required_argument, NULL, 'T'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"ca-file", required_argument, NULL, 'A'},
        SLUICE_LIMITS(LIMITS_LONGOPT)
        {"help", no_argument, NULL, '?'},           {NULL, 0, NULL, 0},
    };
    int c, idx = 0;
    char err[160];

    limits_init(&o->limits);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        switch (c) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 'd': o->data_dir = optarg; break;
        case 'r': o->region = optarg; break;
        case 'a': o->account = optarg; break;
        case 'l': o->log_level = optarg; break;
        case 'c': o->credentials = optarg; break;
        case 'i': o->insecure = true; break;
        case 'T': o->tls_port = atoi(optarg); break;
        case 'C': o->tls_cert = optarg; break;
        case 'K': o->tls_key = optarg; break;
        case LIMITS_OPT:
            if (limits_set(&o->limits, longopts[idx].name, optarg, err, sizeof err) < 0) {
                fprintf(stderr, "sluice: %s\n", err);
                return 2;
            }
            break;
        case 'A': o->ca_file = optarg; break;
        default:
            usage(c == '?' && optopt == 0 ? stdout : stderr);
            return c == '?' && optopt == 0 ? 1 : 2;
        }
    }
    if (o->port <= 0 || o->port > 65535) {
        fprintf(stderr, "sluice: --port must be between 1 and 65535\n");
        return 2;
    }
    if (log_level_parse(o->log_level) < 0) {
        fprintf(stderr, "sluice: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    if ((o->tls_port || o->tls_cert || o->tls_key) &&
        (o->tls_port <= 0 || o->tls_port > 65535 || !o->tls_cert || !o->tls_key)) {
        fprintf(stderr, "sluice: TLS needs --tls-port (1-65535), --tls-cert FILE and "
                        "--tls-key FILE together\n");
        return 2;
    }
    const char *tls_files[] = {o->tls_cert, o->tls_key, o->ca_file};
    const char *tls_flags[] = {"--tls-cert", "--tls-key", "--ca-file"};
    for (size_t i = 0; i < sizeof tls_files / sizeof *tls_files; i++)
        if (tls_files[i] && access(tls_files[i], R_OK) != 0) {
            fprintf(stderr, "sluice: %s: cannot read %s: %s\n", tls_flags[i], tls_files[i],
                    strerror(errno));
            return 2;
        }
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* True if host names a loopback address: 127.0.0.0/8, ::1 or localhost. */
static bool host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char bare[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (n >= 2 && n < sizeof bare && host[0] == '[' && host[n - 1] == ']') {
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
        host = bare;
    }
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) ||
               (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

/* Loads --credentials, or decides whether running without keys is allowed
 * on o->host.  Returns 0 (with *out set, possibly NULL) or the exit code. */
static int serve_credentials(const serve_options *o, cred_store **out)
{
    char err[512];

    *out = NULL;
    if (o->credentials && o->insecure) {
        fprintf(stderr, "sluice: --credentials and --insecure-accept-any-signature exclude "
                        "each other\n");
        return 2;
    }
    if (o->credentials) {
        *out = cred_store_load(o->credentials, err, sizeof err);
        if (!*out) {
            fprintf(stderr, "sluice: --credentials: %s\n", err);
            return 2;
        }
        return 0;
    }
    if (!host_is_loopback(o->host) && !o->insecure) {
        fprintf(stderr,
                "sluice: refusing to listen on %s without credentials: anyone who can reach "
                "that address could read, send and delete every message.\n"
                "  Give --credentials FILE (a JSON array of {\"accessKeyId\", "
                "\"secretAccessKey\", \"accountId\"}; see docs/security.md) so that every "
                "request must be signed with a known key,\n"
                "  or listen on a loopback address (127.0.0.1, ::1, localhost),\n"
                "  or opt out explicitly with --insecure-accept-any-signature.\n",
                o->host);
        return 2;
    }
    return 0;
}

static int serve(int argc, char **argv)
{
    serve_options o = {"127.0.0.1", 4566, "./data", "us-east-1", "000000000000", "info",
                       NULL, false, 0, NULL, NULL, NULL, {0}};
    cred_store *creds = NULL;
    server s;
    char err[512];
    int rc = parse_serve(argc, argv, &o);

    if (rc)
        return rc == 1 ? 0 : rc;
    log_threshold = (enum log_level)log_level_parse(o.log_level);
    if ((rc = serve_credentials(&o, &creds)) != 0)
        return rc;
    if (o.ca_file && tls_ca_file_check(o.ca_file, err, sizeof err) < 0) {
        fprintf(stderr, "sluice: --ca-file: %s\n", err);
        cred_store_free(creds);
        return 2;
    }
    memset(&s, 0, sizeof s);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    evthread_use_pthreads();
    s.base = event_base_new();
    s.store_wakeup = event_new(s.base, -1, 0, run_completions, &s);

    s.store = store_open(o.data_dir, store_wakeup, &s, err, sizeof err);
    if (!s.store) {
        log_error("main", "storage failed to open: %s", err);
        return 1;
    }
    s.sqs = sqs_service_new(s.base, s.store, o.region, o.account);
    if (sqs_service_load(s.sqs) < 0) {
        log_error("main", "loading SQS state failed data_dir=%s", o.data_dir);
        return 1;
    }
    s.sqs_api = sqs_api_service(s.sqs);
    s.sns = sns_service_new(s.base, s.store, s.sqs, o.region, o.account, o.data_dir);
    if (!s.sns || sns_service_load(s.sns) < 0) {
        log_error("main", "loading SNS state failed data_dir=%s", o.data_dir);
        return 1;
    }
    s.sns_api = sns_api_service(s.sns);
    s.events = events_service_new(s.base, s.store, s.sqs, o.region, o.account, o.data_dir);
    if (events_service_load(s.events) < 0) {
        log_error("main", "loading EventBridge state failed data_dir=%s", o.data_dir);
        return 1;
    }
    s.events_api = events_api_service(s.events);
    s.scheduler = scheduler_service_new(s.base, s.store, s.sqs, o.region, o.account);
    scheduler_service_set_events(s.scheduler, s.events);
    scheduler_service_set_sns(s.scheduler, s.sns);
    events_service_set_sns(s.events, s.sns);
    sqs_service_set_limits(s.sqs, &o.limits);
    sns_service_set_limits(s.sns, &o.limits);
    events_service_set_limits(s.events, &o.limits);
    scheduler_service_set_limits(s.scheduler, &o.limits);
    sns_service_set_ca_file(s.sns, o.ca_file);
    events_service_set_ca_file(s.events, o.ca_file);
    if (scheduler_service_load(s.scheduler) < 0) {
        log_error("main", "loading Scheduler state failed data_dir=%s", o.data_dir);
        return 1;
    }
    s.scheduler_api = scheduler_api_service(s.scheduler);

    http_config hc = {o.host, o.port, o.region, o.account, 10u << 20, creds, &o.limits};
    s.http = http_server_start(s.base, &hc);
    if (!s.http)
        return 1;
    http_server_add_service(s.http, s.sqs_api);
    http_server_add_service(s.http, s.sns_api);
    http_server_add_raw(s.http, SNS_CERT_PATH, sns_serve_cert, s.sns);
    http_server_add_service(s.http, s.events_api);
    http_server_add_service(s.http, s.scheduler_api);
    if (o.tls_port &&
        http_server_listen_tls(s.http, o.host, o.tls_port, o.tls_cert, o.tls_key) < 0)
        return 1;

    struct event *sigterm = evsignal_new(s.base, SIGTERM, on_signal, &s);
    struct event *sigint = evsignal_new(s.base, SIGINT, on_signal, &s);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    log_info("main", "sluice %s listening host=%s port=%d data_dir=%s region=%s account=%s",
             SLUICE_VERSION, o.host, o.port, o.data_dir, o.region, o.account);
    if (creds)
        log_info("main", "verifying SigV4 signatures keys=%zu", cred_store_count(creds));
    else if (o.insecure)
        log_warn("main", "signatures are NOT verified (--insecure-accept-any-signature) on "
                 "host=%s: anyone who can reach it has full access", o.host);
    else
        log_warn("main", "signatures are NOT verified (no --credentials): any signature is "
                 "accepted, so sluice listens on the loopback address host=%s only", o.host);

    event_base_dispatch(s.base);

    log_info("main", "shutting down");
    /* Commits in flight finish while their services still exist; then the
     * services, whose last answers go out through the front. */
    store_flush(s.store);
    scheduler_service_free(s.scheduler);
    free(s.scheduler_api);
    events_service_free(s.events);
    free(s.events_api);
    sns_service_free(s.sns);
    free(s.sns_api);
    sqs_service_free(s.sqs);
    free(s.sqs_api);
    http_server_free(s.http);
    store_close(s.store);
    cred_store_free(creds);
    event_free(sigterm);
    event_free(sigint);
    if (s.drain_timer)
        event_free(s.drain_timer);
    event_free(s.store_wakeup);
    event_base_free(s.base);
    libevent_global_shutdown();
    log_info("main", "stopped");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "schedule") == 0 && argc >= 3 && strcmp(argv[2], "preview") == 0) {
        int rc = schedule_preview_main(argc - 2, argv + 2);
        sched_tz_cache_clear();
        return rc;
    }
    if (strcmp(argv[1], "version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
