"""Example plugin written as a class: discard a message whose Message-ID was among the last N seen.

filterd makes one instance of the class per chain, and the instance holds the state. It is therefore per
worker process too (filterd_worker_processes): a duplicate that reaches another worker is not caught. State
that must hold across workers or machines belongs in shared storage (Redis/Valkey), not in the plugin.

    filterd_plugins = duplicate_message_ids:RecentMessageIds
    duplicate_message_id_memory = 1000
"""

from collections import OrderedDict

from filterd import ParameterError, Verdict, hookimpl


class RecentMessageIds:
    def __init__(self):
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.memory = 1000

    @hookimpl
    def parameters(self):
        return {"duplicate_message_id_memory": "1000"}

    @hookimpl
    def configure(self, config):
        self.memory = config.int("duplicate_message_id_memory")
        if self.memory < 1:
            raise ParameterError("duplicate_message_id_memory", "must be at least 1")

    @hookimpl
    def changes(self):
        return set()

    @hookimpl
    def end_of_message(self, message):
        """DISCARD accepts the message and drops it: the sender is not told, as for a duplicate it should not be."""
        message_id = message.get("Message-ID")
        if message_id is None:
            return None
        if message_id in self.seen:
            return Verdict.discard(f"duplicate of {message_id}")
        self.seen[message_id] = None
        if len(self.seen) > self.memory:
            self.seen.popitem(last=False)
        return None
