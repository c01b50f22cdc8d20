-- GET requests rotating over BENCH_PATHS (space-separated), with an optional
-- bearer token (BENCH_TOKEN); done() writes the figures as JSON to BENCH_OUT.
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  table.insert(paths, path)
end
local token = os.getenv("BENCH_TOKEN") or ""
local counter = 0

function setup(thread)
  thread:set("offset", math.random(#paths))
end

function request()
  counter = counter + 1
  local headers = {}
  if token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  return wrk.format("GET", paths[(counter + (offset or 0)) % #paths + 1], headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local file = io.open(os.getenv("BENCH_OUT"), "w")
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "bad_status": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  file:close()
end
