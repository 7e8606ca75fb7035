#!/usr/bin/env python3
"""load.py - a fixed-rate load of RFC 3161 requests through both cluster frontends, for the
cluster suite (tests/cluster/run.sh).  Runs in the client's namespace.

Each request has its own random SHA-256 imprint; requests alternate between the plain-HTTP
frontend and the mutual-TLS one.  Every answer is kept: a granted token is written (base64,
one per line) to OUT/tokens, every other outcome counted by kind, with the time it was seen.
Bounded: --seconds of sending at --rate requests per second, by --threads senders; each
request times out after 60 s (beyond the frontends' 40 s FastCGI read timeout, so that a
server's answer, a refusal included, always comes first).

usage: load.py --rate R --seconds S --out DIR --http URL --https URL --cert C --key K --ca CA
         [--stop-file F]   (sending stops early when F exists)
Writes OUT/summary.json: sent, granted, refused (HTTP status or PKIStatus), failed (no
answer), and the times (seconds from the start) of every request not granted.
"""
import argparse
import base64
import http.client
import importlib.util
import json
import os
import ssl
import threading
import time
import urllib.parse

# The RFC 3161 request and answer codecs of the soak's load (tests/soak/load.py): one of each.
_spec = importlib.util.spec_from_file_location(
    "soak_load", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "soak", "load.py"))
soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak)


class Load:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.sent = self.granted = 0
        self.refused = {}
        self.failed = {}
        self.bad_times = []
        self.tokens = open(os.path.join(a.out, "tokens"), "w")
        self.ctx = ssl.create_default_context(cafile=a.ca)
        self.ctx.check_hostname = False
        self.ctx.load_cert_chain(a.cert, a.key)
        self.t0 = time.monotonic()
        self.next = 0

    def conn(self, url):
        u = urllib.parse.urlsplit(url)
        if u.scheme == "https":
            return http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=60,
                                               context=self.ctx), u.path or "/"
        return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60), u.path

    def one(self, i):
        url = self.a.http if i % 2 == 0 else self.a.https
        t = time.monotonic() - self.t0
        kind = None
        try:
            c, path = self.conn(url)
            c.request("POST", path, soak.rfc3161_query(os.urandom(32)),
                      {"Content-Type": "application/timestamp-query"})
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status != 200:
                kind = ("refused", "http %d" % r.status)
            else:
                status, tok, _ = soak.rfc3161_answer(body)
                if status not in (0, 1) or tok is None:
                    kind = ("refused", "status %d" % status)
        except Exception as e:  # no answer at all: counted, never fatal
            kind = ("failed", type(e).__name__)
            tok = None
        with self.lock:
            self.sent += 1
            if kind is None:
                self.granted += 1
                self.tokens.write(base64.b64encode(tok).decode() + "\n")
            else:
                d = self.refused if kind[0] == "refused" else self.failed
                d[kind[1]] = d.get(kind[1], 0) + 1
                self.bad_times.append([round(t, 3), kind[0], kind[1]])

    def sender(self):
        while True:
            with self.lock:
                i = self.next
                self.next += 1
            due = self.t0 + i / self.a.rate
            if due - self.t0 >= self.a.seconds or (self.a.stop_file and
                                                   os.path.exists(self.a.stop_file)):
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.one(i)

    def run(self):
        ts = [threading.Thread(target=self.sender) for _ in range(self.a.threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.tokens.close()
        summary = {"sent": self.sent, "granted": self.granted, "refused": self.refused,
                   "failed": self.failed, "not_granted_at": sorted(self.bad_times),
                   "seconds": round(time.monotonic() - self.t0, 2)}
        with open(os.path.join(self.a.out, "summary.json"), "w") as f:
            json.dump(summary, f)


def main():
    p = argparse.ArgumentParser()
    for k in ("out", "http", "https", "cert", "key", "ca"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--stop-file")
    a = p.parse_args()
    if not (0 < a.rate <= 2000 and 0 < a.seconds <= 600 and 1 <= a.threads <= 64):
        p.error("rate 0-2000, seconds 0-600, threads 1-64")
    os.makedirs(a.out, exist_ok=True)
    Load(a).run()


if __name__ == "__main__":
    main()
