"""A real Apache Kafka 4 broker (KRaft, one node) on this machine: fetch, start, stop.

The jars come from Maven Central through ``mvn`` (infra/kafka/pom.xml) into a
cache outside the repository, once. Storage and logs live under the data
directory; the broker binds to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template

from streams.errors import VigilError
from streams.settings import INFRA_DIR, Settings

KAFKA_INFRA = INFRA_DIR / "kafka"


def free_ports(n: int) -> list[int]:
    """`n` distinct free loopback ports (held open together, so the kernel cannot hand one out twice)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _listening(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:`port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class KafkaSetupError(VigilError, RuntimeError):
    """Something on this machine stops the local broker; the message says how to fix it."""


@dataclass
class LocalKafka:
    """The local broker described by `settings`: its jars, storage, process and pid file."""

    settings: Settings

    @property
    def home(self) -> Path:
        return self.settings.data_dir / "kafka"

    @property
    def libs(self) -> Path:
        version = _pom_property("kafka.version")
        return self.settings.kafka_cache / f"kafka-{version}" / "libs"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"

    @property
    def port(self) -> int:
        return int(self.settings.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])

    # -- jars ------------------------------------------------------------------
    def fetch(self) -> Path:
        """Resolve the broker's jars with mvn, once; later calls return the cache."""
        if (self.libs / ".complete").exists():
            return self.libs
        mvn = _require("mvn", "Maven fetches the Kafka jars: install it with `apt-get install maven`.")
        staging = self.libs.with_name(f"libs.partial-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [mvn, "-q", "-B", "-f", str(KAFKA_INFRA / "pom.xml"), "dependency:copy-dependencies",
               f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise KafkaSetupError(f"mvn could not fetch the Kafka jars:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        (staging / ".complete").touch()
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)
        return self.libs

    # -- process ---------------------------------------------------------------
    def pid(self) -> int | None:
        """Pid of the running broker started from this data dir, if any."""
        try:
            pid = int(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def start(self, timeout: float = 90.0) -> int:
        """Start the broker (formatting storage the first time) and wait until it serves metadata."""
        if pid := self.pid():
            return pid
        # Another process on our ports would answer `ready()` in our broker's place (and ours would die).
        busy = [str(port) for port in (self.port, self.settings.kafka_controller_port) if _listening(port)]
        if busy:
            raise KafkaSetupError(
                f"127.0.0.1:{' and '.join(busy)} is in use by another process, not a broker started from {self.home}: "
                "stop it, or choose free ports with VIGIL_KAFKA_BOOTSTRAP and VIGIL_KAFKA_CONTROLLER_PORT")
        java = _java()
        libs = self.fetch()
        self.home.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        classpath = f"{libs}/*"
        if not (self.home / "data" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            fmt = subprocess.run(
                [java, "-cp", classpath, *self._log_flags(), "kafka.tools.StorageTool", "format",
                 "--standalone", f"--cluster-id={cluster_id}", "-c", str(config)],  # an id may start with "-"
                capture_output=True, text=True,
            )
            if fmt.returncode != 0:
                raise KafkaSetupError(f"formatting KRaft storage failed:\n{fmt.stdout}{fmt.stderr}")
        heap = self.settings.kafka_heap
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [java, f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                 *self._log_flags(), "-cp", classpath, "kafka.Kafka", str(config)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise KafkaSetupError(f"the broker exited with {proc.returncode}; see {self.log_file}")
            if self.ready():
                return proc.pid
            time.sleep(0.5)
        self.stop()
        raise KafkaSetupError(f"the broker did not answer within {timeout:.0f}s; see {self.log_file}")

    def ready(self) -> bool:
        """True when the broker answers a metadata request."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        if not _listening(self.port):  # a closed port answers at once; kafka-python would retry for 30 s
            return False
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=3000,
                                     client_id="vigil-probe")
        except (KafkaError, OSError, ValueError):
            return False
        try:
            return bool(admin.describe_cluster().get("brokers"))
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker: SIGTERM for a clean shutdown, SIGKILL if it hangs. False if none ran."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 10)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _write_config(self) -> Path:
        template = Template((KAFKA_INFRA / "server.properties").read_text())
        config = self.home / "server.properties"
        config.write_text(template.substitute(
            broker_port=self.port,
            controller_port=self.settings.kafka_controller_port,
            log_dir=self.home / "data",
            partitions=self.settings.partitions,
        ))
        return config

    @staticmethod
    def _log_flags() -> list[str]:
        return [f"-Dlog4j2.configurationFile={KAFKA_INFRA / 'log4j2.properties'}"]


def _pom_property(name: str) -> str:
    import xml.etree.ElementTree as ET

    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    return ET.parse(KAFKA_INFRA / "pom.xml").getroot().find(f"m:properties/m:{name}", ns).text


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return _require("java", "Kafka 4 needs Java 17 or newer: install it with `apt-get install openjdk-17-jre-headless` or set JAVA_HOME.")


def _require(tool: str, fix: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise KafkaSetupError(f"`{tool}` is not on PATH. {fix}")
    return path


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child; otherwise just probe.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False
