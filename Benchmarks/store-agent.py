#!/usr/bin/env python3
"""Store agent convergence: 10,000 sales taken by `tillwire store-agent` while its hub is stopped (SIGSTOP: every
connection hangs, as on a dead link), then the time from SIGCONT until the hub's figures hold every sale. The ceiling
in the same run: the same 10,000 sales posted straight to the hub, 1,000 a request, one request after the other.
Release binaries; prints Markdown rows. Run by `Benchmarks/run store-agent`."""
import http.client, json, os, re, signal, socket, subprocess, sys, tempfile, threading, time

BIN = sys.argv[1]
SKUS = [f"BENCH-{i}" for i in range(10)]
SALES, TILLS, STOCK = 10_000, 4, 100_000

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def call(port, method, path, key=None, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json"}
    if key: h["Authorization"] = f"Bearer {key}"
    h.update(headers or {})
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, (json.loads(data) if data else {})

def wait_for(what, check, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if check(): return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")

def hub(folder, port):
    env = dict(os.environ, TILLWIRE_STORAGE_SQLITE_PATH=f"{folder}/hub.sqlite", TILLWIRE_HTTP_PORT=str(port), TILLWIRE_LOG_LEVEL="warning")
    return subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def key(folder, *arguments):
    env = dict(os.environ, TILLWIRE_STORAGE_SQLITE_PATH=f"{folder}/hub.sqlite")
    out = subprocess.run([BIN, "keys", "create", *arguments], env=env, check=True, capture_output=True, text=True).stdout
    return re.search(r"key:\s+(\S+)", out).group(1)

def on_hand(port, admin, store):
    figures = {}
    for sku in SKUS:
        _, body = call(port, "GET", f"/v1/availability?sku={sku}&location={store}", admin)
        figures[sku] = body["positions"][0]["on_hand"]
    return figures

def sales(store):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return [{"sku": SKUS[n % len(SKUS)], "location": store, "delta": -1, "reason": "sale", "occurred_at": now,
             "source": f"pos-{store}", "source_key": f"{store}/till-{n % TILLS}/{n}"} for n in range(SALES)]

folder = tempfile.mkdtemp()
env = dict(os.environ, TILLWIRE_STORAGE_SQLITE_PATH=f"{folder}/hub.sqlite")
subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
admin = key(folder, "--client", "bench", "--scope", "admin", "--rate", "100000", "--burst", "100000")
agent_key = key(folder, "--client", "store-1-agent", "--location", "store-1", "--scope", "inventory:write", "--scope", "inventory:read",
                "--scope", "orders:read")
port = free_port()
server = hub(folder, port)
wait_for("the hub", lambda: call(port, "GET", "/healthz")[0] == 200)
for store in ("store-1", "store-2"):
    call(port, "PUT", f"/v1/locations/{store}", admin, {"kind": "store", "name": store})
call(port, "POST", "/v1/products", admin, {"products": [{"sku": s, "name": "bench item"} for s in SKUS]})
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
call(port, "POST", "/v1/inventory/movements", admin, {"movements": [
    {"sku": s, "location": st, "delta": STOCK, "reason": "receipt", "occurred_at": now, "source": "erp", "source_key": f"open-{st}-{s}"}
    for s in SKUS for st in ("store-1", "store-2")]})
expected = {s: STOCK - SALES // len(SKUS) for s in SKUS}

# The ceiling: the same sales straight to the hub, 1,000 a request.
direct = sales("store-2")
start = time.time()
for i in range(0, SALES, 1_000):
    status, body = call(port, "POST", "/v1/inventory/movements", admin, {"movements": direct[i:i + 1_000]})
    assert status == 200, body
wait_for("the direct sales", lambda: on_hand(port, admin, "store-2") == expected)
ceiling = time.time() - start

agent_port = free_port()
agent = subprocess.Popen([BIN, "store-agent", "--store", "store-1", "--hub", f"http://127.0.0.1:{port}", "--database", f"{folder}/agent.sqlite",
                          "--port", str(agent_port), "--contact-seconds", "1"], env=dict(os.environ, TILLWIRE_AGENT_HUB_KEY=agent_key),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for("the agent online", lambda: call(agent_port, "GET", "/v1/agent/status")[1].get("hub_online") is True)
server.send_signal(signal.SIGSTOP)
queued = sales("store-1")
def till(t):
    c = http.client.HTTPConnection("127.0.0.1", agent_port, timeout=60)
    for n in range(t, SALES, TILLS):
        c.request("POST", "/v1/inventory/movements", body=json.dumps({"movements": [queued[n]]}),
                  headers={"Content-Type": "application/json", "Idempotency-Key": queued[n]["source_key"]})
        r = c.getresponse(); r.read()
        assert r.status == 202, r.status
threads = [threading.Thread(target=till, args=(t,)) for t in range(TILLS)]
taken = time.time()
for t in threads: t.start()
for t in threads: t.join()
intake = SALES / (time.time() - taken)
time.sleep(2)
server.send_signal(signal.SIGCONT)
back = time.time()
wait_for("the agent's sales at the hub", lambda: on_hand(port, admin, "store-1") == expected)
converged = time.time() - back
agent.terminate(); server.terminate(); agent.wait(); server.wait()
print(f"| 10,000 sales straight to the hub, 10 requests of 1,000 (ceiling, this run) | {ceiling:.1f} s | 1.00 |")
print(f"| store agent: 10,000 sales taken while the hub was stopped, link back → hub figures hold them all | {converged:.1f} s (goal ≤ 10 s) | {ceiling / converged:.2f} |")
print(f"| store agent: sales taken from 4 tills, one per request, each on disk before its answer | {intake:,.0f} sales/s | |")
