-- DISCARD is SMFIR_DISCARD; HOLD is a quarantine with its reason, then CONTINUE.
dofile(lua .. "/common.lua")
conn = open()
message(conn, "quiet", "DISCARDME\r\n")
expect(conn, SMFIR_DISCARD, "eom")
message(conn, "HOLDME")
expect(conn, SMFIR_CONTINUE, "eom")
ensure(mt.eom_check(conn, MT_QUARANTINE, "suspicious"), "quarantined")
mt.disconnect(conn)
