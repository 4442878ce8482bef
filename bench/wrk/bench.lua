-- bench.lua: the requests of every `make bench` scenario, for wrk.
--
--   wrk -t T -c C -d D -s bench.lua URL -- MODE key=value...
--
-- MODE is one of:
--   get      GET the URL's path as is (static file, /health)
--   me       GET /me with a bearer token, users in turn
--   wallet   GET /users/{id}/wallet with that user's own token
--   scan     POST /scan, a fresh coupon every request (see coupon())
--   scan_key the same with an Idempotency-Key, a fresh one per request
--   login    POST /auth/login-with-email, email= password=
--   mix      the memory run: all of the above plus error paths, in turn,
--            until count= responses (then wrk exits, see response())
-- Options: tokens=FILE ("ID TOKEN" lines from `mvbench tokens`),
-- threads=T (as given to wrk), base=K (first coupon number), device=,
-- gps= (scan body), before= (wallet query), count=N, donefile=PATH (mix),
-- email=, password= (login).
--
-- done() prints one machine-readable line for bench/run.sh:
--   BENCH requests=N seconds=S rps=R p50_us=X p99_us=Y errors=E
-- where errors counts HTTP statuses >= 400 plus socket errors.

local opt = {}
local mode
local users = {}
local sent = 0          -- requests made by this thread
local answered = 0      -- responses seen by this thread
local index = 0         -- this thread's number, 0-based
local nthreads = 1

local made = 0
function setup(thread)
    thread:set("index", made)
    made = made + 1
end

-- The coupon token of coupon number k, the same as bench_token(k) in
-- bench/seed.sql: a fixed prefix and k in the last 12 hex digits.
local function coupon(k)
    return string.format("00000000-0000-4000-8000-%012x", k)
end

local function load_tokens(path)
    local f = assert(io.open(path, "r"), "cannot open " .. path)
    for line in f:lines() do
        local id, tok = line:match("^(%d+) (%S+)$")
        if id then users[#users + 1] = {id = id, token = tok} end
    end
    f:close()
    assert(#users > 0, "no tokens in " .. path)
end

function init(args)
    mode = args[1]
    for i = 2, #args do
        local k, v = args[i]:match("^([%w_]+)=(.*)$")
        if k then opt[k] = v end
    end
    index = tonumber(wrk.thread:get("index")) or 0
    math.randomseed(os.time() * 100 + index)
    nthreads = tonumber(opt.threads or "1")
    if opt.tokens then load_tokens(opt.tokens) end
    -- wrk decides after init whether the script is dynamic and whether it
    -- wants responses: keep its per-request work at the minimum needed.
    if mode == "get" then request = nil end
    if mode ~= "mix" then response = nil end
end

-- The user of a request: uniformly random, like pgbench's random(1, users)
-- in the ceiling's script, so both sides run the same (small) risk of two
-- redemptions waiting for the same balance row.
local function user(n)
    return users[math.random(#users)]
end

local function bearer(u, extra)
    local h = {Authorization = "Bearer " .. u.token}
    if extra then
        for k, v in pairs(extra) do h[k] = v end
    end
    return h
end

local json = {["Content-Type"] = "application/json"}

local function scan_request(n, keyed)
    -- Requests of all threads share one sequence: thread i takes
    -- base + i, base + i + T, ... so the coupons used are contiguous.
    local k = tonumber(opt.base) + index + n * nthreads
    local body = '{"token":"' .. coupon(k) .. '","deviceId":"' ..
                 opt.device .. '","gps":"' .. opt.gps .. '"}'
    local headers = json
    if keyed then
        -- The coupon number makes the key unique across threads and runs.
        headers = {["Content-Type"] = "application/json",
                   ["Idempotency-Key"] = "bench-" .. k}
    end
    return wrk.format("POST", "/scan", bearer(user(n), headers), body)
end

local function login_request()
    local body = '{"email":"' .. opt.email .. '","password":"' ..
                 opt.password .. '"}'
    return wrk.format("POST", "/auth/login-with-email", json, body)
end

local builders = {
    get = function(n) return wrk.format("GET", wrk.path) end,
    me = function(n) return wrk.format("GET", "/me", bearer(user(n))) end,
    wallet = function(n)
        local u = user(n)
        local path = "/users/" .. u.id .. "/wallet"
        if opt.before then path = path .. "?before=" .. opt.before end
        return wrk.format("GET", path, bearer(u))
    end,
    scan = function(n) return scan_request(n, false) end,
    scan_key = function(n) return scan_request(n, true) end,
    login = login_request,
}

-- The memory run's rotation: the hot paths and the cheap error paths.
local mix = {
    function(n) return wrk.format("GET", "/health") end,
    function(n) return builders.me(n) end,
    function(n) return builders.wallet(n) end,
    function(n) return scan_request(n) end,
    function(n) return wrk.format("GET", "/static/static.txt") end,
    function(n) return wrk.format("GET", "/no/such/route") end,
    function(n)
        return wrk.format("POST", "/scan", bearer(user(n), json), '{"token":')
    end,
    function(n)
        return wrk.format("GET", "/me", {Authorization = "Bearer x.y.z"})
    end,
}

function request()
    local n = sent
    sent = sent + 1
    if mode == "mix" then
        -- Scans take their own sequence so that every coupon is fresh.
        local slot = n % #mix + 1
        if slot == 4 then return scan_request(math.floor(n / #mix)) end
        return mix[slot](n)
    end
    return builders[mode](n)
end

-- Only the memory run looks at responses: each thread stops after its
-- share of count, and the last thread to finish ends wrk at once (wrk
-- would otherwise wait for the whole -d duration).
function response(status, headers, body)
    if mode ~= "mix" then return end
    answered = answered + 1
    if answered == math.ceil(tonumber(opt.count) / nthreads) then
        local f = io.open(opt.donefile, "a")
        f:write(index, " ", answered, "\n")
        f:close()
        local finished = 0
        for _ in io.lines(opt.donefile) do finished = finished + 1 end
        if finished >= nthreads then
            io.write(string.format("BENCH requests=%d\n",
                                   answered * nthreads))
            io.flush()
            os.exit(0)
        end
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    local seconds = summary.duration / 1e6
    io.write(string.format(
        "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d errors=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50), latency:percentile(99),
        e.status + e.connect + e.read + e.write + e.timeout))
end
