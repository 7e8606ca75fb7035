#!/usr/bin/env python3
"""Slow FastCGI peers (stdlib only) for the request-deadline tests: connections straight to a
FastCGI socket (tsa.sock, admin.sock) that send a request too slowly, as a broken web server or
anyone who can reach the socket could.

  fcgi_stall.py --socket PATH --conns N (--stall BYTES | --trickle SECONDS) [--seconds MAX]

--stall BYTES: each connection sends the first BYTES bytes of a request (8: the header of its
FCGI_BEGIN_REQUEST record) and then nothing.  --trickle SECONDS: each sends its request one
byte every SECONDS.  Runs until every connection was closed by the server, or MAX seconds.
Prints JSON: {"conns": N, "closed_after": [seconds from connect to the server's close, or null
when still open at the end], "bytes_sent": [...]}.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fcgi_client import BEGIN_REQUEST, PARAMS, REQ_ID, RESPONDER, STDIN, VERSION, params, record  # noqa: E402


def request():
    body = b"\x30" * 64
    env = {"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/tsa", "REQUEST_URI": "/tsa",
           "TSA_SERVICE": "tsa", "CONTENT_TYPE": "application/timestamp-query",
           "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1"}
    return (struct.pack(">BBHHBx", VERSION, BEGIN_REQUEST, REQ_ID, 8, 0) +
            struct.pack(">HB5x", RESPONDER, 0) + record(PARAMS, params(env)) +
            record(PARAMS, b"") + record(STDIN, body) + record(STDIN, b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--stall", type=int)
    ap.add_argument("--trickle", type=float)
    ap.add_argument("--seconds", type=float, default=30.0)
    a = ap.parse_args()
    if (a.stall is None) == (a.trickle is None):
        ap.error("one of --stall or --trickle")
    req = request()
    conns = []
    for _ in range(a.conns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(a.socket)
        t0 = time.monotonic()
        sent = 0
        if a.stall is not None:
            s.sendall(req[:a.stall])
            sent = a.stall
        conns.append({"s": s, "t0": t0, "sent": sent, "next": t0, "closed": None})
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        live = [c for c in conns if c["closed"] is None]
        if not live:
            break
        now = time.monotonic()
        if a.trickle is not None:
            for c in live:
                if now >= c["next"] and c["sent"] < len(req):
                    try:
                        c["s"].send(req[c["sent"]:c["sent"] + 1])
                        c["sent"] += 1
                    except OSError:
                        c["closed"] = now - c["t0"]
                    c["next"] = now + a.trickle
            live = [c for c in live if c["closed"] is None]
            wait = min([c["next"] for c in live] + [end]) - now
        else:
            wait = end - now
        r, _, _ = select.select([c["s"] for c in live], [], [], max(0.0, min(wait, 0.5)))
        for c in live:
            if c["s"] in r:
                try:
                    got = c["s"].recv(4096)
                except OSError:
                    got = b""
                # The server closed it (EOF or reset); an answer would be a failure to report.
                if not got:
                    c["closed"] = time.monotonic() - c["t0"]
                else:
                    c.setdefault("answered", True)
    print(json.dumps({"conns": a.conns,
                      "closed_after": [None if c["closed"] is None else round(c["closed"], 2) for c in conns],
                      "bytes_sent": [c["sent"] for c in conns],
                      "answered": sum(1 for c in conns if c.get("answered"))}))
    for c in conns:
        c["s"].close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
