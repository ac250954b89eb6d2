-- wrk script of benchmarks/http_load.py: replays the GET requests listed, one a line, in the file
-- named by HTTPBENCH_REQUESTS ("<path>\t<Header: value>\t<Header: value>..."), each thread from
-- its own starting line, counts every answer that is not 2xx, and prints one JSON line for the
-- driver at the end ("HTTPBENCH {...}"; latencies in microseconds).

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  reqs = {}
  for line in io.lines(os.getenv("HTTPBENCH_REQUESTS")) do
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do
      table.insert(fields, field)
    end
    if #fields > 0 then
      local headers = {}
      for i = 2, #fields do
        local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
        headers[name] = value
      end
      table.insert(reqs, wrk.format("GET", fields[1], headers))
    end
  end
  index = (id * 7919) % #reqs
  non2xx = 0
  last_bad = 0
end

function request()
  index = index % #reqs + 1
  return reqs[index]
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
