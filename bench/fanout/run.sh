#!/usr/bin/env bash
# bench/fanout/run.sh - SNS fan-out and EventBridge routing benchmarks in one
# command.
#
# Builds the server (make build/sluice; when the shared tree does not build,
# the binary already there is used), bench/fanout/fanout.c and
# bench/match_bench.c into a temporary directory, starts the server on a free
# loopback port with a temporary data directory, runs:
#   sns     SQS subscriptions: 1, 10 and 100 per topic (SNS_SUBS)
#   raw     SQS subscriptions with RawMessageDelivery (RAW_SUBS)
#   http    HTTP subscriptions to a sink in the load generator (HTTP_SUBS)
#   events  1, 100 and 10,000 rules on a bus, SQS targets (EB_RULES), and
#           10,000 rules of one selective pattern family (EB_SELECTIVE)
# stops the server by its PID, runs match_bench on the quiet machine, prints
# a table and writes it, with a description of the machine and the raw
# output, to bench/results/fanout.md.  About two minutes.
#
# Knobs (environment): SNS_SUBS ("1 10 100") RAW_SUBS (10) HTTP_SUBS (10)
# EB_SELECTIVE (10000)
# (an empty list skips that part)
# EB_RULES ("1 100 10000") SECS (8, each measured window) WARMUP (1)
# CONNS (32) BODY (1024) FAMILIES (0123, the events' pattern families)
# SKIP_BUILD=1 (use build/sluice as it is) SLUICE (another server binary)
# PERF=1 (profile the server with perf during each scenario; the hottest
# functions are appended to the results file).
set -euo pipefail
cd "$(dirname "$0")/../.."

SNS_SUBS=${SNS_SUBS-1 10 100}
RAW_SUBS=${RAW_SUBS-10}
HTTP_SUBS=${HTTP_SUBS-10}
EB_RULES=${EB_RULES-1 100 10000}
EB_SELECTIVE=${EB_SELECTIVE-10000}
SECS=${SECS:-8}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-32}
BODY=${BODY:-1024}
FAMILIES=${FAMILIES:-0123}
SLUICE=${SLUICE:-build/sluice}
RESULTS=bench/results
OUT=$RESULTS/fanout.md

tmp=$(mktemp -d /tmp/sluice-fanout.XXXXXX)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ------------------------------------------------------------------
build_note="built with make"
if [ "${SKIP_BUILD:-0}" = 1 ]; then
    build_note="not rebuilt (SKIP_BUILD=1)"
elif ! make --no-print-directory build/sluice >"$tmp/make.log" 2>&1; then
    build_note="make failed; the existing binary was used"
    echo "run.sh: make build/sluice failed, using the existing $SLUICE" >&2
    tail -n 5 "$tmp/make.log" >&2
fi
[ -x "$SLUICE" ] || { echo "run.sh: $SLUICE is missing" >&2; exit 1; }
# shellcheck disable=SC2046
cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Ibench/lib \
    bench/fanout/fanout.c bench/lib/hist.c bench/lib/httpload.c \
    bench/lib/procstat.c $(pkg-config --cflags --libs jansson) \
    -lpthread -o "$tmp/fanout"
# shellcheck disable=SC2046
cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/match_bench.c \
    $(ls src/match/[a-z]*.c) $(pkg-config --cflags --libs jansson) \
    -o "$tmp/match_bench" || echo "run.sh: match_bench did not build" >&2
FANOUT=$tmp/fanout

# ---- server -----------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
port=$("$FANOUT" freeport)
mkdir -p "$tmp/data"
"$SLUICE" serve --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" \
    >"$tmp/server.log" 2>&1 &
server_pid=$!
if ! "$FANOUT" wait --port "$port" --duration 20; then
    echo "run.sh: the server did not become healthy; its log:" >&2
    tail -n 30 "$tmp/server.log" >&2
    exit 1
fi
echo "sluice pid $server_pid on 127.0.0.1:$port, data in $tmp/data"

# run NAME ARGS...: one fanout scenario, output kept in $tmp/NAME.out.
ran=()
run() {
    local name=$1 perf_pid=""
    shift
    ran+=("$name")
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "RESULT skipped=server-gone" >"$tmp/$name.out"
        return
    fi
    echo
    echo "== $name"
    if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
        perf record -F 199 --call-graph dwarf,16384 -p "$server_pid" \
            -o "$tmp/perf-$name.data" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    timeout 300 "$FANOUT" "$@" --port "$port" --server-pid "$server_pid" \
        --duration "$SECS" --warmup "$WARMUP" --conns "$CONNS" 2>&1 |
        tee "$tmp/$name.out" || true
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        perf report -i "$tmp/perf-$name.data" --children --stdio -g none \
            --sort sym --percent-limit 3 2>/dev/null | grep -E '^ +[0-9]' |
            grep -v '\[k\]' | head -n 45 >"$tmp/perf-$name.txt" || true
    fi
}

for s in $SNS_SUBS; do
    run "sns-$s" sns --subs "$s" --body-size "$BODY"
done
for s in $RAW_SUBS; do
    run "raw-$s" sns --raw --subs "$s" --body-size "$BODY"
done
for s in $HTTP_SUBS; do
    run "http-$s" sns --http --subs "$s" --body-size "$BODY"
done
for r in $EB_RULES; do
    run "events-$r" events --rules "$r" --families "$FAMILIES"
done
# the same with family 2 only: one exact field distinct per rule
for r in $EB_SELECTIVE; do
    run "events-$r-f2" events --rules "$r" --families 2 --tag fanout-f2
done

server_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null ||
             echo "?")
kill -TERM "$server_pid" 2>/dev/null || true
for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
kill -KILL "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

echo
echo "== match_bench (server stopped)"
if [ -x "$tmp/match_bench" ]; then
    timeout 120 "$tmp/match_bench" | tee "$tmp/match.out" || true
fi
elapsed=$(($(date +%s) - started))

# ---- table ------------------------------------------------------------------
# val NAME KEY: KEY's value in NAME's RESULT line (empty when absent).
val() {
    sed -n 's/^RESULT //p' "$tmp/$1.out" 2>/dev/null | tr ' ' '\n' |
        sed -n "s/^$2=//p" | head -n 1
}
or_na() { if [ -n "$1" ]; then printf '%s' "$1"; else printf 'n/a'; fi; }
ge() { [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
fmt() { or_na "$1"; }
checked() {
    if [ "$(val "$1" verified)" = 1 ] && [ "$(val "$1" errors)" = 0 ]; then
        printf 'all %s arrived' "$(fmt "$(val "$1" got)")"
    elif [ -z "$(val "$1" verified)" ]; then
        printf 'not run'
    else
        printf 'MISMATCH: %s of %s, %s errors' "$(or_na "$(val "$1" got)")" \
            "$(or_na "$(val "$1" expected)")" "$(or_na "$(val "$1" errors)")"
    fi
}
cpu() {
    printf 'server %s %% (loop thread %s %%), fanout %s %%, machine %s %%' \
        "$(or_na "$(val "$1" server_cpu_pct)")" \
        "$(or_na "$(val "$1" loop_cpu_pct)")" \
        "$(or_na "$(val "$1" loadgen_cpu_pct)")" \
        "$(or_na "$(val "$1" machine_cpu_pct)")"
}

# events_row NAME RULES LABEL: one EventBridge row of the table.
events_row() {
    local n=$1 r=$2 label=$3 target="—" met="—" delta
    delta=$(awk -v a="$(val "$n" us_per_event)" \
        -v b="$(val events-1 us_per_event)" \
        'BEGIN { if (a != "" && b != "") printf "; %+.1f vs 1 rule", a - b }')
    if [ "$r" = 100 ] && [ -z "$label" ]; then
        target="≥ 50,000 events/s"
        if ge "$(val "$n" events_per_s)" 50000 &&
           [ "$(val "$n" verified)" = 1 ]; then met=yes; else met=NO; fi
    fi
    echo "| EventBridge, $r rule(s)$label → $(or_na "$(val "$n" queues)") queue(s)," \
         "PutEvents ×10, $CONNS conns |" \
         "$(fmt "$(val "$n" events_per_s)") events/s |" \
         "$(or_na "$(val "$n" p50_ms)") ms | $(or_na "$(val "$n" p99_ms)") ms |" \
         "$(or_na "$(val "$n" us_per_event)") µs/event$delta |" \
         "$(cpu "$n") | $(checked "$n") | $target | $met |"
}

table() {
    echo "| scenario | rate | p50 | p99 |" \
         "server CPU per unit | CPU (% of a core) | delivered | target | met? |"
    echo "|---|---:|---:|---:|---|---|---|---|---|"
    for s in $SNS_SUBS; do
        local n="sns-$s" target="—" met="—"
        if [ "$s" = 10 ]; then
            target="≥ 100,000 deliveries/s"
            if ge "$(val "$n" deliveries_per_s)" 100000 &&
               [ "$(val "$n" verified)" = 1 ]; then met=yes; else met=NO; fi
        fi
        echo "| SNS → $s SQS sub(s), Publish 1 KiB, $CONNS conns |" \
             "$(fmt "$(val "$n" publishes_per_s)") publishes/s =" \
             "$(fmt "$(val "$n" deliveries_per_s)") deliveries/s |" \
             "$(or_na "$(val "$n" p50_ms)") ms | $(or_na "$(val "$n" p99_ms)") ms |" \
             "$(or_na "$(val "$n" us_per_publish)") µs/publish," \
             "$(or_na "$(val "$n" us_per_delivery)") µs/delivery |" \
             "$(cpu "$n") | $(checked "$n") | $target | $met |"
    done
    for s in $RAW_SUBS; do
        local n="raw-$s"
        echo "| SNS → $s SQS sub(s) with RawMessageDelivery (no envelope, no signature) |" \
             "$(fmt "$(val "$n" publishes_per_s)") publishes/s =" \
             "$(fmt "$(val "$n" deliveries_per_s)") deliveries/s |" \
             "$(or_na "$(val "$n" p50_ms)") ms | $(or_na "$(val "$n" p99_ms)") ms |" \
             "$(or_na "$(val "$n" us_per_publish)") µs/publish," \
             "$(or_na "$(val "$n" us_per_delivery)") µs/delivery |" \
             "$(cpu "$n") | $(checked "$n") | — | — |"
    done
    for s in $HTTP_SUBS; do
        local n="http-$s"
        echo "| SNS → $s HTTP sub(s) on loopback |" \
             "$(fmt "$(val "$n" publishes_per_s)") publishes/s," \
             "$(fmt "$(val "$n" deliveries_per_s)") deliveries/s at the sink |" \
             "$(or_na "$(val "$n" p50_ms)") ms | $(or_na "$(val "$n" p99_ms)") ms |" \
             "$(or_na "$(val "$n" us_per_publish)") µs/publish," \
             "$(or_na "$(val "$n" us_per_delivery)") µs/delivery |" \
             "$(cpu "$n") | $(checked "$n") | — | — |"
    done
    for r in $EB_RULES; do events_row "events-$r" "$r" ""; done
    for r in $EB_SELECTIVE; do
        events_row "events-$r-f2" "$r" ", family 2 only"
    done
}

match_table() {
    [ -s "$tmp/match.out" ] || { echo "(match_bench did not run)"; return; }
    echo "| rule family | rules |" \
         "ns/event, parse + match (text) | ns/event, match only (parsed doc) |"
    echo "|---|---:|---:|---:|"
    awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $4, $7 }' "$tmp/match.out"
}

machine() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
         "nproc $(nproc)"
    echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- kernel: $(uname -sr)"
    echo "- sluice: $(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')" \
         "$(git diff --quiet 2>/dev/null || echo '(working tree has changes)'); $build_note"
    echo "- load average (1, 5, 15 min) before the run: $load_before"
    echo "- server peak RSS: $server_rss KiB; whole run ${elapsed} s"
    echo "- the load generator (one event-loop thread, plus the HTTP sink's"
    echo "  thread) shares the machine with the server; \"machine\" is CPU used"
    echo "  by every process during the window (from /proc/stat)"
}

mkdir -p "$RESULTS"
{
    echo "# sluice fan-out and routing benchmark"
    echo
    machine
    echo
    echo "Each scenario: ${WARMUP} s warm-up, then a ${SECS} s window; only calls"
    echo "ending in the window count.  After the window the calls in flight finish"
    echo "and every target queue's ApproximateNumberOfMessages (+NotVisible) is"
    echo "compared with what the acknowledged calls put there (HTTP: notifications"
    echo "counted by the sink).  \"server CPU per unit\" is the server's utime+stime"
    echo "over the window divided by the publishes, deliveries or events in it;"
    echo "for EventBridge the difference from the 1-rule run estimates the matching"
    echo "cost per event (it also includes spreading over more queues)."
    echo "Event pattern families: $FAMILIES (see bench/fanout/README.md)."
    echo
    table
    echo
    echo "## match_bench (bench/match_bench.c, run with the server stopped)"
    echo
    match_table
    echo
    echo "## Raw output"
    echo
    echo '```'
    for s in "${ran[@]}"; do cat "$tmp/$s.out" 2>/dev/null || true; done
    cat "$tmp/match.out" 2>/dev/null || true
    echo '```'
    if [ "${PERF:-0}" = 1 ]; then
        echo
        echo "## Server profiles (perf, DWARF call graphs; % of samples including callees)"
        for s in "${ran[@]}"; do
            [ -s "$tmp/perf-$s.txt" ] || continue
            echo
            echo "### $s"
            echo
            echo '```'
            cat "$tmp/perf-$s.txt"
            echo '```'
        done
    fi
} >"$OUT"

echo
table
echo
match_table
echo
echo "written to $OUT (whole run ${elapsed} s)"
