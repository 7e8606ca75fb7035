# tsactl's administration verbs against the e2e stack: services, policies, filter chains,
# signers (and a key generated on the token), clients, events; readable and --json output,
# exit statuses, and config_version moving with every write and only then.  Every case works
# on services of its own (t-admin-*) and removes them; the demo services are never touched
# (the last case checks that).
# shellcheck shell=bash

config_version() { tsa_psql -c 'SELECT version FROM config_version'; }

# json EXPR: the Python expression EXPR over j, the JSON document on stdin (which must parse);
# strings print bare, everything else as JSON.
json() {
    python3 -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))' "$1"
}

# writes ARGS...: `tsactl ARGS` succeeds and config_version grows; prints its output.
writes() {
    local before after out
    before=$(config_version) || bad "cannot read config_version"
    out=$(tsactl "$@" 2>&1) || bad "tsactl $*: exit status $?: $(oneline <<<"$out")"
    after=$(config_version)
    (( after > before )) || bad "tsactl $*: config_version stayed at $before"
    printf '%s\n' "$out"
}

# refused STATUS ARGS...: `tsactl ARGS` exits with STATUS, says why on stderr ("tsactl: ..."),
# and writes nothing (config_version unchanged); prints its output.
refused() {
    local want=$1 before after rc out
    shift
    before=$(config_version) || bad "cannot read config_version"
    out=$(tsactl "$@" 2>&1) && rc=0 || rc=$?
    (( rc == want )) || bad "tsactl $*: exit status $rc, want $want: $(oneline <<<"$out")"
    [[ $out == tsactl:* ]] || bad "tsactl $*: no reason on stderr: $(oneline <<<"$out")"
    after=$(config_version)
    [[ $after == "$before" ]] || bad "tsactl $*: refused, yet config_version moved from $before to $after"
    printf '%s\n' "$out"
}

# says TEXT OUTPUT: OUTPUT holds TEXT.
says() { [[ $2 == *"$1"* ]] || bad "'$1' not in: $(oneline <<<"$2")"; }

# The demo policy's signer (name), for policies of our own.
demo_signer() { tsactl --json policy show tsa default | json 'j["signer"]'; }

# What the demo services are configured with, to compare before and after.
demo_config() {
    tsactl --json policy show tsa default &&
        tsactl --json policy show verificationserver default
}

# ---- cases ---------------------------------------------------------------------------------------

t_exit_codes() {
    local d rc out args
    d=$(casedir)
    for args in "" "no-such-verb" "service" "service add" "policy add t-admin-x p --signer s" \
        "filter remove t-admin-x p" "--json status"; do
        # shellcheck disable=SC2086
        out=$(tsactl $args 2>&1) && rc=0 || rc=$?
        (( rc == 64 )) || bad "tsactl $args: exit status $rc, want 64 (usage)"
        [[ $out == *usage:* ]] || bad "tsactl $args: no usage text: $(oneline <<<"$out")"
    done
    out=$("$BUILD/tsactl" --conf "$d/missing.conf" service list 2>&1) && rc=0 || rc=$?
    (( rc == 78 )) || bad "a missing tsa.conf: exit status $rc, want 78"
    printf 'database = host=%s dbname=none user=none connect_timeout=3\n' "$d" >"$d/down.conf"
    out=$("$BUILD/tsactl" --conf "$d/down.conf" service list 2>&1) && rc=0 || rc=$?
    (( rc == 69 )) || bad "an unreachable database: exit status $rc, want 69: $(oneline <<<"$out")"
    says "database unreachable" "$out"
}

t_service() {
    local svc=t-admin-svc desc='e2e: "quoted", back\slash' out
    out=$(writes service add "$svc" --description "$desc") || exit 1
    says "service $svc added" "$out"
    out=$(tsactl service list) || bad "service list failed"
    grep -q "^$svc " <<<"$out" || bad "service list does not show $svc: $(oneline <<<"$out")"
    out=$(tsactl --json service list | json "[s['description'] for s in j if s['service'] == '$svc']") ||
        bad "service list --json is not JSON"
    [[ $out == "$(python3 -c 'import json,sys; print(json.dumps([sys.argv[1]]))' "$desc")" ]] ||
        bad "service list --json: description $out"
    # --json after the verb too.
    tsactl service list --json | json 'len(j)' >/dev/null || bad "service list --json (after the verb) is not JSON"
    refused 1 service add "$svc" >/dev/null || exit 1
    refused 65 service add 'bad name' >/dev/null || exit 1
    out=$(writes --json service remove "$svc") || exit 1
    [[ $(json 'j["service"]' <<<"$out") == "$svc" ]] || bad "service remove --json: $out"
    json 'j["config_version"] + 0' <<<"$out" >/dev/null || bad "service remove --json: no config_version: $out"
    tsactl --json service list | json "[s for s in j if s['service'] == '$svc']" | grep -qx '\[\]' ||
        bad "$svc still listed after its removal"
    refused 1 service remove "$svc" >/dev/null || exit 1
}

t_policy() {
    local svc=t-admin-pol signer out j
    signer=$(demo_signer) || bad "no demo signer"
    writes service add "$svc" >/dev/null || exit 1
    out=$(writes policy add "$svc" main --oid 1.2.3.4.5 --signer "$signer" --protocol rfc3161 \
        --req-policy 1.2.3.4.6 --client-cert no) || exit 1
    says "policy main added to service $svc at position 1" "$out"
    writes filter add "$svc" main hash-algorithms '{"accept": ["sha256", "sha512"]}' >/dev/null || exit 1
    writes filter add "$svc" main accuracy '{"seconds": 2, "millis": 500, "digits": 3}' >/dev/null || exit 1
    writes filter add "$svc" main cert-id '{"version": 1}' >/dev/null || exit 1
    writes filter add "$svc" main ordering >/dev/null || exit 1

    out=$(tsactl policy show "$svc" main) || bad "policy show failed"
    for t in "policy_oid:        1.2.3.4.5" "match_protocol:    rfc3161" "match_req_policy:  1.2.3.4.6" \
        "match_client_cert: no" "match_client:      any" "hash-algorithms" '{"accept": ["sha256", "sha512"]}' \
        "accuracy" "cert-id" "ordering"; do
        says "$t" "$out"
    done
    j=$(tsactl --json policy show "$svc" main) || bad "policy show --json failed"
    [[ $(json '[j["policy"], j["position"], j["policy_oid"], j["signer"], j["match_protocol"], j["match_req_policy"], j["match_client_cert"], j["match_client"]]' <<<"$j") == \
        "[\"main\", 1, \"1.2.3.4.5\", \"$signer\", \"rfc3161\", \"1.2.3.4.6\", false, null]" ]] ||
        bad "policy show --json: $(oneline <<<"$j")"
    [[ $(json '[(f["position"], f["filter"]) for f in j["filters"]]' <<<"$j") == \
        '[[1, "hash-algorithms"], [2, "accuracy"], [3, "cert-id"], [4, "ordering"]]' ]] ||
        bad "policy show --json filters: $(oneline <<<"$j")"
    [[ $(json '[j["filters"][0]["params"]["accept"], j["filters"][1]["params"], j["filters"][3]["params"]]' <<<"$j") == \
        '[["sha256", "sha512"], {"digits": 3, "millis": 500, "seconds": 2}, {}]' ]] ||
        bad "policy show --json params: $(oneline <<<"$j")"
    [[ $(tsactl --json policy list "$svc" | json '[(p["policy"], p["filters"]) for p in j]') == '[["main", 4]]' ]] ||
        bad "policy list --json: $(tsactl --json policy list "$svc" | oneline)"
    [[ $(tsactl --json filter list "$svc" main | json 'len(j)') == 4 ]] || bad "filter list --json: not 4 filters"
    refused 1 policy add "$svc" main --oid 1.2.3 --signer "$signer" >/dev/null || exit 1
    refused 1 policy add "$svc" other --oid 1.2.3 --signer no-such-signer >/dev/null || exit 1
    refused 1 policy add t-admin-none other --oid 1.2.3 --signer "$signer" >/dev/null || exit 1
    refused 65 policy add "$svc" other --oid 1.2.x --signer "$signer" >/dev/null || exit 1
    refused 65 policy add "$svc" other --oid 1.2.3 --signer "$signer" --protocol gopher >/dev/null || exit 1
    refused 1 policy show "$svc" no-such-policy >/dev/null || exit 1

    # The worker's own loader accepts what tsactl wrote (status loads the whole configuration).
    out=$(tsactl status 2>&1) || bad "tsactl status after the changes: $(oneline <<<"$out")"
    says "services:" "$out"

    out=$(writes policy remove "$svc" main) || exit 1
    says "with its 4 filters" "$out"
    writes service remove "$svc" >/dev/null || exit 1
}

t_filter_refused() {
    local svc=t-admin-flt signer before out
    signer=$(demo_signer) || bad "no demo signer"
    writes service add "$svc" >/dev/null || exit 1
    writes policy add "$svc" p --oid 1.2.3.4 --signer "$signer" >/dev/null || exit 1
    writes filter add "$svc" p hash-algorithms '{"accept": ["sha256"]}' >/dev/null || exit 1
    before=$(tsactl --json filter list "$svc" p) || bad "filter list --json failed"

    out=$(refused 65 filter add "$svc" p no-such-filter '{}') || exit 1
    says "unknown filter 'no-such-filter'" "$out"
    out=$(refused 65 filter add "$svc" p hash-algorithms '{"accept": ["md5"]}') || exit 1
    says "md5" "$out"
    out=$(refused 65 filter add "$svc" p accuracy '{"digits": 9}') || exit 1
    says "'digits' must be a whole number from 0 to 6" "$out"
    out=$(refused 65 filter add "$svc" p tsa-name '{"name": ""}') || exit 1
    says "filter tsa-name:" "$out"
    out=$(refused 65 filter add "$svc" p accuracy '{"bogus": 1}') || exit 1
    says "unknown parameter 'bogus'" "$out"
    out=$(refused 65 filter add "$svc" p accuracy '{"digits": ') || exit 1
    says "not valid JSON" "$out"
    out=$(refused 65 filter add "$svc" p accuracy '[1, 2]') || exit 1
    says "must be a JSON object" "$out"
    out=$(refused 65 filter set "$svc" p --position 1 '{"accept": ["md5"]}') || exit 1
    says "md5" "$out"
    refused 1 filter set "$svc" p --position 7 '{}' >/dev/null || exit 1
    refused 1 filter remove "$svc" p --position 7 >/dev/null || exit 1
    refused 1 filter add "$svc" no-such-policy ordering >/dev/null || exit 1
    refused 65 filter add "$svc" p ordering '{}' --position 3 >/dev/null || exit 1

    [[ $(tsactl --json filter list "$svc" p) == "$before" ]] ||
        bad "the filters changed: $(tsactl --json filter list "$svc" p | oneline)"
    writes service remove "$svc" >/dev/null || exit 1
}

# The order of a policy list or a filter list, as "name@position ...".
policy_order() { tsactl --json policy list "$1" | json '" ".join("%s@%d" % (p["policy"], p["position"]) for p in j)'; }
filter_order() { tsactl --json filter list "$1" "$2" | json '" ".join("%s@%d" % (f["filter"], f["position"]) for f in j)'; }

t_positions() {
    local svc=t-admin-pos signer p got
    signer=$(demo_signer) || bad "no demo signer"
    writes service add "$svc" >/dev/null || exit 1
    for p in a b c; do
        writes policy add "$svc" "$p" --oid 1.2.3.4 --signer "$signer" >/dev/null || exit 1
    done
    writes policy add "$svc" d --oid 1.2.3.4 --signer "$signer" --position 1 >/dev/null || exit 1
    writes policy add "$svc" e --oid 1.2.3.4 --signer "$signer" --position 3 >/dev/null || exit 1
    writes policy add "$svc" f --oid 1.2.3.4 --signer "$signer" --position 6 >/dev/null || exit 1
    got=$(policy_order "$svc")
    [[ $got == "d@1 a@2 e@3 b@4 c@5 f@6" ]] || bad "policies after insertions: $got"
    refused 65 policy add "$svc" g --oid 1.2.3.4 --signer "$signer" --position 8 >/dev/null || exit 1
    refused 65 policy add "$svc" g --oid 1.2.3.4 --signer "$signer" --position 0 >/dev/null || exit 1
    writes policy remove "$svc" a >/dev/null || exit 1
    writes policy remove "$svc" f >/dev/null || exit 1
    got=$(policy_order "$svc")
    [[ $got == "d@1 e@2 b@3 c@4" ]] || bad "policies after removals: $got"

    writes filter add "$svc" d ordering >/dev/null || exit 1
    writes filter add "$svc" d signing-time '{"enabled": true}' >/dev/null || exit 1
    writes filter add "$svc" d status-text '{"enabled": false}' >/dev/null || exit 1
    writes filter add "$svc" d serial '{"bytes": 16}' --position 2 >/dev/null || exit 1
    writes filter add "$svc" d cert-chain '{"include": "chain"}' --position 1 >/dev/null || exit 1
    got=$(filter_order "$svc" d)
    [[ $got == "cert-chain@1 ordering@2 serial@3 signing-time@4 status-text@5" ]] || bad "filters after insertions: $got"
    writes filter remove "$svc" d --position 3 >/dev/null || exit 1
    got=$(filter_order "$svc" d)
    [[ $got == "cert-chain@1 ordering@2 signing-time@3 status-text@4" ]] || bad "filters after a removal: $got"
    writes filter set "$svc" d --position 2 '{"enabled": true}' >/dev/null || exit 1
    [[ $(tsactl --json filter list "$svc" d | json 'j[1]["params"]') == '{"enabled": true}' ]] ||
        bad "filter set: $(tsactl --json filter list "$svc" d | oneline)"
    # Each change is an event naming who made it (here: tsactl, the system user, the role).
    got=$(tsa_psql -c "SELECT detail FROM events WHERE kind = 'config-change' ORDER BY id DESC LIMIT 1")
    [[ $got == *"$svc/d"*'{"enabled": true}'*" by tsactl (system user $(id -un), database role "* ]] ||
        bad "no config-change event naming tsactl's user: $got"
    refused 65 filter set "$svc" d --position 2 '{"enabled": "maybe"}' >/dev/null || exit 1
    got=$(tsactl filter list "$svc" d) || bad "filter list failed"
    grep -Eq '^2 +ordering +\{"enabled": true\}$' <<<"$got" || bad "filter list: $(oneline <<<"$got")"
    writes service remove "$svc" >/dev/null || exit 1
}

t_signer() {
    local d signer uri out
    d=$(casedir)
    signer=$(demo_signer) || bad "no demo signer"
    uri=$(tsactl --json signer list | json "[s['key'] for s in j if s['signer'] == '$signer'][0]") ||
        bad "signer list --json: no $signer"
    out=$(writes signer add t-admin-signer --uri "$uri" --cert "$TSA_VAR/pki/tsa.pem" \
        --chain "$TSA_VAR/pki/ca.pem") || exit 1
    says "signer t-admin-signer added" "$out"
    [[ $(tsactl --json signer list | json "[(s['state'], s['policies']) for s in j if s['signer'] == 't-admin-signer']") == \
        '[["ok", 0]]' ]] || bad "signer list --json: $(tsactl --json signer list | oneline)"
    out=$(tsactl signer list) || bad "signer list failed"
    says "signer:     t-admin-signer" "$out"
    refused 1 signer add t-admin-signer --uri "$uri" --cert "$TSA_VAR/pki/tsa.pem" >/dev/null || exit 1

    # RFC 3161 2.3: a certificate whose timeStamping extendedKeyUsage is not critical.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/k.pem" \
        -subj '/CN=t-admin not critical' -days 30 -addext 'extendedKeyUsage=timeStamping' \
        -out "$d/noncritical.pem" 2>/dev/null || bad "openssl req -x509 failed"
    out=$(refused 65 signer add t-admin-nc --uri "$uri" --cert "$d/noncritical.pem") || exit 1
    says "extendedKeyUsage must be critical" "$out"
    # A good certificate for another key than the URI's.
    openssl req -x509 -key "$d/k.pem" -subj '/CN=t-admin other key' -days 30 \
        -addext 'extendedKeyUsage=critical,timeStamping' -out "$d/otherkey.pem" 2>/dev/null ||
        bad "openssl req -x509 failed"
    out=$(refused 65 signer add t-admin-ok --uri "$uri" --cert "$d/otherkey.pem") || exit 1
    says "does not match the certificate" "$out"
    out=$(refused 66 signer add t-admin-nf --uri "$uri" --cert "$d/no-such-file.pem") || exit 1
    tsactl --json signer list | json "[s for s in j if s['signer'] in ('t-admin-nc', 't-admin-ok')]" | grep -qx '\[\]' ||
        bad "a refused signer is listed"

    out=$(refused 1 signer remove "$signer") || exit 1
    says "is used by the policies" "$out"
    writes signer remove t-admin-signer >/dev/null || exit 1
}

t_keygen() {
    local d label uri out
    d=$(casedir)
    label=t-admin-kg-$$-$RANDOM
    out=$(tsactl --json signer keygen --label "$label" --type ec-p256 \
        --subject 'CN=t-admin keygen TSU,O=TSA e2e' --csr "$d/req.csr" 2>&1) ||
        bad "signer keygen: $(oneline <<<"$out")"
    uri=$(json 'j["uri"]' <<<"$out") || bad "signer keygen --json: $(oneline <<<"$out")"
    [[ $uri == pkcs11:*"object=$label"*"type=private"* ]] || bad "signer keygen: URI $uri"
    out=$(openssl req -in "$d/req.csr" -verify -noout -text 2>&1) || bad "openssl req -verify: $(oneline <<<"$out")"
    says "CN = t-admin keygen TSU" "$out"
    grep -A1 'X509v3 Extended Key Usage: critical' <<<"$out" | grep -q 'Time Stamping' ||
        bad "the request does not ask for a critical timeStamping extendedKeyUsage"
    out=$(refused 1 signer keygen --label "$label" --type ec-p256 --subject 'CN=x' --csr "$d/again.csr") || exit 1
    says "already" "$out"
    [[ ! -e $d/again.csr ]] || bad "a refused keygen left $d/again.csr"
    refused 65 signer keygen --label "$label-2" --type dsa1024 --subject 'CN=x' --csr "$d/x.csr" >/dev/null || exit 1

    # The demo root certifies the request; the new key then passes signer add's checks.
    printf '%s\n' 'basicConstraints = critical, CA:FALSE' 'keyUsage = critical, digitalSignature' \
        'extendedKeyUsage = critical, timeStamping' >"$d/ext.cnf"
    openssl x509 -req -in "$d/req.csr" -CA "$TSA_VAR/pki/ca.pem" -CAkey "$TSA_VAR/pki/ca.key" \
        -set_serial "0x$(randhex 12)" -days 30 -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null ||
        bad "openssl x509 -req failed"
    out=$(writes signer add t-admin-kg --uri "$uri" --cert "$d/cert.pem" --chain "$TSA_VAR/pki/ca.pem") || exit 1
    says "signer t-admin-kg added" "$out"
    writes signer remove t-admin-kg >/dev/null || exit 1
}

t_client() {
    local svc=t-admin-cli signer pem=$TSA_VAR/pki/client.pem out fp serial
    signer=$(demo_signer) || bad "no demo signer"
    writes service add "$svc" >/dev/null || exit 1
    out=$(writes client add "$svc" demo-client --cert "$pem") || exit 1
    says "client demo-client" "$out"
    fp=$(openssl x509 -in "$pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
    serial=$(openssl x509 -in "$pem" -noout -serial | sed 's/.*=//')
    out=$(tsactl --json client list "$svc") || bad "client list --json failed"
    [[ $(json '[(c["client"], c["fingerprint_sha256"]) for c in j]' <<<"$out") == "[[\"demo-client\", \"${fp,,}\"]]" ]] ||
        bad "client list --json: fingerprint, want ${fp,,}: $(oneline <<<"$out")"
    serial=${serial,,}
    [[ $(json 'j[0]["serial"].lstrip("0")' <<<"$out") == "${serial##+(0)}" ]] ||
        bad "client list --json: serial, want ${serial,,}: $(oneline <<<"$out")"
    says "CN=TSA demo client" "$(json 'j[0]["subject"]' <<<"$out")"
    # The stored PEM is the certificate itself.
    [[ $(tsa_psql -c "SELECT certificate FROM clients k JOIN services s ON s.id = k.service_id WHERE s.name = '$svc'" |
        openssl x509 -outform DER | od -An -tx1 | tr -d ' \n') == "$(openssl x509 -in "$pem" -outform DER | od -An -tx1 | tr -d ' \n')" ]] ||
        bad "the stored certificate is not $pem"
    out=$(tsactl client list) || bad "client list failed"
    says "fingerprint_sha256: ${fp,,}" "$out"

    refused 1 client add "$svc" again --cert "$pem" >/dev/null || exit 1
    refused 1 client add "$svc" demo-client --cert "$TSA_VAR/pki/admin.pem" >/dev/null || exit 1
    out=$(refused 65 client add "$svc" two --cert "$TSA_VAR/pki/chain.pem") || exit 1
    says "2 certificates" "$out"
    out=$(refused 65 client add "$svc" key --cert "$TSA_VAR/pki/client.key") || exit 1
    says "no PEM certificate" "$out"
    refused 1 client add t-admin-none x --cert "$pem" >/dev/null || exit 1

    # Policies may match a registered client only.
    writes policy add "$svc" mtls --oid 1.2.3.4 --signer "$signer" --client-cert yes --client demo-client >/dev/null || exit 1
    refused 1 policy add "$svc" other --oid 1.2.3.4 --signer "$signer" --client nobody >/dev/null || exit 1

    writes client remove "$svc" demo-client >/dev/null || exit 1
    [[ $(tsactl --json client list "$svc") == "[]" ]] || bad "client list after remove: $(tsactl --json client list "$svc" | oneline)"
    refused 1 client remove "$svc" demo-client >/dev/null || exit 1
    writes service remove "$svc" >/dev/null || exit 1
}

t_events() {
    local marker out
    marker="t-admin e2e marker $$-$RANDOM"
    tsa_psql -c "INSERT INTO events (severity, kind, service, requester, detail)
        VALUES ('info', 't-admin-e2e', 't-admin-ev', '127.0.0.1', '$marker')" || bad "cannot insert an event"
    out=$(tsactl events) || bad "events failed: $(oneline <<<"$out")"
    says "$marker" "$out"
    out=$(tsactl --json events --kind t-admin-e2e --since 10m) || bad "events --json failed"
    [[ $(json '[(e["kind"], e["severity"], e["service"], e["requester"], e["detail"]) for e in j][0]' <<<"$out") == \
        "[\"t-admin-e2e\", \"info\", \"t-admin-ev\", \"127.0.0.1\", \"$marker\"]" ]] || bad "events --json: $(oneline <<<"$out")"
    [[ $(tsactl events --json --limit 1 | json 'len(j)') == 1 ]] || bad "events --limit 1: not one row"
    [[ $(tsactl --json events --since '2999-01-01 00:00:00+00') == "[]" ]] || bad "events --since the future: not empty"
    [[ $(tsactl --json events --since 1w --kind no-such-kind) == "[]" ]] || bad "events --kind no-such-kind: not empty"
    out=$(refused 65 events --since yesterdayish) || exit 1
    says "neither a duration" "$out"
    refused 65 events --limit 0 >/dev/null || exit 1
    [[ $(tsactl --json events --kind t-admin-e2e | json 'j[0]["count"]') == 1 ]] || bad "events --json: no count 1"
    # Retention: rows older than the cut-off go, the others stay, and the pruning is an event.
    tsa_psql -c "INSERT INTO events (at, severity, kind, detail, count)
        VALUES (now() - interval '40 days', 'warning', 't-admin-e2e', 'old $marker', 7)" || bad "cannot insert an old event"
    out=$(refused 65 events prune --older-than 1h) || exit 1
    says "at least a day" "$out"
    out=$(tsactl --json events prune --older-than 30d) || bad "events prune failed: $(oneline <<<"$out")"
    (( $(json 'j["rows"]' <<<"$out") >= 1 && $(json 'j["events"]' <<<"$out") >= 7 )) || bad "events prune said: $out"
    [[ $(tsa_psql -c "SELECT count(*) FROM events WHERE detail = 'old $marker'") == 0 ]] || bad "the old event was not pruned"
    [[ $(tsa_psql -c "SELECT count(*) FROM events WHERE detail = '$marker'") == 1 ]] || bad "a recent event was pruned"
    tsa_psql -c "SELECT detail FROM events WHERE kind = 'events-pruned' ORDER BY id DESC LIMIT 1" |
        grep -q 'deleted by tsactl (system user' || bad "no events-pruned event naming tsactl"
    tsa_psql -c "DELETE FROM events WHERE kind = 't-admin-e2e'" || bad "cannot delete the marker"
}

t_demo_untouched() {
    local s after
    after=$(demo_config) || bad "cannot read the demo policies"
    [[ $after == "$TSACTL_DEMO_BEFORE" ]] || bad "the demo policies changed: $(oneline <<<"$after")"
    s=$(tsactl --json service list | json '[s["service"] for s in j if s["service"].startswith("t-admin")]')
    [[ $s == "[]" ]] || bad "services left behind: $s"
}

# Every configuration write of tsactl leaves one config-change event in its transaction, naming
# the change and tsactl's user: services, policies, clients and signers added and removed.
t_config_events() {
    local since signer uri ev n want
    since=$(tsa_psql -c 'SELECT coalesce(max(id), 0) FROM events')
    signer=$(demo_signer)
    uri=$(tsa_psql -c "SELECT pkcs11_uri FROM signers WHERE name = '$signer'")
    writes service add t-admin-ev >/dev/null
    writes policy add t-admin-ev p1 --oid 1.3.6.1.4.1.32473.9.7 --signer "$signer" >/dev/null
    writes client add t-admin-ev c1 --cert "$TSA_VAR/pki/client.pem" >/dev/null
    writes signer add t-admin-ev-signer --uri "$uri" --cert "$TSA_VAR/pki/tsa.pem" >/dev/null
    writes signer remove t-admin-ev-signer >/dev/null
    writes client remove t-admin-ev c1 >/dev/null
    writes policy remove t-admin-ev p1 >/dev/null
    writes service remove t-admin-ev >/dev/null
    ev=$(tsa_psql -c "SELECT detail FROM events WHERE id > $since AND kind = 'config-change' ORDER BY id")
    printf '%s\n' "$ev"
    n=0
    for want in 'service t-admin-ev added' 'policy p1 added to service t-admin-ev at position 1' \
        'client c1 (SHA-256 ' 'signer t-admin-ev-signer added' 'signer t-admin-ev-signer removed' \
        'client c1 removed from service t-admin-ev' 'policy p1 removed from service t-admin-ev' \
        'service t-admin-ev removed'; do
        n=$((n + 1))
        [[ $(sed -n "${n}p" <<<"$ev") == "$want"*" by tsactl (system user "* ]] ||
            bad "event $n is '$(sed -n "${n}p" <<<"$ev")', want '$want... by tsactl (...)'"
    done
    (( $(wc -l <<<"$ev") == 8 )) || bad "$(wc -l <<<"$ev") config-change events, want 8"
}

cases_tsactl() {
    TSACTL_DEMO_BEFORE=$(demo_config 2>/dev/null)
    run_case "tsactl/exit-codes" t_exit_codes
    run_case "tsactl/service" t_service
    run_case "tsactl/policy-show-json" t_policy
    run_case "tsactl/filter-refused" t_filter_refused
    run_case "tsactl/positions" t_positions
    run_case "tsactl/signer-add" t_signer
    run_case "tsactl/signer-keygen" t_keygen
    run_case "tsactl/client" t_client
    run_case "tsactl/events" t_events
    run_case "tsactl/config-events" t_config_events
    # Whatever a failed case left behind goes, then nothing of it may remain.
    local s
    for s in $(tsactl --json service list 2>/dev/null |
        json '" ".join(s["service"] for s in j if s["service"].startswith("t-admin"))' 2>/dev/null); do
        tsactl service remove "$s" >/dev/null 2>&1
    done
    run_case "tsactl/demo-untouched" t_demo_untouched
}
