"""filterd calling external milters, as Postfix's smtpd does with smtpd_milters: the MTA side of the protocol,
used by the built-in milters plugin at the before-queue stage."""
