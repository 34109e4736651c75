-- SPDX-License-Identifier: ISC
-- bench/messages.lua: the wrk script of bench/messages.
--
-- Environment (set by bench/messages):
--   BENCH_TOKENS  bearer tokens separated by spaces, used in turn
--   BENCH_MODE    post (send a message), get (GET path?BENCH_QUERY) or
--                 deep (GET path?limit=50&before=<random id in MIN..MAX>)
--   BENCH_PATH    /api/v1/channels/<id>/messages
--   BENCH_QUERY   the query of get (default limit=50)
--   BENCH_MIN, BENCH_MAX  the id range of deep
--   BENCH_RATE    requests a second to offer in all (0 or unset: as fast
--                 as the answers come, each connection sending its next
--                 request when the last is answered)
--   BENCH_THREADS wrk's thread count, which shares BENCH_RATE out
--
-- done() prints one line "RESULT key=value ..." that bench/messages reads:
-- requests, rps, latency percentiles in microseconds, and error counts
-- (errors_status counts answers with a status of 400 or more).

local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "%S+") do
	tokens[#tokens + 1] = t
end
local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/"
local query = os.getenv("BENCH_QUERY") or "limit=50"
local lo = tonumber(os.getenv("BENCH_MIN") or "1")
local hi = tonumber(os.getenv("BENCH_MAX") or "1")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local counter = 0
local threads = 0

-- Number the threads so that their tokens and texts differ.
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

-- The request the mode asks for, with the nth token in turn.
local function build(n)
	local headers = {
		["Authorization"] = "Bearer " .. tokens[n % #tokens + 1]
	}
	if mode == "post" then
		headers["Content-Type"] = "application/json"
		return wrk.format("POST", path, headers, string.format(
		    '{"content":"bench message %d from thread %d"}', n,
		    tid or 0))
	elseif mode == "deep" then
		return wrk.format("GET", path .. "?limit=50&before=" ..
		    math.random(lo, hi), headers)
	end
	return wrk.format("GET", path .. "?" .. query, headers)
end

-- The requests, made up front so that the load tool spends its CPU on
-- sending them: PREBUILT of them per thread, taken in turn.  Deep reads
-- are made one by one, each at a new random id.
local PREBUILT = 512
local prebuilt = {}

function init(args)
	math.randomseed(os.time() * 1000 + (tid or 0))
	for n = 1, PREBUILT do
		prebuilt[n] = build(n + (tid or 0))
	end
end

function request()
	counter = counter % PREBUILT + 1
	if mode == "deep" then
		return build(counter)
	end
	return prebuilt[counter]
end

-- At a fixed rate, each thread sends on a schedule of its own: the next
-- request waits for the next free slot, one every 1000 * nthreads / rate
-- ms, on whichever connection is idle.  A thread that fell behind (no
-- connection idle at its slot) starts again from now rather than catching
-- up in a burst, so the rate reached is what the run reports.
if rate > 0 then
	local ffi = require("ffi")
	ffi.cdef[[
		struct bench_timespec { long tv_sec; long tv_nsec; };
		int clock_gettime(int, struct bench_timespec *);
	]]
	local CLOCK_MONOTONIC = 1
	local ts = ffi.new("struct bench_timespec")
	local interval = 1000 * nthreads / rate
	local next_at

	local function now_ms()
		ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
		return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
	end

	function delay()
		local now = now_ms()
		next_at = (next_at or now) + interval
		if next_at < now then
			next_at = now
		end
		return math.floor(next_at - now)
	end
end

function done(summary, latency, requests)
	io.write(string.format("RESULT requests=%d rps=%.1f p50_us=%d " ..
	    "p90_us=%d p99_us=%d max_us=%d errors_status=%d " ..
	    "errors_socket=%d\n", summary.requests,
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50), latency:percentile(90),
	    latency:percentile(99), latency.max, summary.errors.status,
	    summary.errors.connect + summary.errors.read +
	    summary.errors.write + summary.errors.timeout))
end
