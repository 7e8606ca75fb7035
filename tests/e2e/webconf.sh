# The production web server configurations (deploy/nginx, deploy/apache, deploy/lighttpd
# tsa.conf) pass their server's own configuration test, with dummy certificates and sockets
# in a case directory (the paths /etc/tsa/tls/ and the sockets rewritten there), and hold what
# the README promises: each URL's TSA_SERVICE, the operations URLs restricted, the worker's
# and tsa-admin's unix sockets, the body limit of max_body, required client certificates with
# the certificate passed on.  Then each is run for real, as a second instance of its server on
# other loopback ports, its paths pointed at this stack's sockets and PKI: the open services
# grant tokens, the HTTPS service grants the registered client and refuses one without a
# certificate, /health and /metrics reach the worker, /tsa?wsdl names the configured server
# name whatever Host the client sends.  Each pass of the suite checks the server it runs
# behind.
# shellcheck shell=bash

# webconf_prepare DIR SERVER: DIR/tsa.conf from deploy/SERVER/tsa.conf with local paths, dummy
# TLS files in DIR/tls.
webconf_prepare() {
    local d=$1 web=$2
    mkdir -p "$d/tls" "$d/run" "$d/logs" "$d/www" "$d/up"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$d/tls/server.key" -out "$d/tls/server.pem" -subj "/CN=tsa.example.gov" >/dev/null 2>&1 ||
        bad "openssl: dummy server certificate"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$d/tls/client-ca.key" -out "$d/tls/client-ca.pem" -subj "/CN=dummy client CA" >/dev/null 2>&1 ||
        bad "openssl: dummy client CA"
    sed -e "s|/etc/tsa/tls/|$d/tls/|g" -e "s|/run/tsa-fcgi\.sock|$d/run/tsa.sock|g" \
        -e "s|/run/tsa-admin/|$d/run/|g" \
        -e "s|/var/log/lighttpd/|$d/logs/|g" -e "s|/run/lighttpd.pid|$d/run/lighttpd.pid|g" \
        -e "s|/var/www/empty|$d/www|g" -e "s|/var/cache/lighttpd/uploads|$d/up|g" \
        "$ROOT/deploy/$web/tsa.conf" >"$d/tsa.conf"
}

# webconf_has FILE REGEX WHAT: the configuration holds REGEX (extended, on one line).
webconf_has() { grep -Eq -- "$2" "$1" || bad "deploy/${1##*/deploy/} has no $3 ($2)"; }

webconf_common() {
    local f=$1
    # The sockets deploy/systemd makes (tsa-fcgi.socket, tsa-admin.service's runtime directory).
    webconf_has "$f" '(unix:|")/run/tsa-fcgi\.sock' "worker socket /run/tsa-fcgi.sock"
    webconf_has "$f" '/run/tsa-admin/admin\.sock' "tsa-admin socket /run/tsa-admin/admin.sock"
    ! grep -Eq '0666|/run/tsa/' "$f" || bad "deploy/${f##*/deploy/} names a socket mode or directory no unit makes"
    webconf_has "$f" 'TSA_SERVICE"?[ =>"]+tsa([";]|$)' "TSA_SERVICE tsa"
    webconf_has "$f" 'TSA_SERVICE"?[ =>"]+verificationserver' "TSA_SERVICE verificationserver"
    webconf_has "$f" 'TSA_SERVICE"?[ =>"]+mtls' "TSA_SERVICE mtls"
    webconf_has "$f" 'TSA_OPS"?[ =>"]+health' "TSA_OPS health"
    webconf_has "$f" 'TSA_OPS"?[ =>"]+metrics' "TSA_OPS metrics"
    webconf_has "$f" '127\.0\.0\.1' "loopback restriction"
}

webconf_nginx() {
    local d f=$ROOT/deploy/nginx/tsa.conf out
    d=$(casedir)
    webconf_common "$f"
    webconf_has "$f" '^ *client_max_body_size +65536;' "client_max_body_size 65536"
    webconf_has "$f" '^ *ssl_verify_client +on;' "ssl_verify_client on"
    webconf_has "$f" 'SSL_CLIENT_CERT +\$ssl_client_escaped_cert;' "SSL_CLIENT_CERT"
    webconf_has "$f" 'SSL_CLIENT_VERIFY +\$ssl_client_verify;' "SSL_CLIENT_VERIFY"
    webconf_has "$f" 'deny all;' "deny all"
    webconf_has "$f" '^ *limit_conn tsa_conn_per_addr [0-9]+;' "per-address connection limit (limit_conn)"
    webconf_has "$f" '^ *limit_req zone=tsa_req_per_addr ' "per-address request rate (limit_req)"
    webconf_has "$f" '^ *client_header_timeout +10s;' "client_header_timeout 10s"
    webconf_prepare "$d" nginx
    cp "$ROOT/deploy/stack/fastcgi_params" "$d/fastcgi_params"
    cat >"$d/nginx.conf" <<EOF
pid $d/run/nginx.pid;
error_log $d/logs/error.log;
events { }
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/up;
    include $d/tsa.conf;
}
EOF
    out=$(PATH=$PATH:/usr/sbin nginx -t -p "$d/" -e "$d/logs/error.log" -c "$d/nginx.conf" 2>&1) ||
        bad "nginx -t: $(oneline <<<"$out")"
    echo "$out"
}

webconf_apache() {
    local d f=$ROOT/deploy/apache/tsa.conf out m=/usr/lib/apache2/modules mod
    d=$(casedir)
    webconf_common "$f"
    webconf_has "$f" '^ *LimitRequestBody +65536$' "LimitRequestBody 65536"
    webconf_has "$f" '^ *SSLVerifyClient +require$' "SSLVerifyClient require"
    webconf_has "$f" '^ *SSLOptions .*\+ExportCertData' "SSLOptions +ExportCertData"
    webconf_has "$f" '^ *SSLOptions .*\+StdEnvVars' "SSLOptions +StdEnvVars"
    webconf_has "$f" 'Require ip 127\.0\.0\.1 ::1' "Require ip 127.0.0.1 ::1"
    webconf_has "$f" '^SetEnv proxy-sendcl 1$' "SetEnv proxy-sendcl 1 (the body read before a worker is taken)"
    webconf_has "$f" '^SetInputFilter BUFFER$' "SetInputFilter BUFFER"
    webconf_has "$f" '^UseCanonicalName On$' "UseCanonicalName On (SERVER_NAME not the client's Host)"
    webconf_has "$f" 'RequestReadTimeout header=10-20,MinRate=500 body=2,MinRate=4000' "whole-request deadlines (RequestReadTimeout)"
    webconf_has "$f" '^ *MaxRequestWorkers +1024$' "MaxRequestWorkers 1024"
    webconf_prepare "$d" apache
    {
        echo "ServerRoot $d"
        echo "PidFile $d/run/httpd.pid"
        echo "DefaultRuntimeDir $d/run"
        echo "ErrorLog $d/logs/error.log"
        echo "ServerName localhost"
        echo "Listen 80"
        echo "Listen 443"
        for mod in mpm_event authz_core authz_host env reqtimeout proxy proxy_fcgi buffer socache_shmcb ssl; do
            echo "LoadModule ${mod}_module $m/mod_$mod.so"
        done
        echo "Include $d/tsa.conf"
    } >"$d/httpd.conf"
    out=$(PATH=$PATH:/usr/sbin apache2 -t -d "$d" -f "$d/httpd.conf" 2>&1) || bad "apache2 -t: $(oneline <<<"$out")"
    echo "$out"
}

webconf_lighttpd() {
    local d f=$ROOT/deploy/lighttpd/tsa.conf out
    d=$(casedir)
    webconf_common "$f"
    webconf_has "$f" '^server\.max-request-size *= *64$' "server.max-request-size = 64 (KiB)"
    webconf_has "$f" 'ssl\.verifyclient\.enforce *= *"enable"' "ssl.verifyclient.enforce"
    webconf_has "$f" 'ssl\.verifyclient\.exportcert *= *"enable"' "ssl.verifyclient.exportcert"
    webconf_has "$f" 'url\.access-deny' "url.access-deny"
    webconf_has "$f" '^ *server\.name *= *"' "server.name (SERVER_NAME not the client's Host)"
    webconf_has "$f" '^server\.max-connections *= *8192$' "server.max-connections = 8192"
    webconf_has "$f" '^server\.max-fds *= *20000$' "server.max-fds = 20000"
    webconf_prepare "$d" lighttpd
    out=$(PATH=$PATH:/usr/sbin lighttpd -tt -f "$d/tsa.conf" 2>&1) || bad "lighttpd -tt: $(oneline <<<"$out")"
    echo "$out"
}

# webconf_live_prepare DIR SERVER: DIR/live.conf, the production file with this stack's paths and
# two free loopback ports (DIR/ports: HTTP HTTPS).
webconf_live_prepare() {
    local d=$1 web=$2 p1 p2 pki=$TSA_VAR/pki
    p1=$(free_port "$TSA_HTTP_PORT" "$TSA_HTTPS_PORT") && p2=$(free_port "$TSA_HTTP_PORT" "$TSA_HTTPS_PORT" "$p1") ||
        bad "no free loopback port"
    echo "$p1 $p2" >"$d/ports"
    mkdir -p "$d/live/logs" "$d/live/run" "$d/live/www" "$d/live/up"
    (( $(id -u) == 0 )) && chown -R www-data "$d/live" && chmod o+x "$d" "$WORK" "$TSA_VAR"
    sed -e "s|/etc/tsa/tls/server.pem|$pki/server-chain.pem|g" -e "s|/etc/tsa/tls/server.key|$pki/server.key|g" \
        -e "s|/etc/tsa/tls/client-ca.pem|$pki/client-ca.pem|g" \
        -e "s|/run/tsa-fcgi\.sock|$TSA_VAR/run/tsa-fcgi/tsa.sock|g" -e "s|/run/tsa-admin/|$TSA_VAR/run/tsa-admin/|g" \
        -e "s|/var/log/lighttpd/|$d/live/logs/|g" -e "s|/run/lighttpd.pid|$d/live/run/lighttpd.pid|g" \
        -e "s|/var/www/empty|$d/live/www|g" -e "s|/var/cache/lighttpd/uploads|$d/live/up|g" \
        -e "s|^\( *\)listen 80;.*|\1listen 127.0.0.1:$p1;|" -e "s|^\( *\)listen 443 ssl;|\1listen 127.0.0.1:$p2 ssl;|" \
        -e '/listen \[::\]/d' -e '/\[::\]:80/d' \
        -e "s|<VirtualHost \*:80>|<VirtualHost 127.0.0.1:$p1>|" -e "s|<VirtualHost \*:443>|<VirtualHost 127.0.0.1:$p2>|" \
        -e "s|^server.bind = \"0.0.0.0\"|server.bind = \"127.0.0.1\"|" -e "s|^server.port = 80|server.port = $p1|" \
        -e "s|\":80\$\"|\":$p1\$\"|" -e "s|\"0.0.0.0:443\"|\"127.0.0.1:$p2\"|" \
        "$ROOT/deploy/$web/tsa.conf" >"$d/live.conf"
}

# webconf_live_check DIR: the requests through the live instance.
webconf_live_check() {
    local d=$1 p1 p2 out t pki=$TSA_VAR/pki
    read -r p1 p2 <"$d/ports"
    head -c 100 /dev/urandom >"$d/data"
    openssl ts -query -data "$d/data" -sha256 -cert -out "$d/q.tsq" 2>/dev/null || bad "openssl ts -query failed"
    for t in "tsa 1.3.6.1.4.1.32473.1.1" "verificationserver/timestamp 1.3.6.1.4.1.32473.1.2"; do
        out=$(post "http://127.0.0.1:$p1/${t% *}" "$d/q.tsq" "$d/r.tsr") || bad "curl /${t% *} failed: $out"
        [[ $out == "200 application/timestamp-reply" ]] || bad "/${t% *} answered '$out'"
        reply_text "$d/r.tsr" | grep -q "^Policy OID: ${t#* }$" || bad "/${t% *}: no token of policy ${t#* }"
    done
    out=$(curl -sS --max-time 30 --cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
        -o "$d/m.tsr" -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
        --data-binary @"$d/q.tsq" "https://127.0.0.1:$p2/") || bad "curl HTTPS failed: $out"
    [[ $out == 200 ]] || bad "HTTPS with the demo client answered '$out'"
    reply_text "$d/m.tsr" | grep -q '^Policy OID: 1.3.6.1.4.1.32473.1.3$' || bad "HTTPS: no token of the mtls policy"
    out=$(curl -s --max-time 30 --cacert "$pki/ca.pem" -o /dev/null -w '%{http_code}' \
        -H 'Content-Type: application/timestamp-query' --data-binary @"$d/q.tsq" "https://127.0.0.1:$p2/") || true
    [[ $out == 000 || $out == 400 ]] || bad "HTTPS without a client certificate answered '$out'"
    for t in health metrics; do
        out=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/$t") || true
        [[ $out == 200 || $out == 503 ]] || bad "/$t answered '$out' to 127.0.0.1"
    done
    # The token log under each service's URL (README "Token log"): a tree head within 5 s of
    # the tokens above, the log keys.
    local i
    for t in "http://127.0.0.1:$p1/tsa/log/sth" "http://127.0.0.1:$p1/verificationserver/timestamp/log/sth" \
             "http://127.0.0.1:$p1/tsa/log/keys" "https://127.0.0.1:$p2/log/sth"; do
        for ((i = 0; i < 25; i++)); do
            out=$(curl -s --max-time 10 --cacert "$pki/ca.pem" --cert "$pki/client.pem" \
                --key "$pki/client.key" -o "$d/log.json" -w '%{http_code}' "$t") || true
            [[ $out == 200 ]] && break
            sleep 0.2
        done
        [[ $out == 200 ]] && python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$d/log.json" ||
            bad "$t answered '$out': $(head -c 200 "$d/log.json" | oneline)"
    done
    out=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/other") || true
    [[ $out == 40[34] ]] || bad "/other answered '$out'"
    # The WSDL's address is the configured server name, whatever Host the client sends.
    out=$(curl -sS --max-time 10 -o "$d/w.xml" -w '%{http_code}' -H 'Host: attacker.example:443' \
        "http://127.0.0.1:$p1/tsa?wsdl") || bad "curl ?wsdl failed"
    [[ $out == 200 ]] || bad "/tsa?wsdl answered '$out'"
    out=$(xmllint --xpath 'string(//*[local-name()="address"]/@location)' "$d/w.xml")
    [[ $out =~ ^http://tsa\.example\.gov(:$p1)?/tsa$ ]] || bad "/tsa?wsdl with Host attacker.example: soap:address '$out'"
    echo "live: HTTP $p1, HTTPS $p2: served"
}

webconf_live_nginx() {
    local d pid rc=0
    d=$(casedir)
    webconf_live_prepare "$d" nginx
    cp "$ROOT/deploy/stack/fastcgi_params" "$d/live/fastcgi_params"
    mkdir -p "$d/live/tmp"
    cat >"$d/live/nginx.conf" <<EOF
$( (( $(id -u) == 0 )) && echo "user www-data;")
pid $d/live/run/nginx.pid;
error_log $d/live/logs/error.log;
events { }
http {
    access_log $d/live/logs/access.log;
    client_body_temp_path $d/live/tmp/body;
    fastcgi_temp_path $d/live/tmp/fastcgi;
    proxy_temp_path $d/live/tmp/proxy;
    uwsgi_temp_path $d/live/tmp/uwsgi;
    scgi_temp_path $d/live/tmp/scgi;
    include $d/live.conf;
}
EOF
    PATH=$PATH:/usr/sbin nginx -p "$d/live/" -e "$d/live/logs/error.log" -c "$d/live/nginx.conf" </dev/null ||
        bad "nginx did not start: $(tail -n 5 "$d/live/logs/error.log" | oneline)"
    (webconf_live_check "$d") || rc=1
    pid=$(cat "$d/live/run/nginx.pid" 2>/dev/null)
    [[ -n $pid ]] && kill -QUIT "$pid"
    return $rc
}

webconf_live_apache() {
    local d pid rc=0 m=/usr/lib/apache2/modules mod p1 p2
    d=$(casedir)
    webconf_live_prepare "$d" apache
    read -r p1 p2 <"$d/ports"
    {
        echo "ServerRoot $d/live"
        echo "PidFile $d/live/run/httpd.pid"
        echo "DefaultRuntimeDir $d/live/run"
        echo "Mutex file:$d/live/run default"
        echo "ErrorLog $d/live/logs/error.log"
        echo "ServerName localhost"
        (( $(id -u) == 0 )) && printf 'User www-data\nGroup www-data\n'
        echo "Listen 127.0.0.1:$p1"
        echo "Listen 127.0.0.1:$p2"
        echo "DocumentRoot $d/live/www"
        for mod in mpm_event authz_core authz_host env reqtimeout proxy proxy_fcgi buffer socache_shmcb ssl; do
            echo "LoadModule ${mod}_module $m/mod_$mod.so"
        done
        echo "Include $d/live.conf"
    } >"$d/live/httpd.conf"
    PATH=$PATH:/usr/sbin apache2 -d "$d/live" -f "$d/live/httpd.conf" -k start </dev/null ||
        bad "apache2 did not start: $(tail -n 5 "$d/live/logs/error.log" | oneline)"
    sleep 0.5
    (webconf_live_check "$d") || rc=1
    pid=$(cat "$d/live/run/httpd.pid" 2>/dev/null)
    [[ -n $pid ]] && kill -TERM "$pid"
    return $rc
}

webconf_live_lighttpd() {
    local d pid rc=0 i
    d=$(casedir)
    webconf_live_prepare "$d" lighttpd
    (( $(id -u) == 0 )) || sed -i '/^server.username\|^server.groupname/d' "$d/live.conf"
    PATH=$PATH:/usr/sbin lighttpd -f "$d/live.conf" </dev/null >"$d/start.log" 2>&1 ||
        bad "lighttpd did not start: $(oneline <"$d/start.log") $(tail -n 5 "$d/live/logs/error.log" | oneline)"
    for ((i = 0; i < 20; i++)); do [[ -s $d/live/run/lighttpd.pid ]] && break; sleep 0.1; done
    (webconf_live_check "$d") || rc=1
    pid=$(cat "$d/live/run/lighttpd.pid" 2>/dev/null)
    [[ -n $pid ]] && kill -INT "$pid"
    return $rc
}

cases_webconf() {
    case ${TSA_WEB:-nginx} in
        nginx) run_case webconf/nginx webconf_nginx
               run_case webconf/nginx-live webconf_live_nginx ;;
        apache) run_case webconf/apache webconf_apache
                run_case webconf/apache-live webconf_live_apache ;;
        lighttpd) run_case webconf/lighttpd webconf_lighttpd
                  run_case webconf/lighttpd-live webconf_live_lighttpd ;;
    esac
}
