#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium against a real `sandi serve`.

Starts Sandi on a throw-away data directory, creates a dashboard account with `sandi admin create`,
generates traffic over the public API (5 verifications, 3 approved, 1 wrong code), then drives
Chromium over the DevTools protocol (`--remote-debugging-pipe`, standard library only): signs in
with the password and the authenticator's current code, waits until the overview shows the numbers
the test generated, opens a verification's timeline, and saves screenshots that it checks are
not blank.

Usage: scripts/browser-test.py [path to the sandi binary] [directory for screenshots]
Exit status 0 when everything held; the first failed expectation is printed otherwise.
"""
import base64
import hashlib
import hmac
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
import urllib.error
import urllib.request
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_b32, at):
    secret = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(secret, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


def http(method, url, body=None, key=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    raise Failure("Chromium not found (apt-get install -y chromium)")


class Chromium:
    """The DevTools protocol over a pipe: JSON messages separated by NUL bytes on fds 3 and 4."""

    def __init__(self, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def plumb():
            # Through fresh copies: dup2 onto the same number would keep close-on-exec.
            reads, writes = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(reads, 3)
            os.dup2(writes, 4)

        self.process = subprocess.Popen(
            [find_chromium(), "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--window-size=1280,900",
             "--user-data-dir=" + profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=plumb, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=True)

    def read_message(self, deadline):
        while b"\0" not in self.buffer:
            if time.time() > deadline:
                raise Failure("Chromium did not answer in time")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise Failure("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=False, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            answer = self.read_message(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise Failure("%s failed: %s" % (method, answer["error"]))
                return answer.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True)
        return result.get("result", {}).get("value")

    def navigate(self, url):
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", "page " + url + " loaded")

    def wait_for(self, expression, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(expression):
                    return
            except Failure:
                pass
            time.sleep(0.2)
        raise Failure("timed out waiting for " + what + " (at " + str(self.evaluate("location.href")) + ")")

    def screenshot(self, path):
        data = base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return data

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def png_colors(data):
    """Distinct pixel colours (sampled) of an 8-bit RGB(A) PNG: a blank page has one or two."""
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
    pos, idat, width, height, channels = 8, b"", 0, 0, 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            expect(depth == 8 and colour in (2, 6), "8-bit RGB(A) screenshot")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upper_left)) & 0xFF
        previous = line
        if row % 7 == 0:
            for x in range(0, width, 5):
                colours.add(bytes(line[x * channels:x * channels + 3]))
    return len(colours)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "sandi")
    shots = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="sandi-shots-")
    os.makedirs(shots, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sandi-browser-")
    data = os.path.join(work, "data")
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    env = dict(os.environ, SANDI_LOG_LEVEL="warning")
    server = subprocess.Popen([binary, "serve", "--data-dir", data, "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "server.log"), "w"))
    browser = None
    try:
        deadline = time.time() + 30
        while True:
            try:
                if http("GET", base + "/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            expect(time.time() < deadline and server.poll() is None, "sandi serve did not start")
            time.sleep(0.2)
        key = open(os.path.join(data, "demo-api-key")).read().strip()
        created = subprocess.run([binary, "admin", "create", "ana", "--role", "admin", "--data-dir", data],
                                 env=env, capture_output=True, text=True, check=True).stdout
        password = re.search(r"password: (\S+)", created).group(1)
        secret = re.search(r"secret=([A-Z2-7]+)", created).group(1)

        # Traffic: five verifications, three approved, one wrong code.
        ids = []
        for i in range(5):
            status, body = http("POST", base + "/v1/verifications", {"to": "+62812345670%d" % i, "purpose": "login"}, key)
            expect(status == 201, "start: %s %s" % (status, body))
            ids.append(body["id"])
        for i, vid in enumerate(ids[:4]):
            code = None
            for _ in range(100):
                _, outbox = http("GET", base + "/v1/dev/outbox?to=%%2B62812345670%d" % i, key=key)
                if outbox["messages"]:
                    code = outbox["messages"][0]["code"]
                    break
                time.sleep(0.1)
            expect(code, "the simulated phone got a code")
            status, body = http("POST", base + "/v1/verifications/%s/check" % vid, {"code": code if i < 3 else "000000"}, key)
            expect(status == 200, "check: %s %s" % (status, body))

        browser = Chromium(os.path.join(work, "profile"))
        browser.navigate(base + "/dashboard")
        expect("/dashboard/login" in browser.evaluate("location.href"), "anonymous visitors are sent to sign in")
        fill = ("document.querySelector('input[name=name]').value='ana';"
                "document.querySelector('input[name=password]').value=%s;"
                "document.querySelector('input[name=code]').value=%s;"
                "document.querySelector('form').submit(); true") % (json.dumps(password), json.dumps(totp(secret, time.time())))
        browser.evaluate(fill)
        browser.wait_for("location.pathname === '/dashboard' && document.readyState === 'complete'", "the overview after signing in")
        # The worker seals events (and so the aggregates) every second: reload until they show.
        tile = "(document.querySelector('[data-field=verifications]')||{}).textContent"
        for _ in range(40):
            if browser.evaluate(tile) == "5":
                break
            time.sleep(0.5)
            browser.navigate(base + "/dashboard")
        expect(browser.evaluate(tile) == "5", "overview shows 5 verifications, shows %r" % browser.evaluate(tile))
        success = browser.evaluate("document.querySelector('[data-field=success_rate]').textContent")
        expect(success == "60.0 %", "success rate 3 of 5, shows %r" % success)
        wrong = browser.evaluate("document.querySelector('[data-field=failed_checks]').textContent")
        expect(wrong == "1", "one wrong code, shows %r" % wrong)
        expect(browser.evaluate("!!document.querySelector('.chart svg rect')"), "the chart is drawn")
        overview_png = browser.screenshot(os.path.join(shots, "dashboard-overview.png"))
        expect(png_colors(overview_png) > 8, "the overview screenshot is not blank")

        browser.navigate(base + "/dashboard/verifications/" + ids[0])
        browser.wait_for("document.body.innerText.includes('Timeline')", "the timeline")
        text = browser.evaluate("document.body.innerText")
        masked = "+62" + "*" * (len("628123456700") - 5) + "700"
        expect(masked in text, "the number is shown masked (%s)" % masked)
        expect("8123456700" not in text, "no full number on the page")
        expect("verification.approved" in text and "delivery.sent" in text, "the timeline lists the events")
        timeline_png = browser.screenshot(os.path.join(shots, "dashboard-timeline.png"))
        expect(png_colors(timeline_png) > 8, "the timeline screenshot is not blank")
        # A worker who lost their old SIM: the number change waits for an approval on the Users page.
        status, body = http("PUT", base + "/v1/users/emp-4411", {"phone": "+8801712345678", "group": "worker", "locale": "bn"}, key)
        expect(status == 201, "register a worker: %s %s" % (status, body))
        status, change = http("POST", base + "/v1/phone-changes",
                              {"user_ref": "emp-4411", "new_to": "+60123456789", "old_number_available": False}, key)
        expect(status == 201 and change["method"] == "approval" and "approval" in change["requires"], "phone change: %s %s" % (status, change))
        browser.navigate(base + "/dashboard/users")
        browser.wait_for("document.body.innerText.includes('waiting for an approval')", "the users page")
        text = browser.evaluate("document.body.innerText")
        expect(change["id"] in text and "emp-4411" in text, "the waiting change is listed")
        expect("8801712345678" not in text and "60123456789" not in text, "numbers are shown masked")
        users_png = browser.screenshot(os.path.join(shots, "dashboard-users.png"))
        expect(png_colors(users_png) > 8, "the users screenshot is not blank")
        browser.evaluate("document.querySelector('input[name=note]').value='work permit checked at the site office';"
                         "document.querySelector('button[value=approve]').click(); true")
        try:
            browser.wait_for("document.body.innerText.includes('Approved')", "the approval notice")
        except Failure:
            print(browser.evaluate("document.body.innerText")[:1500], file=sys.stderr)
            raise
        _, after = http("GET", base + "/v1/phone-changes/" + change["id"], key=key)
        expect(after["approved_by"] == "dashboard:ana" and after["requires"] == ["new_number_code"],
               "approved by the signed-in admin: %s" % after)
        print("browser test: signed in, overview 5 verifications / 60.0 %% success / 1 wrong code, timeline masked, "
              "number change approved on the users page; screenshots in %s" % shots)
        return 0
    except (Failure, subprocess.CalledProcessError, AttributeError) as error:
        print("browser test FAILED: %s" % error, file=sys.stderr)
        try:
            print(open(os.path.join(work, "server.log")).read()[-2000:], file=sys.stderr)
        except OSError:
            pass
        return 1
    finally:
        if browser:
            browser.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
