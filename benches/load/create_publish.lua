-- wrk script: tender create + publish throughput through the API.
-- Each published tender costs three requests: POST /tenders (tenderee), POST /tenders/{id}/submit
-- (tenderee), POST /tenders/{id}/approve (centre officer). Connections interleave freely: ids
-- move through two queues as responses arrive.
-- Environment: TENDEREE_TOKEN, OFFICER_TOKEN, DEADLINE (RFC 3339, ≥ 20 days out).

local tenderee = os.getenv("TENDEREE_TOKEN")
local officer = os.getenv("OFFICER_TOKEN")
local deadline = os.getenv("DEADLINE")
local threads = {}
local counter = 0
local to_submit = {}
local to_approve = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  created, submitted, published, failed = 0, 0, 0, 0
  math.randomseed(os.time() + id * 7919)
  prefix = string.format("B%d-%d-", id, math.random(1, 1e9))
end

local function create_body()
  counter = counter + 1
  return string.format([[{"code":"%s%d","title":"Load test tender %d","description":"","category":"works","mandatory":true,"estimated_price":"1000000.00","ceiling_price":null,"bid_deposit":"20000.00","bid_deadline":"%s","opening_time":"%s","evaluation_method":"lowest_evaluated_price","qualification_criteria":["grade II"],"committee":{"threshold":3,"members":5}}]],
    prefix, counter, counter, deadline, deadline)
end

function request()
  local headers = { ["Content-Type"] = "application/json" }
  local tid = table.remove(to_approve)
  if tid then
    headers["Authorization"] = "Bearer " .. officer
    return wrk.format("POST", "/api/v1/tenders/" .. tid .. "/approve", headers, "")
  end
  tid = table.remove(to_submit)
  if tid then
    headers["Authorization"] = "Bearer " .. tenderee
    return wrk.format("POST", "/api/v1/tenders/" .. tid .. "/submit", headers, "")
  end
  headers["Authorization"] = "Bearer " .. tenderee
  return wrk.format("POST", "/api/v1/tenders", headers, create_body())
end

function response(status, headers, body)
  local state = string.match(body, '"state"%s*:%s*"([a-z_]+)"')
  local tid = string.match(body, '"id"%s*:%s*"([0-9a-f-]+)"')
  if status >= 300 or not state then
    failed = failed + 1
    return
  end
  if state == "draft" then
    created = created + 1
    table.insert(to_submit, tid)
  elseif state == "under_review" then
    submitted = submitted + 1
    table.insert(to_approve, tid)
  elseif state == "published" then
    published = published + 1
  end
end

function done(summary, latency, requests)
  local c, s, p, f = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    s = s + t:get("submitted")
    p = p + t:get("published")
    f = f + t:get("failed")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("created %d, submitted %d, published %d, failed %d in %.1f s\n", c, s, p, f, secs))
  io.write(string.format("published tenders/s: %.1f   API requests/s: %.1f   p50 %.1f ms   p99 %.1f ms\n",
    p / secs, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
