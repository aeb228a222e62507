"""The milter protocol (version 6), both ways, and filterd as a milter.

The codec is free of I/O and serves both sides: `codes` (the protocol's numbers), `framing` (packets from a
byte stream, partial reads included), `fields`, `commands` and `responses` (every SMFIC command and SMFIR
response, encoded and decoded), `negotiation` (actions and protocol steps), `macros` (macro values by stage,
SETSYMLIST lists), `wire` (headers in the milter's form). The filter side decodes commands and encodes
responses; an MTA side encodes commands and decodes responses.

On top of it, the front end: `needs` (what filterd's plugins need from the MTA), `message` (headers and body
as they arrive), `replies` and `modifications` (verdicts and edits as milter responses), `handler` (milter
events to the chain), `server` (the asyncio listener that carries it all) and `settings`.
"""
