#!/usr/bin/env python3
"""Kills a loaded Sandi with SIGKILL and checks that every start it acknowledged survived.

Runs `sandi serve` on a fresh data directory (the embedded SQLite), puts the demo tenant's risk
rules in record-only mode (so nothing is refused), sends starts from 16 connections, kills the
server with SIGKILL after the given seconds, starts it again on the same directory, and reads
back every verification that had been answered 201. Then runs `PRAGMA integrity_check` on the
database (with the `sqlite3` shell, if there is one). Exits 1 when anything is missing.

Usage: scripts/crash-check.py [sandi binary (.build/release/sandi)] [seconds before the kill (3)] [rounds (3)]
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BASE = "http://127.0.0.1:8080"


def serve(binary, data):
    process = subprocess.Popen([binary, "serve", "--data-dir", data],
                               stdout=open(os.path.join(data, "serve.log"), "a"), stderr=subprocess.STDOUT)
    for _ in range(150):
        try:
            urllib.request.urlopen(BASE + "/health/live", timeout=1)
            return process
        except Exception:
            time.sleep(0.2)
    process.kill()
    sys.exit("the server did not come up (is port 8080 free?)")


def call(method, path, key, body=None):
    request = urllib.request.Request(BASE + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", "Bearer " + key)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def round_once(binary, seconds):
    data = tempfile.mkdtemp(prefix="sandi-crash.")
    try:
        server = serve(binary, data)
        with open(os.path.join(data, "demo-api-key")) as file:
            key = file.read().strip()
        _, current = call("GET", "/v1/settings/risk", key)
        settings = current["settings"]
        for rule in settings.get("limits", []):
            rule["mode"] = "record"
        for part in ("risk", "pumping"):
            if part in settings:
                settings[part]["mode"] = "record"
        status, _ = call("PUT", "/v1/settings/risk", key, settings)
        assert status == 200, status

        acknowledged, lock, stop = [], threading.Lock(), threading.Event()

        def client():
            while not stop.is_set():
                try:
                    status, body = call("POST", "/v1/verifications", key,
                                        {"to": "+62812%08d" % random.randrange(10**8), "purpose": "login"})
                except Exception:
                    return  # the server is gone
                if status == 201:
                    with lock:
                        acknowledged.append(body["id"])

        clients = [threading.Thread(target=client) for _ in range(16)]
        for thread in clients:
            thread.start()
        time.sleep(seconds)
        os.kill(server.pid, signal.SIGKILL)
        stop.set()
        for thread in clients:
            thread.join()
        server.wait()

        server = serve(binary, data)
        missing = [id for id in acknowledged if call("GET", "/v1/verifications/" + id, key)[0] != 200]
        integrity = "not checked (no sqlite3 shell)"
        if shutil.which("sqlite3"):
            integrity = subprocess.run(["sqlite3", os.path.join(data, "sandi.sqlite"), "PRAGMA integrity_check"],
                                       capture_output=True, text=True).stdout.strip()
        server.terminate()
        server.wait()
        print(f"acknowledged before SIGKILL: {len(acknowledged)}; missing after restart: {len(missing)}; "
              f"integrity_check: {integrity}")
        return not missing and integrity in ("ok", "not checked (no sqlite3 shell)")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/sandi"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    if not os.access(binary, os.X_OK):
        sys.exit(f"no {binary}: swift build -c release --product sandi")
    results = [round_once(binary, seconds + index) for index in range(rounds)]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
