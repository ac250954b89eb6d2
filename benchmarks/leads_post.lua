-- wrk script of benchmarks/leads_lists.py: POST /api/v1/leads as a lead platform does, with the
-- bearer token in LEADBENCH_TOKEN. Each thread makes its own numbers (no two threads share one);
-- one enquiry in five repeats a number the thread sent before (de-dup: linked to the open lead),
-- the rest are new people with their own external ID. Counts every answer that is not 2xx and
-- prints one JSON line for the driver at the end ("HTTPBENCH {...}", as http_load.lua does).

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("LEADBENCH_TOKEN")
  run = tonumber(os.getenv("LEADBENCH_RUN") or "1") % 100
  sent = 0
  non2xx = 0
  last_bad = 0
  headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. token
  headers["X-Forwarded-Proto"] = "https"
end

function request()
  sent = sent + 1
  local n = sent
  if sent % 5 == 0 and sent > 10 then
    n = sent - 7 -- a number this thread sent a moment ago: linked, not duplicated
  end
  -- 177 + run (2 digits) + thread (1 digit) + 5 digits: a valid mainland mobile, unique per run
  local mobile = string.format("177%02d%d%05d", run, id % 10, n % 100000)
  local body = string.format(
    '{"name": "压测客户", "mobile": "%s", "external_id": "wrk-%d-%d-%d", "model_interest": "Model Y", '
      .. '"source_channel": "autohome"}',
    mobile, run, id, sent)
  return wrk.format("POST", "/api/v1/leads", headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    last_bad = status
  end
end

function done(summary, latency, requests)
  local bad, last = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local status = thread:get("last_bad") or 0
    if status ~= 0 then
      last = status
    end
  end
  local e = summary.errors
  io.write(string.format(
    'HTTPBENCH {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "last_bad_status": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"mean_us": %.1f, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, bad, last,
    e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
