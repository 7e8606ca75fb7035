#!/usr/bin/python3
"""A client of tsa-signer's order socket that stands in for a compromised worker (the order
format is the one include/order.h documents, written again here from that text, not from the C
code).  Each check sends one crafted order and prints one JSON line with what came back:

    signer_client.py SOCKET CHECK SERVICE_ID POLICY_ID VERSION [OTHER_POLICY_ID]

CHECK is one of:
  valid            a well-formed SHA-256 RFC 3161 order (the control: granted)
  backdated        the valid order with a time one hour ago appended (there is no time field:
                   the only way to say one is bytes the format does not have)
  raw-sign         an order of a type that does not exist (3) carrying bytes to sign
  other-unit       the valid order naming a policy of another service (another unit's)
  soap-forged-digest  a SOAP order whose DigestValue text to echo is not its imprint
  rfc3161-with-echo   an RFC 3161 order carrying SOAP text to echo
  unknown-policy   the valid order naming a policy id that does not exist
  bad-version      the valid order with format version 2
  bad-bool         has_nonce = 2
  truncated-body   the valid order cut in the middle of its imprint (the frame's length says so)
  oversized        a frame length past the bound (2^31), then nothing
  truncated-frame  a frame length of 1000 and 10 bytes, then the connection closed
  garbage          4 KiB of random bytes as one frame
  batch            (signer/group-commit) N connections, each granted one valid order; then the
                   signing process PID stopped, one valid order sent on each, the process
                   continued: all N answered in one round.  Extra arguments: PID N IDENTITY.
The answer is decoded as far as this script needs: type, fail, text, detail, token length.
"""
import base64
import json
import os
import signal
import socket
import struct
import sys
import time


def s16(b):
    return struct.pack(">H", len(b)) + b


def sign_order(service_id, policy_id, version, nonce=b"\x01\x02", has_nonce=1, proto=0,
               echo=(b"", b"", 0, b""), identity=b"hostile-worker"):
    imprint = os.urandom(32)
    body = bytes([1, 1])
    body += struct.pack(">qqq", version, service_id, policy_id)
    body += bytes([proto])                               # 0 rfc3161, 1 soap
    body += s16(b"2.16.840.1.101.3.4.2.1") + bytes([1])  # sha256, NULL parameters
    body += s16(imprint)
    body += bytes([has_nonce]) + s16(nonce if has_nonce == 1 else b"")
    body += bytes([0]) + s16(b"")                        # no requested policy
    body += bytes([1])                                   # certReq
    body += bytes([0])                                   # no extensions
    body += s16(echo[0]) + s16(echo[1]) + bytes([echo[2]]) + s16(echo[3])  # SOAP echo
    body += s16(b"")                                     # no Authenticode signature
    body += s16(b"127.0.0.9") + s16(identity)
    body += struct.pack(">I", 0)                         # no request body
    return body


def frame(body):
    return struct.pack(">I", len(body)) + body


def read_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def answer(sock):
    head = read_exact(sock, 4)
    if head is None:
        return {"closed": True}
    n = struct.unpack(">I", head)[0]
    body = read_exact(sock, n)
    if body is None or len(body) < 2:
        return {"closed": True}
    kind, p = body[1], 2
    if kind == 1:
        (ln,) = struct.unpack(">H", body[p:p + 2])
        signer = body[p + 2:p + 2 + ln].decode()
        p += 2 + ln
        (tl,) = struct.unpack(">I", body[p:p + 4])
        token = body[p + 4:p + 4 + tl]
        return {"type": "granted", "signer": signer, "token_len": tl, "token": token.hex()}
    if kind == 2:
        fail, p = body[p], p + 2
        out = {"type": "refused", "fail": fail}
        for key in ("signer", "text", "detail"):
            (ln,) = struct.unpack(">H", body[p:p + 2])
            out[key] = body[p + 2:p + 2 + ln].decode(errors="replace")
            p += 2 + ln
        return out
    return {"type": kind}


def batch(path, sid, pid, ver, proc, n, identity):
    """Orders that reach one signing process together: sent while it is stopped."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(15)
        s.connect(path)
        s.sendall(frame(sign_order(sid, pid, ver)))
        if answer(s).get("type") != "granted":
            return {"check": "batch", "error": "the warm-up order was not granted"}
        socks.append(s)
    os.kill(proc, signal.SIGSTOP)
    try:
        for s in socks:
            s.sendall(frame(sign_order(sid, pid, ver, identity=identity)))
        time.sleep(0.2)
    finally:
        os.kill(proc, signal.SIGCONT)
    kinds = [answer(s).get("type") for s in socks]
    return {"check": "batch", "answers": kinds}


def main():
    path, check = sys.argv[1], sys.argv[2]
    sid, pid, ver = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    if check == "batch":
        print(json.dumps(batch(path, sid, pid, ver, int(sys.argv[6]), int(sys.argv[7]),
                               sys.argv[8].encode())))
        return
    other = int(sys.argv[6]) if len(sys.argv) > 6 else 999999
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(15)
    sock.connect(path)
    body = sign_order(sid, pid, ver)
    if check == "valid":
        sock.sendall(frame(body))
    elif check == "backdated":
        sock.sendall(frame(body + struct.pack(">q", int(time.time()) - 3600)))
    elif check == "raw-sign":
        sock.sendall(frame(bytes([1, 3]) + s16(b"arbitrary bytes to sign")))
    elif check == "other-unit":
        sock.sendall(frame(sign_order(sid, other, ver)))
    elif check == "unknown-policy":
        sock.sendall(frame(sign_order(sid, 987654321, ver)))
    elif check == "soap-forged-digest":
        # A SOAP order whose DigestValue text (what the XML token would say) is not the
        # imprint (what the archive would keep): refused.
        forged = base64.b64encode(os.urandom(32))
        sock.sendall(frame(sign_order(sid, pid, ver, nonce=b"\x01\x02", proto=1,
                                      echo=(b"http://www.w3.org/2001/04/xmlenc#sha256",
                                            forged, 1, b"258"))))
    elif check == "rfc3161-with-echo":
        sock.sendall(frame(sign_order(sid, pid, ver, echo=(b"x", b"AAAA", 0, b""))))
    elif check == "bad-version":
        sock.sendall(frame(bytes([2]) + body[1:]))
    elif check == "bad-bool":
        sock.sendall(frame(sign_order(sid, pid, ver, has_nonce=2)))
    elif check == "truncated-body":
        sock.sendall(frame(body[:40]))
    elif check == "oversized":
        sock.sendall(struct.pack(">I", 1 << 31))
    elif check == "truncated-frame":
        sock.sendall(struct.pack(">I", 1000) + b"\x01" * 10)
        sock.shutdown(socket.SHUT_WR)
    elif check == "garbage":
        sock.sendall(frame(os.urandom(4096)))
    else:
        sys.exit("unknown check " + check)
    try:
        out = answer(sock)
    except (socket.timeout, ConnectionResetError) as e:
        out = {"closed": True, "error": str(e)}
    out["check"] = check
    print(json.dumps(out))


if __name__ == "__main__":
    main()
