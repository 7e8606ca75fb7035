# The per-address firewall limits of deploy/nftables/tsa-limits.nft, loaded for real into a
# network namespace of the test's own, never into the machine's: a server namespace and a
# client namespace joined by a veth pair with private addresses (10.255.X.0/29 and a ULA
# /64 that exist only inside the two namespaces, so nothing is routed off the machine), the
# ruleset loaded as shipped in the server namespace (its ports 80 and 443: the test server
# listens on 80 there), a TCP server that holds every connection (tests/e2e/firewall.py).
# From the client namespace: (a) the cap plus 20 connections at once from one address: the
# cap established, the rest reset; (b) meanwhile one from another address, established;
# (c) four times the burst within 0.5 s from a third address: some SYNs unanswered (dropped),
# and after 2 s of quiet 20 new connections all established; (d) an address added to the
# exempt set as the file's comment says: not limited; (e) the same cap for IPv6.  The cap and
# burst are read from the file.  Needs root, nft (deploy/deps.sh) and network namespaces:
# without them the case fails and says so.  About 6 s.
# shellcheck shell=bash

firewall_limits() {
    local d nft=$ROOT/deploy/nftables/tsa-limits.nft srv=tsa-fw-srv-$$ cli=tsa-fw-cli-$$
    local net=10.255.$((RANDOM % 256)) out cap burst i
    d=$(casedir)
    [[ $(id -u) == 0 ]] || bad "needs root (network namespaces, nft)"
    command -v nft >/dev/null 2>&1 || [[ -x /usr/sbin/nft ]] ||
        bad "nft not found: install nftables (deploy/deps.sh)"
    PATH=$PATH:/usr/sbin
    cap=$(sed -n 's/.*ip saddr ct count over \([0-9]*\) .*/\1/p' "$nft")
    burst=$(sed -n 's/.*ip saddr limit rate over [0-9]*\/second burst \([0-9]*\) packets.*/\1/p' "$nft")
    [[ $cap =~ ^[0-9]+$ && $burst =~ ^[0-9]+$ ]] ||
        bad "cannot read the IPv4 count and burst from deploy/nftables/tsa-limits.nft"

    # Whatever happens, the namespaces go (with them the veth pair, the rules and the server).
    # shellcheck disable=SC2064
    trap "ip netns pids $srv 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $srv 2>/dev/null; ip netns del $cli 2>/dev/null" EXIT
    { ip netns add "$srv" && ip netns add "$cli"; } 2>"$d/err" ||
        bad "cannot create network namespaces: $(oneline <"$d/err")"
    # The pair is made inside the namespaces: nothing appears in the machine's own.
    { ip link add fw0 netns "$srv" type veth peer name fw1 netns "$cli" &&
        ip -n "$srv" addr add "$net.1/29" dev fw0 &&
        ip -n "$cli" addr add "$net.2/29" dev fw1 &&
        ip -n "$cli" addr add "$net.3/29" dev fw1 &&
        ip -n "$cli" addr add "$net.4/29" dev fw1 &&
        ip -n "$cli" addr add "$net.5/29" dev fw1 &&
        ip -n "$srv" addr add fd74:7361::1/64 dev fw0 nodad &&
        ip -n "$cli" addr add fd74:7361::2/64 dev fw1 nodad &&
        ip -n "$srv" link set lo up && ip -n "$cli" link set lo up &&
        ip -n "$srv" link set fw0 up && ip -n "$cli" link set fw1 up; } 2>"$d/err" ||
        bad "cannot set up the veth pair between the namespaces: $(oneline <"$d/err")"
    ip netns exec "$srv" nft -f "$nft" 2>"$d/err" ||
        bad "nft -f deploy/nftables/tsa-limits.nft in a namespace: $(oneline <"$d/err")"
    ip netns exec "$srv" nft add element inet tsa_limits exempt4 "{ $net.5 }" 2>"$d/err" ||
        bad "nft add element ... exempt4: $(oneline <"$d/err")"

    ip netns exec "$srv" python3 "$E2E_DIR/firewall.py" serve 80 >"$d/serve.out" 2>"$d/serve.err" 3>&- &
    for ((i = 0; i < 50; i++)); do
        grep -q ready "$d/serve.out" && break
        kill -0 $! 2>/dev/null || bad "the test server stopped: $(oneline <"$d/serve.err")"
        sleep 0.1
    done
    grep -q ready "$d/serve.out" || bad "the test server did not start within 5 s"

    out=$(timeout 30 ip netns exec "$cli" python3 "$E2E_DIR/firewall.py" probe --port 80 \
        --dst4 "$net.1" --dst6 fd74:7361::1 --src-a "$net.2" --src-b "$net.3" --src-c "$net.4" \
        --src-e "$net.5" --src6 fd74:7361::2 --conns "$cap" --burst "$burst" 2>"$d/err") ||
        bad "firewall.py probe: $(oneline <"$d/err")"
    echo "$out"
    ip netns exec "$srv" nft list table inet tsa_limits

    # field KEY.NAME: one count of the probe's JSON.
    field() { python3 -c 'import json,sys; k,n=sys.argv[2].split("."); print(json.loads(sys.argv[1])[k][n])' "$out" "$1"; }
    local a_est a_ref b_est c_est c_un c_ref c_s q_est d_est e_est e_ref
    a_est=$(field a_one_address.established) a_ref=$(field a_one_address.refused)
    b_est=$(field b_other_address.established)
    c_est=$(field c_flood.established) c_un=$(field c_flood.unanswered)
    c_ref=$(field c_flood.refused) c_s=$(field c_flood.seconds)
    q_est=$(field c_after_quiet.established)
    d_est=$(field d_exempt.established)
    e_est=$(field e_ipv6.established) e_ref=$(field e_ipv6.refused)
    echo "firewall: (a) $((cap + 20)) at once from one address: $a_est established, $a_ref reset;" \
        "(b) another address meanwhile: $b_est of 1; (c) $((4 * burst)) in 0.5 s: $c_est established," \
        "$c_un unanswered, $c_ref reset ($c_s s), after 2 s quiet $q_est of 20;" \
        "(d) exempt: $d_est of $((cap + 20)); (e) IPv6: $e_est established, $e_ref reset"
    (( a_est == cap && a_ref == 20 )) || bad "(a) $((cap + 20)) connections from one address: $a_est established, $a_ref reset; want $cap and 20: $out"
    (( b_est == 1 )) || bad "(b) another address while the first holds $cap: not established: $out"
    (( c_un > 0 && c_est >= burst / 2 )) ||
        bad "(c) $((4 * burst)) new connections in 0.5 s: $c_est established, $c_un unanswered; want some of each: $out"
    (( q_est == 20 )) || bad "(c) after 2 s of quiet: $q_est of 20 established: $out"
    (( d_est == cap + 20 )) || bad "(d) an exempt address: $d_est of $((cap + 20)) established: $out"
    (( e_est == cap && e_ref == 20 )) || bad "(e) IPv6: $e_est established, $e_ref reset; want $cap and 20: $out"

    # And it comes out as the file's comment says.
    ip netns exec "$srv" nft delete table inet tsa_limits 2>"$d/err" ||
        bad "nft delete table inet tsa_limits: $(oneline <"$d/err")"
    [[ -z $(ip netns exec "$srv" nft list ruleset) ]] || bad "rules left after nft delete table inet tsa_limits"
}

cases_firewall() {
    # The ruleset is the web server's neighbour, not its part: one pass (behind nginx) tests it.
    [[ ${TSA_WEB:-nginx} == nginx ]] || return 0
    run_case "firewall/per-address-limits" firewall_limits
}
