"""`filterd check`, the plugin author's tool: replay (messages through the configured chain, and the report),
against (the same messages through another configuration, as a diff) and message_files (what it reads)."""
