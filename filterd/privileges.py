"""mail_owner: the unprivileged user filterd's processes run as once root has bound their sockets, as Postfix's
`postfix` user, and the ownership of the queue directories it writes."""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from filterd.config import Config


@dataclass(frozen=True)
class MailOwner:
    """mail_owner's name, user id and primary group id."""

    name: str
    uid: int
    gid: int

    @classmethod
    def from_config(cls, config: Config) -> MailOwner:
        """mail_owner looked up; Postfix's words when it is unknown or has user id 0."""
        name = config.get("mail_owner")
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise config.error("mail_owner", f"unknown user name value: {name}") from None
        if entry.pw_uid == 0:
            raise config.error("mail_owner", f"user {name} has privileged user ID")
        return cls(name, entry.pw_uid, entry.pw_gid)

    def give(self, path: Path | str) -> None:
        """Make a directory mail_owner's, as Postfix's post-install gives the queue directories to `postfix`."""
        os.chown(path, self.uid, self.gid)

    def become(self) -> None:
        """Drop root for good: mail_owner's groups, group and user, in that order (after setuid nothing else can)."""
        os.setgroups(_groups_of(self.name, self.gid))
        os.setgid(self.gid)
        os.setuid(self.uid)


def _groups_of(name: str, gid: int) -> list[int]:
    return sorted({gid} | {group.gr_gid for group in grp.getgrall() if name in group.gr_mem})


def running_as_root() -> bool:
    """Whether this process may and must drop privileges: filterd started by root; a user's own filterd stays theirs."""
    return os.geteuid() == 0


def mail_owner(config: Config) -> MailOwner | None:
    """The user to become after start-up: mail_owner when started by root, None (stay who we are) otherwise."""
    return MailOwner.from_config(config) if running_as_root() else None
