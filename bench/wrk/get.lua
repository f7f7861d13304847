-- GET <path> with an optional bearer token: wrk ... -- /api/v1/auth/me <token>
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

function init(args)
   wrk.path = args[1]
   if args[2] then
      wrk.headers["Authorization"] = "Bearer " .. args[2]
   end
end
