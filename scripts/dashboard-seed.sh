#!/usr/bin/env bash
# Demo data for the operations pages, made through the hub's public HTTP API only: a warehouse and three stores,
# five products, receipts, till sales, a count, a damage and a transfer in transit, three orders (one shipped from the
# warehouse and returned in part at a store, one click-and-collect waiting at its store, one held for an unknown SKU),
# two store agents' reports, and a dead letter that the shop's outage then keeps from running again.
#
# Usage: scripts/dashboard-seed.sh BASE_URL ADMIN_KEY SHOP_URL [SEEDED_JSON]
#
# The hub must run with the configuration scripts/dashboard-check.sh writes: the GB VAT rule, ship-from locations,
# the channel web-uk fed by dc-leeds and the three stores, its shop being the Oscar connector pointed at SHOP_URL
# (scripts/dashboard-fake-shop.py, listing every SKU but GIFT-WRAP), and a breaker on web-uk that opens after three
# failed calls in a row and stays open for an hour. The dead letter is made the way the connector's docs describe
# (docs/connectors/oscar.md, "SKUs"): GIFT-WRAP is received at the warehouse, the hub publishes the channel's figure,
# and the shop has no stock record for it, so the publish job dies at once (a terminal error). Then the shop goes
# down (SHOP_URL/control/down: every call answers 503), three more stock changes fail to reach it, and the breaker
# opens: a replay of the dead job (the dashboard's replay form) leaves it pending, waiting for the circuit, instead
# of running and dying again at once.
#
# The same calls in the same order every time (fixed ids, quantities, order numbers and Idempotency-Keys; times are
# relative to now), on a fresh database. Any answer other than the one expected stops the seed with the answer
# printed. Prints what it made, and writes the ids the page list refers to to SEEDED_JSON (default ./seeded.json):
# order, pickup_order, held_order, channel_order, return, dead_job, store, stores, sku, channel, day (today, UTC).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BASE_URL ADMIN_KEY SHOP_URL [SEEDED_JSON]" >&2; exit 2; }
base=${1%/}
key=$2
shop=${3%/}
out=${4:-seeded.json}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tillwire-seed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# call METHOD PATH EXPECTED_STATUSES [BODY]: the answer's body goes to $tmp/answer; any other status stops the seed.
# Every POST carries an Idempotency-Key made from the call's place in the seed (the same on every run).
calls=0
call() {
    local method=$1 path=$2 expected=$3 body=${4:-} status
    local args=(-sS -o "$tmp/answer" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $key" --max-time 30)
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    if [ "$method" = POST ]; then
        calls=$((calls + 1))
        args+=(-H "Idempotency-Key: dashboard-seed-$(printf %03d "$calls")")
    fi
    status=$(curl "${args[@]}" "$base$path") || { echo "dashboard-seed: $method $path: no answer from the hub" >&2; exit 1; }
    if ! [[ "|$expected|" == *"|$status|"* ]]; then
        echo "dashboard-seed: $method $path answered $status, expected $expected:" >&2
        cat "$tmp/answer" >&2; echo >&2
        exit 1
    fi
}
# field EXPRESSION: a value of the last answer, e.g. field '["id"]'.
field() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))$1)" "$tmp/answer"; }
# at MINUTES_AGO: an ISO 8601 time that many minutes before now.
at() { date -u -d "-$1 min" +%Y-%m-%dT%H:%M:%SZ; }
# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; stops the seed if it never does.
wait_until() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "dashboard-seed: $what did not happen within $seconds s; the last answer was:" >&2
            cat "$tmp/answer" >&2; echo >&2
            exit 1
        fi
        sleep 0.2
    done
}
order_status() { call GET "/v1/orders/$1" 200; [ "$(field '["status"]')" = "$2" ]; }
answer_has() { python3 -c "import sys; sys.exit(0 if sys.argv[2] in open(sys.argv[1]).read() else 1)" "$tmp/answer" "$1"; }
movement() { # SKU LOCATION DELTA REASON MINUTES_AGO SOURCE SOURCE_KEY [extra JSON members]
    printf '{"sku": "%s", "location": "%s", "delta": %s, "reason": "%s", "occurred_at": "%s", "source": "%s", "source_key": "%s"%s}' \
        "$1" "$2" "$3" "$4" "$(at "$5")" "$6" "$7" "${8:+, $8}"
}

echo "dashboard-seed: seeding $base"

# The catalog.
call PUT /v1/locations/dc-leeds 200 '{"kind": "warehouse", "name": "Leeds DC"}'
call PUT /v1/locations/store-camden 200 '{"kind": "store", "name": "Camden High Street"}'
call PUT /v1/locations/store-soho 200 '{"kind": "store", "name": "Soho, Carnaby Street"}'
call PUT /v1/locations/store-briggate 200 '{"kind": "store", "name": "Leeds Briggate"}'
call POST /v1/products 200 '{"products": [
  {"sku": "SHIRT-OX-M", "name": "Oxford shirt, blue, M", "categories": ["shirts"]},
  {"sku": "SHIRT-OX-L", "name": "Oxford shirt, blue, L", "categories": ["shirts"]},
  {"sku": "MUG-STONE", "name": "Stoneware mug, 350 ml", "categories": ["home"]},
  {"sku": "LAMP-OAK", "name": "Oak desk lamp", "categories": ["home"]},
  {"sku": "GIFT-WRAP", "name": "Gift wrap, recycled kraft", "categories": ["extras"]}]}'
[ "$(field '["stored"]')" = 5 ] || { echo "dashboard-seed: expected 5 products stored: $(cat "$tmp/answer")" >&2; exit 1; }

# This morning's deliveries, from the ERP's advance shipping notices.
call POST /v1/inventory/movements 200 "{\"movements\": [
  $(movement SHIRT-OX-M dc-leeds 40 receipt 360 erp asn-5521/1),
  $(movement SHIRT-OX-L dc-leeds 30 receipt 360 erp asn-5521/2),
  $(movement MUG-STONE dc-leeds 60 receipt 360 erp asn-5521/3),
  $(movement LAMP-OAK dc-leeds 12 receipt 360 erp asn-5521/4),
  $(movement GIFT-WRAP dc-leeds 200 receipt 360 erp asn-5521/5),
  $(movement SHIRT-OX-M store-camden 8 receipt 330 erp asn-5522/1),
  $(movement SHIRT-OX-L store-camden 6 receipt 330 erp asn-5522/2),
  $(movement MUG-STONE store-camden 12 receipt 330 erp asn-5522/3),
  $(movement SHIRT-OX-L store-soho 5 receipt 320 erp asn-5523/1),
  $(movement MUG-STONE store-soho 10 receipt 320 erp asn-5523/2),
  $(movement LAMP-OAK store-soho 3 receipt 320 erp asn-5523/3),
  $(movement SHIRT-OX-M store-briggate 6 receipt 310 erp asn-5524/1),
  $(movement MUG-STONE store-briggate 8 receipt 310 erp asn-5524/2)]}"
# The tills' sales, a lamp damaged in the stockroom, and a transfer from the warehouse still on the road.
call POST /v1/inventory/movements 200 "{\"movements\": [
  $(movement SHIRT-OX-M store-camden -2 sale 240 pos-camden till-1/0007/1),
  $(movement MUG-STONE store-camden -1 sale 230 pos-camden till-2/0011/1),
  $(movement MUG-STONE store-soho -3 sale 200 pos-soho till-1/0019/1),
  $(movement SHIRT-OX-M store-briggate -1 sale 190 pos-briggate till-1/0003/1),
  $(movement LAMP-OAK store-soho -1 damage 180 pos-soho damage-0004),
  $(movement LAMP-OAK dc-leeds -4 transfer_out 170 erp TO-2041/out/LAMP-OAK '"transfer_id": "TO-2041", "destination": "store-soho"')]}"
# Camden's cycle count finds one mug fewer than the ledger.
call POST /v1/inventory/counts 200 "{\"counts\": [{\"sku\": \"MUG-STONE\", \"location\": \"store-camden\", \"counted\": 10,
  \"as_of\": \"$(at 60)\", \"source\": \"pos-camden\", \"source_key\": \"cycle-count/MUG-STONE/1\"}]}"
answer_has '"corrected"' || { echo "dashboard-seed: the count should have corrected the ledger: $(cat "$tmp/answer")" >&2; exit 1; }

# The publish of GIFT-WRAP's figure to the shop dies: the shop has no stock record for it.
dead_letter() {
    call GET "/v1/dead-letters?system=web-uk" 200
    dead_job=$(python3 -c 'import json, sys
jobs = [job for job in json.load(open(sys.argv[1]))["dead_letters"] if "GIFT-WRAP" in (job.get("last_error") or "")]
print(jobs[0]["id"] if jobs else "")' "$tmp/answer")
    [ -n "$dead_job" ]
}
wait_until 30 "the dead letter of GIFT-WRAP's publish to the shop" dead_letter

# Orders from the web shop: one shipped from the warehouse, one to collect at Camden, one held.
call POST /v1/orders 201 "{\"channel\": \"web-uk\", \"channel_order_id\": \"100231\", \"placed_at\": \"$(at 150)\",
  \"currency\": \"GBP\", \"taxes_included\": true,
  \"customer\": {\"id\": \"c-2207\", \"email\": \"ann@example.org\", \"name\": \"Ann Example\"},
  \"ship_to\": {\"country\": \"GB\", \"postal_code\": \"LS1 4AP\"},
  \"lines\": [{\"id\": \"1\", \"sku\": \"SHIRT-OX-M\", \"quantity\": 2, \"unit_price\": \"24.00\",
             \"tax_lines\": [{\"title\": \"VAT\", \"rate_bp\": 2000, \"amount\": \"8.00\"}]}],
  \"shipping\": {\"price\": \"3.95\", \"tax_lines\": [{\"title\": \"VAT\", \"rate_bp\": 2000, \"amount\": \"0.66\"}]},
  \"payments\": {\"authorized\": \"51.95\", \"captured\": \"51.95\"},
  \"fulfilment\": {\"mode\": \"ship_from_dc\"}, \"total\": \"51.95\"}"
ship_order=$(field '["id"]')
wait_until 30 "order 100231's release to the warehouse" order_status "$ship_order" released
call POST "/v1/orders/$ship_order/shipments" 200 '{"shipment_id": "DPD-15501234", "lines": ["1"],
  "tracking": {"carrier": "DPD", "number": "15501234", "url": "https://track.example/15501234"}}'
wait_until 30 "order 100231's completion" order_status "$ship_order" completed

call POST /v1/orders 201 "{\"channel\": \"web-uk\", \"channel_order_id\": \"100232\", \"placed_at\": \"$(at 95)\",
  \"currency\": \"GBP\", \"taxes_included\": true,
  \"customer\": {\"id\": \"c-3110\", \"email\": \"ben@example.org\", \"name\": \"Ben Sample\"},
  \"lines\": [{\"id\": \"1\", \"sku\": \"MUG-STONE\", \"quantity\": 2, \"unit_price\": \"12.00\",
             \"tax_lines\": [{\"title\": \"VAT\", \"rate_bp\": 2000, \"amount\": \"4.00\"}]}],
  \"payments\": {\"authorized\": \"24.00\", \"captured\": \"24.00\"},
  \"fulfilment\": {\"mode\": \"pick_up_in_store\", \"pickup_store\": \"store-camden\"}, \"total\": \"24.00\"}"
pickup_order=$(field '["id"]')
wait_until 30 "order 100232 in Camden's pickup queue" order_status "$pickup_order" released
call POST "/v1/orders/$pickup_order/pickup/picked" 200 '{}'
order_status "$pickup_order" ready_for_pickup || { echo "dashboard-seed: order 100232 should be ready for pickup: $(cat "$tmp/answer")" >&2; exit 1; }

call POST /v1/orders 201 "{\"channel\": \"web-uk\", \"channel_order_id\": \"100233\", \"placed_at\": \"$(at 40)\",
  \"currency\": \"GBP\", \"taxes_included\": true,
  \"customer\": {\"id\": \"c-4012\", \"email\": \"cleo@example.org\", \"name\": \"Cleo Test\"},
  \"ship_to\": {\"country\": \"GB\", \"postal_code\": \"W1F 9PE\"},
  \"lines\": [{\"id\": \"1\", \"sku\": \"SCARF-MERINO\", \"quantity\": 1, \"unit_price\": \"35.00\",
             \"tax_lines\": [{\"title\": \"VAT\", \"rate_bp\": 2000, \"amount\": \"5.83\"}]}],
  \"payments\": {\"authorized\": \"35.00\"},
  \"fulfilment\": {\"mode\": \"ship_from_dc\"}, \"total\": \"35.00\"}"
held_order=$(field '["id"]')
[ "$(field '["status"]')" = on_hold ] && answer_has unknown_sku \
    || { echo "dashboard-seed: order 100233 should be held for its unknown SKU: $(cat "$tmp/answer")" >&2; exit 1; }

# Ann brings one shirt back to Camden (wrong size); the till refunds her card.
call POST /v1/returns 201 '{"channel": "pos", "channel_return_id": "CAM-R-0042",
  "order": {"channel": "web-uk", "channel_order_id": "100231"},
  "location": "store-camden", "refund": "store_tender", "tender": "card", "received": true,
  "lines": [{"order_line": "1", "sku": "SHIRT-OX-M", "quantity": 1, "reason": "wrong_size", "condition": "unopened"}]}'
return_id=$(field '["id"]')
refund=$(field '["refund_total"]')

# The stores' agents report: Camden is up to date, Soho has sales waiting to be forwarded and one refused.
call PUT /v1/store-agents/store-camden 200 '{"queue_depth": 0, "forwarded_through": 18422, "refused": 0}'
call PUT /v1/store-agents/store-soho 200 "{\"queue_depth\": 7, \"oldest_unsent_at\": \"$(at 2)\", \"forwarded_through\": 9071, \"refused\": 1}"

# The shop goes down; the next three stock changes cannot reach it, and web-uk's circuit opens. Gift wrap delivered
# to Camden meanwhile makes a new publish of GIFT-WRAP, which waits behind the dead one (jobs of a SKU run in order).
curl -fsS -X POST "$shop/control/down" >/dev/null || { echo "dashboard-seed: the fake shop at $shop did not answer" >&2; exit 1; }
call POST /v1/inventory/movements 200 "{\"movements\": [
  $(movement GIFT-WRAP store-camden 20 receipt 3 erp asn-5530/1),
  $(movement SHIRT-OX-L store-camden -1 sale 1 pos-camden till-1/0031/1),
  $(movement LAMP-OAK store-soho -1 sale 1 pos-soho till-2/0027/1),
  $(movement MUG-STONE store-briggate -1 sale 1 pos-briggate till-1/0012/1)]}"
circuit_open() { call GET "/v1/jobs?state=pending&limit=100" 200; answer_has "web-uk: circuit open"; }
wait_until 60 "web-uk's circuit opening" circuit_open

python3 - "$out" <<EOF
import datetime, json, sys
seeded = {"day": datetime.datetime.now(datetime.timezone.utc).date().isoformat(), "order": "$ship_order", "channel_order": "100231", "pickup_order": "$pickup_order", "held_order": "$held_order",
          "return": "$return_id", "dead_job": "$dead_job", "store": "store-camden",
          "stores": ["store-camden", "store-soho", "store-briggate"], "warehouse": "dc-leeds", "sku": "SHIRT-OX-M",
          "channel": "web-uk"}
json.dump(seeded, open(sys.argv[1], "w"), indent=2)
EOF
cat <<EOF
dashboard-seed: seeded
  locations   dc-leeds (warehouse); store-camden, store-soho, store-briggate (stores)
  products    SHIRT-OX-M, SHIRT-OX-L, MUG-STONE, LAMP-OAK, GIFT-WRAP
  stock       14 receipts, 4 till sales, 1 damage, 1 transfer in transit (TO-2041 to store-soho), 1 count correction,
              3 sales after the shop went down
  orders      $ship_order  (web-uk 100231, shipped from dc-leeds, completed, 1 of 2 returned)
              $pickup_order  (web-uk 100232, click-and-collect at store-camden, ready for pickup)
              $held_order  (web-uk 100233, on hold: unknown SKU SCARF-MERINO)
  return      $return_id  (CAM-R-0042 at store-camden, refund $refund to card)
  agents      store-camden (up to date), store-soho (7 waiting, 1 refused)
  dead job    $dead_job  (web-uk.availability: the shop has no stock record with partner_sku GIFT-WRAP)
  circuit     web-uk open (the shop answers 503)
  ids         $out
EOF
