#!/usr/bin/env bash
# fuzz/run.sh - build the libFuzzer targets with clang and run them.
#
#   fuzz/run.sh            build, replay tests/regress/ and the seed corpora,
#                          then a short run of every target (-runs=N each;
#                          all of them well under two minutes on two cores)
#   fuzz/run.sh SECONDS    the same, but each target fuzzes for SECONDS
#                          (-max_total_time), FUZZ_JOBS targets at a time
#   fuzz/run.sh --replay   build, then only replay tests/regress/ and the
#                          seed corpora (what the test suite runs)
#   fuzz/run.sh --build    build only
#
# Environment: FUZZ_TARGETS="json match" picks targets (default: every
# fuzz/fuzz_*.c); FUZZ_JOBS (default: the number of CPUs); FUZZ_RUNS
# overrides every target's short-run count; FUZZ_CC (default clang).
#
# The project's sources (src/**/*.c but src/main.c) are compiled with
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/libsluice.a;
# nothing else under build/ is touched.  New corpus entries go to
# build/fuzz/corpus/<target>/ (the seeds in fuzz/corpus/ are only read);
# crashes to build/fuzz/artifacts/<target>/; logs to build/fuzz/logs/.
#
# A regression input is a file tests/regress/<target>/<name>; it passes
# when the target runs it without a crash, leak, sanitizer report or broken
# property.  A file whose name ends in ".open" is a known, still unfixed
# finding: it is replayed and reported, but counted neither way; when it
# stops failing the script says so (rename it to drop ".open").
#
# The last line is always "fuzz: N passed, N failed"; the exit status is 0
# only when nothing failed.
set -u

cd "$(dirname "$0")/.." || exit 2
OUT=build/fuzz
# Not $CC: make passes its own default (cc), and libFuzzer needs clang.
CC=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Short-run execution counts: each about ten seconds on one core (measured
# with a warm build/fuzz/corpus; the first six take about 30 s on two cores;
# http, a connection per input, about 15 s).
declare -A SHORT_RUNS=(
    [query]=80000 [json]=400000 [sigv4]=150000
    [match]=60000 [schedule]=60000 [writers]=60000
    [http]=60000
)

# The Makefile's libraries, less jemalloc (ASan brings its own allocator).
PKGS=$(sed -n 's/^PKGS *:= *//p' Makefile 2>/dev/null | sed 's/jemalloc//')
[ -n "$PKGS" ] || PKGS="libevent libevent_pthreads jansson libcjson sqlite3 libcrypto libcurl"
STD="-std=c17 -D_GNU_SOURCE"
WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
-Wno-unused-parameter -Wpointer-arith -Wformat=2"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

ASAN_DEFAULT=detect_leaks=1:allocator_may_return_null=0:detect_stack_use_after_return=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-$ASAN_DEFAULT}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

log() { printf '%s\n' "$*" >&2; }

# --- one target run (called back through xargs for parallelism) -----------
if [ "${1:-}" = --one ]; then
    t=$2 mode=$3
    bin=$OUT/bin/fuzz_$t
    mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t" "$OUT/logs"
    args=(-artifact_prefix="$OUT/artifacts/$t/" -timeout=20 -rss_limit_mb=2048
          -max_len=4096 -print_final_stats=1)
    [ -f "fuzz/dict/$t.dict" ] && args+=(-dict="fuzz/dict/$t.dict")
    if [ "$mode" = short ]; then
        args+=(-runs="${FUZZ_RUNS:-${SHORT_RUNS[$t]:-20000}}")
    else
        args+=(-max_total_time="$mode")
    fi
    dirs=("$OUT/corpus/$t")
    [ -d "fuzz/corpus/$t" ] && dirs+=("fuzz/corpus/$t")
    start=$(date +%s)
    "$bin" "${args[@]}" "${dirs[@]}" >"$OUT/logs/$t.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/logs/$t.log" | tail -1)
    if [ $rc -eq 0 ]; then
        log "PASS fuzz $t: ${execs:-?} runs in ${secs}s"
    else
        log "FAIL fuzz $t (exit $rc) after ${secs}s: see $OUT/logs/$t.log," \
            "artifacts in $OUT/artifacts/$t/"
        grep -m1 -E '^==[0-9]+==ERROR|runtime error|==fuzz==|SUMMARY' "$OUT/logs/$t.log" >&2
    fi
    echo $rc >"$OUT/results/$t"
    exit 0
fi

mode=short
case "${1:-}" in
    "") ;;
    --replay) mode=replay ;;
    --build) mode=build ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *[!0-9]*) log "usage: fuzz/run.sh [SECONDS | --replay | --build]"; exit 2 ;;
    *) mode=$1 ;;
esac

passed=0 failed=0
finish() {
    echo "fuzz: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

if ! command -v "$CC" >/dev/null; then
    log "fuzz: $CC not found (Debian: apt-get install clang libclang-rt-14-dev)"
    failed=1; finish
fi
if ! PKG_CFLAGS=$(pkg-config --cflags $PKGS) || ! PKG_LIBS=$(pkg-config --libs $PKGS); then
    log "fuzz: missing build libraries (see scripts/install-deps.sh)"
    failed=1; finish
fi
CFLAGS="$STD $WARN -g -O1 -Isrc $PKG_CFLAGS $SAN"

# --- build -------------------------------------------------------------------
mkdir -p "$OUT/obj" "$OUT/bin" "$OUT/results"
mapfile -t SRCS < <(find src -name '*.c' ! -path src/main.c | sort)

# An object is stale if it is missing or older than its source or any
# header it included last time (from the -MMD dependency file).
stale() {
    local src=$1 obj=$2 dep=${2%.o}.d f
    [ -f "$obj" ] && [ -f "$dep" ] || return 0
    for f in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$dep"); do
        [ "$f" = "$src" ] || [ "${f%.h}" != "$f" ] || continue
        [ -e "$f" ] || return 0
        [ "$f" -nt "$obj" ] && return 0
    done
    [ "$src" -nt "$obj" ]
}

todo=()
for s in "${SRCS[@]}"; do
    o=$OUT/obj/${s%.c}.o
    stale "$s" "$o" && todo+=("$s")
done
if [ ${#todo[@]} -gt 0 ]; then
    log "fuzz: compiling ${#todo[@]} source files with $CC"
    export CC CFLAGS OUT
    printf '%s\n' "${todo[@]}" | xargs -P "$JOBS" -I{} sh -c '
        o=$OUT/obj/$(echo "$1" | sed "s/\.c\$//").o
        mkdir -p "$(dirname "$o")"
        $CC $CFLAGS -fsanitize=fuzzer-no-link -MMD -MP -c "$1" -o "$o" || { rm -f "$o"; exit 1; }
    ' _ {} || { log "fuzz: compiling the sources failed"; failed=1; finish; }
fi
lib=$OUT/libsluice.a
objs=()
for s in "${SRCS[@]}"; do objs+=("$OUT/obj/${s%.c}.o"); done
newest=$(ls -t "${objs[@]}" | head -1)
if [ ! -f "$lib" ] || [ "$newest" -nt "$lib" ] || [ ${#todo[@]} -gt 0 ]; then
    rm -f "$lib"
    ar rcs "$lib" "${objs[@]}" || { failed=1; finish; }
fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a TARGETS <<<"$FUZZ_TARGETS"
else
    TARGETS=()
    for f in fuzz/fuzz_*.c; do t=${f#fuzz/fuzz_}; TARGETS+=("${t%.c}"); done
fi
for t in "${TARGETS[@]}"; do
    src=fuzz/fuzz_$t.c bin=$OUT/bin/fuzz_$t
    [ -f "$src" ] || { log "fuzz: no target $src"; failed=$((failed + 1)); continue; }
    if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "$lib" -nt "$bin" ] ||
       [ fuzz/fuzz_util.h -nt "$bin" ]; then
        log "fuzz: linking $bin"
        $CC $CFLAGS -Ifuzz -fsanitize=fuzzer -o "$bin" "$src" "$lib" $PKG_LIBS -lpthread -lm ||
            { log "fuzz: building $t failed"; failed=$((failed + 1)); }
    fi
done
[ "$failed" -eq 0 ] || finish
[ "$mode" = build ] && finish

# --- replay: regression inputs and seed corpora ---------------------------------
replay_one() { # target file -> 0 if it runs clean
    "$OUT/bin/fuzz_$1" -timeout=60 -rss_limit_mb=4096 "$2" >"$OUT/logs/replay.log" 2>&1
}
mkdir -p "$OUT/logs"
for t in "${TARGETS[@]}"; do
    for f in tests/regress/"$t"/*; do
        [ -f "$f" ] || continue
        if replay_one "$t" "$f"; then
            if [ "${f%.open}" != "$f" ]; then
                log "XPASS $f: no longer fails, rename it without .open"
            else
                passed=$((passed + 1))
            fi
        elif [ "${f%.open}" != "$f" ]; then
            log "open  $f (known finding, still fails)"
        else
            failed=$((failed + 1))
            log "FAIL $f"
            grep -m3 -E '^==[0-9]+==ERROR|runtime error|==fuzz==|SUMMARY|^    #[0-9] ' \
                "$OUT/logs/replay.log" >&2
            cp "$OUT/logs/replay.log" "$OUT/logs/replay-$t-$(basename "$f").log"
        fi
    done
    if [ -d "fuzz/corpus/$t" ]; then
        if "$OUT/bin/fuzz_$t" -timeout=60 fuzz/corpus/"$t"/* >"$OUT/logs/seeds-$t.log" 2>&1
        then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            log "FAIL seed corpus fuzz/corpus/$t: see $OUT/logs/seeds-$t.log"
        fi
    fi
done
[ "$mode" = replay ] && { log "fuzz: replayed tests/regress/ and fuzz/corpus/"; finish; }

# --- fuzzing ----------------------------------------------------------------------
rm -f "$OUT"/results/*
log "fuzz: running ${#TARGETS[@]} targets, $JOBS at a time ($( [ "$mode" = short ] &&
    echo "short runs" || echo "$mode s each"))"
printf '%s\n' "${TARGETS[@]}" | xargs -P "$JOBS" -I{} "$0" --one {} "$mode"
for t in "${TARGETS[@]}"; do
    rc=$(cat "$OUT/results/$t" 2>/dev/null || echo 1)
    if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
finish
