"""The queue manager (Postfix's qmgr): moves mail through the queue, runs the after-queue stage, delivers and
bounces."""
