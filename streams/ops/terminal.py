"""What every `vigil` command prints with, and how it fails: one clear line a person can act on, never a traceback."""

from __future__ import annotations

import functools

import typer
from pydantic import ValidationError
from rich.console import Console

from streams.errors import VigilError

console = Console()
err = Console(stderr=True)


def friendly(fn):
    """Turn the errors a person can fix into one clear message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from clickhouse_connect.driver.exceptions import DatabaseError
        from kafka.errors import KafkaConnectionError, KafkaTimeoutError

        try:
            return fn(*args, **kwargs)
        except ValidationError as e:
            lines = [f"  {'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors()]
            fail("invalid settings (VIGIL_* variables or vigil.toml):\n" + "\n".join(lines))
        except (KafkaTimeoutError, KafkaConnectionError):
            fail("no Kafka broker answers at the bootstrap address; start one with `vigil kafka start` "
                 "or set VIGIL_KAFKA_BOOTSTRAP")
        except (VigilError, FileNotFoundError) as e:
            fail(str(e))
        except DatabaseError as e:
            fail(f"ClickHouse refused: {str(e).splitlines()[0][:500]}")

    return wrapper


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)
