"""The durable queue: the spool's directories, queue files, and Postfix's tools on them (postqueue, postsuper,
postcat, qshape; sendmail to submit). The queue manager that moves mail through it is filterd.qmgr."""
