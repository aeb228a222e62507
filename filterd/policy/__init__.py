"""Postfix's SMTPD access policy delegation (SMTPD_POLICY_README), both ways.

`protocol`  the sans-IO codec both sides use: requests and replies as `name=value` lines ended by an empty line.
`client`    filterd asking a policy server, as Postfix's check_policy_service does (a core part: restrictions
            use it).
`server`    filterd as a policy server, the front end Postfix's check_policy_service points at: each request
            runs the chain's hooks up to its protocol state and the verdict goes back as an access(5) action.

The protocol imports neither side; the client and the server never import each other; .importlinter holds these
walls.
"""
