"""The configuration check of the tables main.cf names: every rule Postfix would skip or change with a warning.

At run time filterd loads tables as Postfix does (such a rule is skipped, the warning logged, the rest used);
`filterd check` and `filterd check-config` call `table_problems` so that no skipped rule goes unnoticed: each
is an error naming the table's FILE:LINE, and a table that cannot be opened at all names main.cf's line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TextIO

from filterd import maillog
from filterd.config import Config, ConfigError
from filterd.tables.notices import TableError
from filterd.tables.reloading import TABLE_NOTICE
from filterd.tables.specs import split_specs
from filterd.tables.table_types import open_table

TABLE_PARAMETER_SUFFIXES = ("_checks", "_maps")


def table_parameters(config: Config) -> list[str]:
    """The parameters whose value lists tables: Postfix names every one of them *_checks or *_maps."""
    return sorted(name for name in config.known() if name.endswith(TABLE_PARAMETER_SUFFIXES))


def _specs(config: Config) -> Iterator[tuple[str, str]]:
    """(parameter, table spec) for each table once, the first parameter that names it."""
    seen: set[str] = set()
    for name in table_parameters(config):
        for spec in split_specs(config.get(name)):
            if spec not in seen:
                seen.add(spec)
                yield name, spec


def table_problems(config: Config) -> list[ConfigError]:
    """Each rule of the configured tables that Postfix skips (or reads otherwise than written), as
    `FILE:LINE: reason`; a table that cannot be opened as `main.cf:LINE: parameter: reason`."""
    problems: list[ConfigError] = []
    for name, spec in _specs(config):
        try:
            table = open_table(spec, quiet=True)
        except TableError as exc:
            problems.append(config.error(name, str(exc)))
            continue
        problems += [notice.error(table.path) for notice in table.notices if notice.reason]
    return problems


def _table_notice(record: logging.LogRecord) -> bool:
    return getattr(record, TABLE_NOTICE, False)


def report_table_problems(config: Config, out: TextIO) -> int:
    """Print each problem as `filterd: error: ...` and return how many. Call it before the log is set up: the
    tables' own warnings, logged when main.cf was loaded, would say the same again and are dropped."""
    problems = table_problems(config)
    for problem in problems:
        out.write(f"filterd: error: {problem}\n")
    maillog.discard_early(_table_notice)
    return len(problems)
