"""The chain runner: every front end calls this, and it knows no front end.

It walks a hook's implementations in filterd_plugins order, gives each the arguments it asks for (its own
`settings` among them), awaits what is awaitable, bounds each call by plugin_timeout, turns a crash or timeout
into plugin_error_action, folds non-final verdicts into the transaction and stops at the first final one. It
records the symbols each plugin adds, keeps an observed plugin's final verdicts from deciding (filterd_observe_plugins:
logged as reject_warning and counted), and at the end of a stage lets the score decide (filterd.score) and writes
the authentication results plugins reported (filterd.authentication_results).
"""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback
from collections import Counter
from functools import cached_property
from typing import Any, Awaitable, Coroutine

from filterd import maillog
from filterd.authentication_results import header_edits
from filterd.hookspecs import CHAIN_HOOKS, CONTENT_HOOKS
from filterd.config import Config
from filterd.registry import Impl, Plugins
from filterd.score import HOLD, REJECT, REJECT_VERDICT, SPAM_FLAG, STAGE_ENDS, Scored, Scoring, score, symbol_list
from filterd.transaction import Call, Transaction
from filterd.verdict import Action, AddHeader, Verdict, changes_of, coerce

DUNNO = Verdict()

ERROR_ACTIONS = {
    "accept": Verdict(),
    "tempfail": Verdict(Action.DEFER, "Service unavailable - try again later", 451, "4.7.1"),
    "reject": Verdict(Action.REJECT, "Command rejected", 550, "5.7.1"),
    "quarantine": Verdict(Action.HOLD, "plugin error"),
}


class Chain:
    """Calls plugins for one hook at a time and folds what they answer into a Transaction."""

    def __init__(self, plugins: Plugins, timeout: float = 30.0, error_action: str = "tempfail",
                 scoring: Scoring = Scoring(), authserv_id: str = "localhost"):
        self.plugins = plugins
        self.authserv_id = authserv_id
        """The authserv-id of the Authentication-Results header: myhostname."""
        self.timeout = timeout
        self.error_verdict = ERROR_ACTIONS[error_action]
        self.scoring = scoring
        self.warnings: Counter[str] = Counter()
        """How many final verdicts each observed plugin gave that were logged as reject_warning, not enforced."""

    @classmethod
    def from_config(cls, plugins: Plugins, config: Config) -> Chain:
        """The chain as main.cf sets it: plugin_timeout, plugin_error_action, the score and observe mode."""
        return cls(plugins, config.time("plugin_timeout"), config.get("plugin_error_action"),
                   Scoring.from_config(config), config.get("myhostname"))

    def wants(self, hook: str) -> bool:
        return self.plugins.has(hook)

    @cached_property
    def hooks(self) -> frozenset[str]:
        """The chain hooks some plugin implements."""
        return frozenset(hook for hook in CHAIN_HOOKS if self.plugins.has(hook))

    async def run(self, hook: str, txn: Transaction, subject: object = None, **kwargs: Any) -> Verdict:
        """Run `hook`; return the first final verdict, or OK/DUNNO. `subject` is the header or line at hand."""
        verdict = self.run_now(hook, txn, subject, **kwargs)
        return verdict if isinstance(verdict, Verdict) else await verdict

    def run_now(self, hook: str, txn: Transaction, subject: object = None,
                **kwargs: Any) -> Verdict | Coroutine[Any, Any, Verdict]:
        """`run` without a coroutine while no plugin answers with an awaitable: the verdict at once, else a
        coroutine that awaits that answer and goes on with the rest (front ends skip a task per call)."""
        impls = self.plugins.impls(hook)
        if not impls or (txn.passed and hook in CONTENT_HOOKS):
            return self._scored(hook, txn, DUNNO) if hook in STAGE_ENDS else DUNNO
        args = {"session": txn.session, "envelope": txn.envelope, "message": txn.message, **kwargs,
                "auth_results": txn.auth_results}
        verdict = self._walk(impls, 0, hook, txn, subject, args)
        if hook not in STAGE_ENDS:
            return verdict
        if isinstance(verdict, Verdict):
            return self._scored(hook, txn, verdict)
        return self._scored_later(hook, txn, verdict)

    async def _scored_later(self, hook: str, txn: Transaction, pending: Awaitable[Verdict]) -> Verdict:
        return self._scored(hook, txn, await pending)

    def _scored(self, hook: str, txn: Transaction, verdict: Verdict) -> Verdict:
        """The stage's verdict, the authentication results written and the score weighed."""
        if txn.auth_results and not verdict.final and txn.message is not None:
            txn.edits.extend(header_edits(txn.message.headers, self.authserv_id, txn.auth_results,
                                          remove_forged=hook != "queue"))
        return self._weighed(hook, txn, verdict)

    def _weighed(self, hook: str, txn: Transaction, verdict: Verdict) -> Verdict:
        """The stage's verdict with the score's action applied: the score header, logged with every symbol, X-Spam
        from the add_header threshold on, and HOLD or REJECT as the thresholds say. A final verdict or PASS leaves
        the score unweighed."""
        if verdict.final or not txn.symbols or txn.passed:
            return verdict
        total, scoring = score(txn.symbols), self.scoring
        action = scoring.action(total, after_queue=hook == "queue")
        txn.edits.append(AddHeader(scoring.header, scoring.header_value(action, total, txn.symbols)))
        txn.log_verdict(hook, Verdict.info(f"score {total:g}: {action}; {symbol_list(txn.symbols)}"))
        if scoring.flags(total):
            txn.edits.append(AddHeader(*SPAM_FLAG))
        if action == HOLD and not txn.hold:
            txn.absorb(hook, Verdict.hold(f"score {total:g}"))
        elif action == REJECT:
            txn.final = REJECT_VERDICT
            txn.log_verdict(hook, REJECT_VERDICT)
            return REJECT_VERDICT
        return verdict

    def _walk(self, impls: tuple[Impl, ...], start: int, hook: str, txn: Transaction, subject: object,
              args: dict[str, Any]) -> Verdict | Coroutine[Any, Any, Verdict]:
        for index in range(start, len(impls)):
            impl, started = impls[index], time.monotonic()
            args["settings"], args["auth_results"] = impl.settings, txn.auth_results
            try:
                result = impl.function(*[args[name] for name in impl.argnames])
            except Exception as exc:
                result = self._failed(impl, hook, txn, exc)
            if result is not None and type(result) not in _ANSWERS and inspect.isawaitable(result):
                return self._resume(impls, index, hook, txn, subject, args, result)
            verdict = self._checked(impl, hook, txn, result, started)
            if self._decides(impl, hook, txn, subject, verdict):
                return verdict
        return DUNNO

    async def _resume(self, impls: tuple[Impl, ...], index: int, hook: str, txn: Transaction, subject: object,
                      args: dict[str, Any], pending: Awaitable[Any]) -> Verdict:
        """Await one plugin's answer (bounded by plugin_timeout), then walk on."""
        impl = impls[index]
        try:
            async with asyncio.timeout(self.timeout):
                result = await pending
        except (TimeoutError, asyncio.TimeoutError):
            result = self._timed_out(impl, hook, txn)
        except Exception as exc:
            result = self._failed(impl, hook, txn, exc)
        verdict = self._checked(impl, hook, txn, result, None)
        if self._decides(impl, hook, txn, subject, verdict):
            return verdict
        rest = self._walk(impls, index + 1, hook, txn, subject, args)
        return rest if isinstance(rest, Verdict) else await rest

    def _decides(self, impl: Impl, hook: str, txn: Transaction, subject: object, verdict: Verdict) -> bool:
        """Fold one plugin's verdict into the transaction; does it end the walk? An observed plugin's final verdict
        is logged as reject_warning and counted, and the walk goes on."""
        if verdict is DUNNO:
            return False
        if verdict.final and impl.plugin in self.scoring.observed:
            self.warnings[impl.plugin] += 1
            txn.log_warning(hook, verdict, subject)
            return False
        if verdict.final:
            txn.final = verdict
            txn.log_verdict(hook, verdict, subject)
            txn.route_earlier(verdict)
            return True
        txn.absorb(hook, verdict, subject)
        return verdict.action in (Action.OK, Action.PASS)

    def _checked(self, impl: Impl, hook: str, txn: Transaction, result: Any, started: float | None) -> Verdict:
        """A plugin's answer as a verdict; a plain function that ran past plugin_timeout counts as timed out."""
        if type(result) is not _Failed:
            if started is not None and time.monotonic() - started > self.timeout:
                result = self._timed_out(impl, hook, txn)
            else:
                try:
                    result = DUNNO if result is None else coerce(result)
                except Exception as exc:
                    result = self._failed(impl, hook, txn, exc)
                else:
                    if impl.changes is not None and result is not DUNNO:
                        result = self._undeclared(impl, hook, txn, result, impl.changes)
        verdict, error = (result.verdict, result.error) if type(result) is _Failed else (result, "")
        observed = impl.plugin in self.scoring.observed
        if verdict.symbols:
            txn.symbols.extend(Scored(impl.plugin, hook, symbol, observed) for symbol in verdict.symbols)
        if verdict.auth_results:
            txn.auth_results += verdict.auth_results
        if txn.trace is not None:
            txn.trace.append(Call(hook, impl.plugin, verdict, error, observed and verdict.final))
        return verdict

    def _timed_out(self, impl: Impl, hook: str, txn: Transaction) -> _Failed:
        error = f"timeout after {self.timeout:g}s"
        maillog.warning(txn.service, "%s: plugin %s: %s hook: %s", txn.envelope.queue_id or "NOQUEUE",
                        impl.plugin, hook, error)
        return _Failed(error, self.error_verdict)

    def _undeclared(self, impl: Impl, hook: str, txn: Transaction, verdict: Verdict,
                    declared: frozenset[str]) -> Verdict | _Failed:
        """The verdict, or when it makes a change its plugin did not declare, a plugin error, as libmilter
        refuses an action that was not negotiated."""
        undeclared = changes_of(verdict) - declared
        if not undeclared:
            return verdict
        error = f"undeclared change: {', '.join(sorted(undeclared))} (the changes hook declares " \
                f"{', '.join(sorted(declared)) or 'none'})"
        maillog.warning(txn.service, "%s: plugin %s: %s hook: %s", txn.envelope.queue_id or "NOQUEUE",
                        impl.plugin, hook, error)
        return _Failed(error, self.error_verdict)

    def _failed(self, impl: Impl, hook: str, txn: Transaction, exc: Exception) -> _Failed:
        error = f"{type(exc).__name__}: {exc}"
        maillog.warning(txn.service, "%s: plugin %s: %s hook failed: %s\n%s", txn.envelope.queue_id or "NOQUEUE",
                        impl.plugin, hook, error, traceback.format_exc().rstrip())
        return _Failed(error, self.error_verdict)


class _Failed:
    """A plugin call that raised or timed out: the error for the trace, the verdict it stands for."""

    __slots__ = ("error", "verdict")

    def __init__(self, error: str, verdict: Verdict):
        self.error, self.verdict = error, verdict


_ANSWERS = (Verdict, str, _Failed)
"""What a plugin answers at once, told apart without inspect.isawaitable (an ABC check, slow)."""
