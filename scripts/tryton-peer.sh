#!/usr/bin/env bash
# The real Tryton ERP of ../shared/peers/tryton, for `tillwire demo --with-tryton` (the tests' copy is scripts/test's):
#
#   scripts/tryton-peer.sh start   installs it from PyPI into .build/peers/ the first time (1-1.5 min), starts it on a
#                                  free port with the database its setup made, and prints the variables the demo reads
#   scripts/tryton-peer.sh stop
#
#   eval "$(scripts/tryton-peer.sh start)" && swift run tillwire demo --with-tryton
#
# TILLWIRE_TRYTON_PEER_DIR names the peer's folder when it is not ../shared/peers/tryton.
set -euo pipefail
cd "$(dirname "$0")/.."
peer="${TILLWIRE_TRYTON_PEER_DIR:-$(cd .. && pwd)/shared/peers/tryton}"
[ -f "$peer/setup.sh" ] || { echo "tryton-peer: the Tryton peer is not at $peer (set TILLWIRE_TRYTON_PEER_DIR)" >&2; exit 1; }
# Its own data folder: scripts/test's Tryton (.build/peers/tryton-data) is left alone, and this one survives a test run.
export TRYTON_VENV="$PWD/.build/peers/tryton-venv" TRYTON_DATA="$PWD/.build/peers/tryton-demo-peer"
case "${1:-}" in
    start)
        bash "$peer/stop.sh" >/dev/null 2>&1 || true
        bash "$peer/setup.sh" >&2 || { echo "tryton-peer: the peer did not install (output above)" >&2; exit 1; }
        TRYTON_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        export TRYTON_PORT
        TRYTON_FRESH=1 bash "$peer/start.sh" >&2 || { echo "tryton-peer: the peer did not start (output above)" >&2; exit 1; }
        printf 'export TILLWIRE_TRYTON_URL=%q TILLWIRE_TRYTON_DATABASE=%q TILLWIRE_TRYTON_USERNAME=admin TILLWIRE_TRYTON_PASSWORD=%q\n' \
            "http://127.0.0.1:$TRYTON_PORT" "${TRYTON_DB:-tryton}" "${TRYTON_ADMIN_PASSWORD:-tryton-admin}"
        ;;
    stop) bash "$peer/stop.sh" ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
