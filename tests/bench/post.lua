-- post.lua - the wrk script of tests/bench/bench.sh: POSTs one fixed RFC 3161 request (the
-- DER file named by $BENCH_TSQ, made with `openssl ts -query -sha256 -cert`) on every request,
-- and prints a machine-readable summary line at the end for bench.sh to parse.
-- No response() callback: wrk would then parse every reply in Lua and measure itself.

local path = os.getenv("BENCH_TSQ")
if path == nil or path == "" then
    error("post.lua: BENCH_TSQ (the request file) is not set")
end
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/timestamp-query"

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d non2xx=%d connect=%d read=%d write=%d " ..
        "timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f\n",
        summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read,
        e.write, e.timeout, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean))
end
