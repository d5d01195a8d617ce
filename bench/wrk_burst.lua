-- Sends every pre-built request exactly once, as fast as the connections allow, then stops: a burst.
-- Same file format as wrk_replay.lua (path TAB headers TAB body). Run with -t1: one thread owns every line.
-- A connection that finds nothing left to send sends nothing; the run stops when the last answer arrives.

function init(args)
  requests, position, answered = {}, 0, 0
  for line in io.lines(args[1]) do
    local path, header_text, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    for pair in string.gmatch(header_text, "[^\31]+") do
      local name, value = pair:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    table.insert(requests, wrk.format("POST", path, headers, body))
  end
end

function request()
  position = position + 1
  if position > #requests then
    return ""
  end
  return requests[position]
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= #requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format("burst: requests=%d non2xx=%d\n", summary.requests, summary.errors.status))
end
