"""The durable queue: spool, queue files, the queue manager, delivery agents, bounces and the tools."""
