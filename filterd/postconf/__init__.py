"""`filterd postconf`, Postfix's postconf(1) for main.cf: command (show, edit, run), options (its command line, parsed
as Postfix's), maincf_edit (main.cf edited as text) and edit_file (the file replaced atomically)."""
