#!/usr/bin/env bash
# bench/compare/run.sh - sluice side by side with other brokers, one command,
# one results file (make bench-compare).
#
# Installs what it needs (Debian: rabbitmq-server, redis-server, nats-server,
# python3-pika, python3-redis, python3-boto3; npm into build/compare-npm:
# fauxqs 1.9.2 (the last release that runs on Node 20), sqslite, nats; moto
# is used where it is already installed, never installed), then for each
# system: starts it on 127.0.0.1 on free ports with its data under a
# temporary directory, runs every scenario against it with the client its
# users would use, and stops it by its PID. Scenarios:
#
#   flow    16 producers publish N messages, each counted once the broker
#           acknowledged it as stored; 16 consumers receive concurrently and
#           count a message once its ack/delete was acknowledged; producers
#           pause while more than BACKLOG messages are in the system.
#           Send and receive rates, p50/p99 send -> receive latency; 1 KiB
#           and 64-byte bodies (SIZES).
#   drain   a backlog: DRAIN_N messages of DRAIN_SIZE bytes preloaded with
#           nobody receiving, then drained by 16 consumers (receive +
#           ack/delete); each phase stops after DRAIN_SECS ("capped").
#   idle    IDLE_CONNS consumers waiting on an empty queue; the broker's CPU
#           (% of a core) over IDLE_SECS and its RSS.
#   send    SendMessageBatch alone (no consumers), SQS systems driven by
#           loadgen (sluice, fauxqs), SEND_SIZES bodies.
#   fanout  an SNS topic with 10 SQS subscriptions, and (sluice only) an
#           EventBridge bus with 100 rules targeting SQS queues, driven by
#           bench/fanout/fanout.c.
#
# The SQS systems speaking the JSON protocol (sluice, fauxqs) are driven by
# bench/loadgen.c (flow for a fixed SLUICE_SECS instead of N; drain; idle;
# send); sqslite and moto by bench/compare/clients.py with boto3 (Query
# protocol); RabbitMQ by clients.py with pika, Redis streams with redis-py,
# NATS JetStream by nats_load.mjs with nats.js.
#
# Prints one document of tables and writes it with a description of the
# machine to bench/results/compare.md (and appends it to the file APPEND_TO
# names, if set: `make bench` puts it under bench/results/latest.md). Knobs
# (environment):
#   N (200000)  SIZES ("1024 64")  PRODUCERS (16)  CONSUMERS (16)
#   BACKLOG (2000)  MAX_SECS (90, cap on one flow run)  SLUICE_SECS (10)
#   DRAIN_N (1000000)  DRAIN_SIZE (64)  DRAIN_SECS (60, cap on each phase)
#   DRAIN_WINDOW (100)  DRAIN_ALL (0; 1 also drains RabbitMQ classic and
#   Redis everysec)  IDLE_CONNS (1000)  IDLE_SECS (20)
#   SEND_SIZES ("1024 64")  FANOUT_SECS (8)  MOTO_SECS (30, cap on each moto
#   run instead of MAX_SECS and DRAIN_SECS: a few dozen messages a second)
#   SCENARIOS (all: "flow drain idle send fanout")
#   SYSTEMS (all: "sluice fauxqs sqslite moto rabbitmq redis nats")
#   QUICK=1 (a smoke run: N=5000, SLUICE_SECS=3, DRAIN_N=20000,
#            DRAIN_SECS=20, IDLE_SECS=5, MAX_SECS=30, FANOUT_SECS=3 unless set)
#   SKIP_INSTALL=1  SKIP_BUILD=1  SLUICE (server binary; when given, it is
#   not rebuilt; default build/sluice, built with make)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

if [ "${QUICK:-0}" = 1 ]; then
    N=${N:-5000}
    SLUICE_SECS=${SLUICE_SECS:-3}
    DRAIN_N=${DRAIN_N:-20000}
    DRAIN_SECS=${DRAIN_SECS:-20}
    IDLE_SECS=${IDLE_SECS:-5}
    MAX_SECS=${MAX_SECS:-30}
    FANOUT_SECS=${FANOUT_SECS:-3}
    MOTO_SECS=${MOTO_SECS:-15}
fi
N=${N:-200000}
SIZES=${SIZES:-"1024 64"}
PRODUCERS=${PRODUCERS:-16}
CONSUMERS=${CONSUMERS:-16}
BACKLOG=${BACKLOG:-2000}
MAX_SECS=${MAX_SECS:-90}
SLUICE_SECS=${SLUICE_SECS:-10}
DRAIN_N=${DRAIN_N:-1000000}
DRAIN_SIZE=${DRAIN_SIZE:-64}
DRAIN_SECS=${DRAIN_SECS:-60}
DRAIN_WINDOW=${DRAIN_WINDOW:-100}
DRAIN_ALL=${DRAIN_ALL:-0}
MOTO_SECS=${MOTO_SECS:-30}
IDLE_CONNS=${IDLE_CONNS:-1000}
IDLE_SECS=${IDLE_SECS:-20}
SEND_SIZES=${SEND_SIZES-"1024 64"}
FANOUT_SECS=${FANOUT_SECS:-8}
SCENARIOS=${SCENARIOS:-"flow drain idle send fanout"}
SYSTEMS=${SYSTEMS:-"sluice fauxqs sqslite moto rabbitmq redis nats"}
NPM_DIR=$ROOT/build/compare-npm
PY=/usr/bin/python3
RESULTS=bench/results

want() {         # want SCENARIO: is it in SCENARIOS?
    [[ " $SCENARIOS " == *" $1 "* ]]
}

# ---- install -------------------------------------------------------------
install_deps() {
    local want=() p
    for p in rabbitmq-server redis-server nats-server python3-pika \
             python3-redis python3-boto3 erlang-base; do
        dpkg -s "$p" >/dev/null 2>&1 || want+=("$p")
    done
    if [ ${#want[@]} -gt 0 ]; then
        echo "installing from Debian: ${want[*]}"
        apt-get update -qq
        # /usr/sbin/policy-rc.d (where present) keeps the services from
        # being started by the install; we start our own copies.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${want[@]}" >/dev/null
    fi
    if [ ! -d "$NPM_DIR/node_modules/fauxqs" ] ||
       [ ! -d "$NPM_DIR/node_modules/sqslite" ] ||
       [ ! -d "$NPM_DIR/node_modules/nats" ]; then
        echo "installing from npm into $NPM_DIR: fauxqs@1.9.2 sqslite@2.1.1 nats@2.29.3"
        mkdir -p "$NPM_DIR"
        (cd "$NPM_DIR" && npm install --silent --no-audit --no-fund \
            fauxqs@1.9.2 sqslite@2.1.1 nats@2.29.3 >/dev/null)
    fi
}
[ "${SKIP_INSTALL:-0}" = 1 ] || install_deps

# moto is used where it is installed (moto_server on PATH, through pyenv's
# shim if that is how it got there, or a python3 that imports moto); it is
# not packaged in Debian bookworm and is never installed here.
MOTO_CMD=()
MOTO_VERSION=""
find_moto() {
    local exe="" py
    if command -v pyenv >/dev/null 2>&1; then
        exe=$(pyenv which moto_server 2>/dev/null || true)
    fi
    [ -n "$exe" ] || exe=$(command -v moto_server 2>/dev/null || true)
    if [ -n "$exe" ]; then
        MOTO_CMD=("$exe")
        py=$(head -n 1 "$exe" | sed -n 's/^#! *//p')
        # shellcheck disable=SC2086
        [ -n "$py" ] && MOTO_VERSION=$($py -c \
            'import moto; print(moto.__version__)' 2>/dev/null || true)
        return 0
    fi
    for py in python3 "$PY"; do
        if "$py" -c 'import moto.server' 2>/dev/null; then
            MOTO_CMD=("$py" -m moto.server)
            MOTO_VERSION=$("$py" -c 'import moto; print(moto.__version__)')
            return 0
        fi
    done
    return 1
}
find_moto || true

# ---- build -----------------------------------------------------------------
tmp=$(mktemp -d /tmp/sluice-compare.XXXXXX)
pids=()          # every process we started, stopped by PID at the end
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
NATS_JS=$NPM_DIR/nats_load.$$.mjs

stop_pid() {     # stop_pid PID: TERM, wait up to 15 s, then KILL
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[$i]}"; done
    rm -rf "$tmp"
    rm -f "$NATS_JS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${SLUICE:-}" ]; then
    SLUICE=build/sluice
    [ "${SKIP_BUILD:-0}" = 1 ] || make --no-print-directory build/sluice
fi
[ -x "$SLUICE" ] || { echo "run.sh: $SLUICE is missing" >&2; exit 1; }

# the load generators, built into the temporary directory
build_tool() {   # build_tool NAME SOURCE FALLBACK
    # shellcheck disable=SC2046
    if ! cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Ibench/lib \
            "$2" bench/lib/hist.c bench/lib/httpload.c bench/lib/procstat.c \
            $(pkg-config --cflags --libs jansson) -lpthread \
            -o "$tmp/$1" 2>"$tmp/$1.err"; then
        # the source may be mid-edit by someone else: fall back to a
        # previous build
        echo "run.sh: $2 did not compile; using $3" >&2
        cp "$3" "$tmp/$1" || echo "run.sh: no $3 either" >&2
    fi
}
build_tool loadgen bench/loadgen.c build/loadgen
LOADGEN=$tmp/loadgen
if want fanout; then
    build_tool fanout bench/fanout/fanout.c build/fanout
fi
FANOUT=$tmp/fanout

freeport() { "$LOADGEN" freeport; }
wait_port() {    # wait_port PORT SECS PID
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$3" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# record LABEL: keeps the RESULT line of $tmp/out under LABEL
# (scenario|system|body size)
record() {
    local line
    line=$(grep '^RESULT' "$tmp/out" | tail -n 1 || true)
    [ -n "$line" ] || line="RESULT failed=1"
    echo "$1 $line" >>"$tmp/results"
}

# ---- drivers -----------------------------------------------------------------
lg_flow() {      # lg_flow SYSTEM PORT PID: loadgen batch, every size
    local s
    want flow || return 0
    for s in $SIZES; do
        echo "== $1, flow, ${s}-byte bodies"
        timeout $((SLUICE_SECS + 60)) "$LOADGEN" batch --port "$2" \
            --server-pid "$3" --producers "$PRODUCERS" \
            --consumers "$CONSUMERS" --backlog "$BACKLOG" \
            --duration "$SLUICE_SECS" --warmup 2 --body-size "$s" \
            --queue "cmp-$s" --delete-queue >"$tmp/out" 2>&1 || true
        grep -E '^RESULT|errors:|window|machine:' "$tmp/out" || true
        record "flow|$1|$s"
    done
}

lg_send() {      # lg_send SYSTEM PORT PID: SendMessageBatch alone
    local s
    want send || return 0
    for s in $SEND_SIZES; do
        echo "== $1, batch sends alone, ${s}-byte bodies"
        timeout $((SLUICE_SECS + 60)) "$LOADGEN" batch --port "$2" \
            --server-pid "$3" --producers "$PRODUCERS" --consumers 0 \
            --backlog 0 --duration "$SLUICE_SECS" --warmup 2 \
            --body-size "$s" --queue "send-$s" --delete-queue \
            >"$tmp/out" 2>&1 || true
        grep -E '^RESULT|errors:' "$tmp/out" || true
        record "send|$1|$s"
    done
}

lg_drain() {     # lg_drain SYSTEM PORT PID
    want drain || return 0
    echo "== $1, drain a backlog of $DRAIN_N"
    timeout $((2 * DRAIN_SECS + 120)) "$LOADGEN" drain --port "$2" \
        --server-pid "$3" --producers "$PRODUCERS" --consumers "$CONSUMERS" \
        --messages "$DRAIN_N" --body-size "$DRAIN_SIZE" \
        --duration "$DRAIN_SECS" --queue cmp-drain --delete-queue \
        >"$tmp/out" 2>&1 || true
    grep -E '^RESULT|preload:|drain:|first error' "$tmp/out" || true
    record "drain|$1|$DRAIN_SIZE"
}

lg_idle() {      # lg_idle SYSTEM PORT PID
    want idle || return 0
    echo "== $1, $IDLE_CONNS idle long polls"
    timeout $((IDLE_SECS + 90)) "$LOADGEN" idle --port "$2" --server-pid "$3" \
        --conns "$IDLE_CONNS" --duration "$IDLE_SECS" --warmup 2 \
        --queue cmp-idle --delete-queue >"$tmp/out" 2>&1 || true
    grep -E '^RESULT|long polls open' "$tmp/out" || true
    record "idle|$1|-"
}

fanout_sns() {   # fanout_sns SYSTEM PORT PID [--raw]
    local name=sns-10
    want fanout || return 0
    [ "${4:-}" = --raw ] && name=raw-10
    echo "== $1, SNS topic -> 10 SQS queues ${4:-}"
    timeout $((FANOUT_SECS + 120)) "$FANOUT" sns --port "$2" --server-pid "$3" \
        --subs 10 --body-size 1024 --duration "$FANOUT_SECS" --warmup 1 \
        --conns 32 ${4:+"$4"} >"$tmp/out" 2>&1 || true
    grep -E '^RESULT|check:' "$tmp/out" || true
    record "$name|$1|1024"
}

fanout_events() { # fanout_events SYSTEM PORT PID
    want fanout || return 0
    echo "== $1, EventBridge bus, 100 rules -> SQS"
    timeout $((FANOUT_SECS + 120)) "$FANOUT" events --port "$2" \
        --server-pid "$3" --rules 100 --duration "$FANOUT_SECS" --warmup 1 \
        --conns 32 >"$tmp/out" 2>&1 || true
    grep -E '^RESULT|check' "$tmp/out" || true
    record "events-100|$1|-"
}

# clients.py: py_run MODE LABEL SIZE CLIENT PORT QUEUE [EXTRA ARGS]
py_run() {
    local mode=$1 label=$2 size=$3 client=$4 port=$5 queue=$6 limit
    shift 6
    case $mode in
    flow) want flow || return 0
          echo "== $label, flow, ${size}-byte bodies"; limit=$((MAX_SECS + 120)) ;;
    drain) want drain || return 0
           echo "== $label, drain a backlog of $DRAIN_N"
           limit=$((2 * DRAIN_SECS + 150)) ;;
    idle) want idle || return 0
          echo "== $label, $IDLE_CONNS idle consumers"; limit=$((IDLE_SECS + 150)) ;;
    esac
    timeout "$limit" $PY bench/compare/clients.py "$client" --mode "$mode" \
        --port "$port" --producers "$PRODUCERS" --consumers "$CONSUMERS" \
        --backlog "$BACKLOG" --queue "$queue" --state "$tmp/url" "$@" \
        >"$tmp/out" 2>&1 || true
    grep -E '^RESULT' "$tmp/out" || tail -n 5 "$tmp/out"
    record "$mode|$label|$size"
}

# py_flows LABEL CLIENT PORT [EXTRA ARGS]: flow for every size
py_flows() {
    local label=$1 client=$2 port=$3 s
    shift 3
    for s in $SIZES; do
        py_run flow "$label" "$s" "$client" "$port" "q-$label-$s" \
            --n "$N" --size "$s" --max-secs "$MAX_SECS" "$@"
    done
}

# py_all LABEL CLIENT PORT PID [EXTRA ARGS]: flow for every size, then the
# drain (idle is run separately, first, on the fresh broker)
py_all() {
    local label=$1 client=$2 port=$3 pid=$4
    shift 4
    py_flows "$label" "$client" "$port" "$@"
    py_run drain "$label" "$DRAIN_SIZE" "$client" "$port" "q-$label-drain" \
        --n "$DRAIN_N" --size "$DRAIN_SIZE" --max-secs "$DRAIN_SECS" \
        --window "$DRAIN_WINDOW" --server-pid "$pid" "$@"
}

py_idle() {      # py_idle LABEL CLIENT PORT PID
    py_run idle "$1" - "$2" "$3" "q-$1-idle" --conns "$IDLE_CONNS" \
        --secs "$IDLE_SECS" --server-pid "$4"
}

# ---- systems ---------------------------------------------------------------
bench_sluice() {
    local port pid
    port=$(freeport)
    mkdir -p "$tmp/sluice"
    "$SLUICE" serve --host 127.0.0.1 --port "$port" --data-dir "$tmp/sluice" \
        --log-level warn >"$tmp/sluice.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    "$LOADGEN" wait --port "$port" --duration 20 >/dev/null
    lg_idle sluice "$port" "$pid"
    lg_flow sluice "$port" "$pid"
    lg_send sluice "$port" "$pid"
    fanout_sns sluice "$port" "$pid"
    fanout_sns sluice "$port" "$pid" --raw
    fanout_events sluice "$port" "$pid"
    lg_drain sluice "$port" "$pid"
    stop_pid "$pid"
    rm -rf "$tmp/sluice"
}

bench_fauxqs() {
    local port pid
    port=$(freeport)
    node bench/compare/fauxqs_local.mjs "$NPM_DIR/node_modules" "$port" \
        >"$tmp/fauxqs.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_port "$port" 30 "$pid" || { echo "fauxqs did not start" >&2; return; }
    lg_idle fauxqs "$port" "$pid"
    lg_flow fauxqs "$port" "$pid"
    lg_send fauxqs "$port" "$pid"
    fanout_sns fauxqs "$port" "$pid"
    lg_drain fauxqs "$port" "$pid"
    stop_pid "$pid"
}

bench_sqslite() {
    local port pid
    port=$(freeport)
    node "$NPM_DIR/node_modules/sqslite/bin/cli.js" --host 127.0.0.1 \
        --port "$port" >"$tmp/sqslite.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_port "$port" 30 "$pid" || { echo "sqslite did not start" >&2; return; }
    py_idle sqslite sqs-query "$port" "$pid"
    # sqslite 2.1.1's DeleteMessageBatch removes every message it was NOT
    # given (and all messages of one receive share a receipt handle), so
    # its consumers delete with DeleteMessage, once per receive.
    py_all sqslite sqs-query "$port" "$pid" --single-delete
    stop_pid "$pid"
}

bench_moto() {
    local port pid
    # moto's rate is a few dozen messages a second under this load: its
    # runs stop earlier (dynamic scope: py_all sees these)
    local MAX_SECS=$MOTO_SECS DRAIN_SECS=$MOTO_SECS
    if [ ${#MOTO_CMD[@]} -eq 0 ]; then
        echo "== moto: not installed (not packaged in Debian bookworm); skipped"
        return
    fi
    port=$(freeport)
    # moto keeps everything in memory; -H binds it to loopback only
    "${MOTO_CMD[@]}" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_port "$port" 60 "$pid" || { echo "moto did not start" >&2; return; }
    py_idle moto sqs-query "$port" "$pid"
    py_all moto sqs-query "$port" "$pid"
    stop_pid "$pid"
}

bench_rabbitmq() {
    local port dist epmd_port epmd_pid pid s d=$tmp/rabbit
    port=$(freeport); dist=$(freeport); epmd_port=$(freeport)
    mkdir -p "$d/mnesia" "$d/log" "$d/home"
    echo "[]." >"$d/enabled_plugins"
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$port
loopback_users = none
EOF
    # our own epmd, on loopback, so that it is stopped with the rest
    epmd -address 127.0.0.1 -port "$epmd_port" >"$d/epmd.log" 2>&1 &
    epmd_pid=$!
    pids+=("$epmd_pid")
    sleep 0.3
    HOME=$d/home ERL_EPMD_PORT=$epmd_port ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_NODENAME=cmp@localhost RABBITMQ_DIST_PORT=$dist \
    RABBITMQ_MNESIA_BASE=$d/mnesia RABBITMQ_LOG_BASE=$d/log \
    RABBITMQ_CONFIG_FILE=$d/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins \
    RABBITMQ_PID_FILE=$d/pid \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false" \
        /usr/lib/rabbitmq/bin/rabbitmq-server >"$d/server.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    if ! wait_port "$port" 90 "$pid"; then
        echo "rabbitmq did not start; its log:" >&2
        tail -n 20 "$d/server.log" >&2
        return
    fi
    py_idle rabbitmq-quorum rabbit-quorum "$port" "$pid"
    for s in $SIZES; do
        py_run flow rabbitmq-quorum "$s" rabbit-quorum "$port" "q-quorum-$s" \
            --n "$N" --size "$s" --max-secs "$MAX_SECS"
        py_run flow rabbitmq-classic "$s" rabbit-classic "$port" \
            "q-classic-$s" --n "$N" --size "$s" --max-secs "$MAX_SECS"
    done
    for s in quorum classic; do
        [ "$s" = quorum ] || [ "$DRAIN_ALL" = 1 ] || continue
        py_run drain "rabbitmq-$s" "$DRAIN_SIZE" "rabbit-$s" "$port" \
            "q-$s-drain" --n "$DRAIN_N" --size "$DRAIN_SIZE" \
            --max-secs "$DRAIN_SECS" --window "$DRAIN_WINDOW" \
            --server-pid "$pid"
    done
    stop_pid "$pid"
    stop_pid "$epmd_pid"
}

bench_redis() {
    local port pid mode
    for mode in always everysec; do
        port=$(freeport)
        mkdir -p "$tmp/redis-$mode"
        redis-server --bind 127.0.0.1 --port "$port" --dir "$tmp/redis-$mode" \
            --appendonly yes --appendfsync "$mode" --save "" \
            --daemonize no --protected-mode yes --logfile "" \
            >"$tmp/redis-$mode.log" 2>&1 &
        pid=$!
        pids+=("$pid")
        wait_port "$port" 20 "$pid" || { echo "redis did not start" >&2; continue; }
        # idle once: how the AOF is synced does not matter without writes
        if [ "$mode" = always ]; then
            py_idle redis-always redis "$port" "$pid"
            py_all redis-always redis "$port" "$pid"
        elif [ "$DRAIN_ALL" = 1 ]; then
            py_all "redis-$mode" redis "$port" "$pid"
        else
            py_flows "redis-$mode" redis "$port"
        fi
        stop_pid "$pid"
        rm -rf "$tmp/redis-$mode"
    done
}

bench_nats() {
    local port pid s
    port=$(freeport)
    mkdir -p "$tmp/nats"
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$tmp/nats" \
        >"$tmp/nats.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_port "$port" 20 "$pid" || { echo "nats did not start" >&2; return; }
    sleep 0.5
    # ES modules resolve packages from the script's own directory, so the
    # script runs from a copy beside the npm install.
    cp bench/compare/nats_load.mjs "$NATS_JS"
    if want idle; then
        echo "== nats, $IDLE_CONNS idle pull requests"
        timeout $((IDLE_SECS + 120)) node "$NATS_JS" "$port" "$IDLE_CONNS" 64 \
            0 10 0 "$IDLE_SECS" idle "$pid" >"$tmp/out" 2>&1 || true
        grep -E '^RESULT' "$tmp/out" || tail -n 5 "$tmp/out"
        record "idle|nats|-"
    fi
    if want flow; then
        for s in $SIZES; do
            echo "== nats, flow, ${s}-byte bodies"
            timeout $((MAX_SECS + 120)) node "$NATS_JS" "$port" "$N" "$s" \
                "$PRODUCERS" "$CONSUMERS" "$BACKLOG" "$MAX_SECS" \
                >"$tmp/out" 2>&1 || true
            grep -E '^RESULT' "$tmp/out" || tail -n 5 "$tmp/out"
            record "flow|nats|$s"
        done
    fi
    if want drain; then
        echo "== nats, drain a backlog of $DRAIN_N"
        timeout $((2 * DRAIN_SECS + 150)) node "$NATS_JS" "$port" "$DRAIN_N" \
            "$DRAIN_SIZE" "$PRODUCERS" "$CONSUMERS" 0 "$DRAIN_SECS" drain \
            "$pid" "$DRAIN_WINDOW" >"$tmp/out" 2>&1 || true
        grep -E '^RESULT' "$tmp/out" || tail -n 5 "$tmp/out"
        record "drain|nats|$DRAIN_SIZE"
    fi
    stop_pid "$pid"
    rm -rf "$tmp/nats"
}

t0=$(date +%s)
: >"$tmp/results"
: >"$tmp/times"
for sys in $SYSTEMS; do
    s0=$(date +%s)
    "bench_$sys"
    echo "$sys $(($(date +%s) - s0))" >>"$tmp/times"
done
elapsed=$(( $(date +%s) - t0 ))

# ---- tables ------------------------------------------------------------------
# describe LABEL: what | client | syncs before ack | how idle consumers wait
d() { printf '%s|%s|%s|%s\n' "$@"; }
describe() {
    local lp="ReceiveMessage long polls (WaitTimeSeconds=20), one connection each"
    local bp="boto3 ReceiveMessage WaitTimeSeconds=20, one connection each"
    case $1 in
    sluice) d "sluice, SQS (JSON protocol)" "loadgen (C)" \
        "yes: SQLite WAL, synchronous=FULL, fsync before every answer (grouped commits)" \
        "$lp" ;;
    fauxqs) d "fauxqs 1.9.2 (JSON protocol)" "loadgen (C)" "no: in memory" "$lp" ;;
    sqslite) d "sqslite 2.1.1 (Query protocol)" "boto3 1.26" "no: in memory" \
        "$bp; sqslite ignores WaitTimeSeconds and answers at once, so they poll in a loop" ;;
    moto) d "moto ${MOTO_VERSION:-?} server (Query protocol)" "boto3 1.26" \
        "no: in memory" "$bp (moto holds each in a thread)" ;;
    rabbitmq-quorum) d "RabbitMQ 3.10 quorum queue" "pika 1.2" \
        "yes: confirm after the Raft log is fsynced" \
        "basic_consume, one channel each, on 4 connections" ;;
    rabbitmq-classic) d "RabbitMQ 3.10 classic queue, persistent" "pika 1.2" \
        "yes: confirm after the message store is fsynced (batched)" "—" ;;
    redis-always) d "Redis 7.0 streams, appendfsync always" "redis-py 4.3" \
        "yes: AOF fsynced before replies" \
        "XREADGROUP BLOCK 20000, one connection each" ;;
    redis-everysec) d "Redis 7.0 streams, appendfsync everysec" "redis-py 4.3" \
        "no: AOF fsynced once a second" "—" ;;
    nats) d "NATS 2.9 JetStream, file storage" "nats.js 2.29" \
        "no: written, not fsynced per message (sync every 2 min)" \
        "pull requests (fetch 10, expires 20 s) on one durable consumer, 10 connections" ;;
    *) d "$1" "?" "?" "?" ;;
    esac
}

for s in sluice fauxqs sqslite moto rabbitmq-quorum rabbitmq-classic \
         redis-always redis-everysec nats; do
    printf '%s|%s\n' "$s" "$(describe "$s")"
done >"$tmp/desc"
moto_note=""
if [ ${#MOTO_CMD[@]} -eq 0 ]; then
    moto_note="moto: not installed (not packaged in Debian bookworm)"
elif [[ " $SYSTEMS " == *" moto "* ]]; then
    moto_note="moto ${MOTO_VERSION:-?}: ${MOTO_CMD[*]}"
fi

table() {
    $PY bench/compare/table.py "$tmp/results" "$tmp/desc" \
        --sluice-secs "$SLUICE_SECS" --n "$N" --max-secs "$MAX_SECS" \
        --drain-n "$DRAIN_N" --drain-size "$DRAIN_SIZE" \
        --drain-secs "$DRAIN_SECS" --drain-window "$DRAIN_WINDOW" \
        --idle-conns "$IDLE_CONNS" --idle-secs "$IDLE_SECS" \
        --fanout-secs "$FANOUT_SECS" --backlog "$BACKLOG" \
        --moto-secs "$MOTO_SECS" --drain-all "$DRAIN_ALL" \
        --producers "$PRODUCERS" --consumers "$CONSUMERS" \
        --moto-note "$moto_note"
}

machine() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
         "nproc $(nproc)"
    echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- kernel: $(uname -sr); data on $(df -T /tmp | awk 'NR == 2 { print $2 }') (/tmp)"
    echo "- sluice: $(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')" \
         "$(git diff --quiet 2>/dev/null || echo '(working tree has changes)')"
    echo "- load average (1, 5, 15 min) before the run: $load_before;" \
         "after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- every broker, its clients and the load generator share this machine"
    echo "  (and it is shared with other engineers' test runs): figures are noisy"
    echo "- whole comparison took ${elapsed} s ($(tr '\n' ' ' <"$tmp/times" |
        sed 's/\([a-z]*\) \([0-9]*\) /\1 \2 s, /g; s/, $//'))"
    echo "- N=$N, SIZES=\"$SIZES\", SLUICE_SECS=$SLUICE_SECS, MAX_SECS=$MAX_SECS," \
         "DRAIN_N=$DRAIN_N, DRAIN_SECS=$DRAIN_SECS, DRAIN_ALL=$DRAIN_ALL," \
         "MOTO_SECS=$MOTO_SECS, IDLE_CONNS=$IDLE_CONNS," \
         "IDLE_SECS=$IDLE_SECS, FANOUT_SECS=$FANOUT_SECS, SCENARIOS=\"$SCENARIOS\""
}

table >"$tmp/table.md"
mkdir -p "$RESULTS"
{
    echo "# sluice beside other brokers"
    echo
    machine
    echo
    cat "$tmp/table.md"
    echo
    echo "## Raw RESULT lines"
    echo
    echo '```'
    cat "$tmp/results"
    echo '```'
} >"$RESULTS/compare.md"

# make bench: the side-by-side table also goes under sluice's own figures
if [ -n "${APPEND_TO:-}" ]; then
    {
        echo
        echo "# Side by side with the alternatives (bench/compare)"
        echo
        machine
        echo
        cat "$tmp/table.md"
        echo
        echo "Raw RESULT lines: bench/results/compare.md."
    } >>"$APPEND_TO"
fi

echo
machine
echo
cat "$tmp/table.md"
echo
echo "written to $RESULTS/compare.md${APPEND_TO:+ and appended to $APPEND_TO}"
