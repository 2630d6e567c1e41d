#!/usr/bin/env bash
# bench/run.sh - the sluice benchmark in one command.
#
# Builds build/sluice (make) and build/loadgen, starts the server on a free
# loopback port with a temporary data directory, runs the scenarios of
# bench/loadgen.c (idle, send, batch, fifo with 1, 10 and 1,000 groups,
# fair), stops the server by its PID, prints a table against the targets and
# writes it, with a description of the machine, to bench/results/latest.md.
# The whole run takes about 2 minutes.
#
# The load generator is built with:
#   cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Ibench/lib \
#      bench/loadgen.c bench/lib/hist.c bench/lib/httpload.c \
#      bench/lib/procstat.c $(pkg-config --cflags --libs jansson) \
#      -lpthread -o build/loadgen
#
# Knobs (environment): SCENARIOS (idle,send,batch,fifo,fair: a
# comma-separated subset to run) SEND_SECS (10) BATCH_SECS (15) IDLE_SECS (20)
# FIFO_SECS (10, each of the three fifo runs) FIFO_GROUPS ("1 10 1000")
# FAIR_FLOOD (100000) FAIR_ROUNDS (10)
# WARMUP (2) SEND_CONNS (64) PRODUCERS (16) CONSUMERS (16) BACKLOG (2000)
# IDLE_CONNS (1000) LOADGEN_THREADS (1) SKIP_BUILD=1 (do not rebuild the server)
# SLUICE (the server binary, build/sluice)
# PERF=1 (profile the server with perf during every scenario but idle; the
# reports go to bench/results/perf-<scenario>.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=${SCENARIOS:-idle,send,batch,fifo,fair}
for s in ${SCENARIOS//,/ }; do
    case $s in
    idle | send | batch | fifo | fair) ;;
    *) echo "run.sh: unknown scenario '$s' in SCENARIOS" >&2; exit 2 ;;
    esac
done
# selected NAME: whether SCENARIOS includes NAME.
selected() { [[ ",$SCENARIOS," == *",$1,"* ]]; }

SEND_SECS=${SEND_SECS:-10}
BATCH_SECS=${BATCH_SECS:-15}
IDLE_SECS=${IDLE_SECS:-20}
WARMUP=${WARMUP:-2}
SEND_CONNS=${SEND_CONNS:-64}
PRODUCERS=${PRODUCERS:-16}
CONSUMERS=${CONSUMERS:-16}
BACKLOG=${BACKLOG:-2000}
IDLE_CONNS=${IDLE_CONNS:-1000}
FIFO_SECS=${FIFO_SECS:-10}
FIFO_GROUPS=${FIFO_GROUPS:-1 10 1000}
FAIR_FLOOD=${FAIR_FLOOD:-100000}
FAIR_ROUNDS=${FAIR_ROUNDS:-10}
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
SLUICE=${SLUICE:-build/sluice}
RESULTS=bench/results

# ---- build --------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    make --no-print-directory build/sluice
fi
mkdir -p build
# shellcheck disable=SC2046
cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Ibench/lib \
    bench/loadgen.c bench/lib/hist.c bench/lib/httpload.c bench/lib/procstat.c \
    $(pkg-config --cflags --libs jansson) -lpthread -o build/loadgen
for b in "$SLUICE" build/loadgen; do
    [ -x "$b" ] || { echo "run.sh: $b is missing" >&2; exit 1; }
done

# ---- server ---------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# 1,000 idle connections need more descriptors than the usual soft limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
port=$(build/loadgen freeport)
tmp=$(mktemp -d /tmp/sluice-bench.XXXXXX)
mkdir -p "$tmp/data"
server_pid=""

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$SLUICE" serve --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" \
    >"$tmp/server.log" 2>&1 &
server_pid=$!
if ! build/loadgen wait --port "$port" --duration 20 >/dev/null; then
    echo "run.sh: the server did not become healthy; its log:" >&2
    tail -n 30 "$tmp/server.log" >&2
    exit 1
fi
echo "sluice pid $server_pid on 127.0.0.1:$port, data in $tmp/data"

# ---- scenarios -------------------------------------------------------------
server_alive() { kill -0 "$server_pid" 2>/dev/null; }

# run NAME SCENARIO ARGS...: runs one scenario of the load generator, keeps
# its output in $tmp/NAME.out, echoes it.
ran=()
run() {
    local name=$1 scenario=$2 perf_pid=""
    shift 2
    ran+=("$name")
    if ! server_alive; then
        echo "RESULT scenario=$scenario skipped=server-gone" >"$tmp/$name.out"
        return
    fi
    echo
    echo "== $name"
    if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
        perf record -F 199 --call-graph dwarf,8192 -p "$server_pid" \
            -o "$tmp/perf-$name.data" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    build/loadgen "$scenario" --port "$port" --server-pid "$server_pid" \
        --threads "$LOADGEN_THREADS" --warmup "$WARMUP" --delete-queue "$@" \
        2>&1 | tee "$tmp/$name.out" || true
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        mkdir -p "$RESULTS"
        {
            echo "# perf profile of the server during '$name'"
            echo "## self time"
            perf report -i "$tmp/perf-$name.data" --no-children --stdio \
                -g none --sort comm,dso,sym --percent-limit 0.5 2>/dev/null |
                grep -E '^ +[0-9]' | head -n 60
            echo "## including callees"
            perf report -i "$tmp/perf-$name.data" --children --stdio \
                -g none --sort sym --percent-limit 1 2>/dev/null |
                grep -E '^ +[0-9]' | head -n 120
        } >"$RESULTS/perf-$name.txt" || true
        echo "perf profile: $RESULTS/perf-$name.txt"
    fi
    if ! server_alive; then
        echo "run.sh: the server exited during '$name'; its log:" >&2
        tail -n 30 "$tmp/server.log" >&2
    fi
}

# idle first, so its CPU and memory figures start from a fresh server
if selected idle; then
    PERF=0 run idle idle --conns "$IDLE_CONNS" --duration "$IDLE_SECS" \
        --wait 20
fi
if selected send; then
    run send send --conns "$SEND_CONNS" --duration "$SEND_SECS"
fi
if selected batch; then
    run batch batch --producers "$PRODUCERS" --consumers "$CONSUMERS" \
        --backlog "$BACKLOG" --duration "$BATCH_SECS"
fi
if selected fifo; then
    for g in $FIFO_GROUPS; do
        run "fifo-$g" fifo --groups "$g" --producers "$PRODUCERS" \
            --consumers "$CONSUMERS" --backlog "$BACKLOG" \
            --duration "$FIFO_SECS"
    done
fi
if selected fair; then
    run fair fair --flood "$FAIR_FLOOD" --rounds "$FAIR_ROUNDS" \
        --producers "$PRODUCERS" --consumers "$CONSUMERS"
fi

# ---- table -------------------------------------------------------------------
# val NAME KEY: a value from the RESULT line of run NAME ("" if none).
val() {
    [ -f "$tmp/$1.out" ] || return 0
    sed -n "s/^RESULT scenario=[^ ]* .*\\b$2=\\([^ ]*\\).*/\\1/p" \
        "$tmp/$1.out" 2>/dev/null | tail -n 1
}
# ge A B / lt A B: numeric comparisons that are false for empty values.
ge() { [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
yesno() { if "$@"; then echo yes; else echo NO; fi; }
ms() { [ -n "$1" ] && printf '%s ms' "$1" || printf 'n/a'; }
or_na() { [ -n "$1" ] && printf '%s' "$1" || printf 'n/a'; }
# cpu_note SCENARIO RATE_KEY: CPU use during the window, and the server's
# CPU time per message (a figure that contention on the machine disturbs
# less than the rates do).
cpu_note() {
    local s l m r
    s=$(val "$1" server_cpu_pct)
    l=$(val "$1" loadgen_cpu_pct)
    m=$(val "$1" machine_cpu_pct)
    r=$(val "$1" "$2")
    if [ -z "$s" ]; then
        printf 'not run'
        return
    fi
    awk -v m="${m:-0}" -v s="$s" -v l="$l" -v r="${r:-0}" 'BEGIN {
        o = m - s - l; if (o < 0) o = 0
        printf "server CPU %.0f %% of a core", s
        if (r > 0) printf " (%.0f µs per message)", s * 10000 / r
        printf ", loadgen %.0f %%, others %.0f %%", l, o }'
}

send_rate=$(val send msgs_per_s)
send_p99=$(val send p99_ms)
batch_rate=$(val batch e2e_msgs_per_s)
idle_cpu=$(val idle cpu_pct)
idle_rss=$(val idle rss_kb)
errors_note() {
    local e
    e=$(val "$1" errors)
    [ -n "$e" ] && [ "$e" != 0 ] && printf ', %s errors' "$e"
    return 0
}

send_ok() { ge "$send_rate" 30000 && lt "$send_p99" 5; }

# fifo: every run must deliver each group in order; with 1,000 groups or
# more it must also reach 20,000 msg/s end to end.
FIFO_RATE_TARGET=20000
fifo_ok() {
    local g=$1 v c
    v=$(val "fifo-$g" order_violations)
    c=$(val "fifo-$g" order_checked)
    [ "$v" = 0 ] && ge "$c" 1 || return 1
    [ "$g" -lt 1000 ] || ge "$(val "fifo-$g" e2e_msgs_per_s)" "$FIFO_RATE_TARGET"
}
fifo_target() {
    if [ "$1" -ge 1000 ]; then
        printf '≥ 20,000 msg/s and none out of order'
    else
        printf 'none out of order (no rate target)'
    fi
}
fifo_row() {
    local g=$1 n="fifo-$1"
    echo "| fifo: $g group(s), end to end (deleted), send → receive latency |" \
         "$(or_na "$(val "$n" e2e_msgs_per_s)") |" \
         "$(ms "$(val "$n" e2e_p50_ms)") | $(ms "$(val "$n" e2e_p99_ms)") |" \
         "$(cpu_note "$n" e2e_msgs_per_s); order: $(or_na "$(val "$n" order_checked)")" \
         "messages checked in $(or_na "$(val "$n" groups_seen)") groups," \
         "$(or_na "$(val "$n" order_violations)") out of order," \
         "$(or_na "$(val "$n" order_gaps)") gaps$(errors_note "$n") |" \
         "$(fifo_target "$g") | $(yesno fifo_ok "$g") |"
}

# fair: the nine small groups must drain behind the flood in about the time
# they take alone; "about" is at most 1.5 times (sharing each receive with
# the flood alone costs 10/9).
FAIR_RATIO_TARGET=1.5
fair_ok() {
    [ "$(val fair completed)" = 1 ] && [ "$(val fair errors)" = 0 ] &&
        ge "$(val fair ratio)" 0.01 &&
        awk -v r="$(val fair ratio)" -v t="$FAIR_RATIO_TARGET" \
            'BEGIN { exit !(r <= t) }'
}
fair_row() {
    local note
    if [ -z "$(val fair ratio)" ]; then
        note="not run"
    else
        note=$(awk -v a="$(val fair alone_ms)" -v b="$(val fair flooded_ms)" \
            -v r="$(val fair ratio)" -v n="$(val fair rounds)" \
            -v sp="$(val fair small_per_recv_flooded)" \
            -v fp="$(val fair flood_per_recv)" \
            -v pr="$(val fair preload_msgs_per_s)" \
            -v pu="$(val fair preload_us_per_msg)" \
            -v du="$(val fair drain_us_per_msg)" \
            -v u="$(val fair unfair_est_ms)" \
            -v s="$(val fair server_cpu_pct)" -v l="$(val fair loadgen_cpu_pct)" \
            -v m="$(val fair machine_cpu_pct)" 'BEGIN {
            o = m - s - l; if (o < 0) o = 0
            printf "drained in %.1f ms behind the flood, %.1f ms alone", b, a
            printf " (medians of %d rounds): %.2f times;", n, r
            printf " a receive holding their messages held %.2f of them", sp
            printf " + %.2f flood; without fair queues about %.0f ms.", fp, u
            printf " Preload %.0f msg/s (%.0f µs per message),", pr, pu
            printf " drain %.0f µs per message; over the scenario", du
            printf " server CPU %.0f %%, loadgen %.0f %%, others %.0f %%", s, l, o
            }')
        [ "$(val fair completed)" = 1 ] || note="$note; INCOMPLETE"
    fi
    echo "| fair: 9 groups × 100 behind a $(or_na "$(val fair flood)")-message" \
         "flood in a 10th group | — | — | — | $note$(errors_note fair) |" \
         "≤ 1.5 × the time alone | $(yesno fair_ok) |"
}

table() {
    echo "| scenario | msgs/s | p50 | p99 | measured alongside | target | met? |"
    echo "|---|---:|---:|---:|---|---|---|"
    if selected send; then
        echo "| send: SendMessage, $SEND_CONNS conns | $(or_na "$send_rate") |" \
             "$(ms "$(val send p50_ms)") | $(ms "$send_p99") |" \
             "p99.9 $(ms "$(val send p999_ms)"), $(cpu_note send msgs_per_s)$(errors_note send) |" \
             "≥ 30,000 msg/s and p99 < 5 ms |" \
             "$(yesno send_ok) |"
    fi
    if selected batch; then
        echo "| batch: end to end (deleted), send → receive latency |" \
             "$(or_na "$batch_rate") | $(ms "$(val batch e2e_p50_ms)") |" \
             "$(ms "$(val batch e2e_p99_ms)") |" \
             "$(cpu_note batch e2e_msgs_per_s)$(errors_note batch) | ≥ 100,000 msg/s |" \
             "$(yesno ge "$batch_rate" 100000) |"
        echo "| batch: SendMessageBatch ×10, $PRODUCERS conns |" \
             "$(or_na "$(val batch send_msgs_per_s)") |" \
             "$(ms "$(val batch send_p50_ms)") | $(ms "$(val batch send_p99_ms)") |" \
             "call latency | — | — |"
        echo "| batch: ReceiveMessage ×10 (non-empty), $CONSUMERS conns |" \
             "$(or_na "$(val batch recv_msgs_per_s)") |" \
             "$(ms "$(val batch recv_p50_ms)") | $(ms "$(val batch recv_p99_ms)") |" \
             "call latency | — | — |"
        echo "| batch: DeleteMessageBatch ×10 | — |" \
             "$(ms "$(val batch del_p50_ms)") | $(ms "$(val batch del_p99_ms)") |" \
             "call latency | — | — |"
    fi
    if selected fifo; then
        for g in $FIFO_GROUPS; do fifo_row "$g"; done
    fi
    if selected fair; then
        fair_row
    fi
    if selected idle; then
        echo "| idle: $IDLE_CONNS long polls (20 s) | — | — | — |" \
             "server CPU $(or_na "$idle_cpu") % of a core; RSS" \
             "$(or_na "$(val idle rss_before_kb)") KiB before, $(or_na "$idle_rss") KiB" \
             "with the polls open; polls open ≥" \
             "$(or_na "$(val idle polls_open_min)")$(errors_note idle) |" \
             "< 2 % of a core | $(yesno lt "$idle_cpu" 2) |"
    fi
}

machine() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
         "nproc $(nproc)"
    echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- kernel: $(uname -sr)"
    echo "- sluice: $(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')" \
         "$(git diff --quiet 2>/dev/null || echo '(working tree has changes)')"
    echo "- load average (1, 5, 15 min) before the run: $load_before"
    echo "- load generator and server share this machine; the load generator"
    echo "  runs $LOADGEN_THREADS event-loop thread(s). \"others\" is CPU used by"
    echo "  every other process during the window (from /proc/stat)"
}

mkdir -p "$RESULTS"
{
    echo "# sluice benchmark results"
    echo
    machine
    echo
    echo "Scenarios run: $SCENARIOS."
    echo "Durations: send ${SEND_SECS} s, batch ${BATCH_SECS} s, each fifo run ${FIFO_SECS} s,"
    echo "idle ${IDLE_SECS} s, each after a ${WARMUP} s warm-up; bodies are 1 KiB."
    echo "The batch and fifo producers pause while more than $BACKLOG messages are"
    echo "sent but not yet deleted, so send → receive latency includes up to that"
    echo "much queueing. fair preloads a flood of $FAIR_FLOOD messages and runs"
    echo "$FAIR_ROUNDS drains of each kind (see bench/README.md)."
    echo
    table
    echo
    echo "## Raw load generator output"
    echo
    echo '```'
    for s in "${ran[@]}"; do cat "$tmp/$s.out" 2>/dev/null || true; done
    echo '```'
} >"$RESULTS/latest.md"

echo
table
echo
echo "written to $RESULTS/latest.md"
