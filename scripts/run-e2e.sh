#!/usr/bin/env bash
# Runs the end-to-end suites against the sanitizer build of the server:
#   1. pytest over tests/e2e (boto3, aws-cli, raw HTTP, crash/restart,
#      the order-fanout example), with Debian's python3;
#   2. the JavaScript SDK and sqs-consumer tests in tests/e2e/js
#      (node --test), each test file starting its own server.
# Prints one closing line "e2e: N passed, N failed" and exits non-zero if
# anything failed or could not run.
#
# Environment: SLUICE_BIN (server binary, default build/asan/sluice),
# E2E_PYTEST_ARGS (extra pytest arguments, e.g. "-k crash"),
# E2E_SKIP_JS=1 (Python suite only), E2E_SKIP_PY=1 (JavaScript only).
set -u
cd "$(dirname "$0")/.."

export SLUICE_BIN=${SLUICE_BIN:-build/asan/sluice}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ ! -x "$SLUICE_BIN" ]; then
    echo "e2e: $SLUICE_BIN is not built (make build/asan/sluice)"
    echo "e2e: 0 passed, 1 failed"
    exit 1
fi

py_passed=0 py_failed=0 js_passed=0 js_failed=0 rc=0
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e.XXXXXX")

# ---------------------------------------------------------------- pytest
if [ "${E2E_SKIP_PY:-0}" != 1 ]; then
    timeout_args=()
    if "$PY" -c 'import pytest_timeout' 2>/dev/null; then
        timeout_args=(--timeout=120)
    fi
    echo "e2e: pytest tests/e2e (server: $SLUICE_BIN)"
    # shellcheck disable=SC2086
    timeout 900 "$PY" -m pytest -q -rfE --tb=short -p no:cacheprovider "${timeout_args[@]}" \
        ${E2E_PYTEST_ARGS:-} tests/e2e 2>&1 | tee "$log_dir/pytest.log"
    prc=${PIPESTATUS[0]}
    summary=$(grep -E '^=*.*[0-9]+ (passed|failed|error)' "$log_dir/pytest.log" | tail -n 1)
    py_passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    f=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    e=$(grep -oE '[0-9]+ errors?' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    py_failed=$(( ${f:-0} + ${e:-0} ))
    if [ "$prc" -ne 0 ] && [ "$py_failed" -eq 0 ]; then
        echo "e2e: pytest exited $prc"
        py_failed=1
    fi
    [ "$prc" -ne 0 ] && rc=1
fi

# ---------------------------------------------------------------- node
if [ "${E2E_SKIP_JS:-0}" != 1 ]; then
    if ! command -v node >/dev/null; then
        echo "e2e: node is not installed"; js_failed=1; rc=1
    elif [ ! -d tests/e2e/js/node_modules ]; then
        echo "e2e: tests/e2e/js/node_modules missing (scripts/install-deps.sh all)"
        js_failed=1; rc=1
    else
        echo "e2e: node --test tests/e2e/js"
        (cd tests/e2e/js && NODE_NO_WARNINGS=1 timeout 600 node --test --test-concurrency=1 \
            --test-reporter=spec test/*.test.js) 2>&1 | tee "$log_dir/node.log"
        nrc=${PIPESTATUS[0]}
        count() { grep -E "^ℹ $1 [0-9]+" "$log_dir/node.log" | tail -n 1 | grep -oE '[0-9]+'; }
        js_passed=$(count pass) js_failed=$(count fail)
        js_passed=${js_passed:-0} js_failed=${js_failed:-0}
        if [ "$nrc" -ne 0 ] && [ "$js_failed" -eq 0 ]; then
            echo "e2e: node --test exited $nrc"
            js_failed=1
        fi
        [ "$nrc" -ne 0 ] && rc=1
    fi
fi

rm -rf "$log_dir"
echo "e2e: python $py_passed passed, $py_failed failed;" \
     "javascript $js_passed passed, $js_failed failed"
echo "e2e: $((py_passed + js_passed)) passed, $((py_failed + js_failed)) failed"
exit $rc
