-- SPDX-License-Identifier: ISC
-- bench/readstate.lua: the wrk script of bench/readstate.  It is
-- bench/messages.lua (its modes get and post, its RESULT line) with one
-- mode more:
--   BENCH_MODE=ack  PUT <path>/ack {message_id} over the conversations of
--                   BENCH_ACKS ("base:first base:first ..."; base is
--                   /api/v1/channels/<id>, first the id of its first
--                   message), each request the next conversation in turn,
--                   one message further on each round, so that every ack
--                   moves a read position
-- Run from the repository's root or with BENCH_LUA_DIR set to bench/.

local dir = os.getenv("BENCH_LUA_DIR") or "bench"
dofile(dir .. "/messages.lua")

if (os.getenv("BENCH_MODE") or "") == "ack" then
	local acks = {}
	for base, first in string.gmatch(os.getenv("BENCH_ACKS") or "",
	    "(%S+):(%d+)") do
		acks[#acks + 1] = { base = base, first = tonumber(first) }
	end
	local tokens = {}
	for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "%S+") do
		tokens[#tokens + 1] = t
	end
	local n = 0

	function request()
		n = n + 1
		-- Threads start apart, so that they rarely ack the same place.
		local k = n * nthreads_ack + (tid or 1)
		local a = acks[k % #acks + 1]
		local round = math.floor(k / #acks)
		return wrk.format("PUT", a.base .. "/ack", {
			["Authorization"] = "Bearer " .. tokens[k % #tokens + 1],
			["Content-Type"] = "application/json"
		}, string.format('{"message_id":"%d"}', a.first + round))
	end
	nthreads_ack = tonumber(os.getenv("BENCH_THREADS") or "1")
end
