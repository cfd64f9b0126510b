-- wrk script for POST /api/v1/cases (see bench/README.md; bench/api_create.py drives it).
--
--   wrk -t2 -c32 -d30s --latency -s bench/create_case.lua http://127.0.0.1:8899/api/v1/cases \
--       -- <token> <bodies.jsonl> [<ack dir>]
--
-- Rotates through the JSON bodies in <bodies.jsonl> (one per line), counts responses by class in
-- the `response` callback and prints the totals plus p50/p90/p95/p99 in `done`. With <ack dir>, every
-- thread writes the id of each case it was acknowledged (2xx) to <ack dir>/acks-<thread>.txt, so the
-- driver can check the database row by row: nothing lost, nothing doubled.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local token = args[1]
  local path = args[2]
  local ack_dir = args[3]
  bodies = {}
  for line in io.lines(path) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  -- each thread starts at a different place in the rotation
  pos = (id * 7919) % #bodies
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }
  n201, n200, n4xx, n5xx, nother = 0, 0, 0, 0, 0
  first_error = ""
  if ack_dir then
    ack = io.open(ack_dir .. "/acks-" .. id .. ".txt", "w")
    ack:setvbuf("line")  -- the thread's Lua state is never closed: flush as we go
  end
end

function request()
  pos = pos % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[pos])
end

function response(status, hdrs, body)
  if status == 201 then
    n201 = n201 + 1
  elseif status == 200 then
    n200 = n200 + 1
  elseif status >= 500 then
    n5xx = n5xx + 1
  elseif status >= 400 then
    n4xx = n4xx + 1
  else
    nother = nother + 1
  end
  if status >= 200 and status < 300 then
    if ack then ack:write(string.match(body, '"id":%s*(%d+)') or "?", "\n") end
  elseif first_error == "" then
    first_error = status .. " " .. string.sub(body, 1, 300)
  end
end

function done(summary, latency, requests)
  local t = { n201 = 0, n200 = 0, n4xx = 0, n5xx = 0, nother = 0 }
  local err = ""
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
    local e = thread:get("first_error")
    if err == "" and e ~= "" then err = e end
  end
  local secs = summary.duration / 1e6
  local ok = t.n201 + t.n200
  io.write("---- create_case.lua ----\n")
  io.write(string.format("responses_2xx %d\n", ok))
  io.write(string.format("responses_201 %d\n", t.n201))
  io.write(string.format("responses_200 %d\n", t.n200))
  io.write(string.format("responses_4xx %d\n", t.n4xx))
  io.write(string.format("responses_5xx %d\n", t.n5xx))
  io.write(string.format("responses_other %d\n", t.nother))
  io.write(string.format("socket_errors connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  io.write(string.format("duration_s %.3f\n", secs))
  io.write(string.format("created_per_s %.1f\n", t.n201 / secs))
  for _, p in ipairs({ 50, 90, 95, 99, 99.9 }) do
    io.write(string.format("latency_p%s_ms %.2f\n", tostring(p), latency:percentile(p) / 1000))
  end
  io.write(string.format("latency_mean_ms %.2f\n", latency.mean / 1000))
  io.write(string.format("latency_max_ms %.2f\n", latency.max / 1000))
  if err ~= "" then io.write("first_error " .. err .. "\n") end
end
