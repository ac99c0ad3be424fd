"""``fixgw serve`` as a real process for end-to-end tests, and the commands that read its store.

``Served`` starts the gateway on free ports (``--port 0 --metrics-port 0``), reads the FIX port
and the metrics URL it prints, and stops it with SIGTERM (or SIGKILL: ``kill_hard``). Its
stderr goes to ``<data-dir>/../serve-<n>.log`` for the test to read on failure.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

FIXGW = str(Path(sys.executable).parent / "fixgw")
START_TIMEOUT_S = 60.0

Row = dict[str, Any]


class Served:
    """One ``fixgw serve`` process."""

    _runs = 0

    def __init__(
        self,
        data_dir: Path,
        *args: str,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
        metrics: bool = True,
    ) -> None:
        Served._runs += 1
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"serve-{Served._runs}.log"
        command = [FIXGW, "serve", "--host", "127.0.0.1", "--port", "0"]
        command += ["--data-dir", str(data_dir)]
        if config is not None:
            command += ["--config", str(config)]
        if metrics:
            command += ["--metrics-port", "0"]
        command += list(args)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, **(env or {})},
                cwd=data_dir.parent,
            )
        self.port = int(self._read(r"on 127\.0\.0\.1:(\d+) "))
        self.metrics_url = self._read(r"on (http://\S+)") if metrics else ""

    def _read(self, pattern: str) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(pattern, line)
        if match is None:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"fixgw serve printed {line!r}; its log:\n{self.log()}")
        return match.group(1)

    def metrics(self) -> str:
        status, body = http_get(f"{self.metrics_url}/metrics")
        assert status == 200, body
        return body

    def wait_for_liquidity(self, symbol: str = "AAPL", timeout: float = 15.0) -> None:
        """Until the venue's liquidity provider quotes both sides of ``symbol``."""

        def quoted() -> bool:
            text = self.metrics()
            return all(
                sample(text, "fixgw_venue_book_levels", {"symbol": symbol, "side": side}) > 0
                for side in ("bid", "ask")
            )

        wait_for(quoted, timeout=timeout, what=f"quotes in {symbol}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Signal the gateway and wait for it to exit; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        status = self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status

    def kill_hard(self) -> None:
        """``kill -9``: no logout, no flush."""
        self.stop(signal.SIGKILL)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def fixgw(*args: str, cwd: Path, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run another ``fixgw`` command (a separate process) and return what it printed."""
    return subprocess.run(
        [FIXGW, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def query(data_dir: Path, sql: str) -> list[Row]:
    """Rows of a read-only SQL query on the store, through ``fixgw query --format json``."""
    result = fixgw("query", sql, "--data-dir", str(data_dir), "--format", "json", cwd=data_dir)
    if result.returncode != 0:
        raise AssertionError(f"fixgw query failed ({result.returncode}): {result.stderr}")
    rows: list[Row] = json.loads(result.stdout)
    return rows


def http_get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """Status and body of a GET (errors included, never raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(
    probe: Callable[[], Any], *, timeout: float = 15.0, what: str = "", interval: float = 0.2
) -> Any:
    """The first truthy result of ``probe`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or probe}")
        time.sleep(interval)


def sample(metrics_text: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The value of one Prometheus sample (0 when absent); ``labels`` must all match."""
    total = 0.0
    wanted = labels or {}
    for line in metrics_text.splitlines():
        if not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', label_text))
        if all(found.get(k) == v for k, v in wanted.items()):
            total += float(value)
    return total
