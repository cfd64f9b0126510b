-- wrk script for POST /watch/hooks/<slug>/messages (bench/webhook_ingest.py drives it).
--
--   wrk -t2 -c32 -d30s --latency -s bench/ingest_messages.lua http://127.0.0.1:8899/watch/hooks/bench/messages \
--       -- <bodies file> <wrk threads>
--
-- <bodies file> holds one request per line: "<timestamp>\t<signature>\t<json body>", signed in advance
-- (the signature is valid for DUALGRID_SIGNATURE_TOLERANCE_SECONDS). Each thread sends every line at
-- most once (thread i takes lines i, i+T, …) so that every stored message is a new one; a thread that
-- runs out sends a harmless GET instead. wrk may hold several connections per thread, so responses
-- are counted, not matched to lines: the driver checks that the messages stored equal the batches
-- acknowledged plus those still in flight at the cut-off, and that none is stored twice.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  thread:set("nthreads", 0)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local total = tonumber(args[2])
  lines = {}
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    if (n - 1) % total == id - 1 then
      local ts, sig, body = string.match(line, "^([^\t]+)\t([^\t]+)\t(.*)$")
      lines[#lines + 1] = { n, ts, sig, body }
    end
  end
  pos = 0
  n2xx, n4xx, n5xx, nother, exhausted = 0, 0, 0, 0, 0
  first_error = ""
end

function request()
  pos = pos + 1
  if pos > #lines then
    exhausted = exhausted + 1
    -- nothing new left: a harmless GET keeps wrk's loop going without storing anything
    return wrk.format("GET", nil)  -- 405 with an empty body
  end
  local item = lines[pos]
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Dualgrid-Timestamp"] = item[2],
    ["X-Dualgrid-Signature"] = item[3],
  }
  return wrk.format("POST", nil, headers, item[4])
end

function response(status, hdrs, body)
  if status == 405 then return end  -- the GET after exhaustion
  if status >= 200 and status < 300 then
    n2xx = n2xx + 1
  elseif status >= 500 then
    n5xx = n5xx + 1
  elseif status >= 400 then
    n4xx = n4xx + 1
  else
    nother = nother + 1
  end
  if (status < 200 or status >= 300) and first_error == "" then
    first_error = status .. " " .. string.sub(body, 1, 300)
  end
end

function done(summary, latency, requests)
  local t = { n2xx = 0, n4xx = 0, n5xx = 0, nother = 0, exhausted = 0 }
  local err = ""
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
    local e = thread:get("first_error")
    if err == "" and e ~= "" then err = e end
  end
  io.write("---- ingest_messages.lua ----\n")
  io.write(string.format("responses_2xx %d\n", t.n2xx))
  io.write(string.format("responses_4xx %d\n", t.n4xx))
  io.write(string.format("responses_5xx %d\n", t.n5xx))
  io.write(string.format("responses_other %d\n", t.nother))
  io.write(string.format("exhausted %d\n", t.exhausted))
  io.write(string.format("socket_errors connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  io.write(string.format("duration_s %.3f\n", summary.duration / 1e6))
  for _, p in ipairs({ 50, 90, 95, 99 }) do
    io.write(string.format("latency_p%s_ms %.2f\n", tostring(p), latency:percentile(p) / 1000))
  end
  if err ~= "" then io.write("first_error " .. err .. "\n") end
end
