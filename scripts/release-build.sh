#!/usr/bin/env bash
# Builds `tillwire` as one release binary with the Swift runtime and Foundation linked in, and checks that it runs
# on its own: no Swift library in `ldd`, and --help, migrate and serve (until /readyz answers 200, then SIGTERM
# and exit 0) in an environment with only PATH=/usr/bin:/bin.
#
#   scripts/release-build.sh [--scratch-path DIR] [--output FILE] [--check-only]
#
#   --scratch-path DIR  SwiftPM's build folder (default .build-release, kept apart from the debug .build)
#   --output FILE       where the binary is copied (default dist/tillwire)
#   --check-only        skip the build and check FILE as it is
#
# What the binary still needs from the system is printed (ldd). Measured on Debian 12: glibc (2.35 or newer),
# libstdc++, libgcc_s, libm, zlib, libsqlite3 (GRDB uses the system's SQLite) and libxml2 (Foundation's XML parser,
# for POSLog), which brings ICU and liblzma.
set -euo pipefail

fail() { echo "release-build: FAILED: $*" >&2; exit 1; }
step() { echo "==> $*"; }

cd "$(dirname "$0")/.."
scratch=.build-release
output=dist/tillwire
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --scratch-path) [ $# -ge 2 ] || fail "--scratch-path needs a folder"; scratch=$2; shift 2 ;;
        --output) [ $# -ge 2 ] || fail "--output needs a file"; output=$2; shift 2 ;;
        --check-only) build=0; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown argument '$1' (see --help)" ;;
    esac
done
for tool in ldd readelf curl mktemp; do
    command -v "$tool" >/dev/null || fail "'$tool' is not installed"
done

if [ "$build" = 1 ]; then
    command -v swift >/dev/null || fail "swift is not on PATH"
    step "swift build -c release --static-swift-stdlib --product tillwire --scratch-path $scratch"
    started=$(date +%s)
    swift build -c release --static-swift-stdlib --product tillwire --scratch-path "$scratch" \
        || fail "the release build failed (output above)"
    echo "build took $(( $(date +%s) - started )) s"
    bin_path=$(swift build -c release --static-swift-stdlib --product tillwire --scratch-path "$scratch" --show-bin-path) \
        || fail "swift build --show-bin-path failed (output above)"
    bin=$bin_path/tillwire
    [ -x "$bin" ] || fail "the build reported success but $bin is missing"
    mkdir -p "$(dirname "$output")" || fail "cannot make the folder of $output"
    cp "$bin" "$output.tmp" || fail "cannot copy $bin to $output.tmp"
    mv -f "$output.tmp" "$output" || fail "cannot move $output.tmp to $output"
fi
[ -x "$output" ] || fail "$output does not exist or is not executable"
# From here on the binary is run by a path that does not depend on the working directory.
binary=$(cd "$(dirname "$output")" && pwd)/$(basename "$output")

step "ldd $output"
libraries=$(ldd "$binary") || fail "ldd cannot read $output"
echo "$libraries"
if grep -q "not found" <<<"$libraries"; then
    fail "a library the binary needs is missing on this machine: $(grep "not found" <<<"$libraries" | tr -s ' \t' ' ')"
fi
swift_libraries=$(grep -E -i 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' <<<"$libraries" || true)
[ -z "$swift_libraries" ] || fail "the binary still links the Swift runtime dynamically: $swift_libraries"
runpath=$(readelf -d "$binary" 2>/dev/null | grep -E 'RUNPATH|RPATH' || true)
if grep -q -E 'swift|/opt/|\.build' <<<"$runpath"; then
    fail "the binary carries a search path into the toolchain or the build folder: $runpath"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tillwire-release-check.XXXXXX")
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Only PATH, and no toolchain on it: what a service manager gives a process.
clean() { (cd "$work" && env -i PATH=/usr/bin:/bin "$@"); }

step "env -i PATH=/usr/bin:/bin $output --help"
clean "$binary" --help >"$work/help.txt" 2>&1 || { cat "$work/help.txt" >&2; fail "--help did not exit 0 in a clean environment"; }
grep -q "serve" "$work/help.txt" || { cat "$work/help.txt" >&2; fail "--help does not list the serve command"; }
head -3 "$work/help.txt"

step "env -i ... TILLWIRE_STORAGE_SQLITE_PATH=<temp> $output migrate"
clean TILLWIRE_STORAGE_SQLITE_PATH="$work/migrate/tillwire.sqlite" "$binary" migrate >"$work/migrate.txt" 2>&1 \
    || { cat "$work/migrate.txt" >&2; fail "migrate did not exit 0"; }
grep "schema versions" "$work/migrate.txt" || { cat "$work/migrate.txt" >&2; fail "migrate printed no schema status"; }
grep -q ": current" "$work/migrate.txt" || fail "migrate left the schema not current"

# Port 0: the hub picks a free port and logs it, so that no other process can take it between a probe and the bind.
step "env -i ... TILLWIRE_HTTP_PORT=0 TILLWIRE_STORAGE_SQLITE_PATH=<temp> $output serve"
(cd "$work" && exec env -i PATH=/usr/bin:/bin TILLWIRE_HTTP_PORT=0 TILLWIRE_STORAGE_SQLITE_PATH="$work/serve/tillwire.sqlite" \
    "$binary" serve) >"$work/serve.log" 2>&1 &
server=$!
address=""
ready=""
for _ in $(seq 1 300); do   # 60 s
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; fail "serve exited before it was ready"; }
    if [ -z "$address" ]; then
        address=$(grep -o -m 1 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" || true)
    fi
    if [ -n "$address" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$address/readyz" || true)" = 200 ]; then
        ready=1
        break
    fi
    sleep 0.2
done
[ -n "$ready" ] || { cat "$work/serve.log" >&2; fail "serve did not answer 200 on /readyz within 60 s (address: ${address:-never logged})"; }
echo "$address/readyz answered 200"

step "SIGTERM"
kill -TERM "$server"
# The hub drains for at most 30 s; a watchdog ends it at 45 s. Its output goes nowhere, so that a leftover sleep
# holds no pipe of the caller's open.
( sleep 45; kill -KILL "$server" ) >/dev/null 2>&1 &
watchdog=$!
status=0
wait "$server" || status=$?
kill "$watchdog" 2>/dev/null || true
server=""
[ "$status" != 137 ] || { cat "$work/serve.log" >&2; fail "serve did not stop within 45 s of SIGTERM (killed)"; }
[ "$status" = 0 ] || { cat "$work/serve.log" >&2; fail "serve exited with status $status after SIGTERM, not 0"; }
grep -q "tillwire stopped" "$work/serve.log" || { cat "$work/serve.log" >&2; fail "serve exited 0 without logging 'tillwire stopped'"; }
echo "serve stopped with exit 0"

size=$(wc -c <"$binary")
echo "release-build: OK: $output, $size bytes ($(( size / 1024 / 1024 )) MiB)"
