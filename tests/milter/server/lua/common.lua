-- Shared steps for the scripts beside this file: miltertest -D port=PORT -D lua=THIS_DIR -s SCRIPT.
-- filterd asks not to be sent what no plugin reads (SMFIP_NO*), so each step checks before sending.
-- miltertest prints no error of a script, only exits 1: failures are echoed first.

function fail(text)
    mt.echo("FAILED: " .. text)
    error(text)
end

function check(err, what)
    if err ~= nil then fail(what .. ": " .. err) end
end

function expect(conn, reply, what)
    local got = mt.getreply(conn)
    if got ~= reply then fail(what .. ": reply " .. string.char(got) .. ", expected " .. string.char(reply)) end
end

function ensure(ok, what)
    if not ok then fail("check failed: " .. what) end
end

function open()
    local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 50, 0.1)
    ensure(conn ~= nil, "mt.connect()")
    check(mt.negotiate(conn, nil, nil, nil), "negotiate")
    if not mt.test_option(conn, SMFIP_NOCONNECT) then
        check(mt.conninfo(conn, "client.example", "192.0.2.1"), "conninfo")
    end
    return conn
end

function envelope(conn, sender, recipients)
    mt.macro(conn, SMFIC_MAIL, "i", "QID1", "{auth_authen}", "alice")
    check(mt.mailfrom(conn, sender), "mailfrom")
    for _, rcpt in ipairs(recipients) do
        check(mt.rcptto(conn, rcpt), "rcptto " .. rcpt)
    end
end

function headers(conn, list)
    for _, pair in ipairs(list) do
        check(mt.header(conn, pair[1], pair[2]), "header " .. pair[1])
        if mt.getreply(conn) ~= SMFIR_CONTINUE then return false end
    end
    if not mt.test_option(conn, SMFIP_NOEOH) then check(mt.eoh(conn), "eoh") end
    return true
end

function finish(conn, body)
    if body ~= nil then check(mt.bodystring(conn, body), "body") end
    check(mt.eom(conn), "eom")
end

-- One message with the given Subject and body: envelope, headers, body, end of message.
function message(conn, subject, body, extra)
    envelope(conn, "<alice@example.org>", {"<bob@example.net>"})
    local list = {{"From", " alice@example.org"}, {"Subject", " " .. subject}}
    for _, pair in ipairs(extra or {}) do table.insert(list, pair) end
    if headers(conn, list) then finish(conn, body or "hello\r\n") end
end
