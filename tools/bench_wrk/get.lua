-- tools/bench: GET a static file over keep-alive (the nginx baseline).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
wrk.method = "GET"
wrk.path = os.getenv("EC_BENCH_PATH") or "/"
