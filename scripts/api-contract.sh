#!/usr/bin/env bash
# The API contract check: runs schemathesis (from PyPI, into a throwaway virtualenv) against a running hub with an
# admin key. It fails on any 5xx, on any answer the OpenAPI document does not describe, and on any request the
# document forbids that the hub accepts. Run after a build (scripts/test runs it after the test suite).
#
# Left out: schemathesis's positive_data_acceptance check. Its generator reuses Idempotency-Key values across
# different requests, which the hub rightly refuses (422, idempotency-key-reused).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)/tillwire
[ -x "$bin" ] || { echo "api-contract: $bin not found; run swift build first" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tillwire-contract.XXXXXX")
hub=""
cleanup() { [ -n "$hub" ] && kill "$hub" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "api-contract: installing schemathesis from PyPI"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'

export TILLWIRE_STORAGE_SQLITE_PATH="$work/hub.sqlite"
"$bin" migrate >/dev/null
key=$("$bin" keys create --client schemathesis --scope admin --by api-contract | awk '/^key:/ {print $2}')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
TILLWIRE_HTTP_PORT=$port TILLWIRE_LOG_LEVEL=warning "$bin" serve >"$work/serve.log" 2>&1 &
hub=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "api-contract: the hub did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

echo "api-contract: schemathesis against http://127.0.0.1:$port/v1/openapi.json"
"$work/venv/bin/schemathesis" run "http://127.0.0.1:$port/v1/openapi.json" \
    -H "Authorization: Bearer $key" --checks all --exclude-checks positive_data_acceptance \
    --max-examples 100 --seed 20261128 --no-color
