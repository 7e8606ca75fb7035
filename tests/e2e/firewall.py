"""The two ends of tests/e2e/firewall.sh, each run in its own network namespace.

  firewall.py serve PORT
      accepts TCP connections on PORT (IPv4 and IPv6) and holds each until its client closes;
      prints "ready" once listening.
  firewall.py probe --dst4 A --dst6 A --port P --conns N --burst R --src-a A --src-b A
                    --src-c A --src-e A --src6 A
      the client side: (a) N+20 connections at once from src-a, held; (b) one from src-b while
      they are; (c) 4R connect attempts from src-c within 0.5 s, each closed (with a reset)
      as soon as it is established, then after 2 s of quiet 20 more; (d) N+20 at once from src-e
      (in the exempt set); (e) N+20 at once from src6.  Prints one JSON object with the counts
      of each: established, refused (a reset) and unanswered (no answer within the timeout:
      the SYN was dropped).
Bounded: every attempt has a timeout, the whole run takes under 15 s.
"""

import argparse
import errno
import json
import resource
import selectors
import socket
import struct
import sys
import time


def serve(port):
    sel = selectors.DefaultSelector()
    listeners = []
    for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        s.listen(4096)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "listen")
        listeners.append(s)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "listen":
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, "conn")
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()


def attempt(family, src, dst, port, n, timeout, spread=0.0, reset=False):
    """n connects from src, started evenly over spread seconds (0: all at once), each given
    timeout seconds; with reset, each is closed with a reset as soon as it is established (so
    they never add up to the per-address count).  Returns (established sockets, refused,
    unanswered, other errors)."""
    sel = selectors.DefaultSelector()
    deadlines = {}
    established, refused, other, unanswered = [], 0, 0, 0
    t0 = time.monotonic()
    started = 0
    while started < n or deadlines:
        now = time.monotonic()
        while started < n and now >= t0 + spread * started / n:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, 0))
            e = s.connect_ex((dst, port))
            if e not in (0, errno.EINPROGRESS):
                raise OSError(e, "connect from %s: %s" % (src, errno.errorcode.get(e, e)))
            sel.register(s, selectors.EVENT_WRITE)
            deadlines[s] = now + timeout
            started += 1
        for s in [s for s, d in deadlines.items() if d <= now]:
            sel.unregister(s)
            del deadlines[s]
            s.close()
            unanswered += 1
        wake = [d for d in deadlines.values()]
        if started < n:
            wake.append(t0 + spread * started / n)
        if not wake:
            break
        for key, _ in sel.select(max(0.0, min(wake) - time.monotonic())):
            s = key.fileobj
            sel.unregister(s)
            del deadlines[s]
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e == 0:
                if reset:
                    reset_all([s])
                established.append(s)
            else:
                if e == errno.ECONNREFUSED:
                    refused += 1
                else:
                    other += 1
                s.close()
    sel.close()
    return established, refused, unanswered, other


def counts(est, refused, unanswered, other):
    return {"established": len(est), "refused": refused, "unanswered": unanswered,
            "other": other}


def reset_all(socks):
    """Closes with a reset (SO_LINGER 0): the connection leaves the server's conntrack count
    at once instead of going through FIN_WAIT."""
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def probe(a):
    v4, v6 = socket.AF_INET, socket.AF_INET6
    out = {"conns": a.conns, "burst": a.burst}
    # (a) More than the cap at once from one address; held through (b).
    held = attempt(v4, a.src_a, a.dst4, a.port, a.conns + 20, 2.0)
    out["a_one_address"] = counts(*held)
    # (b) Another address meanwhile.
    b = attempt(v4, a.src_b, a.dst4, a.port, 1, 2.0)
    out["b_other_address"] = counts(*b)
    reset_all(b[0])
    reset_all(held[0])
    # (c) Four times the burst of new connections within half a second, each reset once
    # established (so the count of connections held never comes near the cap).  The timeout
    # stays under the 1 s after which TCP sends a dropped SYN again: "unanswered" is the first
    # SYN's fate.
    t0 = time.monotonic()
    c = attempt(v4, a.src_c, a.dst4, a.port, 4 * a.burst, 0.8, spread=0.5, reset=True)
    out["c_flood"] = counts(*c)
    out["c_flood"]["seconds"] = round(time.monotonic() - t0, 2)
    time.sleep(2.0)
    c2 = attempt(v4, a.src_c, a.dst4, a.port, 20, 2.0)
    out["c_after_quiet"] = counts(*c2)
    reset_all(c2[0])
    # (d) An exempt address.
    d = attempt(v4, a.src_e, a.dst4, a.port, a.conns + 20, 2.0)
    out["d_exempt"] = counts(*d)
    reset_all(d[0])
    # (e) IPv6.
    e = attempt(v6, a.src6, a.dst6, a.port, a.conns + 20, 2.0)
    out["e_ipv6"] = counts(*e)
    reset_all(e[0])
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("port", type=int)
    c = sub.add_parser("probe")
    for name in ("dst4", "dst6", "src-a", "src-b", "src-c", "src-e", "src6"):
        c.add_argument("--" + name, required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--conns", type=int, required=True)
    c.add_argument("--burst", type=int, required=True)
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    if a.cmd == "serve":
        serve(a.port)
    else:
        probe(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
