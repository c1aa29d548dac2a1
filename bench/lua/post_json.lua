-- wrk script: POST a JSON body, optionally with a bearer token.
--   BENCH_BODY_FILE  file holding the JSON body
--   BENCH_TOKEN      access token (optional)
-- Prints one line "BENCH_RESULT {json}" at the end (parsed by bench/ticket_create.py).
local fh = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = fh:read("*a")
fh:close()
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
