# The token log (README "Token log"): every issued token a leaf of an RFC 9162 Merkle tree,
# integrated by tsa-log with signed tree heads; tsactl log's proofs, checked again by an
# independent Python verifier (tlog_verify.py); tampering with the archive or the log caught
# by tsactl log audit or by a consistency check against a tree head kept from before.
# shellcheck shell=bash

TLOG_VERIFY=$E2E_DIR/tlog_verify.py

# tl_issue DIR: a token over fresh data into DIR/r.tsr and DIR/token.der; prints its serial
# (0xHEX).
tl_issue() {
    local d=$1 out
    head -c 512 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || return 1
    out=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/q.tsq" "$d/r.tsr") || return 1
    [[ $out == "200 application/timestamp-reply" ]] || return 1
    openssl ts -reply -in "$d/r.tsr" -token_out -out "$d/token.der" 2>/dev/null || return 1
    reply_text "$d/r.tsr" | sed -n 's/^Serial number: //p'
}

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
b64_hex() { python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1]).hex())' "$1"; }

# tl_proof_wait SERIAL OUT: waits (at most 2 s, the README's bound) for the token's inclusion
# proof; prints the milliseconds it took.
tl_proof_wait() {
    local t0 i
    t0=$(date +%s%3N)
    for ((i = 0; i < 40; i++)); do
        if tsactl --json log proof "$1" >"$2" 2>/dev/null; then
            echo $(( $(date +%s%3N) - t0 ))
            return 0
        fi
        (( $(date +%s%3N) - t0 > 2000 )) && break
        sleep 0.05
    done
    return 1
}

LOG_PIDFILE() { echo "$TSA_VAR/run/tsa-log.pid"; }

# The stack's integrator stopped (it gives the leadership back), and started again.
tl_integrator_stop() {
    local pid i
    pid=$(tr -dc '0-9' <"$(LOG_PIDFILE)" 2>/dev/null) || return 1
    [[ -n $pid ]] || return 1
    kill -TERM "$pid" 2>/dev/null || return 1
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}
tl_integrator_start() { "$STACK" start >>"$STACK_LOG" 2>&1; }

# TL_LOG: the command that runs tsa-log as the stack does: as root, as its user (the signer
# signs tree heads for that user only), from the copy the stack made where it can reach it.
tl_log_cmd() {
    if (( $(id -u) == 0 )); then
        TL_LOG=(setpriv --reuid=tsa-log --regid="$(id -g tsa-log)" --init-groups --
            "$TSA_VAR/bin/tsa-log" --conf "$TSA_VAR/tsa.conf")
    else
        TL_LOG=("$BUILD/tsa-log" --conf "$TSA_VAR/tsa.conf")
    fi
}

tl_audit_clean() {
    local out
    out=$(tsactl log audit 2>&1) || bad "tsactl log audit on an untouched log: $(oneline <<<"$out")"
    [[ $out == *agree* ]] || bad "tsactl log audit: $(oneline <<<"$out")"
    echo "$out"
}

# A leaf in the middle of the integrated tree: "INDEX SERIAL".
tl_middle_leaf() {
    tsa_psql -F ' ' -c "SELECT leaf_index, serial FROM log_leaves WHERE leaf_index =
        (SELECT max(tree_size) / 2 FROM log_heads)"
}

tokenlog_inclusion() {
    local d serial ms size out
    d=$(casedir)
    serial=$(tl_issue "$d") && [[ $serial == 0x* ]] || bad "no token issued"
    ms=$(tl_proof_wait "$serial" "$d/proof.json") || bad "no inclusion proof of $serial within 2 s"
    echo "inclusion proof of $serial after $ms ms"
    size=$(json_field "$d/proof.json" tree_size)
    tsactl --json log sth --size "$size" >"$d/sth.json" || bad "tsactl log sth --size $size failed"
    out=$(python3 "$TLOG_VERIFY" inclusion "$d/sth.json" "$d/proof.json" "$d/token.der") ||
        bad "the Python verifier: $out"
    echo "$out"
    # From the token file: its serial found in it, the leaf committing to its octets.
    out=$(tsactl log proof --token "$d/token.der" 2>&1) || bad "tsactl log proof --token: $out"
    [[ $out == *"commits to the token file"* ]] || bad "tsactl log proof --token: $out"
    out=$(tsactl log proof --token "$d/r.tsr" 2>&1) && bad "a response taken for a token: $out"
    # A proof altered in one hash is refused by the same verifier.
    python3 - "$d/proof.json" "$d/bad.json" <<'PY'
import base64, json, sys
p = json.load(open(sys.argv[1]))
h = bytearray(base64.b64decode(p["audit_path"][0])); h[0] ^= 1
p["audit_path"][0] = base64.b64encode(bytes(h)).decode()
json.dump(p, open(sys.argv[2], "w"))
PY
    out=$(python3 "$TLOG_VERIFY" inclusion "$d/sth.json" "$d/bad.json") && bad "an altered proof verified: $out"
    # Another token's file is not the leaf's.
    head -c 64 /dev/urandom >"$d/other.der"
    out=$(python3 "$TLOG_VERIFY" inclusion "$d/sth.json" "$d/proof.json" "$d/other.der") &&
        bad "the leaf verified as committing to another token: $out"
    return 0
}

# The same proofs over HTTP, under each service's URL, read with the log's read-only role.
tokenlog_http() {
    local d serial dec size out base code
    d=$(casedir)
    serial=$(tl_issue "$d") && [[ $serial == 0x* ]] || bad "no token issued"
    tl_proof_wait "$serial" "$d/p.json" >/dev/null || bad "no inclusion proof within 2 s"
    dec=$(json_field "$d/p.json" serial)
    for base in "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp"; do
        code=$(curl -sS -o "$d/proof.json" -w '%{http_code} %{content_type}' "$base/log/proof?serial=$dec") ||
            bad "GET $base/log/proof failed"
        [[ $code == "200 application/json" ]] || bad "GET $base/log/proof: $code $(head -c 200 "$d/proof.json")"
        size=$(json_field "$d/proof.json" tree_size)
        # The head the proof is for: a later one may have been published meanwhile.
        tsactl --json log sth --size "$size" >"$d/sth.json" || bad "no tree head of size $size"
        curl -sS -o "$d/latest.json" "$base/log/sth" || bad "GET $base/log/sth failed"
        out=$(python3 "$TLOG_VERIFY" sth "$d/latest.json" "$TSA_VAR/pki/log.pub.pem") || bad "GET $base/log/sth: $out"
        out=$(python3 "$TLOG_VERIFY" inclusion "$d/sth.json" "$d/proof.json" "$d/token.der") ||
            bad "the Python verifier on $base/log/proof: $out"
        echo "$base: $out"
    done
    base="http://127.0.0.1:$TSA_HTTP_PORT/tsa/log"
    local first
    first=$(tsa_psql -c "SELECT min(tree_size) FROM log_heads")
    code=$(curl -sS -o "$d/c.json" -w '%{http_code}' "$base/consistency?first=$first&second=$size")
    [[ $code == 200 ]] || bad "GET consistency?first=$first&second=$size: $code"
    tsactl --json log sth --size "$first" >"$d/one.json" || bad "no tree head of size $first"
    out=$(python3 "$TLOG_VERIFY" consistency "$d/one.json" "$d/sth.json" "$d/c.json") || bad "$out"
    # Strict queries: anything else is a 400, a POST a 405.
    for q in "proof?serial=0x12" "proof?serial=1&serial=2" "proof?serial=%2B1" "consistency?first=2&second=1" \
             "consistency?first=1" "sth?x=1"; do
        code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/$q")
        [[ $code == 400 ]] || bad "GET $base/$q: $code, not 400"
    done
    code=$(curl -sS -o /dev/null -w '%{http_code}' --data '' "$base/sth")
    [[ $code == 405 ]] || bad "POST $base/sth: $code, not 405"
    code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/proof?serial=1")
    [[ $code == 404 ]] || bad "a serial not in the log: $code, not 404"
    # Least privilege: the workers' role reads no log, the log's readers no archive, and the
    # signer's may not read the log it appends to.
    local conn
    conn=$(sed -n 's/^database *= *//p' "$TSA_VAR/tsa.conf")
    out=$(psql_as "$conn" "SELECT count(*) FROM log_leaves" 2>&1) && bad "the workers' role read the log: $out"
    conn=$(sed -n 's/^log_reader_database *= *//p' "$TSA_VAR/tsa.conf")
    out=$(psql_as "$conn" "SELECT count(*) FROM issued_tokens" 2>&1) && bad "the log's readers read the archive: $out"
    out=$(psql_as "$conn" "INSERT INTO log_heads (tree_size, root_hash, timestamp, epoch) VALUES (0, sha256(''), 0, 0)" 2>&1) &&
        bad "the log's readers wrote a tree head: $out"
    conn=$(sed -n 's/^signer_database *= *//p' "$TSA_VAR/tsa.conf")
    out=$(psql_as "$conn" "SELECT count(*) FROM log_queue" 2>&1) && bad "the signer's role read the log's queue: $out"
    conn=$(sed -n 's/^log_database *= *//p' "$TSA_VAR/tsa.conf")
    out=$(psql_as "$conn" "UPDATE log_leaves SET leaf = leaf" 2>&1) && bad "the integrator's role changed a leaf: $out"
    return 0
}

# The same on the HTTPS service (mutual TLS), behind each web server: /log/... answered for a
# registered client's certificate, and no answer without one (the handshake fails).
tokenlog_https() {
    local d serial dec base code out tls
    d=$(casedir)
    serial=$(tl_issue "$d") && [[ $serial == 0x* ]] || bad "no token issued"
    tl_proof_wait "$serial" "$d/p.json" >/dev/null || bad "no inclusion proof within 2 s"
    dec=$(json_field "$d/p.json" serial)
    base="https://127.0.0.1:$TSA_HTTPS_PORT/log"
    tls=(--cacert "$TSA_VAR/pki/ca.pem" --cert "$TSA_VAR/pki/client.pem" --key "$TSA_VAR/pki/client.key")
    for what in sth keys "proof?serial=$dec"; do
        code=$(curl -sS --max-time 30 "${tls[@]}" -o "$d/${what%%\?*}.json" -w '%{http_code} %{content_type}' "$base/$what") ||
            bad "GET $base/$what failed"
        [[ $code == "200 application/json" ]] || bad "GET $base/$what ($TSA_WEB): $code $(head -c 200 "$d/${what%%\?*}.json")"
    done
    out=$(python3 "$TLOG_VERIFY" sth-keys "$d/sth.json" "$d/keys.json") || bad "$base/sth: $out"
    echo "$TSA_WEB $base: $out"
    tsactl --json log sth --size "$(json_field "$d/proof.json" tree_size)" >"$d/head.json" ||
        bad "no tree head of the proof's size"
    out=$(python3 "$TLOG_VERIFY" inclusion "$d/head.json" "$d/proof.json" "$d/token.der") || bad "$base/proof: $out"
    echo "$TSA_WEB $base: $out"
    code=$(curl -sS --max-time 30 "${tls[@]}" -o /dev/null -w '%{http_code}' "$base/sth?x=1")
    [[ $code == 400 ]] || bad "GET $base/sth?x=1: $code, not 400"
    # No client certificate: nothing reaches the worker.
    code=$(curl -sS --max-time 30 --cacert "$TSA_VAR/pki/ca.pem" -o "$d/none.out" -w '%{http_code}' "$base/sth" 2>/dev/null) || code=handshake
    [[ $code != 200 ]] || bad "GET $base/sth without a client certificate: 200"
    echo "$TSA_WEB: without a client certificate: $code"
}

# psql_as CONNINFO SQL
psql_as() {
    local bin=psql found
    if ! command -v psql >/dev/null 2>&1; then
        found=(/usr/lib/postgresql/*/bin/psql)
        bin=${found[-1]}
    fi
    "$bin" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# /metrics: the tree's size and the integration lag, from the log's read-only role.
tokenlog_metrics() {
    local out size lag
    out=$(curl -sS "http://127.0.0.1:$TSA_HTTP_PORT/metrics") || bad "GET /metrics failed"
    size=$(sed -n 's/^tsa_log_tree_size \([0-9]*\)$/\1/p' <<<"$out")
    lag=$(sed -n 's/^tsa_log_integration_lag_seconds \(.*\)$/\1/p' <<<"$out")
    [[ -n $size && $size -gt 0 ]] || bad "no tsa_log_tree_size in /metrics: $(grep tsa_log <<<"$out" | oneline)"
    [[ -n $lag ]] || bad "no tsa_log_integration_lag_seconds in /metrics"
    grep -q '^tsa_log_queued_leaves ' <<<"$out" || bad "no tsa_log_queued_leaves in /metrics"
    grep '^tsa_log_' <<<"$out"
}

tokenlog_signed_heads() {
    local d out
    d=$(casedir)
    tsactl --json log sth >"$d/sth.json" || bad "tsactl log sth failed"
    out=$(python3 "$TLOG_VERIFY" sth "$d/sth.json" "$TSA_VAR/pki/log.pub.pem") || bad "$out"
    echo "$out"
    # A head altered in its size no longer verifies.
    python3 - "$d/sth.json" "$d/bad.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1])); h["tree_size"] += 1
json.dump(h, open(sys.argv[2], "w"))
PY
    out=$(python3 "$TLOG_VERIFY" sth "$d/bad.json" "$TSA_VAR/pki/log.pub.pem") && bad "an altered head verified: $out"
    # The signer takes tree-head orders from tsa-log's user only (SO_PEERCRED): not from root.
    (( $(id -u) == 0 )) || return 0
    out=$(python3 - "$TSA_VAR/run/tsa-signer/signer.sock" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
body = bytes([1, 3]) + (5).to_bytes(8, "big") + bytes(32)
s.sendall(struct.pack(">I", len(body)) + body)
n = struct.unpack(">I", s.recv(4))[0]
a = b""
while len(a) < n:
    a += s.recv(n - len(a))
print("answer type", a[1])
PY
) || bad "talking to the signer: $out"
    [[ $out == "answer type 2" ]] || bad "a tree head ordered by root: $out, not refused (type 2)"
    grep -q 'tree head ordered by pid .* uid 0 refused' "$TSA_VAR/log/tsa-signer.log" || bad "the signer did not log the refusal"
}

# Every server's log key listed for auditors (schema 013): GET URL/log/keys and tsactl log
# keys give the stack's key, the Python verifier checks a tree head with the key fetched
# there, and a head whose key is not listed (or retired before it) is refused by tsactl log
# sth and named by tsactl log audit.
tokenlog_keys() {
    local d base code id out row fp conn
    d=$(casedir)
    tl_issue "$d" >/dev/null || bad "no token issued"
    for base in "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "http://127.0.0.1:$TSA_HTTP_PORT/verificationserver/timestamp"; do
        code=$(curl -sS -o "$d/keys.json" -w '%{http_code} %{content_type}' "$base/log/keys") ||
            bad "GET $base/log/keys failed"
        [[ $code == "200 application/json" ]] || bad "GET $base/log/keys: $code $(head -c 200 "$d/keys.json")"
        curl -sS -o "$d/sth.json" "$base/log/sth" || bad "GET $base/log/sth failed"
        out=$(python3 "$TLOG_VERIFY" sth-keys "$d/sth.json" "$d/keys.json") || bad "$base: $out"
        echo "$base: $out"
    done
    code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/log/keys?x=1")
    [[ $code == 400 ]] || bad "GET $base/log/keys?x=1: $code, not 400"
    # The stack's key, listed as the one its public key file holds.
    fp=$(openssl pkey -pubin -in "$TSA_VAR/pki/log.pub.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
    id=$(json_field "$d/sth.json" log_key_id)
    [[ $id == "$fp" ]] || bad "the tree head's key $id is not the stack's log key $fp"
    out=$(tsactl log keys) || bad "tsactl log keys: $out"
    [[ $out == *"$fp"*ecdsa-sha256* ]] || bad "tsactl log keys does not list $fp: $out"
    tsactl --json log keys >"$d/keys2.json" || bad "tsactl --json log keys failed"
    out=$(python3 "$TLOG_VERIFY" sth-keys "$d/sth.json" "$d/keys2.json") || bad "tsactl --json log keys: $out"
    out=$(tsactl log sth) || bad "tsactl log sth: $out"
    [[ $out == *"verified with the listed log key $fp"* ]] || bad "tsactl log sth: $out"
    # Listed again: refused, the list unchanged.
    out=$(tsactl log key add 2>&1) && bad "a key listed twice: $out"
    [[ $out == *"listed already"* ]] || bad "tsactl log key add again: $out"
    # Only the owner writes the list: not the log's readers, the integrator or the signer.
    local var
    for var in log_reader_database log_database signer_database database; do
        conn=$(sed -n "s/^$var *= *//p" "$TSA_VAR/tsa.conf")
        out=$(psql_as "$conn" "UPDATE log_keys SET retired_at = NULL" 2>&1) && bad "$var's role wrote log_keys: $out"
        out=$(psql_as "$conn" "DELETE FROM log_keys" 2>&1) && bad "$var's role deleted from log_keys: $out"
    done
    # The key taken off the list (as an owner of the database could): every tree head is then
    # signed by a key nobody listed.  The row is put back before anything is judged.
    row=$(tsa_psql -c "SELECT key_id FROM log_keys WHERE key_id = '$fp'")
    [[ $row == "$fp" ]] || bad "the stack's key is not in log_keys"
    tsa_psql -c "DROP TABLE IF EXISTS log_keys_saved; CREATE TABLE log_keys_saved AS
        SELECT * FROM log_keys WHERE key_id = '$fp'; DELETE FROM log_keys WHERE key_id = '$fp';" >/dev/null ||
        bad "could not take the key off"
    local sth_out sth_rc audit_out audit_rc http_out
    sth_out=$(tsactl log sth 2>&1); sth_rc=$?
    audit_out=$(tsactl log audit 2>&1); audit_rc=$?
    curl -sS -o "$d/keys3.json" "$base/log/keys"
    http_out=$(python3 "$TLOG_VERIFY" sth-keys "$d/sth.json" "$d/keys3.json" 2>&1)
    tsa_psql -c "INSERT INTO log_keys SELECT * FROM log_keys_saved; DROP TABLE log_keys_saved" >/dev/null ||
        bad "could not put the key back"
    (( sth_rc == 1 )) && [[ $sth_out == *"which is not listed"* ]] ||
        bad "tsactl log sth with its key not listed: $sth_rc $sth_out"
    echo "$sth_out"
    (( audit_rc == 1 )) && [[ $audit_out == *"is signed by the log key $fp, which is not listed"* ]] ||
        bad "tsactl log audit with the key not listed: $audit_rc $(oneline <<<"$audit_out")"
    grep -m1 'not listed' <<<"$audit_out"
    [[ $http_out == FAIL*"not listed"* ]] || bad "the Python verifier with the key not listed: $http_out"
    out=$(tsactl log sth) || bad "tsactl log sth with the key back: $out"
    # Retired: heads signed after its retirement are refused; put back in service after.
    tsa_psql -c "UPDATE log_keys SET retired_at = now() - interval '1 hour' WHERE key_id = '$fp'" >/dev/null ||
        bad "could not retire the key"
    sth_out=$(tsactl log sth 2>&1); sth_rc=$?
    tsa_psql -c "UPDATE log_keys SET retired_at = NULL WHERE key_id = '$fp'" >/dev/null || bad "could not restore the key"
    (( sth_rc == 1 )) && [[ $sth_out == *"after it was retired"* ]] || bad "a head after its key's retirement: $sth_rc $sth_out"
    echo "$sth_out"
    out=$(tl_audit_clean) || exit 1
    [[ $out == *"signed with the 1 listed log keys"* ]] || bad "tsactl log audit: $(oneline <<<"$out")"
    return 0
}

tokenlog_heads() {
    local d t0 t1 out n gap
    d=$(casedir)
    t0=$(date +%s%3N)
    while (( $(date +%s%3N) - t0 < 3000 )); do
        tl_issue "$d" >/dev/null || bad "a token refused"
    done
    t1=$(date +%s%3N)
    sleep 1
    # The heads published while tokens were issued: at least one a second.
    out=$(tsa_psql -F ' ' -c "SELECT count(*), coalesce(max(gap), 0) FROM (SELECT timestamp -
        lag(timestamp) OVER (ORDER BY tree_size) AS gap FROM log_heads
        WHERE timestamp BETWEEN $t0 AND $t1 + 1000) g")
    read -r n gap <<<"$out"
    echo "tree heads while issuing for $((t1 - t0)) ms: $n, the longest gap $gap ms"
    (( n >= 3 && gap <= 1000 )) || bad "tree heads while issuing: $n, longest gap $gap ms"
}

tokenlog_consistency() {
    local d a b out size_a root_a
    d=$(casedir)
    tsactl --json log sth >"$d/a.json" || bad "tsactl log sth failed"
    size_a=$(json_field "$d/a.json" tree_size)
    root_a=$(b64_hex "$(json_field "$d/a.json" sha256_root_hash)")
    tl_issue "$d" >/dev/null && tl_issue "$d" >/dev/null || bad "no token issued"
    for ((a = 0; a < 40; a++)); do
        tsactl --json log sth >"$d/b.json" || bad "tsactl log sth failed"
        (( $(json_field "$d/b.json" tree_size) > size_a )) && break
        sleep 0.05
    done
    b=$(json_field "$d/b.json" tree_size)
    (( b > size_a )) || bad "the tree did not grow within 2 s"
    tsactl --json log consistency "$size_a" "$b" >"$d/c.json" || bad "tsactl log consistency $size_a $b failed"
    out=$(python3 "$TLOG_VERIFY" consistency "$d/a.json" "$d/b.json" "$d/c.json") ||
        bad "the Python verifier: $out"
    echo "$out"
    out=$(tsactl log consistency "$size_a" --root "$root_a" 2>&1) || bad "tsactl log consistency --root: $out"
    echo "$out"
    out=$(tsactl log consistency "$size_a" --root "$(printf '%064d' 0)" 2>&1) && bad "a wrong kept root passed: $out"
    [[ $out == *INCONSISTENT* ]] || bad "a wrong kept root: $out"
    return 0
}

tokenlog_audit() {
    local out
    out=$(tl_audit_clean) || exit 1
    echo "$out"
    # Each archived RFC 3161 and XML token's signature checked too.
    [[ $out =~ \(([0-9]+)\ signatures\ verified ]] && (( BASH_REMATCH[1] > 0 )) ||
        bad "audit verified no token's signature: $(oneline <<<"$out")"
    # Its outcome is an event, which the console's dashboard shows beside the latest head.
    events_wait "kind = 'log-audit' AND severity = 'info'" 1 min || bad "no log-audit event"
    local d code
    d=$(casedir)
    code=$(curl -sS --max-time 30 --cacert "$TSA_VAR/pki/ca.pem" --cert "$TSA_VAR/pki/admin.pem" \
        --key "$TSA_VAR/pki/admin.key" -o "$d/dash.html" -w '%{http_code}' \
        "https://127.0.0.1:$TSA_HTTPS_PORT/admin/") || bad "GET /admin/ failed"
    [[ $code == 200 ]] || bad "GET /admin/: $code"
    grep -q 'Token log' "$d/dash.html" || bad "no token log on the dashboard"
    grep -q 'signatures verified' "$d/dash.html" || bad "the last audit is not on the dashboard"
}

tokenlog_tamper_deleted() {
    local idx serial out
    read -r idx serial <<<"$(tl_middle_leaf)"
    [[ -n $serial ]] || bad "no leaf to tamper with"
    tsa_psql -c "CREATE TABLE tamper_tok AS SELECT * FROM issued_tokens WHERE serial = $serial;
        DELETE FROM issued_tokens WHERE serial = $serial" || bad "deleting the row failed"
    out=$(tsactl log audit 2>&1) && bad "audit passed with token $serial deleted: $(oneline <<<"$out")"
    tsa_psql -c "INSERT INTO issued_tokens SELECT * FROM tamper_tok; DROP TABLE tamper_tok" ||
        bad "restoring the row failed"
    echo "$out"
    [[ $out == *"leaf $idx (serial $serial): the token is not in the archive"* ]] ||
        bad "audit did not name the deleted token: $(oneline <<<"$out")"
    [[ $out == *"first leaf that differs is $idx "* ]] || bad "audit named another first leaf: $(oneline <<<"$out")"
    tl_audit_clean >/dev/null
}

tokenlog_tamper_gentime() {
    local idx serial out
    read -r idx serial <<<"$(tl_middle_leaf)"
    tsa_psql -c "UPDATE issued_tokens SET gen_time = gen_time - interval '1 hour' WHERE serial = $serial" ||
        bad "altering genTime failed"
    out=$(tsactl log audit 2>&1) && bad "audit passed with a genTime altered: $(oneline <<<"$out")"
    tsa_psql -c "UPDATE issued_tokens SET gen_time = gen_time + interval '1 hour' WHERE serial = $serial" ||
        bad "restoring genTime failed"
    echo "$out"
    [[ $out == *"leaf $idx (serial $serial): the archive's genTime differs from the logged one by -3600000000 us"* ]] ||
        bad "audit did not name the altered genTime: $(oneline <<<"$out")"
    [[ $out == *"first leaf that differs is $idx "* ]] || bad "audit named another first leaf: $(oneline <<<"$out")"
    tl_audit_clean >/dev/null
}

# The archived token's signature altered (its last octet, in the SignerInfo's signature):
# the hash no longer matches the leaf, and the token no longer verifies.
tokenlog_tamper_token() {
    local idx serial out
    read -r idx serial <<<"$(tsa_psql -F ' ' -c "SELECT l.leaf_index, l.serial FROM log_leaves l
        JOIN issued_tokens t USING (serial) WHERE t.protocol = 'rfc3161' AND t.token IS NOT NULL
        ORDER BY l.leaf_index DESC LIMIT 1")"
    [[ -n $serial ]] || bad "no RFC 3161 leaf to tamper with"
    tsa_psql -c "UPDATE issued_tokens SET token = set_byte(token, length(token) - 1,
        get_byte(token, length(token) - 1) # 1) WHERE serial = $serial" || bad "altering the token failed"
    out=$(tsactl log audit 2>&1) && bad "audit passed with a token's signature altered: $(oneline <<<"$out")"
    tsa_psql -c "UPDATE issued_tokens SET token = set_byte(token, length(token) - 1,
        get_byte(token, length(token) - 1) # 1) WHERE serial = $serial" || bad "restoring the token failed"
    echo "$out"
    [[ $out == *"leaf $idx (serial $serial): the archived token's hash differs from the logged one"* ]] ||
        bad "audit did not see the token's hash change: $(oneline <<<"$out")"
    [[ $out == *"leaf $idx (serial $serial): the archived token does not verify"* ]] ||
        bad "audit did not see the bad signature: $(oneline <<<"$out")"
    [[ $out == *"first leaf that differs is $idx "* ]] || bad "audit named another first leaf: $(oneline <<<"$out")"
    tl_audit_clean >/dev/null
}

tokenlog_tamper_inserted() {
    local k out
    tl_integrator_stop || bad "cannot stop the stack's tsa-log"
    # An even index, so that the pair of leaves the audit names starts with it.
    k=$(tsa_psql -c "SELECT (max(tree_size) / 4) * 2 FROM log_heads")
    tsa_psql -c "BEGIN;
        CREATE TABLE tamper_leaves AS SELECT * FROM log_leaves WHERE leaf_index >= $k;
        DELETE FROM log_leaves WHERE leaf_index >= $k;
        INSERT INTO log_leaves SELECT leaf_index + 1, serial, leaf, leaf_hash FROM tamper_leaves;
        INSERT INTO log_leaves SELECT $k, serial, leaf, leaf_hash FROM tamper_leaves
            WHERE leaf_index = $k + 1;
        COMMIT" || { tl_integrator_start; bad "inserting a leaf failed"; }
    out=$(tsactl log audit 2>&1) && { tl_integrator_start; bad "audit passed with a leaf inserted at $k: $(oneline <<<"$out")"; }
    tsa_psql -c "BEGIN; DELETE FROM log_leaves WHERE leaf_index >= $k;
        INSERT INTO log_leaves SELECT * FROM tamper_leaves; DROP TABLE tamper_leaves; COMMIT" ||
        bad "restoring the leaves failed"
    tl_integrator_start || bad "tsa-log did not start again"
    echo "$out"
    [[ $out == *"first leaf that differs is $k "* ]] || bad "audit named another first leaf than $k: $(oneline <<<"$out")"
    [[ $out == *"does not match the archive"* ]] || bad "audit did not refuse the tree head: $(oneline <<<"$out")"
    tl_audit_clean >/dev/null
}

tokenlog_one_integrator() {
    local d pid epoch out serial i
    d=$(casedir)
    epoch=$(tsa_psql -c "SELECT epoch FROM log_leader")
    # A second integrator while the stack's leads: it waits, integrating nothing.
    # A simple command in the background: $! is tsa-log itself (setpriv execs), and it
    # holds no descriptor of the case's output.
    tl_log_cmd
    "${TL_LOG[@]}" >"$d/second.log" 2>&1 3>&- &
    pid=$!
    serial=$(tl_issue "$d") || { kill "$pid"; bad "no token issued"; }
    tl_proof_wait "$serial" "$d/p.json" >/dev/null || { kill "$pid"; bad "no proof within 2 s"; }
    kill -TERM "$pid"; wait "$pid" 2>/dev/null
    ! grep -q 'leads the token log' "$d/second.log" || bad "a second integrator took the lead: $(oneline <"$d/second.log")"
    [[ $(tsa_psql -c "SELECT epoch FROM log_leader") == "$epoch" ]] || bad "the epoch changed"
    # Someone else takes the row (a failover's second integrator): the stack's stops
    # integrating at its next transaction, and leads again once that holder's lease ran out.
    tsa_psql -c "UPDATE log_leader SET epoch = epoch + 1, holder = 'e2e-intruder', renewed = now()"
    sleep 0.5
    serial=$(tl_issue "$d") || bad "no token issued"
    sleep 1
    tsactl log proof "$serial" >/dev/null 2>&1 && bad "a token was integrated under another leader's epoch"
    grep -q "lost the token log's leadership" "$TSA_VAR/log/tsa-log.log" || bad "tsa-log did not say it lost the lead"
    for ((i = 0; i < 100; i++)); do
        tsactl log proof "$serial" >/dev/null 2>&1 && break
        sleep 0.1
    done
    tsactl log proof "$serial" || bad "the stack's tsa-log did not lead again after the lease"
    [[ $(tsa_psql -c "SELECT epoch FROM log_heads ORDER BY tree_size DESC LIMIT 1") == $((epoch + 2)) ]] ||
        bad "the latest tree head is not of the new epoch $((epoch + 2))"
}

tokenlog_tamper_truncated() {
    local d n k out
    d=$(casedir)
    tsactl --json log sth >"$d/kept.json" || bad "tsactl log sth failed"
    n=$(json_field "$d/kept.json" tree_size)
    (( n >= 4 )) || bad "a tree of $n leaves"
    tl_integrator_stop || bad "cannot stop the stack's tsa-log"
    k=$((n / 2))
    # Cut at k, and the same leaves queued again in another order.
    tsa_psql -c "BEGIN;
        CREATE TEMP TABLE cut AS SELECT * FROM log_leaves WHERE leaf_index >= $k;
        DELETE FROM log_leaves WHERE leaf_index >= $k;
        DELETE FROM log_nodes WHERE (idx + 1) * (1::int8 << level) > $k;
        DELETE FROM log_heads WHERE tree_size > $k;
        INSERT INTO log_queue (serial, leaf) SELECT serial, leaf FROM cut ORDER BY leaf_index DESC;
        COMMIT" || { tl_integrator_start; bad "truncating the log failed"; }
    tl_log_cmd
    "${TL_LOG[@]}" --once >"$d/regrow.log" 2>&1 ||
        { tl_integrator_start; bad "tsa-log --once: $(oneline <"$d/regrow.log")"; }
    tl_integrator_start || bad "tsa-log did not start again"
    tsactl --json log sth --size "$n" >"$d/now.json" || bad "no tree head of size $n after the regrowth"
    out=$(tsactl log consistency "$n" --root "$(b64_hex "$(json_field "$d/kept.json" sha256_root_hash)")" 2>&1) &&
        bad "tsactl log consistency passed against the kept head: $out"
    echo "$out"
    [[ $out == *"INCONSISTENT"*"rewritten"* ]] || bad "tsactl log consistency: $out"
    # The independent verifier, given the log's own proof from the kept size to now.
    tsactl --json log consistency "$n" >"$d/c.json" 2>/dev/null || true
    tsactl --json log sth >"$d/latest.json" || bad "tsactl log sth failed"
    if [[ $(json_field "$d/latest.json" tree_size) != "$n" ]]; then
        out=$(python3 "$TLOG_VERIFY" consistency "$d/kept.json" "$d/latest.json" "$d/c.json" 2>&1) &&
            bad "the Python verifier accepted the regrown log: $out"
        echo "$out"
    else
        [[ $(json_field "$d/latest.json" sha256_root_hash) != "$(json_field "$d/kept.json" sha256_root_hash)" ]] ||
            bad "the regrown log has the kept root"
    fi
}

cases_tokenlog() {
    run_case tokenlog/inclusion tokenlog_inclusion
    run_case tokenlog/http tokenlog_http
    run_case tokenlog/https tokenlog_https
    run_case tokenlog/signed-heads tokenlog_signed_heads
    run_case tokenlog/keys tokenlog_keys
    run_case tokenlog/metrics tokenlog_metrics
    run_case tokenlog/heads-every-second tokenlog_heads
    run_case tokenlog/consistency tokenlog_consistency
    run_case tokenlog/audit tokenlog_audit
    run_case tokenlog/tamper-deleted tokenlog_tamper_deleted
    run_case tokenlog/tamper-gentime tokenlog_tamper_gentime
    run_case tokenlog/tamper-token tokenlog_tamper_token
    run_case tokenlog/tamper-inserted tokenlog_tamper_inserted
    run_case tokenlog/one-integrator tokenlog_one_integrator
    # Last: it rewrites the log's history for good (the kept head then disagrees).
    run_case tokenlog/tamper-truncated tokenlog_tamper_truncated
}
