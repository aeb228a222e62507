"""The milter protocol (version 6), both ways: three packages, each importing only what is below it.

`protocol`  the sans-IO codec both sides use, no I/O: `codes` (the protocol's numbers), `framing` (packets from
            a byte stream), `packets` (the field codec every packet is built on), `commands` and `responses`
            (every SMFIC command and SMFIR response), `negotiation` (actions and steps agreed), `macros`
            (macro values by stage, SETSYMLIST lists), `headers` (headers in the milter's form).
`server`    filterd as a milter, the front end an MTA's smtpd_milters points at: `requirements` (what the
            plugins need from the MTA), `message` (the message as the MTA streams it), `replies` and
            `modifications` (verdicts and edits as milter responses), `handler` (milter commands to the
            chain, sans-IO), `listener` (the asyncio listener that carries it), `settings`.
`client`    filterd calling external milters (smtpd_milters), for the milters plugin: `endpoints` (the
            smtpd_milters syntax), `settings` (its main.cf parameters), `symbols` (Sendmail macro emulation),
            `dialogue` (the MTA side for one milter, sans-IO), `answers` (what a milter answered, as verdicts
            and edits), `connection` (one milter on asyncio), `session` (one SMTP session's milters).

The server and the client never import each other; .importlinter holds these walls.
"""
