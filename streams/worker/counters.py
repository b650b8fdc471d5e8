"""What one worker has done since it started, for /health and /metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class WorkerCounters:
    scored: int = 0
    alerts: int = 0
    dead_letters: int = 0
    stored: int = 0
    tickets_booked: int = 0
    feedback_applied: int = 0
    directory_users: int = 0
    directory_rejected: int = 0
    population_parts: int = 0  # partitions whose part of the organisation-wide population this worker knows
    actions: dict[str, int] = field(default_factory=dict)  # "hook:status" -> count

    def to_dict(self) -> dict[str, int]:
        return asdict(self)
