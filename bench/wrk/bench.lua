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
-- Options: tokens=FILE ("ID TOKEN" lines: the access tokens that
-- POST /auth/verify returned), threads=T (as given to wrk),
-- coupons=FILE (one coupon token a line, as POST /coupons/generate made
-- them), base=K (the first line of it to use), device=, gps= (scan body),
-- before= (wallet query), count=N, donefile=PATH (mix, and scan when
-- given: stop after N responses), seq=1 (scan: coupon k goes to user
-- k mod users, so every user gets the same number), email=, password=
-- (login).
--
-- done() prints one machine-readable line for bench/run.sh:
--   BENCH requests=N seconds=S rps=R p50_us=X p99_us=Y errors=E ok=K
-- where errors counts HTTP statuses >= 400 plus socket errors, and ok
-- the responses below 400 (every success of these routes is a 200).

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

-- Coupon tokens, read from coupons=: random UUIDv4 from the module.
local coupons = {}
local function coupon(k)
    return coupons[k] or "00000000-0000-4000-8000-000000000000"
end

local function load_coupons(path)
    for line in io.lines(path) do
        if #line > 0 then coupons[#coupons + 1] = line end
    end
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
    if opt.coupons then load_coupons(opt.coupons) end
    -- wrk decides after init whether the script is dynamic and whether it
    -- wants responses: keep its per-request work at the minimum needed.
    if mode == "get" then request = nil end
    if not opt.count then response = nil end
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
    -- Past the end of the list, a token no coupon has: a 404 counted
    -- as an error, so a run that ran out of coupons shows it.
    local k = tonumber(opt.base or "1") + index + n * nthreads
    local body = '{"token":"' .. coupon(k) .. '","deviceId":"' ..
                 opt.device .. '","gps":"' .. opt.gps .. '"}'
    local headers = json
    if keyed then
        -- The coupon's token makes the key unique across threads and runs.
        headers = {["Content-Type"] = "application/json",
                   ["Idempotency-Key"] = "bench-" .. coupon(k)}
    end
    local u = opt.seq and users[k % #users + 1] or user(n)
    return wrk.format("POST", "/scan", bearer(u, headers), body)
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
        "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d errors=%d ok=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50), latency:percentile(99),
        e.status + e.connect + e.read + e.write + e.timeout,
        summary.requests - e.status))
end
