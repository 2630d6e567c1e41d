#!/usr/bin/env bash
# Runs every unit-test binary given, sums their counts, prints one closing
# line "N passed, N failed" and exits non-zero if any test failed.
set -u
passed=0 failed=0 broken=0
for bin in "$@"; do
    out=$("$bin" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out"
        echo "unit: $bin crashed or printed no summary (exit $rc)"
        broken=$((broken + 1)); continue
    fi
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then printf '%s\n' "$out"; fi
    echo "unit: $(basename "$bin"): $line"
done
failed=$((failed + broken))
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
