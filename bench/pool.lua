-- wrk script: cycle through a pool of pre-built raw HTTP requests (written by bench/wrk.py).
--
--   wrk -t2 -c64 -d10s -s bench/pool.lua http://127.0.0.1:PORT -- POOL_FILE THREADS
--
-- The pool file is a sequence of "<byte length>\n<raw request>". Thread k (0-based) takes requests k, k+THREADS,
-- k+2*THREADS ... so no two threads send the same request; each thread's connections share its slice in order.
-- A thread that runs past the end of its slice starts it again and counts the repeats. Every answer outside 2xx
-- is counted by status (wrk itself counts only statuses above 399). done() prints one "BENCH" line for bench/wrk.py.

local threads = {}
local created = 0

function setup(thread)
  thread:set("tid", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  local handle = assert(io.open(path, "rb"))
  local data = handle:read("*a")
  handle:close()
  pool = {}
  local pos, index = 1, 0
  while pos <= #data do
    local newline = assert(string.find(data, "\n", pos, true), "malformed pool file")
    local length = tonumber(string.sub(data, pos, newline - 1))
    if index % nthreads == tid then
      pool[#pool + 1] = string.sub(data, newline + 1, newline + length)
    end
    pos = newline + 1 + length
    index = index + 1
  end
  assert(#pool > 0, "the pool has no request for thread " .. tid)
  pool_size = #pool
  sent = 0
  non2xx = 0
  statuses = {}
end

function request()
  sent = sent + 1
  return pool[(sent - 1) % pool_size + 1]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total_non2xx, repeated, sent_all, pooled = 0, 0, 0, 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    local t_sent, t_size = thread:get("sent"), thread:get("pool_size")
    total_non2xx = total_non2xx + thread:get("non2xx")
    sent_all = sent_all + t_sent
    pooled = pooled + t_size
    if t_sent > t_size then
      repeated = repeated + (t_sent - t_size)
    end
    for code, count in pairs(thread:get("statuses")) do
      by_status[code] = (by_status[code] or 0) + count
    end
  end
  local codes = {}
  for code, count in pairs(by_status) do
    codes[#codes + 1] = code .. ":" .. count
  end
  table.sort(codes)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
    "non2xx=%d statuses=%s connect=%d read=%d write=%d timeout=%d status_errors=%d sent=%d pool=%d repeated=%d\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, total_non2xx,
    (#codes > 0) and table.concat(codes, ",") or "-", e.connect, e.read, e.write, e.timeout, e.status,
    sent_all, pooled, repeated))
end
