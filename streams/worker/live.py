"""What the SOC sees move: each user's latest risk, the recent alerts, and who is listening."""

from __future__ import annotations

import asyncio

import faust

from streams.records import AlertRecord
from streams.worker.inbox import Inbox


class LiveBoard:
    """In-memory view of this worker's users, fed by its agents, read by the web API.

    Risk is as of each user's latest event. Subscribers (the SSE stream)
    get every alert and every change of a user's band or of their risk by a
    point or more; a subscriber that falls 1,000 messages behind loses the
    oldest rather than slowing the stream.

    Examples
    --------
    >>> board = LiveBoard()
    >>> board.risk("ann", 12.0, "low", 1.0)
    >>> board.risk("bob", 60.5, "high", 2.0)
    >>> [row["user"] for row in board.leaderboard(5)]
    ['bob', 'ann']

    """

    def __init__(self) -> None:
        self.users: dict[str, dict] = {}
        self.subscribers: set[asyncio.Queue] = set()

    def risk(self, user: str, risk: float, band: str, ts: float) -> None:
        before = self.users.get(user)
        self.users[user] = row = {"user": user, "risk": risk, "band": band, "ts": ts}
        if before is None or before["band"] != band or abs(before["risk"] - risk) >= 1.0:
            self._publish({"type": "risk", **row})

    def reload(self, rows: list[dict]) -> None:
        """After a rebalance: the users of the partitions this worker now owns, as their stored state says."""
        self.users = {row["user"]: row for row in rows}

    def alert(self, alert: dict) -> None:
        self._publish({"type": "alert", **alert})

    def leaderboard(self, limit: int) -> list[dict]:
        return sorted(self.users.values(), key=lambda r: (-r["risk"], r["user"]))[:limit]

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self.subscribers.discard(queue)

    def _publish(self, message: dict) -> None:
        for queue in self.subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)


def register(app: faust.App, topics: dict[str, faust.TopicT], inbox: Inbox, board: LiveBoard) -> None:
    @app.agent(topics["alerts"], name="show-alerts")
    async def show_alerts(stream: faust.StreamT) -> None:
        async for event in stream.events():
            if (alert := await inbox.decode(event, AlertRecord, dead_letter=False)) is not None:
                board.alert(alert.to_dict())
