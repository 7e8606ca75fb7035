#!/usr/bin/python3
"""Load generator for the soak and fault tests: mixed valid and invalid traffic over the three
protocols (RFC 3161 DER, SOAP/XML, Authenticode base64) against one TSA URL on loopback.

    load.py --url http://127.0.0.1:PORT/tsa --seconds S [--requests N] [--procs P]
            [--record FILE] [--mix valid|mixed] [--rate R] [--allow-down] [--allow-killed CODES]

Several processes, each with a keep-alive HTTP/1.1 connection (python3 stdlib only).  Bounded:
it stops after S seconds or N requests in all, whichever comes first, and refuses any host but
a loopback one.  Every answer is classified against what its kind of request must get; for each
granted token a line "granted PROTOCOL SHA256(token) HEX(imprint)" goes to --record, which
tests/soak/check.py compares with PostgreSQL.  A summary (counts per kind and status, latency
percentiles, unexpected answers) is printed as JSON on standard output; exit 1 when an answer
was unexpected.  With --allow-down, refusals that say the TSA is unavailable (systemFailure,
HTTP 503, a SOAP refusal) are counted as "down" instead of unexpected: for the PostgreSQL fault
test, where the database stops under load.  With --allow-killed 502 (a comma-separated list),
those HTTP statuses (the web server's answer when a worker dies under a request) are counted as
"killed": for the worker-kill test.  --rate
paces the whole run to R requests per second (default: as fast as the TSA answers).
"""
import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import re
import sys
import time
import urllib.parse

SHA256_OID = "2.16.840.1.101.3.4.2.1"
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + body


def oid(text):
    arcs = [int(a) for a in text.split(".")]
    out = bytes([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7F]
        a >>= 7
        while a:
            enc.insert(0, 0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(enc)
    return tlv(0x06, out)


def der_read(buf, pos):
    """One TLV at pos: (tag, start of content, end of content).  Raises ValueError."""
    if pos + 2 > len(buf):
        raise ValueError("truncated")
    tag, n = buf[pos], buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > len(buf):
            raise ValueError("bad length")
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    if pos + n > len(buf):
        raise ValueError("truncated")
    return tag, pos, pos + n


# ---- requests --------------------------------------------------------------------------------
def rfc3161_query(imprint):
    nonce = bytes([random.randint(1, 0x7F)]) + os.urandom(7)  # positive, minimal DER
    msg = tlv(0x30, tlv(0x30, oid(SHA256_OID) + b"\x05\x00") + tlv(0x04, imprint))
    body = tlv(0x02, b"\x01") + msg + tlv(0x02, nonce) + tlv(0x01, b"\xff")
    return tlv(0x30, body)


def soap_query(imprint):
    return ("""<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
 <SOAP-ENV:Body>
  <tsa:service xmlns:tsa="urn:Entrust-TSA">
   <ts:TimeStampRequest xmlns:ts="http://www.entrust.com/schemas/timestamp-protocol-20020207">
    <ts:Digest>
     <ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="%s"/>
     <ds:DigestValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#">%s</ds:DigestValue>
    </ts:Digest>
   </ts:TimeStampRequest>
  </tsa:service>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
""" % (SHA256_URI, base64.b64encode(imprint).decode())).encode()


def authenticode_query(sig):
    der = tlv(0x30, oid("1.3.6.1.4.1.311.3.2.1") +
              tlv(0x30, oid("1.2.840.113549.1.7.1") + tlv(0xA0, tlv(0x04, sig))))
    text = base64.b64encode(der)
    return b"\r\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + b"\r\n"


# Each kind: (weight in "mixed", weight in "valid", builder) ; builder() -> (content type, body,
# imprint or None, expected answer class).
def k_rfc3161():
    imp = os.urandom(32)
    return "application/timestamp-query", rfc3161_query(imp), imp, "rfc3161"


def k_soap():
    imp = os.urandom(32)
    return "text/xml; charset=UTF-8", soap_query(imp), imp, "soap"


def k_authenticode():
    sig = os.urandom(256)
    # The imprint the TSA records for Authenticode is its digest of the signature: unknown
    # here, so the record holds the token's hash only.
    return "application/octet-stream", authenticode_query(sig), None, "authenticode"


def k_bad_der():
    body = bytes([0x30, 0x82, 0x01, 0x00]) + os.urandom(random.randint(0, 40))
    return "application/timestamp-query", body, None, "rfc3161-rejected"


def k_bad_hash():
    # A well-formed query with an imprint of the wrong length: badAlg/badDataFormat.
    return "application/timestamp-query", rfc3161_query(os.urandom(20)), None, "rfc3161-rejected"


def k_bad_soap():
    return "text/xml; charset=UTF-8", b"<SOAP-ENV:Envelope><unclosed>", None, "soap-fault"


def k_bad_authenticode():
    return "application/octet-stream", b"!!!! not base64 ****\r\n", None, "http-400"


def k_bad_type():
    return "image/png", os.urandom(64), None, "http-415"


KINDS = {
    "rfc3161": (30, 50, k_rfc3161),
    "soap": (20, 25, k_soap),
    "authenticode": (20, 25, k_authenticode),
    "bad-der": (8, 0, k_bad_der),
    "bad-hash": (7, 0, k_bad_hash),
    "bad-soap": (5, 0, k_bad_soap),
    "bad-authenticode": (5, 0, k_bad_authenticode),
    "bad-type": (5, 0, k_bad_type),
}


# ---- answers ---------------------------------------------------------------------------------
def rfc3161_answer(body):
    """(status, token bytes or None, failure bits) of a TimeStampResp."""
    _, s, e = der_read(body, 0)
    if e != len(body):
        raise ValueError("trailing bytes")
    _, ss, se = der_read(body, s)          # PKIStatusInfo
    _, is_, ie = der_read(body, ss)        # status INTEGER
    status = int.from_bytes(body[is_:ie], "big")
    fail = set()
    pos = ie
    while pos < se:
        tag, cs, ce = der_read(body, pos)
        if tag == 0x03 and ce > cs:        # failInfo BIT STRING
            bits = body[cs + 1:ce]
            fail = {i for i in range(len(bits) * 8) if bits[i // 8] & (0x80 >> (i % 8))}
        pos = ce
    token = body[se:e] if se < e else None
    return status, token, fail


SYSTEM_FAILURE = 25                        # PKIFailureInfo systemFailure (RFC 3161 2.4.2)


def soap_token(text):
    m = re.search(rb"<(\w+:)?Signature\b[^>]*Id=\"TimeStampToken\".*?</(\w+:)?Signature>", text, re.S)
    return m.group(0) if m else None


def classify(expect, code, ctype, body, allow_down, allow_killed=()):
    """('ok'|'down'|'killed'|'unexpected', token or None, why)."""
    if code in allow_killed:
        return "killed", None, "HTTP %d" % code
    if expect == "rfc3161" or expect == "rfc3161-rejected":
        if code != 200 or ctype != "application/timestamp-reply":
            return "unexpected", None, "HTTP %d %s" % (code, ctype)
        try:
            status, token, fail = rfc3161_answer(body)
        except ValueError as e:
            return "unexpected", None, "unparsable TimeStampResp: %s" % e
        if expect == "rfc3161-rejected":
            if status == 2 and token is None:
                return "ok", None, ""
            return "unexpected", None, "status %d for a bad request" % status
        if status in (0, 1) and token is not None:
            return "ok", token, ""
        if status == 2 and token is None and allow_down and fail == {SYSTEM_FAILURE}:
            return "down", None, "systemFailure"
        return "unexpected", None, "status %d failInfo %s" % (status, sorted(fail))
    if expect == "soap":
        if code == 200 and b"TimeStampResponse" in body:
            token = soap_token(body)
            if token is not None:
                return "ok", token, ""
            if allow_down and b"<ts:FailInfo>systemFailure</ts:FailInfo>" in body:
                return "down", None, "soap refusal"
            return "unexpected", None, "SOAP answer without a token: %r" % body[:300]
        if allow_down and code == 503:
            return "down", None, "503"
        return "unexpected", None, "HTTP %d %s" % (code, ctype)
    if expect == "authenticode":
        if code == 200:
            try:
                return "ok", base64.b64decode(body, validate=False), ""
            except ValueError:
                return "unexpected", None, "answer not base64"
        if allow_down and code == 503:
            return "down", None, "503"
        return "unexpected", None, "HTTP %d" % code
    if expect == "soap-fault":
        return ("ok" if code == 500 and b"Fault" in body else "unexpected"), None, "HTTP %d" % code
    if expect.startswith("http-"):
        want = int(expect[5:])
        return ("ok" if code == want else "unexpected"), None, "HTTP %d" % code
    return "unexpected", None, "unknown kind"


# ---- the workers -----------------------------------------------------------------------------
def worker(idx, args, deadline, quota, queue):
    random.seed(os.urandom(16))
    u = urllib.parse.urlsplit(args.url)
    names = list(KINDS)
    weights = [KINDS[n][0 if args.mix == "mixed" else 1] for n in names]
    stats = {}
    lat = []
    unexpected = []
    rec = open("%s.%d" % (args.record, idx), "w") if args.record else None
    conn = None
    done = 0
    killed_codes = tuple(int(c) for c in args.allow_killed.split(",") if c)
    start = time.monotonic()
    while done < quota and time.monotonic() < deadline:
        if args.rate > 0:
            due = start + done * args.procs / args.rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
        kind = random.choices(names, weights)[0]
        ctype, body, imprint, expect = KINDS[kind][2]()
        t0 = time.monotonic()
        for attempt in (0, 1):
            reused = conn is not None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
                conn.request("POST", u.path or "/", body, {"Content-Type": ctype})
                r = conn.getresponse()
                data = r.read()
                code, rtype = r.status, r.getheader("Content-Type", "")
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
                break
            except (OSError, http.client.HTTPException) as e:
                if conn is not None:
                    conn.close()
                conn = None
                code, rtype, data = 0, "", str(e).encode()
                # A kept-alive connection the server closed before it read this request (the
                # race every HTTP client meets): sent again once on a new connection, as
                # browsers and curl do.  Had the server taken it after all, its token is a row
                # never answered (the acceptable direction); the check is by token, not imprint.
                if not (reused and isinstance(e, (http.client.RemoteDisconnected,
                                                  ConnectionResetError, BrokenPipeError))):
                    break
        dt = time.monotonic() - t0
        lat.append(dt)
        done += 1
        verdict, token, why = classify(expect, code, rtype.split(";")[0].strip(), data,
                                       args.allow_down, killed_codes)
        key = "%s %d %s" % (kind, code, verdict)
        stats[key] = stats.get(key, 0) + 1
        if verdict == "unexpected" and len(unexpected) < 20:
            unexpected.append("%s: %s" % (kind, why))
        if token is not None and rec is not None:
            rec.write("granted %s %s %s\n" % (expect, hashlib.sha256(token).hexdigest(),
                                              imprint.hex() if imprint else "-"))
    if rec is not None:
        rec.close()
    queue.put((stats, lat, unexpected))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--requests", type=int, default=1000000)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--record")
    ap.add_argument("--mix", choices=("mixed", "valid"), default="mixed")
    ap.add_argument("--allow-down", action="store_true")
    ap.add_argument("--allow-killed", default="")
    ap.add_argument("--rate", type=float, default=0)
    args = ap.parse_args()
    host = urllib.parse.urlsplit(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        sys.exit("load.py: loopback URLs only (got %s)" % host)
    if not 1 <= args.procs <= 64 or args.seconds <= 0 or args.seconds > 7200:
        sys.exit("load.py: --procs 1..64, --seconds up to 7200")
    deadline = time.monotonic() + args.seconds
    queue = multiprocessing.Queue()
    per = [args.requests // args.procs + (1 if i < args.requests % args.procs else 0)
           for i in range(args.procs)]
    procs = [multiprocessing.Process(target=worker, args=(i, args, deadline, per[i], queue))
             for i in range(args.procs)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    stats, lat, unexpected = {}, [], []
    for _ in procs:
        s, l, u = queue.get()
        for k, v in s.items():
            stats[k] = stats.get(k, 0) + v
        lat += l
        unexpected += u
    for p in procs:
        p.join()
    elapsed = time.monotonic() - t0
    if args.record:
        with open(args.record, "w") as out:
            for i in range(args.procs):
                part = "%s.%d" % (args.record, i)
                with open(part) as f:
                    out.write(f.read())
                os.unlink(part)
    lat.sort()
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1) if lat else None
    n_unexp = sum(v for k, v in stats.items() if k.endswith(" unexpected"))
    summary = {
        "requests": len(lat), "seconds": round(elapsed, 1),
        "per_second": round(len(lat) / elapsed, 1) if elapsed > 0 else 0,
        "granted": sum(v for k, v in stats.items() if k.endswith(" ok") and
                       k.split()[0] in ("rfc3161", "soap", "authenticode")),
        "down": sum(v for k, v in stats.items() if k.endswith(" down")),
        "killed": sum(v for k, v in stats.items() if k.endswith(" killed")),
        "unexpected": n_unexp,
        "http_5xx_unexpected": sum(v for k, v in stats.items()
                                   if k.endswith(" unexpected") and k.split()[1].startswith("5")),
        "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": pct(1.0)},
        "by_kind": dict(sorted(stats.items())),
        "unexpected_samples": unexpected[:20],
    }
    print(json.dumps(summary, indent=1))
    sys.exit(1 if n_unexp else 0)


if __name__ == "__main__":
    main()
