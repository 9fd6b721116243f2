#!/usr/bin/env python3
"""A stand-in django-oscar shop for scripts/dashboard-check.sh: the two endpoints the hub's Oscar connector calls to
publish a channel's availability (docs/connectors/oscar.md), and nothing else.

    GET   /peer/stockrecords/?partner_sku=SKU   the shop's stock records of a SKU: one for each SKU it lists, none for
                                                 the others (the hub then dead-letters that SKU's publish job)
    PATCH /api/admin/stockrecords/<id>/         {"num_in_stock": N}: stored

and a control route for the seed: POST /control/down makes every shop call answer 503 from then on (the shop went
down, so the hub's breaker for the channel opens), POST /control/up brings it back. GET /control/state tells the
state, the calls received and the last figure set per SKU.

Usage: dashboard-fake-shop.py PORT LISTED_SKU[,LISTED_SKU...]   (loopback only; prints "listening" once bound)
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

port = int(sys.argv[1])
listed = [sku for sku in sys.argv[2].split(",") if sku]
records = {sku: {"id": index + 1, "partner_sku": sku, "num_in_stock": 0, "num_allocated": 0} for index, sku in enumerate(listed)}
state = {"down": False, "calls": 0, "refused": 0}
lock = threading.Lock()


class Shop(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def shop_call(self):
        with lock:
            state["calls"] += 1
            if state["down"]:
                state["refused"] += 1
                return False
        return True

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/control/state":
            with lock:
                return self.answer(200, dict(state, records=list(records.values())))
        if url.path == "/peer/stockrecords/":
            if not self.shop_call():
                return self.answer(503, {"detail": "the shop is down for the check"})
            sku = parse_qs(url.query).get("partner_sku", [""])[0]
            with lock:
                return self.answer(200, [records[sku]] if sku in records else [])
        self.answer(404, {"detail": "not found"})

    def do_PATCH(self):
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if parts[:3] == ["api", "admin", "stockrecords"] and len(parts) == 4:
            if not self.shop_call():
                return self.answer(503, {"detail": "the shop is down for the check"})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            with lock:
                for record in records.values():
                    if str(record["id"]) == parts[3]:
                        record["num_in_stock"] = body.get("num_in_stock", record["num_in_stock"])
                        return self.answer(200, record)
            return self.answer(404, {"detail": "no such stock record"})
        self.answer(404, {"detail": "not found"})

    def do_POST(self):
        if self.path in ("/control/down", "/control/up"):
            with lock:
                state["down"] = self.path == "/control/down"
                return self.answer(200, state)
        self.answer(404, {"detail": "not found"})

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Shop)
print("listening", flush=True)
server.serve_forever()
