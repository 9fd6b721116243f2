#!/usr/bin/env python3
"""The operations pages (/ui) in a real browser: headless Chromium driven over the Chrome DevTools Protocol, with a
WebSocket client of its own (Python's standard library only, nothing from PyPI).

It signs in at /ui/login with an admin key (typed into the form and submitted, as a person would), then for each page
of the list: navigates, waits for the load event, and checks that the main document answered 200, that every
expected text is in the page's visible text (document.body.innerText), and that the browser reported no error
(console.error and console.assert, uncaught exceptions, and the browser's own log at level error: a Content Security
Policy violation, a subresource that failed to load, a favicon that is missing). It takes a full-page screenshot
(1280 px wide) of each page as <name>.png. A page may then follow a link ("click") or submit a form ("form") and
check the page that follows the same way (<name>-after.png).

The page list is a JSON array of objects:

    {"name": "jobs-dead",                    # names the screenshot: letters, digits, '-', '_'
     "path": "/ui/jobs?state=dead",          # under --base
     "expect": ["Jobs", "{dead_job}"],       # texts that must be on the page
     "absent": ["no dead jobs"],             # texts that must not be (optional)
     "click": "a[href='/ui/jobs/{dead_job}']",   # optional: a link to follow (a CSS selector)
     "form": {"selector": "form[action$='/replay']", "fields": {"reason": "..."}},   # optional: a form to submit
     "expect_after": ["..."], "absent_after": ["..."]}   # on the page the click or the form led to

"{name}" in any string is replaced by that value of the --vars JSON object (scripts/dashboard-seed.sh writes one
with the ids it created); a placeholder with no value is an error. The pages are visited in the order listed, in
one browser session, so a page may rely on what an earlier one did (a replay changes the dead jobs' list).

Prints one line per page (name, HTTP status, milliseconds to the load event, problems) and exits 1 when any page
had a problem, listing every one; 2 when the browser could not be driven at all.

Usage: dashboard-check.py --base http://127.0.0.1:8080 --key-file KEYFILE --pages pages.json
                          [--vars seeded.json] [--screenshots DIR] [--chromium chromium] [--timeout 20]
"""
import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse


class DriverError(Exception):
    """The browser could not be driven (not a finding about the pages)."""


# --- WebSocket (RFC 6455), client side, text messages only ---------------------------------------------------------

class WebSocket:
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, timeout):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "ws":
            raise DriverError(f"not a ws:// URL: {url}")
        host, port = parts.hostname, parts.port or 80
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        status_line, *header_lines = head.split("\r\n")
        if " 101 " not in status_line + " ":
            raise DriverError(f"the WebSocket handshake was refused: {status_line}")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise DriverError("the WebSocket handshake answered a wrong Sec-WebSocket-Accept")

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise DriverError("the browser closed the DevTools connection")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exactly(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(max(65536, count - len(self.buffer)))
            if not chunk:
                raise DriverError("the browser closed the DevTools connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def receive_text(self, timeout):
        """The next whole text message (continuation frames joined), or None when nothing came within timeout.
        Answers pings; a close frame is an error (the browser went away)."""
        self.sock.settimeout(timeout)
        message, opcode_of_message = b"", None
        while True:
            try:
                first, second = self._read_exactly(2)
            except socket.timeout:
                if opcode_of_message is None:
                    return None
                raise DriverError("the browser stopped in the middle of a message")
            self.sock.settimeout(max(timeout, 30))  # the rest of a frame follows at once
            fin, opcode = first & 0x80, first & 0x0F
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read_exactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read_exactly(8))[0]
            mask = self._read_exactly(4) if second & 0x80 else None
            payload = self._read_exactly(length)
            if mask:
                payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
            if opcode == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:  # pong
                continue
            if opcode == 0x8:
                raise DriverError("the browser closed the DevTools connection")
            if opcode in (0x1, 0x2):
                message, opcode_of_message = payload, opcode
            elif opcode == 0x0:
                if opcode_of_message is None:
                    raise DriverError("a continuation frame without a message")
                message += payload
            if fin and opcode_of_message is not None:
                return message.decode()

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


# --- Chrome DevTools Protocol ----------------------------------------------------------------------------------------

class Browser:
    def __init__(self, chromium, timeout):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="tillwire-chromium.")
        self.log_path = os.path.join(self.profile, "chromium.log")
        self.log = open(self.log_path, "w")
        command = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
                   f"--user-data-dir={self.profile}", "--no-first-run", "--no-default-browser-check",
                   "--hide-scrollbars", "about:blank"]
        try:
            self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except OSError as error:
            raise DriverError(f"cannot start {chromium}: {error}")
        self.ws = WebSocket(self._devtools_url(), timeout)
        self.next_id = 0
        self.pending_events = []
        self.session = None
        self.version = self.call("Browser.getVersion")["product"]

    def _devtools_url(self):
        """The browser's DevTools WebSocket: from <profile>/DevToolsActivePort (port, then path), else from the
        'DevTools listening on ws://...' line Chromium prints."""
        deadline = time.monotonic() + self.timeout
        active = os.path.join(self.profile, "DevToolsActivePort")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DriverError(f"chromium exited with {self.process.returncode} before DevTools listened:\n{self._log_tail()}")
            if os.path.exists(active):
                lines = open(active).read().split("\n")
                if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].startswith("/devtools/"):
                    return f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
            found = re.search(r"DevTools listening on (ws://\S+)", open(self.log_path, errors="replace").read())
            if found:
                return found.group(1)
            time.sleep(0.05)
        raise DriverError(f"chromium did not open its DevTools port within {self.timeout} s:\n{self._log_tail()}")

    def _log_tail(self):
        self.log.flush()
        return "".join(open(self.log_path, errors="replace").readlines()[-20:])

    def call(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        self.ws.send_text(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DriverError(f"{method}: no answer within {self.timeout} s")
            received = self.ws.receive_text(left)
            if received is None:
                continue
            data = json.loads(received)
            if data.get("id") == self.next_id:
                if "error" in data:
                    raise DriverError(f"{method}: {data['error'].get('message')} {data['error'].get('data', '')}".strip())
                return data.get("result", {})
            if "method" in data:
                self.pending_events.append(data)

    def events(self, wait):
        """Events already received, then those that arrive within `wait` seconds (one at a time, as they come)."""
        while self.pending_events:
            yield self.pending_events.pop(0)
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            received = self.ws.receive_text(left)
            if received is None:
                return
            data = json.loads(received)
            if "method" in data:
                yield data

    def open_page(self):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        self.frame = self.call("Page.getFrameTree")["frameTree"]["frame"]["id"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise DriverError(f"evaluating {expression[:60]!r}: {details.get('exception', {}).get('description') or details.get('text')}")
        return result["result"].get("value")

    def screenshot(self, path):
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": 1280, "height": max(1, min(int(size["height"] + 0.999), 16384)), "scale": 1}
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Visit:
    """What the browser reported while one page loaded: the main document's status and every error it logged."""

    def __init__(self, frame):
        self.frame = frame
        self.status = None
        self.url = None
        self.loaded = False
        self.errors = []
        self.inflight = set()

    def problem(self, text):
        text = " ".join(text.split())
        if text not in self.errors:
            self.errors.append(text)

    def take(self, event):
        method, params = event["method"], event.get("params", {})
        if method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Network.requestWillBeSent":
            self.inflight.add(params["requestId"])
        elif method == "Network.responseReceived":
            if params.get("type") == "Document" and params.get("frameId") == self.frame:
                self.status = params["response"]["status"]
                self.url = params["response"]["url"]
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            self.inflight.discard(params["requestId"])
            if method == "Network.loadingFailed" and not params.get("canceled") and params.get("type") != "Document":
                reason = params.get("blockedReason") or params.get("corsErrorStatus", {}).get("corsError") or params.get("errorText")
                self.problem(f"network: {params.get('type', 'a resource')} failed to load: {reason}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            self.problem(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.problem(f"uncaught exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            where = f" ({entry['url']})" if entry.get("url") else ""
            self.problem(f"browser log [{entry.get('source')}]: {entry.get('text')}{where}")


def load(browser, start, timeout):
    """Starts a navigation (start() navigates, clicks or submits; it returns why it could not, or nothing) and waits
    for the page's load event, then for the browser to settle (no request in flight for 300 ms, at most 3 s), so
    late errors are caught. Returns the visit, the milliseconds to the load event, and why it could not start."""
    visit = Visit(browser.frame)
    list(browser.events(0.05))  # what came before belongs to the page before
    began = time.monotonic()
    refused = start()
    if refused:
        return visit, 0, refused
    deadline = began + timeout
    while not visit.loaded:
        left = deadline - time.monotonic()
        if left <= 0:
            visit.problem(f"the page did not finish loading within {timeout} s")
            break
        for event in browser.events(min(left, 0.5)):
            visit.take(event)
            if visit.loaded:
                break
    elapsed = int((time.monotonic() - began) * 1000)
    settle_until = time.monotonic() + 3
    quiet_since = time.monotonic()
    while time.monotonic() < settle_until:
        got = False
        for event in browser.events(0.1):
            visit.take(event)
            got = True
        if got or visit.inflight:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.3:
            break
    return visit, elapsed, None


def substitute(value, variables, where):
    if isinstance(value, str):
        def replace(match):
            name = match.group(1)
            if name not in variables:
                raise DriverError(f"{where}: no value for the placeholder {{{name}}} (known: {', '.join(sorted(variables)) or 'none'})")
            if not isinstance(variables[name], (str, int)):
                raise DriverError(f"{where}: the placeholder {{{name}}} is not a string or a number in --vars")
            return str(variables[name])
        return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", replace, value)
    if isinstance(value, list):
        return [substitute(item, variables, where) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables, where) for key, item in value.items()}
    return value


def check_texts(browser, expect, absent, problems):
    text = browser.evaluate("document.body ? document.body.innerText : ''") or ""
    for wanted in expect:
        if wanted not in text:
            problems.append(f"missing text: {wanted!r}")
    for unwanted in absent:
        if unwanted in text:
            problems.append(f"text that should not be there: {unwanted!r}")


def finish(browser, visit, problems, what):
    """Puts the main document's status and the browser's errors first in problems, after taking the events that
    came while the page was read and photographed."""
    for event in browser.events(0.05):
        visit.take(event)
    found = []
    if visit.status is None:
        found.append(f"{what}: the browser saw no response for the main document")
    elif visit.status != 200:
        found.append(f"{what}: HTTP {visit.status} for {visit.url}")
    found.extend(f"{what}: {error}" for error in visit.errors)
    problems[0:0] = found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the hub, e.g. http://127.0.0.1:8080")
    parser.add_argument("--key-file", required=True, help="a file holding an admin API key")
    parser.add_argument("--pages", required=True, help="the page list (JSON)")
    parser.add_argument("--vars", help="a JSON object whose values replace {name} placeholders in the page list")
    parser.add_argument("--screenshots", default=".", help="where the screenshots go (created)")
    parser.add_argument("--chromium", default=os.environ.get("TILLWIRE_CHROMIUM", "chromium"))
    parser.add_argument("--timeout", type=float, default=20, help="seconds a page may take to load")
    args = parser.parse_args()

    base = args.base.rstrip("/")
    key = open(args.key_file).read().strip()
    variables = json.load(open(args.vars)) if args.vars else {}
    pages = json.load(open(args.pages))
    if not isinstance(pages, list) or not pages:
        raise DriverError(f"{args.pages}: not a non-empty JSON array of pages")
    names = set()
    for index, page in enumerate(pages):
        where = f"{args.pages}[{index}]"
        if not isinstance(page, dict) or not isinstance(page.get("path"), str) or not re.fullmatch(r"[A-Za-z0-9_-]+", str(page.get("name", ""))):
            raise DriverError(f"{where}: each page needs a \"path\" and a \"name\" of letters, digits, '-' and '_'")
        unknown = set(page) - {"name", "path", "expect", "absent", "click", "form", "expect_after", "absent_after"}
        if unknown:
            raise DriverError(f"{where}: unknown keys {sorted(unknown)}")
        if page["name"] in names or page["name"] == "login":
            raise DriverError(f"{where}: the name {page['name']!r} is used twice (or is 'login', the sign-in's own)")
        names.add(page["name"])
        if "click" in page and "form" in page:
            raise DriverError(f"{where}: a page may click or submit a form, not both")
        pages[index] = substitute(page, variables, where)
    os.makedirs(args.screenshots, exist_ok=True)

    began = time.monotonic()
    browser = Browser(args.chromium, args.timeout)
    failures = []
    try:
        print(f"dashboard-check: {browser.version} (started in {int((time.monotonic() - began) * 1000)} ms), {base}, "
              f"{len(pages)} pages, screenshots in {os.path.abspath(args.screenshots)}")
        browser.open_page()

        def report(name, visit, elapsed, problems):
            print(f"  {name:<28} {visit.status if visit.status is not None else '---'}  {elapsed:>6} ms  "
                  + ("ok" if not problems else f"{len(problems)} problem(s)"), flush=True)
            for problem in problems:
                print(f"      - {problem}", flush=True)
            failures.extend(f"{name}: {problem}" for problem in problems)

        def navigate(url):
            result = browser.call("Page.navigate", {"url": url})
            return f"the browser could not open {url}: {result['errorText']}" if result.get("errorText") else None

        # Sign in as a person would: the sign-in form, the key typed in, the form submitted.
        problems = []
        visit, elapsed, _ = load(browser, lambda: navigate(base + "/ui/login"), args.timeout)
        if visit.loaded:
            check_texts(browser, ["Sign in", "Admin API key"], [], problems)
            browser.screenshot(os.path.join(args.screenshots, "login.png"))
        finish(browser, visit, problems, "/ui/login")
        report("login", visit, elapsed, problems)
        if not visit.loaded:
            raise DriverError("the sign-in page did not load; the pages were not checked")
        problems = []
        visit, elapsed, refused = load(browser, lambda: browser.evaluate(f"""(() => {{
            const field = document.querySelector('form[action="/ui/login"] input[type=password][name=key]');
            if (!field) return 'no password field named key in a form posting to /ui/login';
            field.value = {json.dumps(key)};
            field.form.requestSubmit();
            return ''; }})()"""), args.timeout)
        signed_in = False
        if refused:
            problems.append(refused)
        else:
            finish(browser, visit, problems, "signing in")
            where = browser.evaluate("location.pathname + location.search") if visit.loaded else "?"
            if not visit.loaded:
                pass
            elif where.startswith("/ui/login"):
                shown = browser.evaluate("(document.querySelector('.error') || {}).innerText || ''")
                problems.append(f"signing in did not work: still at {where}" + (f" ({shown})" if shown else ""))
            elif not browser.evaluate("!!document.querySelector('form[action=\"/ui/logout\"]')"):
                problems.append(f"signed in, landed on {where}, but the page has no sign-out form")
            else:
                signed_in = True
                print(f"  (signed in, landed on {where})")
        report("login (after)", visit, elapsed, problems)
        if not signed_in:
            raise DriverError("could not sign in; the pages were not checked")

        for page in pages:
            problems = []
            url = base + page["path"]
            visit, elapsed, refused = load(browser, lambda: navigate(url), args.timeout)
            if refused:
                problems.append(refused)
            if visit.loaded:
                check_texts(browser, page.get("expect", []), page.get("absent", []), problems)
                browser.screenshot(os.path.join(args.screenshots, f"{page['name']}.png"))
            finish(browser, visit, problems, page["path"])
            report(page["name"], visit, elapsed, problems)
            if not visit.loaded or not (page.get("click") or page.get("form")):
                continue

            problems = []
            if page.get("click"):
                what = f"following {page['click']}"
                action = f"""(() => {{
                    const link = document.querySelector({json.dumps(page['click'])});
                    if (!link) return 'no element matches ' + {json.dumps(page['click'])};
                    link.click(); return ''; }})()"""
            else:
                form = page["form"]
                what = f"submitting {form['selector']}"
                action = f"""(() => {{
                    const form = document.querySelector({json.dumps(form['selector'])});
                    if (!form || form.tagName !== 'FORM') return 'no form matches ' + {json.dumps(form['selector'])};
                    for (const [name, value] of Object.entries({json.dumps(form.get('fields', {}))})) {{
                        const field = form.elements.namedItem(name);
                        if (!field) return 'the form has no field named ' + name;
                        field.value = value;
                    }}
                    if (!form.checkValidity()) return 'the form is not valid as filled: ' +
                        Array.from(form.elements).filter(e => !e.checkValidity()).map(e => e.name + ': ' + e.validationMessage).join('; ');
                    form.requestSubmit(); return ''; }})()"""
            visit, elapsed, refused = load(browser, lambda: browser.evaluate(action), args.timeout)
            if refused:
                problems.append(f"{what}: {refused}")
            else:
                if visit.loaded:
                    check_texts(browser, page.get("expect_after", []), page.get("absent_after", []), problems)
                    browser.screenshot(os.path.join(args.screenshots, f"{page['name']}-after.png"))
                finish(browser, visit, problems, what)
            report(f"{page['name']} (after)", visit, elapsed, problems)
    except DriverError as error:
        failures.append(f"driver: {error}")
    finally:
        browser.close()

    took = f"{time.monotonic() - began:.1f} s"
    if failures:
        print(f"dashboard-check: FAILED in {took}, {len(failures)} problem(s):")
        for failure in failures:
            print(f"  - {failure}")
        return 1
    print(f"dashboard-check: all {len(pages)} pages passed in {took}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DriverError as error:
        print(f"dashboard-check: {error}", file=sys.stderr)
        sys.exit(2)
