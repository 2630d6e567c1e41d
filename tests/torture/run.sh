#!/usr/bin/env bash
# tests/torture/run.sh - the durability torture test (make torture).
#
# Builds build/sluice if it is missing, then runs tests/torture/torture.py
# with Debian's python3 and boto3: sluice on a temporary data directory on a
# free loopback port, killed with SIGKILL at random moments under load and
# restarted, with a ledger check after every restart. The last line is
# "torture: N passed, N failed" (one check per restart); the exit status is
# non-zero on any violation.
#
#   tests/torture/run.sh            full form: 50 kills (about 15-20 minutes)
#   TORTURE_SHORT=1 tests/torture/run.sh   CI form: 5 kills (1-2 minutes)
#
# Knobs (environment): TORTURE_KILLS (overrides the count), TORTURE_SEED,
# TORTURE_MAX_SECONDS (stop starting rounds after this long; 1800 full,
# 150 short), SLUICE (server binary, build/sluice), SKIP_BUILD=1, and
# TORTURE_KEEP=1 (keep the data directory and server log for inspection),
# TORTURE_INJECT=R (self-test: in round R, add acknowledgements the server
# never gave; the run passes only if the checker reports exactly those).
set -euo pipefail
cd "$(dirname "$0")/../.."

SLUICE=${SLUICE:-build/sluice}
if [ "${TORTURE_SHORT:-0}" = 1 ]; then
    kills=${TORTURE_KILLS:-5}
    max_secs=${TORTURE_MAX_SECONDS:-150}
else
    kills=${TORTURE_KILLS:-50}
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

args=(--sluice "$SLUICE" --kills "$kills" --max-seconds "$max_secs")
[ -n "${TORTURE_SEED:-}" ] && args+=(--seed "$TORTURE_SEED")
[ "${TORTURE_KEEP:-0}" = 1 ] && args+=(--keep)
[ -n "${TORTURE_INJECT:-}" ] && args+=(--inject "$TORTURE_INJECT")
# A hard bound on the whole run, whatever happens inside.
exec timeout --signal=TERM --kill-after=30 $((max_secs + 300)) \
    /usr/bin/python3 tests/torture/torture.py "${args[@]}"
