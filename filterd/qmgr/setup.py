"""Building the queue manager from the configuration, and running it as its own process."""

from __future__ import annotations

import asyncio
import signal

from filterd.config import Config
from filterd.loading import Loaded
from filterd.qmgr.after_queue import AfterQueue
from filterd.qmgr.delivery import Deliverer
from filterd.qmgr.manager import QueueManager, Schedule
from filterd.qmgr.routing import AddressFamilies, Router
from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings
from filterd.queue.spool import Spool


def schedule(config: Config) -> Schedule:
    return Schedule(config.int("qmgr_message_active_limit"), config.time("queue_run_delay"),
                    config.time("minimal_backoff_time"), config.time("maximal_backoff_time"),
                    config.time("maximal_queue_lifetime"), config.time("bounce_queue_lifetime"))


def _transport_maps(config: Config) -> tuple:
    specs = config.get("transport_maps").strip()
    if not specs:
        return ()
    from filterd.tables import open_tables

    return tuple(open_tables(specs))


def deliverer(config: Config) -> Deliverer:
    families = AddressFamilies.from_settings(config.list("inet_protocols"), config.get("smtp_address_preference"))
    router = Router(frozenset(d.lower() for d in config.list("mydestination")), config.get("relayhost"),
                    _transport_maps(config))
    smtp = SmtpDelivery(SmtpSettings(config.get("smtp_helo_name"), config.time("smtp_connect_timeout"),
                                     config.time("smtp_rcpt_timeout"), config.time("smtp_data_done_timeout"),
                                     config.time("smtp_connection_reuse_time_limit")))
    return Deliverer(router, smtp, config.get("filterd_mailbox_base"),
                     config.int("default_destination_concurrency_limit"),
                     config.int("default_destination_recipient_limit"), tuple(config.list("fallback_relay")),
                     config.get("smtp_dns_support_level") != "disabled", families)


def build(loaded: Loaded) -> QueueManager:
    from filterd.assembly import make_chain

    config = loaded.config
    spool = Spool(config.get("queue_directory")).create()
    return QueueManager(spool, schedule(config), deliverer(config), AfterQueue(make_chain(config, loaded.plugins)),
                        config.get("myhostname"))


def run(loaded: Loaded, loop: asyncio.AbstractEventLoop) -> None:
    """The qmgr process: run until SIGTERM, finishing deliveries in progress."""
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    manager = build(loaded)
    loop.add_signal_handler(signal.SIGUSR1, manager.flush)
    manager.spool.write_pid("qmgr")
    try:
        loop.run_until_complete(manager.run(stop))
    finally:
        manager.deliverer.smtp.close()
