-- The checkout: each connection (use one per wrk thread) is one customer whose
-- token comes from BENCH_TOKENS (space-separated, one per thread); it alternates
-- adding one unit of its own product (BENCH_PRODUCTS, one per thread) to its cart
-- and checking the cart out with a new Idempotency-Key. done() writes JSON to
-- BENCH_OUT, counting orders made (201) and answers of any other status.
--
-- What comes next follows the answers, never a count of request() calls: wrk calls
-- request() once more than it sends, on the first thread, to check the script, so a
-- counter would start that customer with a checkout of an empty cart (a 400 the shop
-- did not cause). After an answered add comes a checkout; after a checkout, an add.
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
  adding = true
  orders, adds, failures, sequence = 0, 0, 0, 0
  -- The statuses of the failed answers, "path:status " each (the first 50).
  failed = ""
  math.randomseed(os.time() + index * 7919)
end

function request()
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  if adding then
    return wrk.format("POST", "/api/v1/cart/items/", headers,
      '{"product_id": ' .. product .. ', "quantity": 1}')
  end
  sequence = sequence + 1
  headers["Idempotency-Key"] = string.format("bench-%d-%d-%d-%d", index, os.time(), sequence,
    math.random(1, 1000000000))
  return wrk.format("POST", "/api/v1/orders/", headers, address)
end

local function failure(what, status)
  failures = failures + 1
  if failures <= 50 then
    failed = failed .. what .. ":" .. status .. " "
  end
end

function response(status, headers, body)
  if adding then
    if status == 200 or status == 201 then
      adds = adds + 1
      adding = false
    else
      failure("add", status)  -- the add again
    end
  else
    if status == 201 then
      orders = orders + 1
    else
      failure("checkout", status)
    end
    adding = true
  end
end

function done(summary, latency, requests)
  local orders, adds, failures, failed = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    orders = orders + thread:get("orders")
    adds = adds + thread:get("adds")
    failures = failures + thread:get("failures")
    failed = failed .. thread:get("failed")
  end
  local errors = summary.errors
  local file = io.open(os.getenv("BENCH_OUT"), "w")
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "bad_status": %d, "socket_errors": %d, '
      .. '"orders": %d, "adds": %d, "failures": %d, "failed": "%s", '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, orders, adds, failures, failed,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  file:close()
end
