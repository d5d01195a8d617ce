-- Replays pre-built requests, one per line: path TAB headers TAB body, headers as "Name: value" joined by
-- ASCII 31. Thread k of n sends lines k, k+n, k+2n, ... so no two requests are the same event. The driver
-- writes more lines than a run can send and checks the total afterwards: a wrap-around would repeat events.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  requests, position = {}, 0
  local index = 0
  for line in io.lines(file) do
    if index % nthreads == id then
      local path, header_text, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      for pair in string.gmatch(header_text, "[^\31]+") do
        local name, value = pair:match("^([^:]+):%s*(.*)$")
        headers[name] = value
      end
      table.insert(requests, wrk.format("POST", path, headers, body))
    end
    index = index + 1
  end
end

function request()
  position = position + 1
  if position > #requests then
    position = 1
  end
  return requests[position]
end

function done(summary, latency, requests)
  io.write(string.format("replay: requests=%d non2xx=%d errors=%d\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
