"""`filterd pipe -f SENDER -- RECIPIENT...`: filterd as Postfix's pipe(8) simple filter (FILTER_README).

The message comes on stdin, the plugins judge it at every stage (before and after the queue), and an accepted
message is reinjected through `sendmail -G -i` or SMTP; the exit status is what FILTER_README's script answers:
0 done, 75 (EX_TEMPFAIL) try again later, 69 (EX_UNAVAILABLE) bounce, the reason on stdout for pipe(8) to report.
With filterd_pipe_service, a resident filterd (`pipe:` listener, pipe/service/) does that work and `filterd pipe`
is only its client (pipe/client.py), as spamc is spamd's; filterd-pipe.c is the same client in C, for pipe(8) to
start without starting Python (a change to the client or its protocol is a change to both). This package imports
nothing, so that the client stays small; in_process.py is the way without a service.
"""

EX_OK, EX_UNAVAILABLE, EX_TEMPFAIL = 0, 69, 75
