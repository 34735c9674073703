-- wrk script for the mixed read/write load (scripts/load.sh): per request, 60% a W1 city
-- viewport, 30% a W4 single feature, 10% a PATCH of one of the W4 organisations' phone with
-- an admin token (If-Match: * — the load measures throughput, not conflicts).
--   wrk -t2 -c32 -d60s -s mixed_load.lua URL -- W1_FILE W4_FILE TOKEN
-- Prints one line: MIXED_JSON {"requests":..,"rps":..,"p50_ms":..,"p99_ms":..,"errors":..}; how many
-- requests were writes the server's /metrics tells (responses do not say which request they answer).

local bboxes, ids = {}, {}
local token = ""
local counter = 0
local threads = {}
errors = 0  -- global: done() reads it from each thread

local function column(file, name)
  local f = assert(io.open(file, "r"), "cannot open " .. file)
  local header, index, out = nil, nil, {}
  for line in f:lines() do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
    if not header then
      header = fields
      for i, h in ipairs(fields) do if h == name then index = i end end
      assert(index, "no column " .. name .. " in " .. file)
    elseif line ~= "" then
      out[#out + 1] = fields[index]
    end
  end
  f:close()
  return out
end

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  bboxes = column(args[1], "bbox")
  ids = column(args[2], "id")
  token = args[3]
  counter = (id or 1) * 7919
end

function request()
  counter = counter + 1
  local slot = counter % 10
  if slot < 6 then
    return wrk.format("GET", "/collections/organizations/items?f=json&limit=1000&bbox=" .. bboxes[counter % #bboxes + 1])
  elseif slot < 9 then
    return wrk.format("GET", "/collections/organizations/items/" .. ids[counter % #ids + 1] .. "?f=json")
  end
  local body = string.format('{"properties":{"phone":"+7 900 %03d-%02d-%02d"}}', counter % 1000, counter % 97, counter % 89)
  return wrk.format("PATCH", "/collections/organizations/items/" .. ids[counter % #ids + 1],
    { ["Authorization"] = "Bearer " .. token, ["If-Match"] = "*", ["Content-Type"] = "application/merge-patch+json" }, body)
end

function response(status, headers, body)
  if status >= 400 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  io.write(string.format(
    'MIXED_JSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
