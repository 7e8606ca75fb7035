#!/usr/bin/python3
"""Checker for the soak and fault tests: compares the load generator's record of granted tokens
(tests/soak/load.py --record) with PostgreSQL's issued_tokens.

    check.py --conf TSA_VAR/tsa.conf --record FILE [--psql PATH]

Asserts: every granted token (by the SHA-256 of its bytes) is in issued_tokens exactly once,
with the protocol it was granted under and, where the generator knows it, the imprint it
asked for; no token was granted twice; every serial in the table is unique.  Reads the table
with psql (the conninfo of tsa.conf).  Prints a one-line JSON summary; exit 1 on any breach.

--resent N: the web server may have sent up to N requests twice (a worker killed with requests
queued on its kept connections): an Authenticode token, which carries no serial and whose
signing time has a resolution of a second, may then be recorded twice with the same bytes, as
two issuances; up to N such tokens are accepted and counted.
"""
import argparse
import glob
import json
import re
import shutil
import subprocess
import sys


def psql_bin(given):
    if given:
        return given
    found = shutil.which("psql")
    if found:
        return found
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    if not cands:
        sys.exit("check.py: psql not found")
    return cands[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conf", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--psql")
    ap.add_argument("--resent", type=int, default=0)
    args = ap.parse_args()
    # The owner's conninfo (admin_database) when there is one: the workers' role may insert
    # tokens but not read them.
    conninfo = admin = None
    with open(args.conf) as f:
        for line in f:
            m = re.match(r"^(admin_database|database)\s*=\s*(.*?)\s*$", line)
            if m and m.group(1) == "database":
                conninfo = m.group(2)
            elif m:
                admin = m.group(2)
    conninfo = admin or conninfo
    if conninfo is None:
        sys.exit("check.py: no database line in %s" % args.conf)
    sql = ("COPY (SELECT encode(sha256(token), 'hex'), protocol, encode(imprint, 'hex'),"
           " serial::text FROM issued_tokens) TO STDOUT")
    out = subprocess.run([psql_bin(args.psql), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                          "-d", conninfo, "-c", sql], check=True, capture_output=True,
                         text=True).stdout
    rows = {}
    serials = {}
    for line in out.splitlines():
        h, proto, imprint, serial = line.split("\t")
        rows.setdefault(h, []).append((proto, imprint))
        serials[serial] = serials.get(serial, 0) + 1
    problems = []
    granted = {}
    n = resent = 0
    with open(args.record) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or parts[0] != "granted":
                problems.append("bad record line: %r" % line[:80])
                continue
            n += 1
            _, proto, h, imprint = parts
            granted[h] = granted.get(h, 0) + 1
            got = rows.get(h, [])
            if len(got) == 2 and proto == "authenticode" and resent < args.resent:
                resent += 1
            elif len(got) != 1:
                problems.append("%s token %s: %d rows in issued_tokens" % (proto, h[:16], len(got)))
                continue
            if got[0][0] != proto:
                problems.append("token %s: recorded as %s, granted as %s" % (h[:16], got[0][0], proto))
            if imprint != "-" and got[0][1] != imprint:
                problems.append("token %s: imprint differs from the request's" % h[:16])
    dup_granted = sum(1 for v in granted.values() if v > 1)
    if dup_granted:
        problems.append("%d tokens granted more than once" % dup_granted)
    dup_serials = sum(1 for v in serials.values() if v > 1)
    if dup_serials:
        problems.append("%d serials occur more than once" % dup_serials)
    summary = {"granted": n, "rows": sum(len(v) for v in rows.values()),
               "missing_or_duplicated": sum(1 for p in problems if "rows in issued_tokens" in p),
               "duplicate_serials": dup_serials, "recorded_twice_resent": resent,
               "problems": problems[:20]}
    print(json.dumps(summary))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
