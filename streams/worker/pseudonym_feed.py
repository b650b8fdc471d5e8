"""Every worker can map any pseudonym back: each publishes the pseudonyms of the users it meets to a compacted
topic, and every worker follows it. A profile asked of any worker then finds the user and the worker that owns
them, whatever the partition count."""

from __future__ import annotations

import faust

from streams.access.pseudonyms import Pseudonyms
from streams.settings import Settings
from streams.worker.follower import Follower
from streams.worker.live import LiveBoard


def register(app: faust.App, settings: Settings, topic: faust.TopicT, board: LiveBoard, names: Pseudonyms) -> None:
    published: set[str] = set()  # users this worker has checked
    heard: set[str] = set()  # pseudonyms the topic holds

    def learn(key: bytes | None, value: bytes | None) -> None:
        if key and value:
            heard.add(key.decode(errors="replace"))
            names.met[key.decode(errors="replace")] = value.decode(errors="replace")

    app.task(Follower(settings.kafka_bootstrap, settings.topic("pseudonyms"), learn).follow)

    @app.timer(1.0, name="publish-pseudonyms")
    async def publish() -> None:
        """The users this worker met since the last tick, unless the topic already names them."""
        for user in board.users.keys() - published:
            published.add(user)
            pseudonym = names.of(user)
            if pseudonym not in heard:
                heard.add(pseudonym)
                names.met[pseudonym] = user
                await topic.send(key=pseudonym.encode(), value=user.encode())
