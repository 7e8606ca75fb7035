#!/usr/bin/env python3
"""A minimal FastCGI client (stdlib only) for the supervision tests: talks to tsa-fcgi
directly on its unix socket, as a web server would, with no web server in between.

  fcgi_client.py --socket PATH --body FILE --out FILE [--service tsa --path /tsa]
                 [--split-marker FILE --split-wait SECONDS]
  fcgi_client.py --socket PATH --ops health|metrics --out FILE


Sends one POST (application/timestamp-query) with FILE as the body (or, with --ops, a GET of
the operations endpoint, TSA_OPS as the web server sets it) and writes the response body to
--out.  With --split-marker: sends the params and the first half of the body, creates
the marker file, waits --split-wait seconds, then sends the rest (so a test can signal the
worker while the request is in flight).  Prints "STATUS CONTENT-TYPE" on success; exits 1
with a reason on stderr when the connection fails or the answer is not a complete FastCGI
response (FCGI_END_REQUEST).
"""
import argparse
import socket
import struct
import sys
import time

VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1
REQ_ID = 1
MAX_RESPONSE = 1 << 20


def record(rtype, content):
    """One FastCGI record (a record carries at most 65535 bytes)."""
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack(">BBHHBx", VERSION, rtype, REQ_ID, len(chunk), pad) + chunk + b"\0" * pad
        if not content:
            return out


def nv_len(n):
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def params(pairs):
    body = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        body += nv_len(len(k)) + nv_len(len(v)) + k + v
    return body


def stdin_records(data):
    out = b""
    for i in range(0, len(data), 32768):
        out += record(STDIN, data[i:i + 32768])
    return out


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        got = s.recv(n - len(buf))
        if not got:
            raise EOFError("connection closed after %d of %d bytes of a record" % (len(buf), n))
        buf += got
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--body")
    ap.add_argument("--ops", choices=("health", "metrics"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--service", default="tsa")
    ap.add_argument("--path", default="/tsa")
    ap.add_argument("--split-marker")
    ap.add_argument("--split-wait", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=20.0)
    a = ap.parse_args()

    if (a.body is None) == (a.ops is None):
        ap.error("one of --body and --ops")
    body = b""
    if a.body is not None:
        with open(a.body, "rb") as f:
            body = f.read()
    env = {
        "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "SCRIPT_NAME": a.path,
        "REQUEST_URI": a.path, "TSA_SERVICE": a.service,
        "CONTENT_TYPE": "application/timestamp-query", "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    }
    if a.ops is not None:
        env = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "TSA_OPS": a.ops,
               "SCRIPT_NAME": "/" + a.ops, "REQUEST_URI": "/" + a.ops,
               "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
               "SERVER_NAME": "localhost", "SERVER_PORT": "80"}
    head = (struct.pack(">BBHHBx", VERSION, BEGIN_REQUEST, REQ_ID, 8, 0) +
            struct.pack(">HB5x", RESPONDER, 0) +
            record(PARAMS, params(env)) + record(PARAMS, b""))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        s.connect(a.socket)
        if a.split_marker:
            half = len(body) // 2
            s.sendall(head + stdin_records(body[:half]))
            open(a.split_marker, "w").close()
            time.sleep(a.split_wait)
            s.sendall(stdin_records(body[half:]) + record(STDIN, b""))
        else:
            s.sendall(head + stdin_records(body) + record(STDIN, b""))
        out = b""
        while True:
            ver, rtype, _, clen, pad = struct.unpack(">BBHHBx", read_exact(s, 8))
            if ver != VERSION:
                raise ValueError("FastCGI version %d" % ver)
            content = read_exact(s, clen + pad)[:clen]
            if rtype == STDOUT:
                out += content
                if len(out) > MAX_RESPONSE:
                    raise ValueError("response larger than %d bytes" % MAX_RESPONSE)
            elif rtype == END_REQUEST:
                app_status, proto_status = struct.unpack(">IB3x", content)
                if proto_status != 0:
                    raise ValueError("FCGI_END_REQUEST protocol status %d" % proto_status)
                break
            elif rtype != STDERR:
                raise ValueError("unexpected record type %d" % rtype)
    except (OSError, EOFError, ValueError, struct.error) as e:
        print("fcgi_client: %s" % e, file=sys.stderr)
        return 1
    finally:
        s.close()
    sep = out.find(b"\r\n\r\n")
    if sep < 0:
        print("fcgi_client: no end of headers in the response", file=sys.stderr)
        return 1
    headers = out[:sep].decode("latin-1").split("\r\n")
    status, ctype, clen = "200", "", None
    for h in headers:
        k, _, v = h.partition(":")
        k, v = k.strip().lower(), v.strip()
        if k == "status":
            status = v.split()[0]
        elif k == "content-type":
            ctype = v
        elif k == "content-length":
            clen = int(v)
    rbody = out[sep + 4:]
    if clen is not None and clen != len(rbody):
        print("fcgi_client: Content-Length %d but %d bytes" % (clen, len(rbody)), file=sys.stderr)
        return 1
    with open(a.out, "wb") as f:
        f.write(rbody)
    print(status, ctype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
