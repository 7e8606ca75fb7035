-- post.lua - the wrk script of tests/bench/bench.sh: POSTs one fixed request on every request,
-- and prints a machine-readable summary line at the end for bench.sh to parse.
-- Environment: BENCH_BODY the request file (sent as it is), BENCH_CONTENT_TYPE its
-- Content-Type; BENCH_SOAPACTION, when set, a SOAPAction header (SOAP 1.1 6.1.1).
-- No response() callback: wrk would then parse every reply in Lua and measure itself.

local function env(name)
    local v = os.getenv(name)
    if v == nil or v == "" then
        error("post.lua: " .. name .. " is not set")
    end
    return v
end

local f = assert(io.open(env("BENCH_BODY"), "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = env("BENCH_CONTENT_TYPE")
local action = os.getenv("BENCH_SOAPACTION")
if action ~= nil and action ~= "" then
    wrk.headers["SOAPAction"] = action
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d non2xx=%d connect=%d read=%d write=%d " ..
        "timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f\n",
        summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read,
        e.write, e.timeout, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean))
end
