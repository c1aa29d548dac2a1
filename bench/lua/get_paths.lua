-- wrk script: GET each path of a list in turn (round robin), with a bearer token.
--   BENCH_PATHS_FILE  file holding one path (with its query string) per line
--   BENCH_TOKEN       access token
-- Prints one line "BENCH_RESULT {json}" at the end (see report.lua).
local headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")}
local requests = {}
for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
  if line ~= "" then
    requests[#requests + 1] = wrk.format("GET", line, headers)
  end
end
local i = 0

request = function()
  i = i % #requests + 1
  return requests[i]
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
