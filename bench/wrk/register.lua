-- POST <path> registering a new account per request, e-mails unique across threads and
-- runs: wrk ... -- /api/v1/auth/register <run prefix> <password>
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local path, prefix, password
local counter = 0

function init(args)
   path, prefix, password = args[1], args[2], args[3]
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   counter = counter + 1
   local body = string.format(
      '{"email": "%s-%d-%d@example.com", "full_name": "Bench", "password": "%s"}',
      prefix, id, counter, password)
   return wrk.format("POST", path, nil, body)
end
