#!/usr/bin/env bash
# Installs what sluice needs on a Debian machine, and only what is missing.
#   install-deps.sh build   libraries and tools to build and run the server
#   install-deps.sh all     also the test clients: boto3, aws-cli, pytest,
#                           and the npm packages under tests/e2e/js
set -eu
what=${1:-build}
cd "$(dirname "$0")/.."

build_pkgs="gcc make pkg-config libevent-dev libjansson-dev libcjson-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev libjemalloc-dev tzdata"
test_pkgs="python3-boto3 python3-pytest python3-pytest-timeout awscli clang libclang-rt-14-dev nodejs npm procps curl openssl valgrind strace"

pkgs=$build_pkgs
[ "$what" = all ] && pkgs="$pkgs $test_pkgs"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# nodejs/npm may come from elsewhere than Debian; a working node is enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=$(printf '%s\n' $missing | grep -vx -e nodejs -e npm | tr '\n' ' ' || true)
fi
missing=$(echo $missing)
if [ -n "$missing" ]; then
    echo "install-deps: installing from Debian: $missing"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ "$what" = all ] && [ -f tests/e2e/js/package.json ]; then
    if [ ! -d tests/e2e/js/node_modules ] || [ tests/e2e/js/package.json -nt tests/e2e/js/node_modules ]; then
        echo "install-deps: installing npm packages for tests/e2e/js"
        (cd tests/e2e/js && npm install --no-audit --no-fund --loglevel=error)
        touch tests/e2e/js/node_modules
    fi
fi
