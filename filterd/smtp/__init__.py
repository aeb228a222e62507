"""The SMTP front end: aiosmtpd carries the dialogue, filterd's chain decides."""
