#!/usr/bin/env bash
# The operations pages (/ui) in a real browser. Starts a hub on a throwaway SQLite file with a stand-in web shop
# (scripts/dashboard-fake-shop.py, for the Oscar connector), fills it with demo data through the public API
# (scripts/dashboard-seed.sh: stock at a warehouse and three stores, orders, a return, store agents' reports, and a
# dead letter), then drives headless Chromium over the DevTools protocol (scripts/dashboard-check.py): it signs in
# with an admin key, visits each page of scripts/dashboard-pages.json, and fails on a page that does not answer 200,
# lacks an expected text, or makes the browser log an error (console errors, uncaught exceptions, CSP violations,
# failed loads). One of the pages replays the dead letter through its form and checks it left the dead state.
# Run after a build (scripts/test runs the API contract check the same way).
#
# Chromium is Debian's package, installed here when missing (as root; otherwise the script says how and stops).
# Environment:
#   TILLWIRE_BIN          the hub binary (default: $(swift build --show-bin-path)/tillwire)
#   TILLWIRE_SCREENSHOTS  where the screenshots go, kept (default: inside the work folder, deleted at the end)
#   TILLWIRE_DASHBOARD_PAGES  the page list (default: scripts/dashboard-pages.json)
#   TILLWIRE_CHROMIUM     the browser (default: chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
bin=${TILLWIRE_BIN:-$(swift build --show-bin-path)/tillwire}
[ -x "$bin" ] || { echo "dashboard-check: $bin not found; run swift build first (or set TILLWIRE_BIN)" >&2; exit 1; }
pages=${TILLWIRE_DASHBOARD_PAGES:-scripts/dashboard-pages.json}
[ -f "$pages" ] || { echo "dashboard-check: the page list $pages is missing" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tillwire-dashboard.XXXXXX")
hub=""
shop=""
cleanup() {
    [ -n "$hub" ] && kill "$hub" 2>/dev/null || true
    [ -n "$shop" ] && kill "$shop" 2>/dev/null || true
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

chromium=${TILLWIRE_CHROMIUM:-chromium}
if ! command -v "$chromium" >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "dashboard-check: $chromium is not installed, and this user is not root, so it cannot be installed here." >&2
        echo "  Install it with: sudo apt-get install -y --no-install-recommends chromium" >&2
        echo "  (or set TILLWIRE_CHROMIUM to a Chromium or Chrome binary), then run this again." >&2
        exit 1
    fi
    echo "dashboard-check: installing chromium (Debian's package)"
    install_started=$SECONDS
    # Another apt-get (a peer's set-up) may hold the lock: wait for it rather than fail.
    if ! { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq \
           && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium; } \
         >"$work/apt.log" 2>&1; then
        echo "dashboard-check: installing chromium failed:" >&2
        tail -n 30 "$work/apt.log" >&2
        exit 1
    fi
    command -v "$chromium" >/dev/null 2>&1 || { echo "dashboard-check: chromium installed, but $chromium is still not found" >&2; exit 1; }
    echo "dashboard-check: chromium installed in $((SECONDS - install_started)) s"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
shop_port=$(free_port)
port=$(free_port)

# The stand-in shop lists every SKU but GIFT-WRAP, whose publish therefore dies (the dead letter).
python3 scripts/dashboard-fake-shop.py "$shop_port" SHIRT-OX-M,SHIRT-OX-L,MUG-STONE,LAMP-OAK >"$work/shop.log" 2>&1 &
shop=$!

cat >"$work/hub.yaml" <<EOF
tax:
  home_country: GB
  countries:
    GB: {kind: vat_inclusive, rates: [0, 500, 2000]}
orders:
  ship_from:
    ship_from_dc: [dc-leeds]
    ship_from_store: [store-camden, store-soho, store-briggate]
channels:
  web-uk:
    locations: [dc-leeds, store-camden, store-soho, store-briggate]
    buffer: 1
observability:
  read_every_seconds: 1
systems:
  web-uk:
    # Three failed calls in a row open the circuit for an hour: the seed's shop outage keeps it open.
    breaker: {failure_rate: 1.0, window: 3, minimum_calls: 3, open_seconds: 3600, half_open_probes: 1}
oscar:
  url: http://127.0.0.1:$shop_port
  channel: web-uk
  username: tillwire
EOF
TILLWIRE_OSCAR_PASSWORD=dashboard-check TILLWIRE_OSCAR_WEBHOOK_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
export TILLWIRE_OSCAR_PASSWORD TILLWIRE_OSCAR_WEBHOOK_SECRET
export TILLWIRE_STORAGE_SQLITE_PATH="$work/hub.sqlite"
"$bin" migrate --config "$work/hub.yaml" >"$work/migrate.log" 2>&1 || { echo "dashboard-check: migrate failed:" >&2; cat "$work/migrate.log" >&2; exit 1; }
key=$("$bin" keys create --config "$work/hub.yaml" --client dashboard-check --scope admin --by dashboard-check | awk '/^key:/ {print $2}')
[ -n "$key" ] || { echo "dashboard-check: no admin key was created" >&2; exit 1; }
(umask 077; printf '%s\n' "$key" >"$work/admin.key")
TILLWIRE_HTTP_PORT=$port TILLWIRE_LOG_LEVEL=warning "$bin" serve --config "$work/hub.yaml" >"$work/serve.log" 2>&1 &
hub=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "dashboard-check: the hub did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
for _ in $(seq 1 50); do grep -q listening "$work/shop.log" && break; sleep 0.1; done
grep -q listening "$work/shop.log" || { echo "dashboard-check: the stand-in shop did not start:" >&2; cat "$work/shop.log" >&2; exit 1; }

seed_started=$SECONDS
if ! scripts/dashboard-seed.sh "http://127.0.0.1:$port" "$key" "http://127.0.0.1:$shop_port" "$work/seeded.json"; then
    echo "dashboard-check: seeding failed; the hub's log ends:" >&2
    tail -n 30 "$work/serve.log" >&2
    exit 1
fi
seeded=$SECONDS

screenshots=${TILLWIRE_SCREENSHOTS:-$work/screenshots}
status=0
python3 scripts/dashboard-check.py --base "http://127.0.0.1:$port" --key-file "$work/admin.key" --pages "$pages" \
    --vars "$work/seeded.json" --screenshots "$screenshots" --chromium "$chromium" || status=$?
if [ -n "${TILLWIRE_SCREENSHOTS:-}" ]; then
    echo "dashboard-check: screenshots in $(cd "$screenshots" && pwd)"
else
    echo "dashboard-check: screenshots were in $screenshots (deleted now; set TILLWIRE_SCREENSHOTS=DIR to keep them)"
fi
if [ "$status" != 0 ] && [ -s "$work/serve.log" ]; then
    echo "dashboard-check: the hub's log (warnings and errors) ends:"
    tail -n 20 "$work/serve.log"
fi
echo "dashboard-check: $((SECONDS - started)) s in all (seeding $((seeded - seed_started)) s, browser $((SECONDS - seeded)) s)"
exit "$status"
