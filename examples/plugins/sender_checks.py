"""Example plugin: envelope checks at MAIL FROM, RCPT TO and DATA. Its configuration is what `configure`
returns, which filterd passes back to every hook that takes `settings`: no module globals.

    filterd_plugins = sender_checks
    sender_checks_blocked_domains = spam.example, junk.example
    sender_checks_recipient_limit = 50
"""

from dataclasses import dataclass

from filterd import ParameterError, Verdict, hookimpl


@dataclass(frozen=True)
class Settings:
    blocked_domains: frozenset[str]
    recipient_limit: int


@hookimpl
def parameters():
    return {"sender_checks_blocked_domains": "", "sender_checks_recipient_limit": "50"}


@hookimpl
def configure(config):
    """Read once per chain; a bad value stops filterd at start-up with its main.cf line."""
    limit = config.int("sender_checks_recipient_limit")
    if limit < 1:
        raise ParameterError("sender_checks_recipient_limit", "must be at least 1")
    return Settings(frozenset(d.lower() for d in config.list("sender_checks_blocked_domains")), limit)


@hookimpl
def changes():
    return set()


@hookimpl
def mail_from(sender, settings):
    """REJECT refuses MAIL FROM: the transaction does not begin."""
    if sender.rpartition("@")[2].lower() in settings.blocked_domains:
        return Verdict.reject(f"5.7.1 <{sender}>: Sender address rejected: Access denied", 554)
    return None


@hookimpl
def rcpt(envelope, recipient, settings):
    """DEFER refuses this recipient only; envelope.recipients holds those accepted so far."""
    if len(envelope.recipients) >= settings.recipient_limit:
        return Verdict.defer("4.5.3 Error: too many recipients", 452)
    return None


@hookimpl
def data(envelope):
    """A bounce (null sender) has one recipient: Postfix's reject_multi_recipient_bounce."""
    if envelope.sender == "" and len(envelope.recipients) > 1:
        return Verdict.reject("5.5.3 <DATA>: Data command rejected: Multi-recipient bounce")
    return None
