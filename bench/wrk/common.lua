-- Shared by every bench/wrk script (loaded with dofile): counts each answer's HTTP status
-- and, at the end, prints one JSON line that bench/run.py parses.
--   wrk ... -s bench/wrk/<script>.lua URL -- <path> [script arguments]

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

statuses = {}

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         merged[status] = (merged[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(merged) do
      table.insert(parts, string.format('"%s": %d', status, count))
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d,'
      .. ' "p99_us": %d, "max_us": %d, "mean_us": %.1f, "statuses": {%s},'
      .. ' "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, table.concat(parts, ", "),
      e.connect, e.read, e.write, e.timeout))
end
