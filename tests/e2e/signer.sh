# The signing process (tsa-signer) and what it proves: the workers that parse requests hold no
# PKCS#11 module, no PIN and no token directory; a hostile client of the order socket (standing
# in for a compromised worker) gets every crafted order refused, never a back-dated token, a
# signature over its own bytes or another unit's token, and never crashes the signer; a signer
# killed under load makes the workers refuse cleanly, and tokens resume without a worker
# restart; a flooding client does not hold up the other workers' orders.
# shellcheck shell=bash

SIGNER_CLIENT=$HERE/signer_client.py
SOAK_DIR=${SOAK_DIR:-$HERE/../soak}

signer_master() { tr -dc '0-9' <"$TSA_VAR/run/tsa-signer.pid"; }
signer_children() { pgrep -P "$(signer_master)" | sort -n | tr '\n' ' '; }
signer_worker_pids() { pgrep -P "$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")" | sort -n | tr '\n' ' '; }
# signer_jget FIELD: a field of the JSON object on standard input ("" when absent).
signer_jget() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1], ""); print(str(v).lower() if isinstance(v, bool) else v)' "$1"; }
signer_module_path() { sed -n 's/^pkcs11_module *= *//p' "$TSA_VAR/tsa.conf"; }

# One token through the web server (so that every worker has a signer connection).
signer_token() {
    local d=$1 n=$2 out
    head -c 64 /dev/urandom >"$d/$n.data"
    openssl ts -query -data "$d/$n.data" -sha256 -cert -out "$d/$n.tsq" 2>/dev/null || bad "openssl ts -query failed"
    out=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/$n.tsq" "$d/$n.tsr") || bad "curl: $out"
    reply_text "$d/$n.tsr" | grep -q '^Status: Granted' ||
        bad "$n: not granted: $(reply_text "$d/$n.tsr" | grep -E '^(Status|Failure)' | oneline)"
}

# The workers map no PKCS#11 module; the signing children do (the check sees a module when
# there is one); the listening parent does not.
signer_split_maps() {
    local d pid mod w=0 c=0
    d=$(casedir)
    mod=$(signer_module_path)
    [[ -n $mod ]] || bad "no pkcs11_module in tsa.conf"
    for pid in 1 2 3 4; do signer_token "$d" "t$pid"; done
    for pid in $(signer_worker_pids); do
        grep -qF "$(basename "$mod")" "/proc/$pid/maps" && bad "worker $pid maps the PKCS#11 module $mod"
        grep -qiE 'softhsm|p11-kit-client|pkcs11' "/proc/$pid/maps" && bad "worker $pid maps a PKCS#11 module: $(grep -iE 'softhsm|p11-kit-client|pkcs11' "/proc/$pid/maps" | head -n1)"
        w=$((w + 1))
    done
    grep -qF "$(basename "$mod")" "/proc/$(signer_master)/maps" && bad "the signer's listener maps the module"
    for pid in $(signer_children); do
        grep -qF "$(basename "$mod")" "/proc/$pid/maps" || bad "signing process $pid does not map $mod (is the check blind?)"
        c=$((c + 1))
    done
    (( w > 0 && c > 0 )) || bad "workers $w, signing processes $c"
    echo "$w workers map no module; $c signing processes map $(basename "$mod")"
}

# A scan of every readable mapping of a process for a byte string: the number of hits.
signer_mem_hits() {
    python3 - "$1" "$2" <<'PY'
import re, sys
pid, needle = sys.argv[1], sys.argv[2].encode()
hits = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        f = line.split()
        if "r" not in f[1]:
            continue
        a, b = (int(x, 16) for x in f[0].split("-"))
        if b - a > 1 << 30:
            continue
        try:
            mem.seek(a)
            hits += mem.read(b - a).count(needle)
        except (OSError, ValueError, OverflowError):
            pass
print(hits)
PY
}

# No worker holds the PIN in its memory; the scan finds it in a signing process (the control).
signer_no_pin() {
    local d pin pid n found=0
    d=$(casedir)
    signer_token "$d" t
    pin=$(tr -d '\r\n' <"$TSA_VAR/softhsm/pin")
    [[ ${#pin} -ge 8 ]] || bad "cannot read the PIN"
    for pid in $(signer_worker_pids) "$(tr -dc '0-9' <"$TSA_VAR/run/tsa-fcgi.pid")"; do
        n=$(signer_mem_hits "$pid" "$pin") || bad "cannot scan worker $pid"
        [[ $n == 0 ]] || bad "the PIN is in the memory of worker $pid ($n times)"
    done
    for pid in $(signer_children); do
        n=$(signer_mem_hits "$pid" "$pin") || bad "cannot scan signing process $pid"
        (( n > 0 )) && found=1
    done
    (( found )) || bad "the scan found the PIN in no signing process either: is it blind?"
    echo "no PIN in the workers' memory; found in the signing processes' (the control)"
}

# The workers' user cannot read the token directory or the PIN.
signer_token_dir() {
    local out u
    u=$(stat -c %U "$TSA_VAR/run/tsa-fcgi/tsa.sock")
    out=$(setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- cat "$TSA_VAR/softhsm/pin" 2>&1) &&
        bad "the workers' user $u read the PIN"
    out=$(setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- ls "$TSA_VAR/softhsm/tokens" 2>&1) &&
        bad "the workers' user $u listed the token directory"
    [[ $(stat -c '%a %U' "$TSA_VAR/softhsm") == "700 tsa-signer" ]] ||
        bad "softhsm/ is $(stat -c '%a %U' "$TSA_VAR/softhsm"), want 700 tsa-signer"
    [[ $(stat -c '%a %U %G' "$TSA_VAR/run/tsa-signer") == "2750 tsa-signer $(id -gn "$u")" ]] ||
        bad "run/tsa-signer is $(stat -c '%a %U %G' "$TSA_VAR/run/tsa-signer")"
    [[ $(stat -c '%a' "$TSA_VAR/run/tsa-signer/signer.sock") == 660 ]] || bad "signer.sock is not 0660"
    out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$TSA_VAR/run/tsa-signer/signer.sock" 2>&1) &&
        bad "nobody connected to the signer's socket"
    echo "$u: no PIN, no token directory; nobody: no signer socket"
}

# ids: SERVICE_ID POLICY_ID VERSION OTHER_POLICY_ID (the tsa service's first policy, a policy
# of another service).
signer_ids() {
    tsa_psql -F ' ' -c "SELECT s.id, p.id, (SELECT max(version) FROM config_version),
        (SELECT min(q.id) FROM policies q WHERE q.service_id <> s.id)
        FROM services s JOIN policies p ON p.service_id = s.id WHERE s.name = 'tsa'
        ORDER BY p.position LIMIT 1"
}

signer_hostile() {
    local d ids sock out check gen now
    d=$(casedir)
    sock=$TSA_VAR/run/tsa-signer/signer.sock
    read -r -a ids <<<"$(signer_ids)"
    (( ${#ids[@]} == 4 )) || bad "cannot read the ids: ${ids[*]}"
    # The control: a well-formed order is granted, at the signer's own time.
    out=$(python3 "$SIGNER_CLIENT" "$sock" valid "${ids[@]}") || bad "signer_client: $out"
    [[ $(signer_jget type <<<"$out") == granted ]] || bad "a valid order was not granted: $out"
    signer_jget token <<<"$out" | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$d/valid.tst"
    gen=$(openssl ts -reply -token_in -in "$d/valid.tst" -text 2>/dev/null | sed -n 's/^Time stamp: //p')
    now=$(date -u +%s)
    (( ${#gen} > 0 && $(date -u -d "$gen" +%s) >= now - 5 )) || bad "the token's time is not now: '$gen'"
    for check in backdated raw-sign other-unit unknown-policy soap-forged-digest rfc3161-with-echo \
        bad-version bad-bool truncated-body garbage; do
        out=$(python3 "$SIGNER_CLIENT" "$sock" "$check" "${ids[@]}") || bad "$check: $out"
        [[ $(signer_jget type <<<"$out") == refused ]] || bad "$check: not refused: $(cut -c1-200 <<<"$out")"
        echo "$check: $(signer_jget text <<<"$out") ($(signer_jget detail <<<"$out"))"
    done
    for check in oversized truncated-frame; do
        out=$(python3 "$SIGNER_CLIENT" "$sock" "$check" "${ids[@]}") || bad "$check: $out"
        [[ $(signer_jget closed <<<"$out") == true ]] || bad "$check: the connection was not closed: $out"
        echo "$check: connection closed"
    done
    # The signer still serves, and said why it refused.
    out=$(python3 "$SIGNER_CLIENT" "$sock" valid "${ids[@]}") || bad "signer_client: $out"
    [[ $(signer_jget type <<<"$out") == granted ]] || bad "no token after the hostile orders: $out"
    signer_token "$d" after
    grep -q 'malformed order from pid [0-9]* refused: ' "$TSA_VAR/log/tsa-signer.log" ||
        bad "the signer did not log the malformed orders"
    grep -q 'frame length out of bounds' "$TSA_VAR/log/tsa-signer.log" ||
        bad "the signer did not log the oversized frame"
    ! grep -qE 'killed by signal|exited with' "$TSA_VAR/log/tsa-signer.log" ||
        bad "a signing process died: $(grep -E 'killed by signal|exited with' "$TSA_VAR/log/tsa-signer.log" | head -n1)"
}

# The signing processes SIGKILLed under load: the workers refuse cleanly (systemFailure, 503),
# tokens resume without a worker restart, and every delivered token has its row.
signer_killed() {
    local d lpid workers i k down
    d=$(casedir)
    workers=$(signer_worker_pids)
    python3 "$SOAK_DIR/load.py" --url "http://127.0.0.1:$TSA_HTTP_PORT/tsa" --procs 3 --requests 4000 \
        --seconds 8 --mix valid --allow-down --record "$d/granted" >"$d/load.json" 2>"$d/load.err" &
    lpid=$!
    sleep 1
    for ((i = 0; i < 3; i++)); do
        k=$(signer_children)
        [[ -n $k ]] && kill -KILL $k
        sleep 1.5
    done
    wait "$lpid" || bad "unexpected answers while the signer was killed: $(oneline <"$d/load.json")"
    down=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("down", 0))' "$d/load.json")
    echo "load: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["requests"], "requests,", j.get("granted", "?"), "granted")' "$d/load.json"), $down refused while the signer was down"
    signer_token "$d" after
    [[ $(signer_worker_pids) == "$workers" ]] || bad "the workers were replaced ($workers -> $(signer_worker_pids))"
    python3 "$SOAK_DIR/check.py" --conf "$TSA_VAR/tsa.conf" --record "$d/granted" >"$d/check.json" 2>&1 ||
        bad "tokens delivered without their row: $(oneline <"$d/check.json")"
    grep -q 'killed by signal 9' "$TSA_VAR/log/tsa-signer.log" || bad "the listener did not log its killed children"
}

# A client that floods malformed orders is served in turn with the others (one order per
# connection per round): the workers' tokens keep flowing.
signer_flood() {
    local d fpid sock ids
    d=$(casedir)
    sock=$TSA_VAR/run/tsa-signer/signer.sock
    read -r -a ids <<<"$(signer_ids)"
    python3 - "$sock" >"$d/flood.out" 2>&1 <<'PY' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
body = bytes([1, 1]) + b"\xff" * 64
n, end = 0, time.time() + 6
while time.time() < end:
    s.sendall(struct.pack(">I", len(body)) + body)
    h = s.recv(4)
    if len(h) < 4:
        break
    ln = struct.unpack(">I", h)[0]
    while ln > 0:
        ln -= len(s.recv(ln))
    n += 1
print(n)
PY
    fpid=$!
    sleep 0.5
    python3 "$SOAK_DIR/load.py" --url "http://127.0.0.1:$TSA_HTTP_PORT/tsa" --procs 2 --requests 300 \
        --seconds 5 --rate 60 --mix valid --record "$d/granted" >"$d/load.json" 2>"$d/load.err" ||
        bad "requests failed during the flood: $(oneline <"$d/load.json")"
    wait "$fpid"
    echo "flood: $(<"$d/flood.out") malformed orders answered; load: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["requests"], "requests, p99", j["latency_ms"]["p99"], "ms")' "$d/load.json")"
    python3 -c 'import json,sys; sys.exit(0 if float(json.load(open(sys.argv[1]))["latency_ms"]["p99"]) < 500 else 1)' "$d/load.json" ||
        bad "the flood slowed the workers down: $(oneline <"$d/load.json")"
}

# Group commit: orders that reach a signing process together are recorded in one transaction
# (their rows share one xmin) and answered after it; the recorder itself, against PostgreSQL as
# the signer's role: a serial that exists fails only its own row, a row the database refuses
# fails the whole batch and nothing of it commits.
signer_group_commit() {
    local d ids sconn out id i
    d=$(casedir)
    chmod 755 "$d"
    read -r -a ids <<<"$(signer_ids)"
    { grep -v -E '^(listen|signer_socket|signer_processes) *=' "$TSA_VAR/tsa.conf"
      echo "signer_socket = $d/signer.sock"
      echo "signer_processes = 1"; } >"$d/tsa.conf"
    SIGNER_CASE=$d
    trap '[[ -s $SIGNER_CASE/signer.pid ]] && kill "$(<"$SIGNER_CASE/signer.pid")" 2>/dev/null' EXIT
    setsid "$BUILD/tsa-signer" --conf "$d/tsa.conf" </dev/null >"$d/signer.log" 2>&1 3>&- &
    echo $! >"$d/signer.pid"
    for ((i = 0; i < 50; i++)); do [[ -S $d/signer.sock ]] && break; sleep 0.1; done
    [[ -S $d/signer.sock ]] || bad "the case's signer did not start: $(oneline <"$d/signer.log")"
    # The socket is there once the supervisor listens; its one signing process a moment after.
    for ((i = 0; i < 50; i++)); do [[ -n $(pgrep -P "$(<"$d/signer.pid")") ]] && break; sleep 0.1; done
    id=group-commit-$RANDOM$RANDOM
    out=$(python3 "$SIGNER_CLIENT" "$d/signer.sock" batch "${ids[@]:0:3}" \
        "$(pgrep -P "$(<"$d/signer.pid")")" 4 "$id") || bad "signer_client: $out"
    [[ $out == *'"answers": ["granted", "granted", "granted", "granted"]'* ]] ||
        bad "the stopped signing process's four orders: $out"
    out=$(tsa_psql -F ' ' -c "SELECT count(*), count(DISTINCT xmin::text) FROM issued_tokens
        WHERE client_identity = '$id'")
    # Usually one transaction; a slow machine may split the four over two rounds (CI saw
    # '4 2' once per pass), never into one each.
    [[ $out == "4 1" || $out == "4 2" ]] ||
        bad "four orders that arrived together: rows and transactions '$out', not '4 1' or '4 2'"
    echo "four orders that arrived together: rows and transactions $out"

    # The recorder's probe writes rows that are no signed tokens: it runs against a scratch
    # database of the same schema, so the stack's archive (and its token log, whose audit
    # checks every archived token's signature) holds only real tokens.
    local probe=tsa_probe_$$ pconf=$d/probe.conf pconn
    tsa_psql -c "DROP DATABASE IF EXISTS $probe" -c "CREATE DATABASE $probe" >/dev/null ||
        { bad "cannot create the probe database"; return; }
    sed "s/dbname=tsa\b/dbname=$probe/g" "$TSA_VAR/tsa.conf" >"$pconf"
    "$BUILD/tsactl" --conf "$pconf" migrate >>"$d/record.err" 2>&1 ||
        { bad "migrating the probe database: $(tail -n 2 "$d/record.err" | oneline)"; return; }
    sconn=$(sed -n 's/^signer_database *= *//p' "$pconf")
    [[ -n $sconn ]] || sconn=$(sed -n 's/^database *= *//p' "$pconf")
    pconn=$(sed -n 's/^admin_database *= *//p' "$pconf")
    [[ -n $pconn ]] || pconn=$(sed -n 's/^database *= *//p' "$pconf")
    local base=$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1000 ))
    out=$("$BUILD/tsa-test-record" "$sconn" $base $((base + 1)) 2>>"$d/record.err")
    [[ $out == "committed 0 0" ]] || bad "a plain batch: $out"
    out=$("$BUILD/tsa-test-record" "$sconn" $((base + 2)) $((base + 1)) $((base + 3)) 2>>"$d/record.err")
    [[ $out == "committed 0 1 0" ]] || bad "a batch with an existing serial: $out"
    out=$("$BUILD/tsa-test-record" "$sconn" $((base + 4)) 0 2>>"$d/record.err")
    [[ $out == *failed* ]] || bad "a batch with a refused row: $out"
    out=$(tsa_psql -d "$pconn" -c "SELECT string_agg((serial - $base)::text, ' ' ORDER BY serial)
        FROM issued_tokens WHERE service = 'group-commit-probe' AND serial BETWEEN $base AND $base + 9")
    [[ $out == "0 1 2 3" ]] || bad "rows recorded: '$out', not the serials 0 1 2 3 (+$base)"
    # Each token row came with its log leaf (schema 011), in the queue (no integrator here).
    out=$(tsa_psql -d "$pconn" -c "SELECT string_agg((serial - $base)::text, ' ' ORDER BY serial) FROM
        (SELECT serial FROM log_queue UNION ALL SELECT serial FROM log_leaves) l
        WHERE serial BETWEEN $base AND $base + 9")
    [[ $out == "0 1 2 3" ]] || bad "log leaves: '$out', not the serials 0 1 2 3 (+$base)"
    echo "recorder: a batch commits whole; an existing serial fails only its row; a refused row fails the batch; each row with its leaf"
    tsa_psql -c "DROP DATABASE $probe WITH (FORCE)" >/dev/null || bad "cannot drop the probe database"
}

cases_signer() {
    run_case signer/hostile-orders signer_hostile
    run_case signer/group-commit signer_group_commit
    run_case signer/killed-under-load signer_killed
    run_case signer/flood signer_flood
    (( $(id -u) == 0 )) || return 0
    run_case signer/split-maps signer_split_maps
    run_case signer/no-pin-in-workers signer_no_pin
    run_case signer/token-dir signer_token_dir
}
