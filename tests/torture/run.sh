#!/usr/bin/env bash
# tests/torture/run.sh - the durability torture test (make torture).
#
# Builds build/sluice if it is missing, then runs tests/torture/torture.py
# with Debian's python3 and boto3 in three modes (docs/durability.md):
#   kill        sluice on a temporary data directory, killed with SIGKILL at
#               random moments under load and restarted, with a ledger check
#               after every restart;
#   sync-order  one server under strace during a load: every answer to a
#               write must follow a WAL fsync issued after its request was
#               read (needs strace);
#   disk-full   the data directory on a small tmpfs that fills up under load,
#               round after round: refusals while full, nothing acknowledged
#               lost, writes again once space returns (needs mount, or
#               unshare/nsenter).
# Each mode prints "torture: N passed, N failed" (one check per restart,
# trace or round); the last line sums them, and the exit status is non-zero
# on any violation.
#
#   tests/torture/run.sh                  every mode, full forms (30-40 minutes)
#   tests/torture/run.sh --sync-order     one mode (also --kill, --disk-full)
#   TORTURE_SHORT=1 tests/torture/run.sh  CI form of every mode (about 4 minutes)
#
# Knobs (environment): TORTURE_KILLS (kill mode; 50 full, 5 short),
# TORTURE_ROUNDS (disk-full; 20 full, 3 short), TORTURE_LOAD_SECONDS
# (sync-order; 60 full, 8 short), TORTURE_SEED, TORTURE_MAX_SECONDS (stop
# starting rounds after this long; 1800 full, 150 short), SLUICE (server
# binary, build/sluice), SKIP_BUILD=1, TORTURE_KEEP=1 (keep the data
# directory, server log and trace), TORTURE_INJECT=R (kill mode self-test:
# in round R, add acknowledgements the server never gave; the run passes
# only if the checker reports exactly those).
set -euo pipefail
cd "$(dirname "$0")/../.."

SLUICE=${SLUICE:-build/sluice}
modes=()
for arg in "$@"; do
    case "$arg" in
    --kill | --sync-order | --disk-full) modes+=("${arg#--}") ;;
    *) echo "usage: $0 [--kill] [--sync-order] [--disk-full]" >&2; exit 2 ;;
    esac
done
[ ${#modes[@]} -gt 0 ] || modes=(kill sync-order disk-full)

if [ "${TORTURE_SHORT:-0}" = 1 ]; then
    kills=${TORTURE_KILLS:-5} rounds=${TORTURE_ROUNDS:-3}
    load=${TORTURE_LOAD_SECONDS:-8} min_checked=100
    max_secs=${TORTURE_MAX_SECONDS:-150}
else
    kills=${TORTURE_KILLS:-50} rounds=${TORTURE_ROUNDS:-20}
    load=${TORTURE_LOAD_SECONDS:-60} min_checked=1000
    max_secs=${TORTURE_MAX_SECONDS:-1800}
fi

if [ "${SKIP_BUILD:-0}" != 1 ] && [ ! -x "$SLUICE" ]; then
    make --no-print-directory build/sluice
fi
[ -x "$SLUICE" ] || { echo "torture: $SLUICE is missing" >&2; exit 1; }
if ! /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
    echo "torture: Debian's python3-boto3 is needed (apt-get install python3-boto3)" >&2
    exit 1
fi

common=(--sluice "$SLUICE" --max-seconds "$max_secs")
[ -n "${TORTURE_SEED:-}" ] && common+=(--seed "$TORTURE_SEED")
[ "${TORTURE_KEEP:-0}" = 1 ] && common+=(--keep)

passed=0 failed=0
out=$(mktemp "${TMPDIR:-/tmp}/sluice-torture-run.XXXXXX")
trap 'rm -f "$out"' EXIT
for mode in "${modes[@]}"; do
    args=("${common[@]}" --mode "$mode")
    case "$mode" in
    kill)
        args+=(--kills "$kills")
        [ -n "${TORTURE_INJECT:-}" ] && args+=(--inject "$TORTURE_INJECT") ;;
    sync-order) args+=(--load-seconds "$load" --min-checked "$min_checked") ;;
    disk-full) args+=(--rounds "$rounds") ;;
    esac
    # A hard bound on each mode, whatever happens inside.
    rc=0
    timeout --signal=TERM --kill-after=30 $((max_secs + 300)) \
        /usr/bin/python3 tests/torture/torture.py "${args[@]}" 2>&1 | tee "$out" || rc=$?
    line=$(grep -E '^torture: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)
    if [ -z "$line" ]; then
        echo "torture: $mode mode ended without a result (exit $rc)"
        failed=$((failed + 1))
        continue
    fi
    p=${line#torture: } p=${p%% passed*}
    f=${line#*, } f=${f%% failed*}
    passed=$((passed + p)) failed=$((failed + f))
    [ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || failed=$((failed + 1))
done
echo "torture: ${modes[*]}: $passed passed, $failed failed"
echo "torture: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
