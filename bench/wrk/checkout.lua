-- The checkout: each connection (use one per wrk thread) is one customer whose
-- token comes from BENCH_TOKENS (space-separated, one per thread); it alternates
-- adding one unit of its own product (BENCH_PRODUCTS, one per thread) to its cart
-- and checking the cart out with a new Idempotency-Key. done() writes JSON to
-- BENCH_OUT, counting orders made (201) and answers of any other status.
local tokens, products = {}, {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "%S+") do
  table.insert(tokens, token)
end
for product in string.gmatch(os.getenv("BENCH_PRODUCTS") or "", "%S+") do
  table.insert(products, product)
end
local threads = {}
local next_index = 0
local address = '{"shipping_address": {"full_name": "Bench Buyer", "line1": "Calle Mayor 1", '
  .. '"city": "Madrid", "postal_code": "28013", "country": "ES"}}'

function setup(thread)
  next_index = next_index + 1
  thread:set("index", next_index)
  table.insert(threads, thread)
end

function init(args)
  token = tokens[index]
  product = products[index]
  step, orders, adds, failures, sequence = 0, 0, 0, 0, 0
  math.randomseed(os.time() + index * 7919)
end

function request()
  step = step + 1
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  if step % 2 == 1 then
    return wrk.format("POST", "/api/v1/cart/items/", headers,
      '{"product_id": ' .. product .. ', "quantity": 1}')
  end
  sequence = sequence + 1
  headers["Idempotency-Key"] = string.format("bench-%d-%d-%d-%d", index, os.time(), sequence,
    math.random(1, 1000000000))
  return wrk.format("POST", "/api/v1/orders/", headers, address)
end

function response(status, headers, body)
  if status == 201 and step % 2 == 0 then
    orders = orders + 1
  elseif status == 200 or status == 201 then
    adds = adds + 1
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local orders, adds, failures = 0, 0, 0
  for _, thread in ipairs(threads) do
    orders = orders + thread:get("orders")
    adds = adds + thread:get("adds")
    failures = failures + thread:get("failures")
  end
  local errors = summary.errors
  local file = io.open(os.getenv("BENCH_OUT"), "w")
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "bad_status": %d, "socket_errors": %d, '
      .. '"orders": %d, "adds": %d, "failures": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, orders, adds, failures,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  file:close()
end
