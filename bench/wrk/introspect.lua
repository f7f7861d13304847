-- POST <path> with a form body and an Authorization header, the same request every time
-- (RFC 7662 introspection by a resource server with HTTP Basic):
-- wrk ... -- /api/v1/auth/introspect "Basic <base64 of id:secret>" "token=<access token>"
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

function init(args)
   wrk.method = "POST"
   wrk.path = args[1]
   wrk.headers["Authorization"] = args[2]
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   wrk.body = args[3]
end
