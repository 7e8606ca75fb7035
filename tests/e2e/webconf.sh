# The production web server configurations (deploy/nginx, deploy/apache, deploy/lighttpd
# tsa.conf) pass their server's own configuration test, with dummy certificates and sockets
# in a case directory (the paths /etc/tsa/tls/ and /run/tsa/ rewritten there), and hold what
# the README promises: each URL's TSA_SERVICE, the operations URLs restricted, the worker's
# and tsa-admin's unix sockets, the body limit of max_body, required client certificates with
# the certificate passed on.  Each pass of the suite checks the server it runs behind.
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
    sed -e "s|/etc/tsa/tls/|$d/tls/|g" -e "s|/run/tsa/|$d/run/|g" \
        -e "s|/var/log/lighttpd/|$d/logs/|g" -e "s|/run/lighttpd.pid|$d/run/lighttpd.pid|g" \
        -e "s|/var/www/empty|$d/www|g" -e "s|/var/cache/lighttpd/uploads|$d/up|g" \
        "$ROOT/deploy/$web/tsa.conf" >"$d/tsa.conf"
}

# webconf_has FILE REGEX WHAT: the configuration holds REGEX (extended, on one line).
webconf_has() { grep -Eq -- "$2" "$1" || bad "deploy/${1##*/deploy/} has no $3 ($2)"; }

webconf_common() {
    local f=$1
    webconf_has "$f" 'unix:?/run/tsa/tsa\.sock' "worker socket /run/tsa/tsa.sock"
    webconf_has "$f" '/run/tsa/admin\.sock' "tsa-admin socket /run/tsa/admin.sock"
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
    webconf_prepare "$d" apache
    {
        echo "ServerRoot $d"
        echo "PidFile $d/run/httpd.pid"
        echo "DefaultRuntimeDir $d/run"
        echo "ErrorLog $d/logs/error.log"
        echo "ServerName localhost"
        echo "Listen 80"
        echo "Listen 443"
        for mod in mpm_event authz_core authz_host env reqtimeout proxy proxy_fcgi socache_shmcb ssl; do
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
    webconf_prepare "$d" lighttpd
    out=$(PATH=$PATH:/usr/sbin lighttpd -tt -f "$d/tsa.conf" 2>&1) || bad "lighttpd -tt: $(oneline <<<"$out")"
    echo "$out"
}

cases_webconf() {
    case ${TSA_WEB:-nginx} in
        nginx) run_case webconf/nginx webconf_nginx ;;
        apache) run_case webconf/apache webconf_apache ;;
        lighttpd) run_case webconf/lighttpd webconf_lighttpd ;;
    esac
}
