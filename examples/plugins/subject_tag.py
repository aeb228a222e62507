"""Example plugin: tag the Subject of mail from senders outside your own domains.

    filterd_plugins = subject_tag
    subject_tag_internal_domains = $mydomain
    subject_tag_text = [EXTERNAL]
"""

from filterd import Verdict, hookimpl


@hookimpl
def parameters():
    return {"subject_tag_internal_domains": "$mydomain", "subject_tag_text": "[EXTERNAL]"}


@hookimpl
def configure(config):
    return {d.lower() for d in config.list("subject_tag_internal_domains")}, config.get("subject_tag_text")


@hookimpl
def changes():
    return {"replace"}


@hookimpl
def header(envelope, header, settings):
    """Each logical header as it arrives; REPLACE puts this text in its place, as header_checks(5) does."""
    internal, tag = settings
    if header.name.lower() != "subject" or header.value.startswith(tag):
        return None
    if envelope.sender.rpartition("@")[2].lower() in internal:
        return None
    return Verdict.replace(f"Subject: {tag} {header.value}")
