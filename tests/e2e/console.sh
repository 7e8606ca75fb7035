# The web console (tsa-admin) at https://127.0.0.1:$TSA_HTTPS_PORT/admin/: driven in headless
# Chromium (tests/console/drive.mjs, playwright-core with the administrator's client
# certificate): the dashboard, a filter changed (the accuracy of service tsa's first policy) and
# a bad change refused with its reason, the change seen in the next real RFC 3161 token
# (openssl), that token looked up, verified and downloaded; a screenshot of each page in
# $TSA_BUILD/artefacts/console/.  With curl: a certificate that is not an administrator's gets
# 403, no certificate is refused, a policy change through the form (refused with tsactl's
# reason, then written with its event), forged POSTs (no CSRF token, a tampered one, another Origin,
# a cross-site fetch) get 403 and change nothing.
# The stack registers the demo administrator (var/pki/admin.pem) with `tsactl admin add`.
# shellcheck shell=bash

console_url() { printf 'https://127.0.0.1:%s' "$TSA_HTTPS_PORT"; }

# console_get CERT KEY PATH OUTFILE [curl args...]: prints the HTTP code; CERT empty: none.
console_get() {
    local cert=() c=$1 k=$2 p=$3 o=$4
    shift 4
    [[ -n $c ]] && cert=(--cert "$c" --key "$k")
    curl -sS --max-time 30 --cacert "$TSA_VAR/pki/ca.pem" "${cert[@]}" -o "$o" -w '%{http_code}' \
        "$@" "$(console_url)$p" 2>/dev/null || true
}

console_admin_get() { console_get "$TSA_VAR/pki/admin.pem" "$TSA_VAR/pki/admin.key" "$@"; }

# The name of service tsa's first policy, and its accuracy filter's position.
console_target() {
    tsactl --json policy list tsa | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["policy"])'
}
console_accuracy_pos() {
    tsactl --json filter list tsa "$1" |
        python3 -c 'import json,sys; print([f["position"] for f in json.load(sys.stdin) if f["filter"] == "accuracy"][0])'
}
console_params() { tsactl --json filter list tsa "$1" | python3 -c "import json,sys; print(json.dumps([f['params'] for f in json.load(sys.stdin) if f['position'] == $2][0], sort_keys=True))"; }

console_setup() {
    local fp
    [[ -x $BUILD/tsa-admin ]] || bad "$BUILD/tsa-admin is not built"
    [[ -S $TSA_VAR/run/tsa-admin/admin.sock ]] || bad "tsa-admin is not listening (no $TSA_VAR/run/tsa-admin/admin.sock)"
    fp=$(openssl x509 -in "$TSA_VAR/pki/admin.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
    # The stack registers the demo administrator itself (var/pki/admin.pem, README "Web console").
    tsactl admin list | grep -qi "$fp" || bad "the stack did not register the demo administrator var/pki/admin.pem"
    if [[ ! -d $ROOT/tests/console/node_modules/playwright-core ]]; then
        (cd "$ROOT/tests/console" && npm ci --no-audit --no-fund) || bad "npm ci in tests/console failed"
    fi
    command -v chromium >/dev/null || bad "chromium is not installed (deploy/deps.sh)"
    mkdir -p "$BUILD/artefacts/console"
}

# drive STEP [VAR=VALUE...]: the browser driver, its output into the case log.
console_drive() {
    local step=$1 out
    shift
    out=$(env CONSOLE_URL="$(console_url)" CONSOLE_CERT="$TSA_VAR/pki/admin.pem" \
        CONSOLE_KEY="$TSA_VAR/pki/admin.key" CONSOLE_OUT="$BUILD/artefacts/console" "$@" \
        node "$ROOT/tests/console/drive.mjs" "$step" 2>&1)
    local rc=$?
    printf '%s\n' "$out"
    (( rc == 0 )) || bad "browser, step $step: $(grep -m1 '^FAIL' <<<"$out" | oneline)"
}

console_refusals() {
    local d code
    d=$(casedir)
    code=$(console_admin_get /admin/ "$d/dash.html")
    [[ $code == 200 ]] || bad "the administrator gets HTTP $code: $(head -c 300 "$d/dash.html" | oneline)"
    grep -q 'Dashboard' "$d/dash.html" || bad "no dashboard for the administrator"
    # A client certificate of the same CA, registered for the mtls service, not an administrator.
    code=$(console_get "$TSA_VAR/pki/client.pem" "$TSA_VAR/pki/client.key" /admin/ "$d/client.html")
    [[ $code == 403 ]] || bad "a non-administrator gets HTTP $code"
    grep -q 'Not an administrator' "$d/client.html" || bad "403 without the reason: $(head -c 300 "$d/client.html" | oneline)"
    grep -q 'Dashboard' "$d/client.html" && bad "a non-administrator sees the dashboard"
    # The same in the browser, with the page's screenshot.
    console_drive refused CONSOLE_CERT="$TSA_VAR/pki/client.pem" CONSOLE_KEY="$TSA_VAR/pki/client.key"
    # No certificate: the web server refuses it (400) or the handshake fails (000).
    code=$(console_get "" "" /admin/ "$d/none.html")
    [[ $code != 200 ]] || bad "no certificate, yet HTTP 200"
    grep -q 'Dashboard' "$d/none.html" 2>/dev/null && bad "no certificate, yet the dashboard"
    echo "no certificate: HTTP $code"
    # Plain HTTP never reaches the console.
    code=$(curl -sS --max-time 30 -o "$d/http.html" -w '%{http_code}' "http://127.0.0.1:$TSA_HTTP_PORT/admin/" || true)
    [[ $code != 200 ]] || bad "plain HTTP /admin/ answers 200"
    grep -q 'Dashboard' "$d/http.html" && bad "plain HTTP shows the dashboard"
    # Straight to the console's FastCGI socket: without HTTPS=on, or without a verified
    # certificate, it refuses whatever else the params say.
    if command -v cgi-fcgi >/dev/null; then
        env -i REQUEST_METHOD=GET DOCUMENT_URI=/admin/ cgi-fcgi -bind -connect "$TSA_VAR/run/tsa-admin/admin.sock" >"$d/fcgi1" 2>&1
        grep -q '^Status: 403' "$d/fcgi1" && grep -q 'HTTPS only' "$d/fcgi1" ||
            bad "without HTTPS=on: $(head -c 200 "$d/fcgi1" | oneline)"
        env -i REQUEST_METHOD=GET DOCUMENT_URI=/admin/ HTTPS=on SSL_CLIENT_VERIFY=NONE \
            SSL_CLIENT_CERT="$(cat "$TSA_VAR/pki/admin.pem")" cgi-fcgi -bind -connect "$TSA_VAR/run/tsa-admin/admin.sock" >"$d/fcgi2" 2>&1
        grep -q '^Status: 403' "$d/fcgi2" && grep -q 'No client certificate' "$d/fcgi2" ||
            bad "SSL_CLIENT_VERIFY=NONE: $(head -c 200 "$d/fcgi2" | oneline)"
    fi
}

console_forged() {
    local d code pol pos before csrf form
    d=$(casedir)
    pol=$(console_target) || bad "no policy in service tsa"
    pos=$(console_accuracy_pos "$pol") || bad "no accuracy filter in tsa/$pol"
    before=$(console_params "$pol" "$pos")
    form="action=set&service=tsa&policy=$pol&position=$pos&params=%7B%22seconds%22%3A9%7D"
    code=$(console_admin_get /admin/filter "$d/no-token.html" --data "$form")
    [[ $code == 403 ]] || bad "POST without a CSRF token: HTTP $code"
    grep -q 'CSRF' "$d/no-token.html" || bad "no CSRF reason: $(head -c 300 "$d/no-token.html" | oneline)"
    # A real token from a page served to the administrator.
    console_admin_get "/admin/policy?service=tsa&policy=$pol" "$d/page.html" >/dev/null
    csrf=$(grep -o 'name="csrf" value="[0-9]*\.[0-9a-f]*"' "$d/page.html" | head -n1 | sed 's/.*value="//; s/"$//')
    [[ -n $csrf ]] || bad "no CSRF token in the policy page"
    local last=${csrf: -1} flip=0
    [[ $last == 0 ]] && flip=1
    code=$(console_admin_get /admin/filter "$d/tampered.html" --data "$form&csrf=${csrf%?}$flip")
    [[ $code == 403 ]] || bad "a tampered CSRF token: HTTP $code"
    code=$(console_admin_get /admin/filter "$d/expired.html" --data "$form&csrf=9${csrf#?}")
    [[ $code == 403 ]] || bad "a CSRF token of another time: HTTP $code"
    code=$(console_admin_get /admin/filter "$d/origin.html" --data "$form&csrf=$csrf" -H 'Origin: https://evil.example')
    [[ $code == 403 ]] || bad "another Origin: HTTP $code"
    code=$(console_admin_get /admin/filter "$d/site.html" --data "$form&csrf=$csrf" -H 'Sec-Fetch-Site: cross-site')
    [[ $code == 403 ]] || bad "Sec-Fetch-Site cross-site: HTTP $code"
    # A form given twice a field, and a GET of the POST-only URL.
    code=$(console_admin_get /admin/filter "$d/dup.html" --data "$form&csrf=$csrf&csrf=$csrf")
    [[ $code == 400 ]] || bad "a field given twice: HTTP $code"
    [[ $(console_params "$pol" "$pos") == "$before" ]] || bad "a forged POST changed the filter"
}

# A timestamp request to service tsa; the reply in $1/r.tsr, its text in $1/r.txt.
console_stamp() {
    local d=$1 out
    head -c 300 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    out=$(post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/q.tsq" "$d/r.tsr") || bad "curl failed: $out"
    [[ $out == "200 application/timestamp-reply" ]] || bad "HTTP answer '$out'"
    reply_text "$d/r.tsr" >"$d/r.txt"
    grep -q '^Status: Granted' "$d/r.txt" || bad "not granted: $(grep -E '^(Status|Failure)' "$d/r.txt" | oneline)"
}

console_browser() {
    local d pol pos before i serial_hex serial fp ev dl
    d=$(casedir)
    pol=$(console_target) || bad "no policy in service tsa"
    pos=$(console_accuracy_pos "$pol") || bad "no accuracy filter in tsa/$pol"
    before=$(console_params "$pol" "$pos")
    console_drive dashboard
    console_drive edit CONSOLE_SERVICE=tsa CONSOLE_POLICY="$pol" CONSOLE_POSITION="$pos" \
        CONSOLE_PARAMS='{"seconds": 2, "millis": 500, "digits": 3}' CONSOLE_BAD_PARAMS='{"digits": 9}'
    [[ $(console_params "$pol" "$pos") == '{"digits": 3, "millis": 500, "seconds": 2}' ]] ||
        bad "the filter is not what the console saved: $(console_params "$pol" "$pos")"
    # The workers follow within a second: the next token states the new accuracy.
    for ((i = 0; i < 20; i++)); do
        console_stamp "$d"
        grep -q '^Accuracy: 0x02 seconds, 0x01F4 millis' "$d/r.txt" && break
        sleep 0.25
    done
    grep -q '^Accuracy: 0x02 seconds, 0x01F4 millis' "$d/r.txt" ||
        bad "the token's accuracy did not change: $(grep '^Accuracy' "$d/r.txt")"
    grep '^Accuracy' "$d/r.txt"
    ossl_verify "$d/data" "$d/r.tsr" "$d/q.tsq" cert
    # The change is an event naming the administrator's certificate.
    fp=$(openssl x509 -in "$TSA_VAR/pki/admin.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
    ev=$(tsa_psql -c "SELECT detail FROM events WHERE kind = 'config-change' ORDER BY id DESC LIMIT 1")
    [[ $ev == *"sha256 ${fp,,}"* && $ev == *"CN=TSA demo administrator"* ]] ||
        bad "no config-change event naming the administrator's certificate: $ev"
    [[ $ev == *'"millis": 500'* ]] || bad "the event does not say what changed: $ev"
    echo "event: $ev"
    # Look the token up in the console, verify it there and download it.
    serial_hex=$(sed -n 's/^Serial number: 0x//p' "$d/r.txt")
    serial=$(python3 -c "print(int('$serial_hex', 16))")
    console_drive lookup CONSOLE_SERIAL="$serial"
    dl=$BUILD/artefacts/console/token-$serial.tst
    [[ -s $dl ]] || bad "the token was not downloaded ($dl)"
    openssl ts -reply -in "$d/r.tsr" -token_out -out "$d/token.der" 2>/dev/null || bad "openssl ts -token_out failed"
    cmp -s "$dl" "$d/token.der" || bad "the downloaded token is not the one answered"
    # The same token by imprint and by a genTime range, with curl.
    local imprint from to code
    imprint=$(digest sha256 "$d/data")
    code=$(console_admin_get "/admin/tokens?imprint=$imprint" "$d/by-imprint.html")
    [[ $code == 200 ]] && grep -q "token?serial=$serial\"" "$d/by-imprint.html" ||
        bad "lookup by imprint: HTTP $code, serial not listed"
    from=$(date -u -d '-2 minutes' '+%Y-%m-%dT%H:%M:%S')
    to=$(date -u -d '+2 minutes' '+%Y-%m-%dT%H:%M')
    code=$(console_admin_get "/admin/tokens?from=$from&to=$to" "$d/by-time.html")
    [[ $code == 200 ]] && grep -q "token?serial=$serial\"" "$d/by-time.html" ||
        bad "lookup by time range: HTTP $code, serial not listed"
    code=$(console_admin_get "/admin/tokens?from=yesterday" "$d/bad-time.html")
    [[ $code == 400 ]] || bad "a malformed time: HTTP $code"
    # Put the demo configuration back for the suites that follow.
    tsactl filter set tsa "$pol" --position "$pos" "$before" >/dev/null || bad "restoring the filter failed"
}

# A SOAP/XML token: its page verifies it (XML-DSig) and the download is the XML itself.
console_soap_token() {
    local d value out serial code
    d=$(casedir)
    head -c 200 /dev/urandom >"$d/data"
    value=$(openssl dgst -sha256 -binary "$d/data" | base64)
    soap_request "$d/req.xml" "$SHA256_URI" "$value" 77
    out=$(soap_post "http://127.0.0.1:$TSA_HTTP_PORT/tsa" "$d/req.xml" "$d/resp.xml") || bad "curl failed: $out"
    grep -q '<ts:Status>granted</ts:Status>' "$d/resp.xml" || bad "SOAP not granted: $(head -c 300 "$d/resp.xml" | oneline)"
    serial=$(tsa_psql -c "SELECT serial FROM issued_tokens WHERE protocol = 'soap' ORDER BY recorded_at DESC LIMIT 1")
    [[ -n $serial ]] || bad "no SOAP token recorded"
    code=$(console_admin_get "/admin/token?serial=$serial" "$d/token.html")
    [[ $code == 200 ]] || bad "token page: HTTP $code"
    grep -q 'id="verdict" class="ok">verified' "$d/token.html" ||
        bad "SOAP token not verified: $(grep -o 'id="verdict"[^<]*' "$d/token.html")"
    code=$(console_admin_get "/admin/download?serial=$serial" "$d/token.xml" -D "$d/headers")
    [[ $code == 200 ]] || bad "download: HTTP $code"
    grep -qi '^content-type: application/xml' "$d/headers" || bad "download is not XML: $(grep -i content-type "$d/headers")"
    grep -qi "filename=\"token-$serial.xml\"" "$d/headers" || bad "no XML file name: $(grep -i disposition "$d/headers")"
    out=$(tsactl verify "$d/token.xml" --ca "$TSA_VAR/pki/ca.pem" 2>&1) || bad "tsactl verify of the download: $(oneline <<<"$out")"
}

# The policy form (POST /admin/policy-set) with a valid CSRF token, as the browser sends it: a
# bad OID refused with tsactl's own reason and nothing changed, a good change written with an
# event, then put back with tsactl policy set (the same path).
console_policy_edit() {
    local d code pol csrf base form before out
    d=$(casedir)
    pol=$(tsactl --json policy list verificationserver | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["policy"])') ||
        bad "no policy in service verificationserver"
    before=$(tsactl --json policy show verificationserver "$pol")
    console_admin_get "/admin/policy?service=verificationserver&policy=$pol" "$d/page.html" >/dev/null
    csrf=$(grep -o 'name="csrf" value="[0-9]*\.[0-9a-f]*"' "$d/page.html" | head -n1 | sed 's/.*value="//; s/"$//')
    [[ -n $csrf ]] || bad "no CSRF token in the policy page"
    base="csrf=$csrf&service=verificationserver&policy=$pol&signer=demo-rsa2048&protocol=any&client_cert=any&client="
    form="$base&oid=1.3.x&req_policy="
    code=$(console_admin_get /admin/policy-set "$d/bad.html" --data "$form" -H "Origin: $(console_url)")
    [[ $code == 422 ]] || bad "a bad OID: HTTP $code"
    out=$(tsactl policy set verificationserver "$pol" --oid 1.3.x 2>&1) && bad "tsactl accepted a bad OID"
    grep -qF -- "${out#tsactl: }" "$d/bad.html" || bad "the console's reason is not tsactl's: $out"
    [[ $(tsactl --json policy show verificationserver "$pol") == "$before" ]] || bad "a refused change was written"
    form="$base&oid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["policy_oid"])' "$before")&req_policy=1.2.3.4"
    code=$(console_admin_get /admin/policy-set "$d/good.html" --data "$form" -H "Origin: $(console_url)" -H 'Sec-Fetch-Site: same-origin')
    [[ $code == 303 ]] || bad "a good policy change: HTTP $code: $(grep -o 'id="result">[^<]*' "$d/good.html")"
    [[ $(tsactl --json policy show verificationserver "$pol" | python3 -c 'import json,sys; print(json.load(sys.stdin)["match_req_policy"])') == 1.2.3.4 ]] ||
        bad "the policy change is not in the database"
    tsa_psql -c "SELECT detail FROM events WHERE kind = 'config-change' ORDER BY id DESC LIMIT 1" |
        grep -q "policy verificationserver/$pol set: .*req-policy 1.2.3.4.* by administrator" || bad "no event for the policy change"
    tsactl policy set verificationserver "$pol" --req-policy any >/dev/null || bad "tsactl policy set failed"
    [[ $(tsactl --json policy show verificationserver "$pol") == "$before" ]] || bad "the policy is not back as it was"
}

# tsactl admin add|remove: a second administrator (a fresh certificate of the demo client CA)
# is let in once added, and refused again at once when removed; a duplicate is refused; each
# change an admin-change event naming who made it.
console_admin_verbs() {
    local d code
    d=$(casedir)
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/a2.key" \
        -out "$d/a2.csr" -subj "/O=TSA e2e/CN=e2e second administrator" >/dev/null 2>&1 || bad "openssl req failed"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth" >"$d/a2.ext"
    openssl x509 -req -in "$d/a2.csr" -CA "$TSA_VAR/pki/client-ca.pem" -CAkey "$TSA_VAR/pki/client-ca.key" \
        -set_serial "0x$(randhex 8)" -days 2 -extfile "$d/a2.ext" -out "$d/a2.pem" >/dev/null 2>&1 ||
        bad "openssl x509 -req failed"
    code=$(console_get "$d/a2.pem" "$d/a2.key" /admin/ "$d/before.html")
    [[ $code == 403 ]] || bad "an unregistered certificate: HTTP $code"
    tsactl admin add e2e-second --cert "$d/a2.pem" || bad "tsactl admin add failed"
    code=$(tsactl admin add e2e-again --cert "$d/a2.pem" 2>/dev/null; echo $?)
    [[ $code == 1 ]] || bad "the same certificate added twice: exit $code"
    code=$(console_get "$d/a2.pem" "$d/a2.key" /admin/ "$d/added.html")
    [[ $code == 200 ]] && grep -q 'e2e-second' "$d/added.html" || bad "the new administrator gets HTTP $code"
    tsactl admin remove e2e-second || bad "tsactl admin remove failed"
    code=$(console_get "$d/a2.pem" "$d/a2.key" /admin/ "$d/removed.html")
    [[ $code == 403 ]] || bad "a removed administrator gets HTTP $code"
    [[ $(tsa_psql -c "SELECT count(*) FROM events WHERE kind = 'admin-change' AND detail LIKE 'administrator e2e-second %'") == 2 ]] ||
        bad "no admin-change events for the add and the remove"
    # Written by the one event writer of src/store/edit.c: naming tsactl's user and role.
    [[ $(tsa_psql -c "SELECT count(*) FROM events WHERE kind = 'admin-change' AND detail LIKE 'administrator e2e-second %'
        AND detail LIKE '% by tsactl (system user $(id -un), database role %)'") == 2 ]] ||
        bad "the admin-change events do not name tsactl's system user and database role"
}

# Always puts the accuracy filter back, even when the browser case failed half-way.
console_restore() {
    local pol pos
    pol=$(console_target) && pos=$(console_accuracy_pos "$pol") || return 0
    tsactl filter set tsa "$pol" --position "$pos" '{"seconds": 1, "digits": 3}' >/dev/null
}

# PostgreSQL restarted under a running console: the very next page is served (the console sees
# the dropped connection on its first query, reconnects and asks again), not a 503.
console_db_restart() {
    local d out code
    d=$(casedir)
    code=$(console_get "$TSA_VAR/pki/admin.pem" "$TSA_VAR/pki/admin.key" /admin/ "$d/before.html")
    [[ $code == 200 ]] || bad "dashboard before the restart: $code"
    out=$("$STACK" pg-stop 2>&1 3>&-) || bad "stack.sh pg-stop: $(oneline <<<"$out")"
    code=$(console_get "$TSA_VAR/pki/admin.pem" "$TSA_VAR/pki/admin.key" /admin/ "$d/down.html")
    out=$("$STACK" pg-start 2>&1 3>&-) || bad "stack.sh pg-start: $(oneline <<<"$out")"
    [[ $code == 503 ]] || bad "dashboard with PostgreSQL stopped: $code, want 503"
    code=$(console_get "$TSA_VAR/pki/admin.pem" "$TSA_VAR/pki/admin.key" /admin/ "$d/after.html")
    [[ $code == 200 ]] || bad "first dashboard after the restart: $code ($(grep -o '<h1>[^<]*' "$d/after.html" | oneline))"
}

# A connection straight to admin.sock that sends the 8-byte header of a FastCGI begin record
# and stalls: the single console process keeps serving (the dashboard within 2 s, through the
# web server, as the administrator), and the stalled connection is closed by the request
# deadline (TSA_FCGI_REQUEST_DEADLINE, 10 s after its accept).
console_stalled() {
    local d spid t0 t1 code ms
    d=$(casedir)
    python3 "$E2E_DIR/fcgi_stall.py" --socket "$TSA_VAR/run/tsa-admin/admin.sock" --conns 1 --stall 8 \
        --seconds 15 >"$d/stall.json" 2>"$d/stall.err" 3>&- &
    spid=$!
    sleep 1
    t0=$(date +%s%N)
    code=$(console_admin_get /admin/ "$d/dash.html" --max-time 5)
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    echo "the dashboard while a connection stalls: HTTP $code in $ms ms"
    [[ $code == 200 ]] && grep -q 'Dashboard' "$d/dash.html" ||
        { kill "$spid" 2>/dev/null; bad "the console did not serve while a connection stalled: HTTP $code in $ms ms"; }
    (( ms < 2000 )) || { kill "$spid" 2>/dev/null; bad "the dashboard took $ms ms while a connection stalled"; }
    wait "$spid" || bad "fcgi_stall.py failed: $(oneline <"$d/stall.err")"
    cat "$d/stall.json"
    python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["closed_after"][0]
sys.exit(0 if t is not None and 9.5 <= t <= 12 else 1)' "$d/stall.json" ||
        bad "the stalled connection was not closed 10 s after its accept: $(oneline <"$d/stall.json")"
}

cases_console() {
    run_case console/setup console_setup
    run_case console/refusals console_refusals
    run_case console/forged-post console_forged
    run_case console/browser console_browser
    run_case console/soap-token console_soap_token
    run_case console/policy-edit console_policy_edit
    run_case console/admin-verbs console_admin_verbs
    run_case console/db-restart console_db_restart
    run_case console/stalled-connection console_stalled
    console_restore >/dev/null 2>&1
}
