"""The assembly: a loaded configuration wired into running parts. Listeners get their front end, chain and next
hop; the qmgr process gets its queue manager. The one module that imports every front end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import stat
from dataclasses import dataclass, replace
from typing import Awaitable, Callable, Coroutine

from filterd import maillog
from filterd.addresses import AddressRules
from filterd.anvil.client import AnvilClient
from filterd.chain import Chain
from filterd.config import Config
from filterd.dns import Resolver
from filterd.interfaces import own_addresses
from filterd.draining import OpenConnections
from filterd.fatal import FatalError
from filterd.handoff import NextHop
from filterd.loading import Loaded
from filterd.milter.server import MilterSettings, serve_milter
from filterd.missing_headers import MissingHeaders
from filterd.nexthop.proxy import ProxyNextHop
from filterd.nexthop.queue import QueueNextHop
from filterd.nexthop.sink import SinkNextHop
from filterd.parameters import parse_hostport, parse_listener
from filterd.pipe.service import PipeSettings, serve_pipe
from filterd.policy.server import PolicySettings, serve_policy
from filterd.qmgr.after_queue import AfterQueue
from filterd.qmgr.agent import RemoteDeliverer, serve as serve_agent, wait_for_agent
from filterd.qmgr.concurrency import Feedback, Scheduler
from filterd.qmgr.delivery import Deliverer
from filterd.qmgr.xforward import XForward
from filterd.qmgr.mail_exchangers import HostLookup
from filterd.qmgr.manager import QueueManager, Schedule
from filterd.qmgr.routing import AddressFamilies, Router
from filterd.connection_cache import CacheLimits, ConnectionCache
from filterd.qmgr.sasl_client import ClientSasl
from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings as SmtpClientSettings
from filterd.qmgr.virtual import VirtualMailboxes
from filterd.queue.envelope_mapping import EnvelopeMapping
from filterd.queue.spool import Spool
from filterd.queue.tools.postqueue import flush_site
from filterd.registry import Plugins
from filterd.smtp.handler import SmtpHandler
from filterd.smtp.limits import ConnectionGate, ConnectionLimits
from filterd.smtp.server import SmtpServer
from filterd.smtp.settings import SmtpSettings
from filterd.smtp.starttls import context_arguments
from filterd.transport_maps import TransportMaps
from filterd.tls import ClientTls, client_arguments, client_context, server_context
from filterd.address_keys import Delimiters
from filterd.automatic_bcc import AutomaticBcc
from filterd.canonical import CanonicalMaps
from filterd.virtual_alias import VirtualAliases


@dataclass(frozen=True)
class Listener:
    """One `MODE:HOST:PORT` item of filterd_listeners; a milter's unix socket has its path as host, port 0."""

    mode: str
    host: str
    port: int

    @classmethod
    def parse(cls, item: str) -> Listener:
        return cls(*parse_listener(item))

    @property
    def address(self) -> str:
        """As Postfix writes a service: HOST:PORT, or the unix socket's path."""
        return self.host if self.host.startswith("/") else f"{self.host}:{self.port}"

    def bind(self) -> socket.socket:
        """The listening socket; a failure is Postfix's `bind HOST port PORT: reason` (`bind: PATH: reason`)."""
        try:
            return bind_unix(self.host) if self.host.startswith("/") else bind_inet(self.host, self.port)
        except OSError as exc:
            where = f"bind: {self.host}" if self.host.startswith("/") else f"bind {self.host} port {self.port}"
            raise FatalError(f"{where}: {exc.strerror or exc}") from exc


def bind_inet(host: str, port: int) -> socket.socket:
    """A listening TCP socket on HOST:PORT, closed again when binding fails."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def bind_unix(path: str) -> socket.socket:
    """A listening unix socket that the MTA's unprivileged processes may connect to; a stale one is replaced."""
    if os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, 0o666)
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def listeners(config: Config) -> list[Listener]:
    return [Listener.parse(item) for item in config.list("filterd_listeners")]


def make_chain(config: Config, plugins: Plugins) -> Chain:
    return Chain.from_config(plugins, config)


def nexthop_factory(listener: Listener, config: Config) -> Callable[[], NextHop]:
    if listener.mode in ("relay", "reinject"):
        spool = Spool(config.get("queue_directory")).create()
        limit, delay = config.int("qmgr_message_active_limit"), config.time("in_flow_delay")
        missing = MissingHeaders.from_config(config)
        reinject = listener.mode == "reinject"
        content_filter = "" if reinject else config.get("content_filter")
        rules = AddressRules.from_config(config)
        size_limit = config.int("message_size_limit")
        aliases, canonical, bcc = address_mappings(config, reinject)
        drop = frozenset(name.lower() for name in config.list("message_drop_headers"))
        return lambda: QueueNextHop(spool, limit, delay, missing, content_filter, reinject, rules, size_limit,
                                    aliases, canonical, bcc, drop)
    if listener.mode == "sink":
        directory = config.get("filterd_sink_directory")
        return lambda: SinkNextHop(directory)
    host, port = parse_hostport(config.get("filterd_proxy_nexthop"))
    timeout, ehlo = config.time("filterd_proxy_timeout"), config.get("smtpd_proxy_ehlo")
    line_length_limit = config.int("smtp_line_length_limit")
    tls = ClientTls.from_config(config)
    cache = ConnectionCache(cache_limits(config)) if listener.mode == "filter" else None
    return lambda: ProxyNextHop(host, port, timeout, ehlo, line_length_limit=line_length_limit, tls=tls, cache=cache)


def cache_limits(config: Config) -> CacheLimits:
    """Postfix's smtp_connection_cache_time_limit and the reuse limits."""
    return CacheLimits(config.time("smtp_connection_cache_time_limit"), config.time("smtp_connection_reuse_time_limit"),
                       config.int("smtp_connection_reuse_count_limit"))


def site_flusher(listener: Listener, config: Config) -> Callable[[str], Awaitable[int]] | None:
    """What ETRN does for an eligible site besides its 250: in relay mode, the site's deferred mail is taken now
    (postqueue's flush_site, in a thread: it reads the deferred queue); elsewhere nothing is queued here."""
    if listener.mode != "relay":
        return None
    spool = Spool(config.get("queue_directory"))
    return lambda site: asyncio.to_thread(flush_site, spool, site)


def address_mappings(config: Config, reinject: bool = False,
                     ) -> tuple[VirtualAliases | None, CanonicalMaps | None, AutomaticBcc | None]:
    """virtual_alias_maps, the canonical maps and the automatic BCCs as cleanup applies them: not where
    receive_override_options has no_address_mappings (before an after-queue filter; local submissions too), always on
    a reinject listener (back from one, as FILTER_README's 10026 smtpd)."""
    if not reinject and "no_address_mappings" in config.list("receive_override_options"):
        return None, None, None
    return VirtualAliases.from_config(config), CanonicalMaps.from_config(config), AutomaticBcc.from_config(config)


def not_filtered(listener: Listener, config: Config) -> bool:
    """A listener where no plugin runs at receipt: reinject, or receive_override_options turning off Postfix's
    header/body checks and milters (filterd's plugins are both)."""
    overrides = set(config.list("receive_override_options"))
    return listener.mode == "reinject" or {"no_header_body_checks", "no_milters"} <= overrides


def smtp_listening(config: Config) -> bool:
    """Whether any listener speaks SMTP (and so needs anvil for the client limits)."""
    return any(listener.mode not in ("milter", "policy", "pipe") for listener in listeners(config))


def connection_gate(config: Config, anvil_path: str | None = None,
                    on_burst_over: Callable[[], None] | None = None) -> ConnectionGate:
    """The worker's session cap and client limits; the client limits need anvil's socket."""
    limits = ConnectionLimits.from_config(config)
    anvil = AnvilClient(anvil_path, "smtpd") if anvil_path and limits.per_client else None
    return ConnectionGate(limits, anvil, config.get("myhostname"), on_burst_over)


async def serve(loaded: Loaded, bound: list[tuple[Listener, socket.socket]], gate: ConnectionGate | None = None,
                connections: OpenConnections | None = None) -> list[asyncio.AbstractServer]:
    """Start serving on already-bound sockets (shared by every worker process); the gate caps the worker's
    sessions and, with anvil, each client's connections across the workers; `connections` keeps count of the
    sessions, for a stop that lets them finish."""
    connections = connections or OpenConnections()
    loop = asyncio.get_running_loop()
    config = loaded.config
    gate = gate or connection_gate(config)
    full_chain = make_chain(config, loaded.plugins)
    empty_chain = Chain(Plugins.load([]), config.time("plugin_timeout"), config.get("plugin_error_action"))
    servers = []
    for listener, sock in bound:
        if listener.mode == "milter":
            servers.append(await serve_milter(sock, full_chain, MilterSettings.from_config(config),
                                              connections.track))
            continue
        if listener.mode == "policy":
            servers.append(await serve_policy(sock, full_chain, PolicySettings.from_config(config)))
            continue
        if listener.mode == "pipe":
            servers.append(await serve_pipe(sock, full_chain, PipeSettings.from_config(config)))
            continue
        settings = SmtpSettings.from_config(config, "sink" if listener.mode == "sink" else "smtpd")
        if listener.mode == "filter":
            settings = replace(settings, queue_stage=True)
        chain = empty_chain if listener.mode == "sink" or not_filtered(listener, config) else full_chain
        make_nexthop = nexthop_factory(listener, config)
        flush = site_flusher(listener, config)

        def factory(settings=settings, chain=chain, make_nexthop=make_nexthop, name=listener.address,
                    flush=flush) -> SmtpServer:
            return SmtpServer(SmtpHandler(settings, chain, make_nexthop, flush), loop=loop, gate=gate,
                              service_name=name)

        servers.append(await loop.create_server(connections.track(factory), sock=sock, **implicit_tls(settings)))
    return servers


def load_tls(config: Config) -> None:
    """Make the worker's TLS contexts while it can read root-only key files: serve() finds them made, or the
    same error, which it logs."""
    server = context_arguments(config)
    with contextlib.suppress(OSError, ssl.SSLError):
        if server is not None:
            server_context(*server)
        if (config.get("smtp_tls_security_level") or "none") != "none":
            client_context(*client_arguments(config))


def implicit_tls(settings: SmtpSettings) -> dict:
    """smtpd_tls_wrappermode: the listener's TLS from the first byte, handshake before the greeting."""
    tls = settings.tls
    if not tls.wrapper:
        return {}
    if tls.context is None:
        raise FatalError("smtpd_tls_wrappermode = yes needs a usable smtpd_tls_cert_file and smtpd_tls_key_file")
    if settings.upstream_proxy:
        raise FatalError("smtpd_tls_wrappermode = yes with smtpd_upstream_proxy_protocol is not supported: the TLS "
                         "handshake would start before the PROXY header; use STARTTLS behind the proxy")
    return {"ssl": tls.context, "ssl_handshake_timeout": tls.handshake_timeout}


def schedule(config: Config) -> Schedule:
    """The queue manager's timing; a bounce_queue_lifetime past maximal_queue_lifetime is cut to it, with
    Postfix's qmgr's warning."""
    if config.time("bounce_queue_lifetime") > config.time("maximal_queue_lifetime"):
        maillog.warning("qmgr", "bounce_queue_lifetime is larger than maximal_queue_lifetime - adjusting "
                        "bounce_queue_lifetime")
    return Schedule(config.int("qmgr_message_active_limit"), config.time("queue_run_delay"),
                    config.time("minimal_backoff_time"), config.time("maximal_backoff_time"),
                    config.time("maximal_queue_lifetime"),
                    min(config.time("bounce_queue_lifetime"), config.time("maximal_queue_lifetime")),
                    config.time("delay_warning_time"))


def dns_support(config: Config) -> bool:
    """smtp_dns_support_level, or when it is empty the deprecated disable_dns_lookups, as Postfix reads them."""
    level = config.get("smtp_dns_support_level")
    return level != "disabled" if level else not config.bool("disable_dns_lookups")


def host_lookup(config: Config) -> HostLookup:
    families = AddressFamilies.from_settings(config.list("inet_protocols"), config.get("smtp_address_preference"))
    own = own_addresses(config.list("inet_interfaces"), config.list("proxy_interfaces"))
    return HostLookup(Resolver.from_config(config) if dns_support(config) else None, tuple(config.list("smtp_host_lookup")),
                      families, config.bool("ignore_mx_lookup_error"),
                      config.bool("smtp_defer_if_no_mx_address_found"), own_addresses=frozenset(map(str, own)))


def deliverer(config: Config) -> Deliverer:
    router = Router(frozenset(d.lower() for d in config.list("mydestination")), config.get("relayhost"),
                    TransportMaps.from_config(config), AddressRules.from_config(config))
    smtp = SmtpDelivery(SmtpClientSettings(config.get("smtp_helo_name"), config.time("smtp_connect_timeout"),
                                           config.time("smtp_rcpt_timeout"), config.time("smtp_data_done_timeout"),
                                           config.int("smtp_line_length_limit"), ClientTls.from_config(config),
                                           config.time("smtp_helo_timeout"), ClientSasl.from_config(config)),
                        cache_limits(config))
    return Deliverer(router, smtp, config.get("filterd_mailbox_base"),
                     config.int("default_destination_recipient_limit"), tuple(config.list("fallback_relay")),
                     host_lookup(config), config.int("smtp_mx_address_limit"), config.bool("soft_bounce"),
                     config.bool("smtp_connection_cache_on_demand"),
                     frozenset(d.lower() for d in config.list("smtp_connection_cache_destinations")),
                     xforward=XForward(config.bool("smtp_send_xforward_command"),
                                       frozenset(config.list("filterd_filters"))),
                     delimiters=Delimiters.from_config(config), virtual=VirtualMailboxes.from_config(config),
                     scheduler=Scheduler(Feedback.from_config(config)))


def previous_agent_gone(config: Config) -> int:
    """The queue manager's lock, taken once the delivery agent of a manager that died has finished (qmgr/agent.py)."""
    return wait_for_agent(Spool(config.get("queue_directory")))


def delivery_agent(config: Config, sock: socket.socket) -> Callable[[], Coroutine[None, None, None]]:
    """The delivery agent process's work (qmgr/agent.py), built before privileges are dropped (TLS client keys)."""
    agent, spool = deliverer(config), Spool(config.get("queue_directory"))
    return lambda: serve_agent(sock, agent, spool)


def queue_manager(loaded: Loaded, agent: socket.socket | None = None, lost: Callable[[], None] = lambda: None
                  ) -> QueueManager:
    """The queue manager that the qmgr process runs: its deliveries made by the agent process at the other end of
    `agent` (lost: what to do when that process is gone), or in its own process without one."""
    config = loaded.config
    spool = Spool(config.get("queue_directory")).create()
    after_queue = AfterQueue(make_chain(config, loaded.plugins), config.bool("soft_bounce"),
                             config.int("hopcount_limit"))
    delivery = deliverer(config) if agent is None else RemoteDeliverer(agent, spool, lost)
    aliases, canonical, bcc = address_mappings(config)
    mapping = EnvelopeMapping(AddressRules.from_config(config), canonical, aliases, bcc)
    return QueueManager(spool, schedule(config), delivery, after_queue, config.get("myhostname"), mapping)
