"""The milter protocol (version 6) as a sans-IO codec that both sides use: filterd as a milter decodes commands
and encodes responses, filterd calling milters does the reverse. Nothing here does I/O."""
