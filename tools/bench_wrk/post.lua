-- tools/bench: POST one valid encrypted request (SPEC §3) over keep-alive,
-- again and again.  The request comes from the environment, written by
-- tools/bench from `emoncrypt encode`: EC_BENCH_PATH, EC_BENCH_AUTH (the
-- Authorization value "USERID:HMAC", never the key) and EC_BENCH_BODY.
-- A compat server (as Emoncms) has no replay cache, so every copy is
-- accepted, acked and stored; a non-200 answer counts as a wrk error.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

wrk.method = "POST"
wrk.path = os.getenv("EC_BENCH_PATH") or "/input/post"
wrk.body = os.getenv("EC_BENCH_BODY")
wrk.headers["Content-Type"] = "aes128cbc"
wrk.headers["Authorization"] = os.getenv("EC_BENCH_AUTH")
if not wrk.body or not wrk.headers["Authorization"] then
   error("tools/bench_wrk/post.lua: EC_BENCH_BODY and EC_BENCH_AUTH must be set")
end
