"""The next hops an SMTP front end hands accepted mail to (filterd.handoff's NextHop): a downstream SMTP server
in-session (proxy), the queue (relay), a sink directory."""
