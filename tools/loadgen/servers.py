"""Start and stop the servers a benchmark runs against: the gateway or the baseline acceptor.

Each server runs as a subprocess with its output in a log file under its data directory. It
counts as started once its FIX port accepts TCP connections; if it exits first, the error
quotes the end of its log.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]
BASELINE_SCRIPT: Final = Path(__file__).resolve().with_name("baseline_acceptor.py")
LOG_TAIL_LINES: Final = 15


class ServerError(RuntimeError):
    """A server could not be started."""


def gateway_command(config: Path, data_dir: Path) -> list[str]:
    """The command line that starts the gateway: ``fixgw serve --config FILE --data-dir DIR``."""
    script = Path(sys.executable).with_name("fixgw")
    if script.exists():
        prefix = [str(script)]
    else:
        prefix = [sys.executable, "-c", "from fixgw.cli import main; main()"]
    return [*prefix, "serve", "--config", str(config), "--data-dir", str(data_dir)]


def baseline_command(
    *,
    port: int,
    data_dir: Path,
    sessions: int,
    comp_id: str,
    client_comp_id: str,
    data_dictionary: Path | None = None,
) -> list[str]:
    """The command line that starts the baseline acceptor for the given sessions."""
    command = [
        sys.executable,
        str(BASELINE_SCRIPT),
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--sessions",
        str(sessions),
        "--comp-id",
        comp_id,
        "--client-comp-id",
        client_comp_id,
    ]
    if data_dictionary is not None:
        command += ["--data-dictionary", str(data_dictionary)]
    return command


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server subprocess; a context manager that stops it on exit."""

    label: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def log_tail(self) -> str:
        """The last lines of the server's output."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(lines[-LOG_TAIL_LINES:]) or "(no output)"

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_server(
    label: str,
    command: list[str],
    *,
    host: str,
    port: int,
    log_path: Path,
    ready_timeout: float = 30.0,
) -> ServerProcess:
    """Start ``command`` and wait until ``host:port`` accepts connections."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        except OSError as exc:
            raise ServerError(f"cannot start the {label}: {exc}") from exc
    server = ServerProcess(label, host, port, process, log_path)
    deadline = time.monotonic() + ready_timeout
    while True:
        status = process.poll()
        if status is not None:
            raise ServerError(
                f"the {label} exited with status {status} before listening on {host}:{port}; "
                f"its output ({log_path}):\n{server.log_tail()}"
            )
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return server
        if time.monotonic() > deadline:
            server.stop()
            raise ServerError(
                f"the {label} did not listen on {host}:{port} within {ready_timeout:g} s; "
                f"its output ({log_path}):\n{server.log_tail()}"
            )
        time.sleep(0.1)
