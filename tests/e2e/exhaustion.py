#!/usr/bin/python3
"""Connection exhaustion for the e2e suite exhaustion.sh: one client (source address 127.0.0.2)
holds thousands of slow connections to the web server (each sends the headers of a POST with
Content-Length 65000, then one byte of body every --tick seconds, and is opened again --retry
seconds after the server closes it), while another client (source address 127.0.0.3) asks for
RFC 3161 tokens over plain HTTP and over HTTPS with the demo client certificate, each on a
fresh HTTP/1.0 connection (no chunked answers to decode), and notes how long each answer took.

    exhaustion.py --port HTTP --tls-port HTTPS --query Q.tsq --pki DIR
                  [--conns 3000] [--tick 5] [--retry 1] [--ramp 8] [--seconds 30]
                  [--interval 0.25]

Bounded: the attack lasts --ramp + --seconds, each slot is opened at most --reopen times, every
address is a loopback one.  Prints one JSON summary: the attacker's counts (opened, closed by
the server, connects that failed, most connections open at once) and the legitimate client's
(requests, answered 200 with a granted token, failed, latency p50/p99/max in ms); exit 0 even
when requests failed (the shell judges).
"""
import argparse
import asyncio
import json
import multiprocessing
import resource
import ssl
import sys
import time

ATTACKER = "127.0.0.2"
CLIENT = "127.0.0.3"
SERVER = "127.0.0.1"


class Attack:
    def __init__(self, args):
        self.args = args
        self.head = ("POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/timestamp-query\r\n"
                     "Content-Length: 65000\r\n\r\n").encode()
        self.opened = self.closed = self.failed = self.open_now = self.max_open = 0
        self.stop = False

    async def slot(self, sem):
        """One slow connection, opened again when the server closes it."""
        for _ in range(self.args.reopen):
            if self.stop:
                return
            w = None
            try:
                async with sem:
                    r, w = await asyncio.wait_for(asyncio.open_connection(
                        SERVER, self.args.port, local_addr=(ATTACKER, 0)), 3)
                    w.write(self.head)
                    await w.drain()
            except (OSError, asyncio.TimeoutError):
                self.failed += 1
                if w:
                    w.close()
                await asyncio.sleep(self.args.retry)
                continue
            self.opened += 1
            self.open_now += 1
            self.max_open = max(self.max_open, self.open_now)
            eof = asyncio.ensure_future(r.read(4096))
            try:
                while not self.stop:
                    done, _ = await asyncio.wait({eof}, timeout=self.args.tick)
                    if done:
                        break
                    w.write(b"0")
                    await w.drain()
            except OSError:
                pass
            self.open_now -= 1
            if not self.stop:
                self.closed += 1
            eof.cancel()
            w.close()
            if self.stop:
                return
            await asyncio.sleep(self.args.retry)


def granted(body):
    """Is BODY a TimeStampResp whose PKIStatus is granted (0) or grantedWithMods (1)?"""
    def skip_header(b, i):
        if i + 2 > len(b) or b[i] != 0x30:
            return -1
        n = b[i + 1]
        i += 2
        if n & 0x80:
            i += n & 0x7F
        return i
    i = skip_header(body, 0)
    i = skip_header(body, i) if i > 0 else -1
    return i > 0 and body[i:i + 2] == b"\x02\x01" and len(body) > i + 2 and body[i + 2] in (0, 1)


async def one_request(args, query, tls):
    """POST the query on a fresh connection from CLIENT; (ok, seconds, why)."""
    t0 = time.monotonic()
    port = args.tls_port if tls else args.port
    w = None
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            SERVER, port, local_addr=(CLIENT, 0), ssl=tls or None,
            server_hostname=SERVER if tls else None), args.timeout)
        w.write(("POST / HTTP/1.0\r\n" if tls else "POST /tsa HTTP/1.0\r\n").encode() +
                ("Host: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\n"
                 "Connection: close\r\nContent-Length: %d\r\n\r\n" % len(query)).encode() + query)
        reply = await asyncio.wait_for(r.read(), args.timeout - (time.monotonic() - t0))
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as e:
        return False, time.monotonic() - t0, type(e).__name__
    finally:
        if w:
            w.close()
    dt = time.monotonic() - t0
    head, _, body = reply.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if not reply:
        return False, dt, "closed without an answer"
    if b" 200 " not in status + b" ":
        return False, dt, status.decode(errors="replace")
    if not granted(body):
        return False, dt, "not granted"
    return True, dt, ""


async def client(args, query, tls):
    stats = {"requests": 0, "granted": 0, "failed": 0, "why": {}}
    lat = []
    tasks = []
    end = time.monotonic() + args.seconds
    n = 0
    while time.monotonic() < end:
        tasks.append(asyncio.ensure_future(one_request(args, query, tls if n % 2 else None)))
        n += 1
        await asyncio.sleep(args.interval)
    for ok, dt, why in await asyncio.gather(*tasks):
        stats["requests"] += 1
        lat.append(dt)
        if ok and dt <= args.timeout:
            stats["granted"] += 1
        else:
            stats["failed"] += 1
            stats["why"][why or "late"] = stats["why"].get(why or "late", 0) + 1
    lat.sort()
    pct = lambda p: round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))]) if lat else None
    stats["latency_ms"] = {"p50": pct(0.50), "p99": pct(0.99), "max": pct(1.0)}
    return stats


def client_process(args):
    """The legitimate client, in a process of its own: the attacker's event loop is busy."""
    with open(args.query, "rb") as f:
        query = f.read()
    tls = ssl.create_default_context(cafile=args.pki + "/ca.pem")
    tls.load_cert_chain(args.pki + "/client.pem", args.pki + "/client.key")
    return asyncio.run(client(args, query, tls))


async def main_async(args):
    attack = Attack(args)
    sem = asyncio.Semaphore(200)
    slots = [asyncio.ensure_future(attack.slot(sem)) for _ in range(args.conns)]
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.ramp and attack.opened + attack.failed < args.conns:
        await asyncio.sleep(0.2)
    ramp = round(time.monotonic() - t0, 1)
    open_at_start = attack.open_now
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pending = pool.apply_async(client_process, (args,))
        stats = await asyncio.get_running_loop().run_in_executor(None, pending.get, args.seconds + 30)
    attack.stop = True
    await asyncio.wait(slots, timeout=args.tick + 2)
    for s in slots:
        s.cancel()
    return {"attack": {"conns": args.conns, "ramp_s": ramp, "open_when_clients_began": open_at_start,
                       "max_open": attack.max_open, "opened": attack.opened,
                       "closed_by_server": attack.closed, "connects_failed": attack.failed},
            "client": stats}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int, required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--conns", type=int, default=3000)
    ap.add_argument("--tick", type=float, default=5)
    ap.add_argument("--ramp", type=float, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--interval", type=float, default=0.25)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--retry", type=float, default=2)
    ap.add_argument("--reopen", type=int, default=40)
    args = ap.parse_args()
    if not (1 <= args.conns <= 10000 and 0 < args.seconds <= 60 and 0 < args.ramp <= 30
            and 1 <= args.reopen <= 50 and args.retry >= 0.5 and args.interval >= 0.05):
        sys.exit("exhaustion.py: --conns 1..10000, --seconds up to 60, --ramp up to 30, "
                 "--reopen 1..50, --retry at least 0.5, --interval at least 0.05")
    need = args.conns + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            sys.exit("exhaustion.py: %d file descriptors needed, the hard limit is %d" % (need, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
