-- POST <path> logging in registered accounts in turn:
-- wrk ... -- /api/v1/auth/login <password> <email> [<email>...]
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local bodies = {}
local counter = 0

function init(args)
   wrk.headers["Content-Type"] = "application/json"
   for i = 3, #args do
      local body = string.format('{"email": "%s", "password": "%s"}', args[i], args[2])
      table.insert(bodies, wrk.format("POST", args[1], nil, body))
   end
end

function request()
   counter = counter + 1
   return bodies[(counter + id) % #bodies + 1]
end
