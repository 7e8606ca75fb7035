# Live reload: a filter changed under load (every answer the old or the new behaviour, the new
# one everywhere within a second), and bad configurations refused (an event, the worker log
# says why, the last good configuration keeps serving).  The cases use a policy of their own,
# t-reload at position -2 of service tsa, matched by requests naming RL_OID; the pf_* helpers
# are filters.sh's.
# shellcheck shell=bash
# The check functions are run through `eventually`, which shellcheck cannot follow:
# shellcheck disable=SC2317

RL_OID=1.3.6.1.4.1.32473.9.2

rl_chain() { pf_chain t-reload -2 "$RL_OID" "$RL_OID" "$@"; }

# rl_log_mark: the worker log's size now; rl_log_since MARK: what was written after it.
rl_log_mark() { stat -c %s "$TSA_VAR/log/tsa-fcgi.log"; }
rl_log_since() { tail -c +"$(($1 + 1))" "$TSA_VAR/log/tsa-fcgi.log"; }

# rl_serves DIR GRANTED_ALG REFUSED_ALG [N]: N (4) times, a query with the first algorithm is
# granted and one with the second refused with badAlg.
rl_serves() {
    local d=$1 yes=$2 no=$3 n=${4:-4} i
    for ((i = 0; i < n; i++)); do
        pf_granted "$d" "-$yes" -tspolicy "$RL_OID"
        pf_refused "$d" "$FI_BAD_ALG" "-$no" -tspolicy "$RL_OID"
    done
}

# The time in microseconds since the epoch.
rl_now() { printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"; }

# rl_load_loop DIR N DEADLINE COUNT: POSTs the queries DIR/q*.tsq in turn until DEADLINE
# (rl_now's unit) or COUNT requests; DIR/loopN.log gets "start http_code body_file" a line.
rl_load_loop() {
    local d=$1 n=$2 deadline=$3 count=$4 i=0 start code qs
    qs=("$d"/q*.tsq)
    while (( i < count )); do
        start=$(rl_now)
        (( start < deadline )) || break
        code=$(curl -s --max-time 10 -o "$d/r$n-$i.tsr" -w '%{http_code}' \
            -H 'Content-Type: application/timestamp-query' \
            --data-binary @"${qs[i % ${#qs[@]}]}" "http://127.0.0.1:$TSA_HTTP_PORT/tsa") || code=curl-failed
        printf '%s %s %s\n' "$start" "$code" "$d/r$n-$i.tsr" >>"$d/loop$n.log"
        i=$((i + 1))
    done
}

# Classifies each answer of the load loops, one "start_epoch verdict file" a line: granted,
# badAlg, or what else it is.  DER read by hand: TimeStampResp { PKIStatusInfo { status,
# statusString?, failInfo? }, token? }.
rl_classify() {
    python3 - "$@" <<'EOF'
import sys

def tlv(b, i):
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[i:i + k], 'big')
        i += k
    return tag, b[i:i + n], i + n

for log in sys.argv[1:]:
    for line in open(log):
        start, code, path = line.split()
        verdict = 'http-' + code
        if code == '200':
            try:
                b = open(path, 'rb').read()
                tag, resp, end = tlv(b, 0)
                assert tag == 0x30 and end == len(b)
                tag, si, after = tlv(resp, 0)
                assert tag == 0x30
                tag, status, j = tlv(si, 0)
                assert tag == 0x02
                fail = None
                while j < len(si):
                    tag, v, j = tlv(si, j)
                    if tag == 0x03:
                        fail = v
                if status == b'\x00' and after < len(resp):
                    verdict = 'granted'
                elif status == b'\x02' and fail == b'\x07\x80':
                    verdict = 'badAlg'
                else:
                    verdict = 'status-%s-failInfo-%s' % (status.hex(), fail.hex() if fail else '')
            except Exception as e:
                verdict = 'unreadable'
        print(start, verdict, path)
EOF
}

# While three bounded load loops POST sha384 queries, a transaction drops sha384 from the
# policy's hash-algorithms: every answer is HTTP 200 and granted (before) or badAlg (after),
# and every request sent more than a second after the commit gets badAlg.
rl_live() {
    local d i t0 commit n total=0 before=0 after=0 late_granted='' other='' start verdict file last=0
    d=$(casedir)
    trap 'pf_drop t-reload' EXIT
    rl_chain 'hash-algorithms={"accept": ["sha256", "sha384"]}'
    pf_settle
    for i in 1 2 3 4 5 6 7 8; do
        head -c 256 /dev/urandom >"$d/data$i"
        openssl ts -query -data "$d/data$i" -sha384 -cert -tspolicy "$RL_OID" -out "$d/q$i.tsq" 2>/dev/null ||
            bad "openssl ts -query failed"
    done
    t0=$(rl_now)
    for n in 1 2 3; do
        rl_load_loop "$d" "$n" $((t0 + 6000000)) 600 &
    done
    sleep 2.5
    tsa_psql -c "BEGIN" -c "UPDATE policy_filters SET params = '{\"accept\": [\"sha256\"]}'
        WHERE filter = 'hash-algorithms' AND policy_id = (SELECT id FROM policies WHERE name = 't-reload')" \
        -c "COMMIT" >/dev/null || bad "the change failed"
    commit=$(rl_now)
    wait
    rl_classify "$d"/loop*.log >"$d/verdicts" || bad "classifying the answers failed"
    while read -r start verdict file; do
        total=$((total + 1))
        case $verdict in
            granted)
                before=$((before + 1))
                (( start > last )) && last=$start
                if [[ -z $late_granted ]] && (( start > commit + 1000000 )); then
                    late_granted="$file, sent $(((start - commit) / 1000)) ms after the commit"
                fi ;;
            badAlg) after=$((after + 1)) ;;
            *) [[ -n $other ]] || other="$verdict ($file)" ;;
        esac
    done <"$d/verdicts"
    echo "answers: $total, granted $before, badAlg $after; the last granted was sent $(((last - commit) / 1000)) ms after the commit"
    [[ -z $other ]] || bad "an answer neither granted nor badAlg: $other"
    [[ -z $late_granted ]] || bad "granted more than 1 s after the change: $late_granted"
    (( before > 0 && after > 0 )) || bad "the load did not straddle the change ($before granted, $after badAlg of $total)"
    (( total >= 30 )) || bad "only $total answers in 6 s"
    # openssl agrees with the hand reading, on one of each.
    file=$(awk '$2 == "granted" { print $3; exit }' "$d/verdicts")
    reply_text "$file" | grep -q '^Status: Granted' || bad "openssl does not read $file as granted"
    file=$(awk '$2 == "badAlg" { f = $3 } END { print f }' "$d/verdicts")
    expect_rejected "$file" "$FI_BAD_ALG"
}

# A bad configuration (unknown filter, then a bad parameter) is refused: the old behaviour
# stays in every worker, a config-refused event and the worker log say why; once fixed, the
# new configuration takes effect.
rl_bad_config() {
    local d since mark out
    d=$(casedir)
    trap 'pf_drop t-reload' EXIT
    rl_chain 'hash-algorithms={"accept": ["sha256"]}'
    pf_settle
    rl_serves "$d" sha256 sha384 1

    since=$(pf_last_event)
    mark=$(rl_log_mark)
    # sha384 instead of sha256, and an unknown filter, in one transaction: all or nothing.
    rl_chain 'hash-algorithms={"accept": ["sha384"]}' 'no-such-filter={}'
    sleep 0.3
    rl_serves "$d" sha256 sha384 3
    out=$(pf_events "$since" config-refused)
    [[ $out == *"unknown filter 'no-such-filter'"* ]] || bad "no config-refused event naming the unknown filter: $(oneline <<<"$out")"
    out=$(rl_log_since "$mark")
    grep -q "refused.*unknown filter 'no-such-filter'" <<<"$out" ||
        bad "the worker log does not say the configuration was refused: $(oneline <<<"$out")"

    rl_chain 'hash-algorithms={"accept": ["sha384"]}'
    eventually rl_serves "$d" sha384 sha256 1
    pf_settle
    rl_serves "$d" sha384 sha256 2

    since=$(pf_last_event)
    mark=$(rl_log_mark)
    rl_chain 'hash-algorithms={"accept": ["sha256"]}' 'accuracy={"digits": 9}'
    sleep 0.3
    rl_serves "$d" sha384 sha256 3
    out=$(pf_events "$since" config-refused)
    [[ $out == *"'digits' must be a whole number from 0 to 6"* ]] || bad "no config-refused event about digits 9: $(oneline <<<"$out")"
    grep -q 'refused.*digits' <<<"$(rl_log_since "$mark")" || bad "the worker log does not say why digits 9 was refused"

    rl_chain 'hash-algorithms={"accept": ["sha256"]}' 'accuracy={"digits": 6}'
    eventually rl_serves "$d" sha256 sha384 1
}

# Bad parameters of each kind, each refused at load with its reason in a config-refused event,
# the good chain serving meanwhile.
rl_bad_params() {
    local d since bad_filter why out entry
    d=$(casedir)
    trap 'pf_drop t-reload' EXIT
    local -a cases=(
        'serial={"bytes": 7}'                             "'bytes' must be a whole number from 8 to 20"
        'accuracy={"seconds": 0}'                         "an accuracy of zero"
        'cert-id={"version": 2, "hash": "sha1"}'          "'hash' must be a SHA-2 or SHA-3 name"
        'cert-id={"version": 3}'                          "'version' must be a whole number from 1 to 2"
        'ip-allow={"allow": ["127.0.0.300"]}'             "'127.0.0.300' is not an IPv4 or IPv6 address"
        'ip-allow={"allow": ["10.0.0.0/33"]}'             "'10.0.0.0/33' is not an IPv4 or IPv6 address"
        'clock={"status_file": "relative/clock.status"}'  "'status_file' must be an absolute path"
        'clock={"leap": "smear"}'                         "'leap' must be none, pause or stop"
        'policy-oid={"accept": ["not-an-oid"]}'           "'not-an-oid' is not an OID in dotted form"
        'extensions={"accept": ["1"]}'                    "'1' is not an OID in dotted form"
        'hash-algorithms={"accept": ["md5"]}'             "unknown hash algorithm 'md5'"
        'hash-algorithms={"accept": ["sha256"], "reject": ["sha1"]}'  "unknown parameter 'reject'"
        'ordering={"enabled": "yes"}'                     "'enabled' must be true or false"
        'cert-chain={"include": "all"}'                   "'include' must be leaf or chain"
        'archive={"store": "everything"}'                 "'store' must be index, token or request"
        'client-auth={"required": true}'                  "unknown parameter 'required'"
    )
    rl_chain 'hash-algorithms={"accept": ["sha256"]}'
    pf_settle
    rl_serves "$d" sha256 sha384 1
    for ((entry = 0; entry < ${#cases[@]}; entry += 2)); do
        bad_filter=${cases[entry]} why=${cases[entry + 1]}
        since=$(pf_last_event)
        rl_chain 'hash-algorithms={"accept": ["sha384"]}' "$bad_filter"
        check() {
            pf_granted "$d" -sha256 -tspolicy "$RL_OID"
            out=$(pf_events "$since" config-refused)
            [[ $out == *"$why"* ]] || bad "$bad_filter: no config-refused event saying \"$why\": $(oneline <<<"$out")"
        }
        eventually check
    done
}

# A policy without a signer cannot be written: the schema refuses it (NOT NULL, and a
# signer_id must name a signer), and config_version does not move.
rl_no_signer() {
    local v out
    v=$(tsa_psql -c 'SELECT version FROM config_version')
    out=$(tsa_psql -c "INSERT INTO policies (service_id, position, name, policy_oid, signer_id)
        SELECT id, -2, 't-reload', '$RL_OID', NULL FROM services WHERE name = 'tsa'" 2>&1) &&
        bad "a policy with no signer was inserted"
    [[ $out == *'null value in column "signer_id"'* ]] || bad "no signer: $(oneline <<<"$out")"
    out=$(tsa_psql -c "INSERT INTO policies (service_id, position, name, policy_oid, signer_id)
        SELECT id, -2, 't-reload', '$RL_OID', -1 FROM services WHERE name = 'tsa'" 2>&1) &&
        bad "a policy with signer -1 was inserted"
    [[ $out == *'violates foreign key constraint'* ]] || bad "signer -1: $(oneline <<<"$out")"
    [[ $(tsa_psql -c 'SELECT version FROM config_version') == "$v" ]] || bad "config_version moved"
}

# A policy replaced (removed and added again, new id) in a transaction that does not load:
# the workers keep the last good configuration, which still names the old policy.  Its tokens
# must still be issued and recorded.
rl_refused_replaced_policy() {
    local d
    d=$(casedir)
    trap 'pf_drop t-reload' EXIT
    rl_chain 'hash-algorithms={"accept": ["sha256"]}'
    pf_settle
    rl_serves "$d" sha256 sha384 1
    tsa_psql <<EOF >/dev/null || bad "replacing the policy failed"
BEGIN;
DELETE FROM policies WHERE name = 't-reload';
INSERT INTO policies (service_id, position, name, match_req_policy, policy_oid, signer_id)
  SELECT s.id, -2, 't-reload', '$RL_OID', '$RL_OID', p.signer_id
    FROM services s JOIN policies p ON p.service_id = s.id AND p.name = 'default' WHERE s.name = 'tsa';
INSERT INTO policy_filters (policy_id, position, filter, params)
  SELECT id, 1, 'no-such-filter', '{}' FROM policies WHERE name = 't-reload';
COMMIT;
EOF
    sleep 0.3
    pf_query "$d" -sha256 -tspolicy "$RL_OID"
    pf_send "$d"
    pf_expect_granted "$d" "the last good configuration, its policy since replaced in the database"
}

# A good change, then (1.5 s later, with no request between) a bad one: the good change reached
# every worker within a second, so it is the last good configuration the workers keep.
rl_idle_last_good() {
    local d
    d=$(casedir)
    trap 'pf_drop t-reload' EXIT
    rl_chain 'hash-algorithms={"accept": ["sha256"]}'
    pf_settle
    rl_chain 'hash-algorithms={"accept": ["sha384"]}'
    sleep 1.5
    rl_chain 'hash-algorithms={"accept": ["sha384"]}' 'no-such-filter={}'
    sleep 0.3
    check() {
        pf_query "$d" -sha384 -tspolicy "$RL_OID"
        pf_send "$d"
        grep -q '^Status: Granted' "$d/text" 2>/dev/null ||
            bad "sha384 (allowed by the last good configuration, 1.5 s old when a bad one came) is $(grep -m1 '^Failure info' "$d/text" 2>/dev/null || echo "HTTP $(<"$d/http")"): the workers kept an older configuration"
    }
    check
    check
    check
}

cases_reload() {
    run_case "reload/live-under-load" rl_live
    run_case "reload/bad-config-keeps-last-good" rl_bad_config
    run_case "reload/bad-parameters" rl_bad_params
    run_case "reload/policy-without-signer" rl_no_signer
    run_case "reload/refused-after-policy-replaced" rl_refused_replaced_policy
    run_case "reload/idle-workers-keep-last-good" rl_idle_last_good
}
