"""filterd as a milter: the front end that an MTA's smtpd_milters points at. Each milter command becomes the chain
call the SMTP front end makes at the same point, and the chain's verdicts go back as milter responses."""
