"""Vigil's detection logic: pure Python and river, event time only.

Nothing here knows about Kafka, Faust or ClickHouse; the worker and offline
evaluation call the same classes.
"""

from models.detector import Assessment, DetectorConfig, UserDetector
from models.event import AccessEvent
from models.signal import Signal

__all__ = ["AccessEvent", "Assessment", "DetectorConfig", "Signal", "UserDetector"]
