"""Vigil's detection logic: pure Python and river, event time only.

Nothing here knows about Kafka, Faust or ClickHouse; the worker and offline
evaluation call the same classes.
"""

from models.context import Context, Profile, TicketBook
from models.detector import Alert, Assessment, DetectorConfig, UserDetector
from models.event import AccessEvent
from models.population import Organisation, Population
from models.signal import Signal

__all__ = [
    "AccessEvent", "Alert", "Assessment", "Context", "DetectorConfig", "Organisation", "Population", "Profile", "Signal",
    "TicketBook", "UserDetector",
]
