"""The milter front end's settings, read once from the configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MilterSettings:
    """Postfix's parameters the milter front end obeys, and its own."""

    service: str = "milter"
    header_size_limit: int = 102400
    line_length_limit: int = 2048
    spool_memory_limit: int = 262144
    progress_interval: float = 10.0

    @classmethod
    def from_config(cls, config) -> MilterSettings:
        return cls(
            header_size_limit=config.int("header_size_limit"),
            line_length_limit=config.int("line_length_limit"),
            spool_memory_limit=config.size("filterd_spool_memory_limit"),
            progress_interval=config.time("filterd_milter_progress_time"),
        )
