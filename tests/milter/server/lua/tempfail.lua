-- A 4xx reject is a temporary failure with the plugin's text.
dofile(lua .. "/common.lua")
conn = open()
message(conn, "DEFERME")
expect(conn, SMFIR_REPLYCODE, "header Subject")
mt.disconnect(conn)
