"""The background writer: the one thread that appends to a run's log.

Callers hand it encoded record bodies (and small tasks) through a deque,
which costs them one append; ``log()`` never waits for the disk. The
writer wakes every ``DRAIN_INTERVAL`` seconds (or early when the queue
grows long), assigns record numbers in write order, frames the records and
appends them; it flushes to the operating system at least every
``FLUSH_INTERVAL`` and fsyncs at ``close()``.

A disk fault never reaches the training script: the first ``OSError``
stops writing (what is on disk stays a valid prefix of the log), is
reported once, and everything submitted afterwards is counted as lost.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from wandb_core._fast import Framer

logger = logging.getLogger(__name__)

DRAIN_INTERVAL = 0.2
FLUSH_INTERVAL = 1.0
# Past this many queued items the caller wakes the writer early, which
# bounds memory when a script logs faster than the drain interval.
WAKE_QUEUE_LENGTH = 2048
# Framed bytes are collected in memory and written in pieces of this size.
WRITE_SIZE = 256 * 1024

Task = Callable[[], Any]


class LogWriter:
    """Appends framed records to an open log file on its own thread."""

    def __init__(
        self,
        fd: int,
        offset: int,
        first_num: int,
        on_error: Callable[[BaseException], None],
    ) -> None:
        self._fd = fd
        self._pending = bytearray()
        self._framer = Framer(offset)
        self._next_num = first_num
        self._queue: collections.deque[bytes | Task] = collections.deque()
        self._wake = threading.Event()
        self._stopping = False
        self._tick_hooks: list[Task] = []
        self._on_error = on_error
        self.error: BaseException | None = None
        self.lost_records = 0
        self.records_written = 0
        self._thread = threading.Thread(
            target=self._run, name="wandb-core-writer", daemon=True
        )

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def submit(self, body: bytes) -> None:
        """Queue an encoded record body (without ``num``) for writing."""
        queue = self._queue
        queue.append(body)
        if len(queue) > WAKE_QUEUE_LENGTH:
            self._wake.set()

    def call_soon(self, task: Task) -> None:
        """Run ``task`` on the writer thread, in order with the records.

        A task may return a record body or a list of them to write.
        """
        self._queue.append(task)

    def add_tick_hook(self, hook: Task) -> None:
        """Call ``hook`` on every flush; it returns record bodies to write."""
        self._tick_hooks.append(hook)

    def write_now(self, body: bytes) -> None:
        """Frame and write a body from the calling thread (before ``start``)."""
        self._write(body)
        self._flush()

    def close(self, timeout: float = 120.0) -> bool:
        """Write everything queued, fsync, close the file and stop the thread.

        Returns whether the thread finished within ``timeout`` seconds.
        """
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        if not self._thread.ident:  # never started: drain here
            self._drain()
            self._finish_file()
        return True

    # -- the thread ---------------------------------------------------------

    def _run(self) -> None:
        try:
            last_flush = time.monotonic()
            while not self._stopping:
                self._wake.wait(DRAIN_INTERVAL)
                self._wake.clear()
                self._drain()
                if time.monotonic() - last_flush >= FLUSH_INTERVAL:
                    self._tick()
                    self._flush()
                    last_flush = time.monotonic()
            self._drain()
            self._finish_file()
        except BaseException as error:  # Defensive: a bug must not kill logging
            logger.exception("the log writer thread failed")
            self._fail(error)

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            item = queue.popleft()
            if isinstance(item, bytes):
                self._write(item)
                continue
            try:
                produced = item()
            except Exception as error:
                logger.exception("a background task of the run failed")
                self._on_error(error)
                continue
            self._write_produced(produced)

    def _write_produced(self, produced: Any) -> None:
        if isinstance(produced, bytes):
            self._write(produced)
        elif produced:
            for body in produced:
                self._write(body)

    def _tick(self) -> None:
        for hook in self._tick_hooks:
            try:
                self._write_produced(hook())
            except Exception as error:
                logger.exception("a periodic task of the run failed")
                self._on_error(error)

    def _write(self, body: bytes) -> None:
        if self.error is not None:
            self.lost_records += 1
            return
        self._pending += self._framer.frame(self._next_num, body)
        self._next_num += 1
        self.records_written += 1
        if len(self._pending) >= WRITE_SIZE:
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        written = 0
        try:
            while written < len(pending) and self.error is None:
                written += os.write(self._fd, pending[written:])
        except OSError as error:
            self._fail(error)
        del pending[:written]
        if self.error is not None:
            pending.clear()

    def _finish_file(self) -> None:
        self._flush()
        if self.error is None:
            try:
                os.fsync(self._fd)
            except OSError as error:
                self._fail(error)
        os.close(self._fd)

    def _fail(self, error: BaseException) -> None:
        if self.error is not None:
            return
        self.error = error
        logger.warning("writing the run log failed; logging stops: %s", error)
        self._on_error(error)
