#!/usr/bin/python3
"""Slow clients for the fault tests: many connections to a loopback web server, each sending
its request a byte at a time (half of them dribble the request line and headers, half send the
headers of a POST at once and then dribble its body), so that a server which handed slow
requests to the workers would run out of them.

    slowloris.py --host 127.0.0.1 --port PORT --path /tsa --conns 200 --seconds 10
                 [--mode both|headers|body] [--source 127.0.0.2]

Bounded: stops after --seconds, refuses non-loopback hosts.  Prints how many connections were
opened and how many the server closed early (that is the server defending itself: fine).
"""
import argparse
import json
import random
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/tsa")
    ap.add_argument("--conns", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--source", default="",
                    help="the loopback address to connect from (default: the kernel's choice)")
    ap.add_argument("--mode", choices=("both", "headers", "body"), default="both")
    ap.add_argument("--reconnect", action="store_true",
                    help="replace each connection the server closes, as a real attacker does"
                         " (at most 20 times --conns connections in all)")
    args = ap.parse_args()
    if (not args.host.startswith("127.") and args.host != "::1") or \
            (args.source and not args.source.startswith("127.")):
        sys.exit("slowloris.py: loopback only")
    if not 1 <= args.conns <= 1000 or not 0 < args.seconds <= 120:
        sys.exit("slowloris.py: --conns 1..1000, --seconds up to 120")
    heads = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " % args.path).encode()
    post = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query"
            "\r\nContent-Length: 60000\r\n\r\n" % args.path).encode()
    def open_one(body):
        s = socket.create_connection((args.host, args.port), timeout=5,
                                     source_address=(args.source, 0) if args.source else None)
        if body:
            s.sendall(post)
            pending = iter(lambda: bytes([random.randint(0, 255)]), None)
        else:
            pending = iter([heads[j:j + 1] for j in range(len(heads))] + [b"a"] * 100000)
        s.setblocking(False)
        return s, pending, body

    socks = []
    opened = closed = failed = 0
    for i in range(args.conns):
        socks.append(open_one(args.mode == "body" or (args.mode == "both" and i % 2 == 1)))
        opened += 1
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline and socks:
        alive = []
        for s, pending, body in socks:
            try:
                s.send(next(pending))
                alive.append((s, pending, body))
            except (OSError, StopIteration):
                closed += 1
                s.close()
                if args.reconnect and opened < 20 * args.conns:
                    try:
                        alive.append(open_one(body))
                        opened += 1
                    except OSError:
                        failed += 1
        socks = alive
        time.sleep(0.5)
    for s, _, _ in socks:
        s.close()
    print(json.dumps({"opened": opened, "closed_by_server": closed,
                      "reconnects_refused": failed, "still_open_at_end": len(socks)}))


if __name__ == "__main__":
    main()
