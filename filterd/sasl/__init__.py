"""SASL authentication for the SMTP server: Dovecot's auth protocol (sans-IO) and a worker's client of it."""
