-- wrk script for run_http.py.
-- With WRK_BUST=1 in the environment every request carries a query string of its own
-- (?bench=<thread>-<n>), so no two requests share a cached page: the "cache miss" case.
-- At the end it prints the percentiles wrk --latency leaves out (p95), as one JSON line.

local bust = os.getenv("WRK_BUST") == "1"
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local counter = 0
request = function()
  if not bust then
    return wrk.request()
  end
  counter = counter + 1
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "bench=" .. tostring(id) .. "-" .. counter)
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.3f, ' ..
    '"p90_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "errors": %d, ' ..
    '"non_2xx": %d, "bytes": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.bytes))
end
