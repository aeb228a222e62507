"""Connection counts and rates shared by every worker process, as Postfix's anvil(8) keeps them for its smtpd
processes: one server process (started by the master) that the workers ask over a local socket."""
