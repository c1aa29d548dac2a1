-- wrk script: upload one multipart body (field `file`) to each ticket in turn.
--   BENCH_BODY_FILE   file holding the complete multipart body
--   BENCH_BOUNDARY    its boundary
--   BENCH_TOKEN       access token
--   BENCH_TICKETS     comma-separated ticket ids
local fh = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
local body = fh:read("*a")
fh:close()
local headers = {
  ["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("BENCH_BOUNDARY"),
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}
local requests = {}
for id in string.gmatch(os.getenv("BENCH_TICKETS"), "[^,]+") do
  requests[#requests + 1] = wrk.format("POST", "/api/v1/tickets/" .. id .. "/attachments",
                                       headers, body)
end
local i = 0

request = function()
  i = i % #requests + 1
  return requests[i]
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
