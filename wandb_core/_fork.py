"""Rows logged by processes forked after ``init`` go to the parent's run.

One writer per log file: a forked child never touches its parent's log.
Right before a fork (a hook that ``_session`` registers) a run with no channel yet
opens a listening Unix socket and a thread that reads from it. A child
that logs connects once and sends each validated row (its leaves,
pickled, length-prefixed); the parent gives each row the next step and
logs it as its own. Records built whole in the child (an artifact it
logged) travel the same way and are written as they are. ``finish()`` in
the parent reads what children have sent before it writes the end of the
log.

Nothing of this costs anything in a process that never forks.
"""

from __future__ import annotations

import logging
import os
import pickle
import selectors
import socket
import struct
import tempfile
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wandb_core import _term
from wandb_core._fast import flatten_row
from wandb_core.values import normalize

if TYPE_CHECKING:
    from wandb_core.runs import Run

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("<I")
# How long finish() keeps reading once no child has sent anything.
DRAIN_QUIET_SECONDS = 0.05
_child_connections: dict[str, tuple[int, socket.socket]] = {}


class ForkChannel:
    """The parent's end: accepts children and feeds their rows to the run."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.address = _bind(self._listener, run.id)
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._buffers: dict[socket.socket, bytearray] = {}
        self._stopping = False
        self._owner_pid = os.getpid()
        self._thread = threading.Thread(
            target=self._serve, name="wandb-core-fork-channel", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Read what children sent, then stop (called by ``finish``)."""
        if os.getpid() != self._owner_pid:
            return
        self._stopping = True
        self._wake_writer.send(b"x")
        self._thread.join(30)

    def _serve(self) -> None:
        try:
            while not self._stopping:
                self._poll(timeout=None)
            while self._poll(timeout=DRAIN_QUIET_SECONDS):
                pass
        except Exception:  # Defensive: the channel must not take the run down
            logger.exception("the fork channel failed")
        finally:
            self._shutdown()

    def _poll(self, timeout: float | None) -> bool:
        """Handle ready sockets; returns whether any child data arrived."""
        received = False
        for key, _events in self._selector.select(timeout):
            sock = key.fileobj
            if sock is self._listener:
                self._accept()
            elif sock is self._wake_reader:
                self._wake_reader.recv(64)
            else:
                received = self._receive(sock) or received  # type: ignore[arg-type]
        return received

    def _accept(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except BlockingIOError:
            return
        connection.setblocking(False)
        self._buffers[connection] = bytearray()
        self._selector.register(connection, selectors.EVENT_READ)

    def _receive(self, connection: socket.socket) -> bool:
        try:
            data = connection.recv(1 << 16)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(connection)
            self._buffers.pop(connection, None)
            connection.close()
            return True
        buffer = self._buffers[connection]
        buffer += data
        while len(buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer)
            if len(buffer) < _LENGTH.size + size:
                break
            message = bytes(buffer[_LENGTH.size : _LENGTH.size + size])
            del buffer[: _LENGTH.size + size]
            kind, *payload = pickle.loads(message)  # noqa: S301 - our own child
            if kind == "row":
                self._run._log_from_child(*payload)
            elif kind == "record":
                self._run._record_from_child(*payload)
        return True

    def _shutdown(self) -> None:
        for connection in list(self._buffers):
            connection.close()
        self._selector.close()
        self._listener.close()
        self._wake_reader.close()
        self._wake_writer.close()
        if not self.address.startswith("\0"):
            try:
                os.remove(self.address)
            except OSError:
                pass


def _bind(listener: socket.socket, run_id: str) -> str:
    name = f"wandb-core-{os.getpid()}-{run_id}"
    if os.uname().sysname == "Linux":
        address = "\0" + name  # abstract namespace: no file to clean up
    else:
        address = os.path.join(tempfile.gettempdir(), name + ".sock")
    listener.bind(address)
    return address


def open_channels_before_fork() -> None:
    """``os.register_at_fork`` hook: give active runs a channel first."""
    from wandb_core import _session

    for run in list(_session._runs):
        if run._owner_pid != os.getpid() or run._finished or run.disabled:
            continue
        if run._forwarder is None:
            try:
                run._forwarder = ForkChannel(run)
                run._finish_hooks.append(run._forwarder.close)
            except OSError as error:  # Defensive: no Unix sockets here
                logger.warning("no fork channel for run %s: %s", run.id, error)


def forward_row(
    run: Run, data: Mapping[str, Any], step: int | None, commit: bool | None
) -> None:
    """In a forked child: send a validated row to the parent's run."""
    leaves = flatten_row(dict(data), normalize)
    channel = run._forwarder
    if channel is None:
        _term.alert_once(
            "fork-no-channel",
            f"run {run.id} belongs to process {run._owner_pid}; this process "
            "cannot reach it, so its rows are dropped. Call init() in the child.",
        )
        return
    _send(run, channel.address, ("row", leaves, commit))


def forward_record(run: Run, body: bytes) -> None:
    """In a forked child: send a record body for the parent to write."""
    channel = run._forwarder
    if channel is None:
        _term.alert_once(
            "fork-no-channel",
            f"run {run.id} belongs to process {run._owner_pid}; this process "
            "cannot reach it, so what it logs is dropped. Call init() in the child.",
        )
        return
    _send(run, channel.address, ("record", body))


def _send(run: Run, address: str, message_parts: tuple[Any, ...]) -> None:
    message = pickle.dumps(message_parts, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        _connection(run, address).sendall(_LENGTH.pack(len(message)) + message)
    except OSError as error:
        _term.alert_once(
            "fork-send-failed",
            f"a forked process could not send its data to run {run.id}: {error}",
        )


def _connection(run: Run, address: str) -> socket.socket:
    known = _child_connections.get(run.id)
    if known is not None and known[0] == os.getpid():
        return known[1]
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(address)
    _child_connections[run.id] = (os.getpid(), connection)
    return connection


def close_child_channel(run: Run) -> None:
    """In a forked child: close the connection to the parent's run."""
    known = _child_connections.pop(run.id, None)
    if known is not None and known[0] == os.getpid():
        known[1].close()
