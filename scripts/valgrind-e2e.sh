#!/usr/bin/env bash
# Runs the end-to-end suites with the server under valgrind's memcheck
# (make valgrind). The server is the optimised build linked with glibc's
# malloc instead of jemalloc (build/vg/sluice), started through
# tests/valgrind/sluice-under-valgrind, one log per server process.
#
# After the run every log is read: a process that reported a memory error
# or a definitely / indirectly lost block fails the run. Tests that fail
# only because valgrind makes the server 20-50 times slower are reported
# but do not decide the verdict, which is about memory (VG_STRICT=1 makes
# them count too).
#
# Environment: VG_PYTEST_ARGS (extra pytest arguments, e.g. "-k sqs"),
# VG_SKIP_JS=1 (Python suite only), B (build directory, default build).
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
make --no-print-directory B="$B" "$B/vg/sluice" >/dev/null || exit 1
logs=$(mktemp -d "${TMPDIR:-/tmp}/sluice-vg.XXXXXX")
export VG_LOG_DIR=$logs VG_SLUICE=$PWD/$B/vg/sluice
export SLUICE_BIN=$PWD/tests/valgrind/sluice-under-valgrind
export E2E_START_TIMEOUT=${E2E_START_TIMEOUT:-120}

E2E_PYTEST_ARGS=${VG_PYTEST_ARGS:-} E2E_SKIP_JS=${VG_SKIP_JS:-0} scripts/run-e2e.sh \
    | tee "$logs/e2e.out"
e2e_rc=${PIPESTATUS[0]}

procs=0 complete=0 bad=0
for f in "$logs"/vg.*.log; do
    [ -e "$f" ] || continue
    procs=$((procs + 1))
    grep -q "ERROR SUMMARY" "$f" || continue   # killed with SIGKILL by a crash test
    complete=$((complete + 1))
    errors=$(grep -oE "ERROR SUMMARY: [0-9]+" "$f" | grep -oE "[0-9]+$")
    if [ "${errors:-0}" != 0 ]; then
        bad=$((bad + 1))
        echo "valgrind: $errors error(s) in $(basename "$f"):"
        grep -E "^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ bytes in)" \
            "$f" | head -n 5
    fi
done
echo "valgrind: $procs server processes, $complete ran to a normal exit," \
     "$bad with memory errors or leaks (logs: $logs)"
if [ "$bad" -ne 0 ]; then exit 1; fi
if [ "${VG_STRICT:-0}" = 1 ] && [ "$e2e_rc" -ne 0 ]; then exit 1; fi
rm -rf "$logs"
exit 0
