"""The chain runner: every front end calls this, and it knows no front end.

It walks a hook's implementations in filterd_plugins order, awaits what is awaitable, bounds each
call by plugin_timeout, turns a crash or timeout into plugin_error_action, folds non-final verdicts
into the transaction and stops at the first final one.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback
from typing import Any

from filterd import maillog
from filterd.hookspecs import CONTENT_HOOKS
from filterd.registry import Impl, Plugins
from filterd.transaction import Call, Transaction
from filterd.verdict import Action, Verdict, coerce

DUNNO = Verdict()

ERROR_ACTIONS = {
    "accept": Verdict(),
    "tempfail": Verdict(Action.DEFER, "Service unavailable - try again later", 451, "4.7.1"),
    "reject": Verdict(Action.REJECT, "Command rejected", 550, "5.7.1"),
    "quarantine": Verdict(Action.HOLD, "plugin error"),
}


class Chain:
    """Calls plugins for one hook at a time and folds what they answer into a Transaction."""

    def __init__(self, plugins: Plugins, timeout: float = 30.0, error_action: str = "tempfail"):
        self.plugins = plugins
        self.timeout = timeout
        self.error_verdict = ERROR_ACTIONS[error_action]

    def wants(self, hook: str) -> bool:
        return self.plugins.has(hook)

    async def run(self, hook: str, txn: Transaction, subject: object = None, **kwargs: Any) -> Verdict:
        """Run `hook`; return the first final verdict, or OK/DUNNO. `subject` is the header or line at hand."""
        impls = self.plugins.impls(hook)
        if not impls or (txn.passed and hook in CONTENT_HOOKS):
            return DUNNO
        args = {"session": txn.session, "envelope": txn.envelope, "message": txn.message, **kwargs}
        for impl in impls:
            verdict = await self._call(impl, hook, txn, args)
            if verdict is DUNNO:
                continue
            if verdict.final:
                txn.final = verdict
                txn.log_verdict(hook, verdict, subject)
                return verdict
            txn.absorb(hook, verdict, subject)
            if verdict.action in (Action.OK, Action.PASS):
                return verdict
        return DUNNO

    async def _call(self, impl: Impl, hook: str, txn: Transaction, args: dict[str, Any]) -> Verdict:
        error = ""
        started = time.monotonic()
        try:
            result = impl.function(*(args[name] for name in impl.argnames))
            if inspect.isawaitable(result):
                async with asyncio.timeout(self.timeout):
                    result = await result
            elif time.monotonic() - started > self.timeout:
                raise TimeoutError
            verdict = DUNNO if result is None else coerce(result)
        except (TimeoutError, asyncio.TimeoutError):
            error = f"timeout after {self.timeout:g}s"
            maillog.warning(txn.service, "%s: plugin %s: %s hook: %s", txn.envelope.queue_id or "NOQUEUE",
                            impl.plugin, hook, error)
            verdict = self.error_verdict
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            maillog.warning(txn.service, "%s: plugin %s: %s hook failed: %s\n%s", txn.envelope.queue_id or "NOQUEUE",
                            impl.plugin, hook, error, traceback.format_exc().rstrip())
            verdict = self.error_verdict
        if txn.trace is not None:
            txn.trace.append(Call(hook, impl.plugin, verdict, error))
        return verdict
