#!/usr/bin/env python3
"""tlog_verify.py - an independent verifier of the token log's proofs, for e2e tokenlog/*.

Written from RFC 9162 (2.1.1 hashing, 2.1.3.2 inclusion, 2.1.4.2 consistency) and the leaf
format of the README's "Token log", not from the C code.  Reads the JSON the service
answers (GET URL/log/sth, URL/log/proof, URL/log/consistency, or tsactl --json log ...).

  tlog_verify.py inclusion STH.json PROOF.json [TOKEN.der]
      the proof's leaf is in the tree of the tree head; with TOKEN, the leaf commits to
      that token (its SHA-256) and names its serial
  tlog_verify.py consistency OLD_STH.json NEW_STH.json PROOF.json
      the new tree extends the old one
  tlog_verify.py sth STH.json LOGKEY.pem
      the tree head's signature (RFC 6962 3.5's TreeHeadSignature octets, SHA-256) by the
      log's public key, checked by openssl; its key id the SHA-256 of that key's DER
  tlog_verify.py sth-keys STH.json KEYS.json
      the same with the key of the head's log_key_id taken from the listed keys (GET
      URL/log/keys): the key's id must be the SHA-256 of its DER, and the head signed before
      the key was retired

Prints "ok: ..." and exits 0, or "FAIL: ..." and exits 1.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

MAX_JSON = 64 * 1024


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def load(path):
    with open(path, "rb") as f:
        data = f.read(MAX_JSON + 1)
    if len(data) > MAX_JSON:
        fail(path + ": too large")
    return json.loads(data)


def b64(s):
    return base64.b64decode(s, validate=True)


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def verify_inclusion(index, size, h, path, root):
    # RFC 9162 2.1.3.2
    if index >= size:
        return False
    fn, sn, r = index, size - 1, h
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, path):
    # RFC 9162 2.1.4.2
    if first == second:
        return not path and first_hash == second_hash
    if first == 0 or first > second or not path:
        return False
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash


def parse_leaf(leaf):
    # version 0, token SHA-256, serial, genTime (us), digest name, imprint
    if len(leaf) < 34 or leaf[0] != 0:
        fail("leaf: not version 0")
    token_hash, i = leaf[1:33], 33
    n = leaf[i]
    serial = int.from_bytes(leaf[i + 1:i + 1 + n], "big")
    i += 1 + n
    gen_us = int.from_bytes(leaf[i:i + 8], "big", signed=True)
    i += 8
    n = leaf[i]
    alg = leaf[i + 1:i + 1 + n].decode("ascii")
    i += 1 + n
    n = leaf[i]
    imprint = leaf[i + 1:i + 1 + n]
    if i + 1 + n != len(leaf):
        fail("leaf: trailing or missing octets")
    return token_hash, serial, gen_us, alg, imprint


def verify_sth(sth, der):
    """The head's signature with the public key der (SubjectPublicKeyInfo), checked by openssl."""
    if sth["tree_head_signature"] is None:
        fail("the tree head is not signed")
    tbs = (bytes([0, 1]) + sth["timestamp"].to_bytes(8, "big") + sth["tree_size"].to_bytes(8, "big")
           + b64(sth["sha256_root_hash"]))
    if hashlib.sha256(der).hexdigest() != sth["log_key_id"]:
        fail("log_key_id is not the SHA-256 of this public key")
    pem = ("-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der).decode() +
           "-----END PUBLIC KEY-----\n")
    with tempfile.TemporaryDirectory() as d:
        for name, data in (("tbs", tbs), ("sig", b64(sth["tree_head_signature"])),
                           ("key.pem", pem.encode())):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "key.pem"),
                            "-signature", os.path.join(d, "sig"), os.path.join(d, "tbs")],
                           capture_output=True)
    if r.returncode != 0:
        fail("the signature does not verify: " + r.stdout.decode() + r.stderr.decode())


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "inclusion":
        sth, proof = load(sys.argv[2]), load(sys.argv[3])
        if proof["tree_size"] != sth["tree_size"]:
            fail("the proof is for size %d, the tree head %d" % (proof["tree_size"], sth["tree_size"]))
        leaf = b64(proof["leaf"])
        path = [b64(p) for p in proof["audit_path"]]
        if not verify_inclusion(proof["leaf_index"], sth["tree_size"], leaf_hash(leaf), path,
                                b64(sth["sha256_root_hash"])):
            fail("leaf %d is not in the tree of size %d" % (proof["leaf_index"], sth["tree_size"]))
        token_hash, serial, gen_us, alg, imprint = parse_leaf(leaf)
        if str(serial) != proof["serial"]:
            fail("the leaf names serial %d, the proof %s" % (serial, proof["serial"]))
        what = ""
        if len(sys.argv) == 5:
            with open(sys.argv[4], "rb") as f:
                if hashlib.sha256(f.read()).digest() != token_hash:
                    fail("the leaf does not commit to this token")
            what = ", committing to the token file"
        print("ok: serial %d (%s imprint %s) is leaf %d of the tree of size %d%s" %
              (serial, alg, imprint.hex(), proof["leaf_index"], sth["tree_size"], what))
        return
    if len(sys.argv) == 5 and sys.argv[1] == "consistency":
        old, new, proof = load(sys.argv[2]), load(sys.argv[3]), load(sys.argv[4])
        if (proof["first"], proof["second"]) != (old["tree_size"], new["tree_size"]):
            fail("the proof is for other sizes")
        if not verify_consistency(old["tree_size"], new["tree_size"], b64(old["sha256_root_hash"]),
                                  b64(new["sha256_root_hash"]), [b64(p) for p in proof["consistency"]]):
            fail("the tree of size %d does not extend the tree of size %d" %
                 (new["tree_size"], old["tree_size"]))
        print("ok: the tree of size %d extends the tree of size %d" % (new["tree_size"], old["tree_size"]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "sth":
        sth = load(sys.argv[2])
        der = subprocess.run(["openssl", "pkey", "-pubin", "-in", sys.argv[3], "-outform", "DER"],
                             capture_output=True, check=True).stdout
        verify_sth(sth, der)
        print("ok: tree head of size %d signed by the log key %s" % (sth["tree_size"], sth["log_key_id"][:16]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "sth-keys":
        sth, keys = load(sys.argv[2]), load(sys.argv[3])
        found = [k for k in keys["keys"] if k["log_key_id"] == sth["log_key_id"]]
        if len(found) != 1:
            fail("the tree head's key %s is not listed (%d keys listed)" % (sth["log_key_id"], len(keys["keys"])))
        k = found[0]
        if k["retired"] is not None:
            # RFC 3339 UTC, seconds: the head must have been signed before.
            import calendar, time
            retired_ms = calendar.timegm(time.strptime(k["retired"], "%Y-%m-%dT%H:%M:%SZ")) * 1000
            if sth["timestamp"] > retired_ms:
                fail("the tree head was signed after its key was retired")
        verify_sth(sth, b64(k["public_key"]))
        print("ok: tree head of size %d signed by the listed log key %s of %s (%s)" %
              (sth["tree_size"], k["log_key_id"][:16], k["host"], k["algorithm"]))
        return
    print(__doc__)
    sys.exit(64)


if __name__ == "__main__":
    main()
