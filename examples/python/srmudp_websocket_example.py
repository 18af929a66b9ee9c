#!/usr/bin/python3
"""Example client of the srmudp WebSocket proxy (autoprox / wsbridge::Bridge), library and CLI.

The proxy turns one WebSocket into one secure, reliable srmudp connection to a UDP peer. This
module speaks its JSON protocol (docs: the seed's websocket-srmudp-proxy document and
libwsbridge/include/wsbridge/protocol.hpp) with the additions the server makes: the key in the
X-Encryption-Key header, raw binary frames, message ids with acks, "seq" on data frames and
re-attaching a dropped WebSocket by client_id.

Library:

    client = SRMUDPWebSocketClient("ws://127.0.0.1:8000/v0/ws/proxy", "192.0.2.7", 4000, key)
    await client.connect()
    await client.send_text_acked("hello")          # returns once the peer has it
    data = await client.receive_data(timeout=10)   # Data(format, data, seq)
    await client.close()

CLI (the key may come from the environment variable SRMUDP_KEY instead, keeping it out of ps):

    /usr/bin/python3 srmudp_websocket_example.py --ws-url ws://127.0.0.1:8000/v0/ws/proxy \
        --remote-host 192.0.2.7 --remote-port 4000 --encryption-key KEY

Needs only the standard library and python3-websockets 10.x (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import collections
import dataclasses
import itertools
import json
import os
import sys
import threading
import urllib.parse
import uuid
from typing import AsyncIterator, Optional, Union

try:
    import websockets
except ImportError:  # an interpreter other than Debian's (e.g. pyenv) first on PATH
    sys.path.append("/usr/lib/python3/dist-packages")
    import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatusCode, InvalidURI
from websockets.legacy.client import WebSocketClientProtocol

DEFAULT_PATH = "/v0/ws/proxy"
STATUSES = ("CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED", "RECONNECTING", "ERROR")
# The server's limits (wsbridge::Limits): a 16 MiB message is a ~22.4 MiB base64 frame.
MAX_FRAME_BYTES = 32 << 20
MAX_ID_BYTES = 256
# HTTP statuses after which trying again can help (rate limit, overload, a restarting server).
RETRYABLE_HTTP = (429, 502, 503, 504)
# Re-attach back-off: 0.25 s doubling up to 4 s; 8 attempts take ~20 s, inside the server's
# default 30 s grace period.
REATTACH_FIRST_DELAY_S = 0.25
REATTACH_MAX_DELAY_S = 4.0
REJECTION_BODY_LIMIT = 4096
REDACT_MIN_CHARS = 8
# Frames kept after sending until the server's count says it took them (for a re-attach).
RESEND_LIMIT_BYTES = 16 << 20

MessageId = Union[str, int]


class SRMUDPError(Exception):
    """A failure of the proxy session: refused upgrade, unreachable server, failed message, end.

    status_code and body are set when the server refused the WebSocket upgrade over HTTP.
    """

    def __init__(self, message: str, *, status_code: Optional[int] = None,
                 body: Optional[str] = None, retryable: bool = False):
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.retryable = retryable


class SRMUDPTimeout(SRMUDPError, TimeoutError):
    """A wait of this client ran out of time (also a TimeoutError)."""


# ---- Events ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Data:
    """A message from the peer: format "text" (data: str) or "binary" (data: bytes)."""
    format: str
    data: Union[str, bytes]
    seq: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Status:
    """A status frame: status is one of STATUSES; stats is the server's counters, if sent;
    received is how many of this client's messages the session has taken (client_id sessions)."""
    status: str
    message: str
    connection_id: str
    stats: Optional[dict] = None
    received: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Ack:
    """The peer acknowledged the message sent with this id."""
    id: MessageId


@dataclasses.dataclass(frozen=True)
class Error:
    """An error frame; with an id, the message sent with that id failed."""
    message: str
    id: Optional[MessageId] = None


Event = Union[Data, Status, Ack, Error]


def parse_frame(raw: Union[str, bytes]) -> Optional[Event]:
    """One server frame as an event; None for a frame type this client does not know."""
    if isinstance(raw, bytes):
        return Data("binary", raw)
    try:
        frame = json.loads(raw)
    except ValueError:
        return Error("malformed frame from the server: not JSON")
    if not isinstance(frame, dict):
        return Error("malformed frame from the server: not a JSON object")
    kind = frame.get("type")
    if kind == "status":
        stats = frame.get("stats")
        received = frame.get("received")
        if isinstance(received, bool) or not isinstance(received, int) or received < 0:
            received = None
        return Status(str(frame.get("status", "")), str(frame.get("message", "")),
                      str(frame.get("connection_id", "")),
                      stats if isinstance(stats, dict) else None, received)
    if kind == "data":
        return _parse_data(frame)
    if kind == "ack":
        return Ack(_message_id(frame))
    if kind == "error":
        return Error(str(frame.get("message", "")), _message_id(frame))
    return None


def _message_id(frame: dict) -> Optional[MessageId]:
    value = frame.get("id")
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _parse_data(frame: dict) -> Event:
    seq = frame.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int):
        seq = None  # servers before "seq" existed
    data = frame.get("data")
    if frame.get("format") == "text" and isinstance(data, str):
        return Data("text", data, seq)
    if frame.get("format") == "binary" and isinstance(data, str):
        try:
            return Data("binary", base64.b64decode(data, validate=True), seq)
        except binascii.Error:
            return Error("malformed data frame from the server: invalid base64")
    return Error(f"malformed data frame from the server: format {frame.get('format')!r}")


# ---- Helpers --------------------------------------------------------------------------------

def build_proxy_url(ws_url: str, params: list) -> str:
    """ws_url with params appended to its query (RFC 3986 percent-encoding: ' ' is %20, '+' is
    %2B); an empty path becomes /v0/ws/proxy."""
    parts = urllib.parse.urlsplit(ws_url)
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
    if parts.query:
        query = parts.query + "&" + query
    path = parts.path if parts.path not in ("", "/") else DEFAULT_PATH
    return urllib.parse.urlunsplit(parts._replace(path=path, query=query))


def redact(text: str, secrets) -> str:
    """text with every secret (and its percent-encoded form) replaced by ***. A last line of
    defence (the server never echoes a key): secrets shorter than REDACT_MIN_CHARS are left
    alone, as replacing them would garble ordinary words."""
    for secret in secrets:
        if secret and len(secret) >= REDACT_MIN_CHARS:
            for form in (secret, urllib.parse.quote(secret, safe="")):
                text = text.replace(form, "***")
    return text


def check_message_id(message_id) -> None:
    """Raises TypeError/ValueError unless message_id is what the server accepts as "id"."""
    if isinstance(message_id, bool) or not isinstance(message_id, (str, int)):
        raise TypeError("a message id is a str or an int")
    if isinstance(message_id, int) and not -2**63 <= message_id < 2**63:
        raise ValueError("an integer message id must fit in 64 bits (signed)")
    if isinstance(message_id, str) and len(_utf8(message_id, "message id")) > MAX_ID_BYTES:
        raise ValueError(f"a message id is at most {MAX_ID_BYTES} bytes of UTF-8")


def _text_frame(text: str) -> dict:
    if not isinstance(text, str):
        raise TypeError("a text message is a str")
    _utf8(text, "the text")
    return {"type": "data", "format": "text", "data": text}


def _binary_frame(data: bytes) -> dict:
    return {"type": "data", "format": "binary",
            "data": base64.b64encode(bytes(data)).decode("ascii")}


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode (lone surrogate)") from None


def _check_header_value(value: str, what: str) -> None:
    # A CR or LF would let the value inject further HTTP headers.
    if not value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"{what} must be non-empty and free of control characters")


class _RejectedUpgrade(InvalidStatusCode):
    """websockets 10.4 drops the body of a refused upgrade; the server's reason is in it."""

    def __init__(self, status_code, headers, body: str):
        super().__init__(status_code, headers)
        self.body = body


class _Protocol(WebSocketClientProtocol):
    async def read_http_response(self):
        status_code, headers = await super().read_http_response()
        if status_code != 101:
            raise _RejectedUpgrade(status_code, headers, await self._read_body(headers))
        return status_code, headers

    async def _read_body(self, headers) -> str:
        try:
            length = min(int(headers.get("Content-Length", "")), REJECTION_BODY_LIMIT)
        except ValueError:
            length = REJECTION_BODY_LIMIT  # no length: read to EOF, bounded
        body = b""
        try:
            while len(body) < length:
                chunk = await asyncio.wait_for(self.reader.read(length - len(body)), 5)
                if not chunk:
                    break
                body += chunk
        except (asyncio.TimeoutError, OSError):
            pass
        return body.decode("utf-8", "replace").strip()


# ---- The client -----------------------------------------------------------------------------

class SRMUDPWebSocketClient:
    """One proxy session: a WebSocket to the proxy, an srmudp connection from there to the peer.

    Use from one asyncio event loop. Consume events with either events() or receive_data(), not
    both at once: they take from the same queue. The queue holds max_events; while it is full
    the client stops reading the WebSocket (backpressure), so acks wait behind unread data.
    """

    def __init__(self, ws_url: str, remote_host: str, remote_port, encryption_key: str, *,
                 client_id: Optional[str] = None, token: Optional[str] = None,
                 key_in_url: bool = False, auto_reattach: bool = True,
                 reattach_attempts: int = 8, open_timeout: float = 10.0,
                 max_events: int = 4096):
        _check_header_value(encryption_key, "the encryption key")
        if token is not None:
            _check_header_value(token, "the token")
        self.ws_url = ws_url
        self.remote_host = str(remote_host)
        self.remote_port = remote_port
        if client_id is None and auto_reattach:
            client_id = uuid.uuid4().hex  # re-attaching needs one
        self.client_id = client_id
        self.auto_reattach = auto_reattach
        self.reattach_attempts = reattach_attempts
        self.open_timeout = open_timeout
        self._key = encryption_key
        self._token = token
        self._key_in_url = key_in_url
        self._max_events = max(1, max_events)
        # What the server said last; updated as frames arrive.
        self.status: Optional[str] = None
        self.status_message: Optional[str] = None
        self.connection_id: Optional[str] = None
        self.stats: Optional[dict] = None
        self.last_seq = 0  # highest data "seq" received
        self.reattaches = 0
        self.end_reason: Optional[str] = None
        self._ws = None  # None before connect() and while re-attaching
        self._reader: Optional[asyncio.Task] = None
        self._cond = asyncio.Condition()
        self._events: collections.deque = collections.deque()
        self._connected = False
        self._ended = False
        self._closing = False
        # Ids sent and not yet acked or failed -> the future of an *_acked call, or None.
        self._outstanding: dict = {}
        # Frames handed to the WebSocket and not yet counted by the server ("received" in its
        # status frames): (index, payload), sent again after a re-attach. Bounded by bytes.
        self._sent = 0
        self._unconfirmed: collections.deque = collections.deque()
        self._unconfirmed_bytes = 0
        self._auto_ids = itertools.count(1)

    async def __aenter__(self) -> "SRMUDPWebSocketClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    # ---- Opening and closing

    async def connect(self) -> None:
        """Opens the WebSocket and returns after the server's first status frame. Raises
        SRMUDPError on a refused upgrade (status_code and the server's body set), an unreachable
        server or a timeout (SRMUDPTimeout)."""
        if self._connected:
            raise SRMUDPError("connect() was already called")
        self._connected = True
        try:
            ws, first = await self._open(last_seq=None)
            await self._adopt(ws, first)
        except SRMUDPError as error:
            await self._finish(str(error))
            raise
        except BaseException:
            await self._finish("connect() was interrupted")
            raise
        self._reader = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Closes the WebSocket (the server then closes the srmudp connection); acked sends still
        waiting fail with SRMUDPError. Safe to call more than once."""
        self._closing = True
        async with self._cond:
            self._cond.notify_all()  # a reader waiting for queue space gives up
        ws, reader = self._ws, self._reader
        if ws is not None:
            await ws.close()  # the reader sees the close and ends
        if reader is not None and not reader.done():
            if ws is None:
                reader.cancel()  # re-attaching: stop it
            await asyncio.wait([reader], timeout=5)
            if not reader.done():
                reader.cancel()
                await asyncio.wait([reader])
        await self._finish("closed by the client")

    @property
    def ended(self) -> bool:
        """True once the session is over (closed, failed, or re-attach gave up)."""
        return self._ended

    # ---- Sending

    async def send_text(self, text: str, id: Optional[MessageId] = None) -> None:
        """Sends a text message; with id, an Ack(id) or Error(id=id) event follows. Raises
        ValueError/TypeError for bad arguments, SRMUDPError if the session is over."""
        await self._send_frame(_text_frame(text), id)

    async def send_binary(self, data: bytes, id: Optional[MessageId] = None,
                          raw: bool = False) -> None:
        """Sends a binary message, base64 in a JSON frame or (raw=True, no id) as a binary
        WebSocket frame. Raises like send_text."""
        if raw:
            if id is not None:
                raise ValueError("a raw binary frame cannot carry an id")
            await self._send(bytes(data))
            return
        await self._send_frame(_binary_frame(data), id)

    async def send_text_acked(self, text: str, timeout: Optional[float] = 30.0) -> MessageId:
        """Sends text with a fresh id and waits until the peer acknowledged it; returns the id.
        Raises SRMUDPError with the server's message if it failed, SRMUDPTimeout on timeout."""
        return await self._send_acked(_text_frame(text), timeout)

    async def send_binary_acked(self, data: bytes, timeout: Optional[float] = 30.0) -> MessageId:
        """send_text_acked for a binary message (base64 in a JSON frame)."""
        return await self._send_acked(_binary_frame(data), timeout)

    async def _send_acked(self, frame: dict, timeout: Optional[float]) -> MessageId:
        message_id = f"auto-{next(self._auto_ids)}"
        while message_id in self._outstanding:  # the application's own ids may look alike
            message_id = f"auto-{next(self._auto_ids)}"
        acked = asyncio.get_running_loop().create_future()

        async def send_and_wait():  # the timeout covers waiting for a re-attach too
            await self._send_frame(frame, message_id, acked)
            await acked
        try:
            await asyncio.wait_for(send_and_wait(), timeout)
        except asyncio.TimeoutError:
            raise SRMUDPTimeout(f"no ack for message {message_id} within {timeout} s") from None
        finally:
            if self._outstanding.get(message_id) is acked:
                del self._outstanding[message_id]
            if acked.done() and not acked.cancelled():
                acked.exception()  # retrieved: when the send itself failed, its error counts
        return message_id

    async def _send_frame(self, frame: dict, message_id: Optional[MessageId],
                          acked: Optional[asyncio.Future] = None) -> None:
        if message_id is not None:
            check_message_id(message_id)
            if message_id in self._outstanding:
                raise ValueError(f"message id {message_id!r} is still waiting for its ack")
            frame["id"] = message_id
            # Registered before sending: the ack cannot overtake the registration.
            self._outstanding[message_id] = acked
        try:
            await self._send(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
        except BaseException:
            if message_id is not None and self._outstanding.get(message_id, 0) is acked:
                del self._outstanding[message_id]
            raise

    async def _send(self, payload: Union[str, bytes]) -> None:
        if not self._connected:
            raise SRMUDPError("call connect() first")
        while True:
            async with self._cond:
                await self._cond.wait_for(lambda: self._ws is not None or self._ended)
                if self._ended or self._closing:
                    raise SRMUDPError(f"the session is over: {self.end_reason or 'closed'}")
                ws = self._ws
            if not ws.open:
                # Dropped, and the reader has not noticed yet: wait for it to re-attach or end.
                async with self._cond:
                    await self._cond.wait_for(lambda: self._ws is not ws or self._ended)
                continue
            self._keep_for_resend(payload)
            try:
                # With the WebSocket open, send() writes the frame before its first await, so a
                # ConnectionClosed here came after the frame was handed to the socket: whether
                # the server took it, its count tells after the re-attach.
                await ws.send(payload)
            except ConnectionClosed:
                pass
            return

    def _keep_for_resend(self, payload: Union[str, bytes]) -> None:
        index = self._sent
        self._sent += 1
        if not (self.auto_reattach and self.client_id):
            return
        self._unconfirmed.append((index, payload))
        self._unconfirmed_bytes += len(payload)
        while self._unconfirmed_bytes > RESEND_LIMIT_BYTES and len(self._unconfirmed) > 1:
            _, dropped = self._unconfirmed.popleft()
            self._unconfirmed_bytes -= len(dropped)

    def _confirmed(self, received: int) -> None:
        """The server has taken our first `received` messages: they need no resend."""
        while self._unconfirmed and self._unconfirmed[0][0] < received:
            _, payload = self._unconfirmed.popleft()
            self._unconfirmed_bytes -= len(payload)

    async def _resend(self, ws, received: Optional[int]) -> None:
        """After a re-attach: sends again what the dropped WebSocket did not deliver."""
        if received is None:
            return  # a server without the count: nothing can be decided
        first = self._unconfirmed[0][0] if self._unconfirmed else self._sent
        if received < first:
            await self._handle(Error(f"{first - received} message(s) sent before the WebSocket "
                                     f"dropped were lost (more than the resend limit)"))
        for index, payload in list(self._unconfirmed):
            if index >= received:
                await ws.send(payload)

    # ---- Receiving

    async def events(self) -> AsyncIterator[Event]:
        """Every event in arrival order (data de-duplicated by seq); ends with the session."""
        while True:
            event = await self._next_event(None)
            if event is None:
                return
            yield event

    async def receive_data(self, timeout: Optional[float] = None) -> Data:
        """The next Data event; other events are skipped (their effect is still recorded in
        status, connection_id, stats). Raises SRMUDPTimeout, or SRMUDPError once the session is
        over and nothing is left."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            event = await self._next_event(left)
            if event is None:
                raise SRMUDPError(f"the session is over: {self.end_reason}")
            if isinstance(event, Data):
                return event

    async def wait_established(self, timeout: Optional[float] = None) -> None:
        """Returns once the status is UDP_ESTABLISHED. Raises SRMUDPError on ERROR or when the
        session is over, SRMUDPTimeout on timeout."""
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(
                    lambda: self.status in ("UDP_ESTABLISHED", "ERROR") or self._ended), timeout)
            except asyncio.TimeoutError:
                raise SRMUDPTimeout(f"not established within {timeout} s "
                                    f"(status {self.status})") from None
        if self.status != "UDP_ESTABLISHED":
            raise SRMUDPError(f"not established: {self.status_message or self.end_reason}")

    async def _next_event(self, timeout: Optional[float]) -> Optional[Event]:
        async with self._cond:
            try:
                await asyncio.wait_for(
                    self._cond.wait_for(lambda: self._events or self._ended), timeout)
            except asyncio.TimeoutError:
                raise SRMUDPTimeout(f"nothing received within {timeout} s") from None
            if not self._events:
                return None
            event = self._events.popleft()
            self._cond.notify_all()  # room in the queue for the reader
            return event

    # ---- The reader task: frames in, re-attach on a drop

    async def _run(self) -> None:
        reason = "closed by the client"
        try:
            while True:
                closed = await self._pump(self._ws)
                reason = self._describe_close(closed)
                if not self._should_reattach(closed):
                    break
                failure = await self._reattach()
                if failure is not None:
                    reason = failure
                    break
        finally:
            await self._finish(reason)

    async def _pump(self, ws) -> ConnectionClosed:
        while True:
            try:
                raw = await ws.recv()
            except ConnectionClosed as closed:
                return closed
            event = parse_frame(raw)
            if event is not None:
                await self._handle(event)

    def _should_reattach(self, closed: ConnectionClosed) -> bool:
        # Only a drop (no close frame from the server) is re-attached: the server closes on
        # purpose after ERROR (1011), on shutdown (1001), when idle (1000), for bad frames
        # (1008/1009) and when another WebSocket took the session over (4000).
        return (self.auto_reattach and bool(self.client_id) and not self._closing
                and closed.rcvd is None and self.status != "ERROR")

    def _describe_close(self, closed: ConnectionClosed) -> str:
        if self._closing:
            return "closed by the client"
        if closed.rcvd is None:
            return "the WebSocket dropped"
        reason = f" ({closed.rcvd.reason})" if closed.rcvd.reason else ""
        return f"the server closed the WebSocket with code {closed.rcvd.code}{reason}"

    async def _reattach(self) -> Optional[str]:
        """Reconnects with client_id and last_seq; None on success, else why it gave up."""
        async with self._cond:
            self._ws = None
            self._cond.notify_all()
        delay = REATTACH_FIRST_DELAY_S
        failure = "no attempts allowed"
        for _ in range(self.reattach_attempts):
            await asyncio.sleep(delay)
            delay = min(delay * 2, REATTACH_MAX_DELAY_S)
            if self._closing:
                return "closed by the client"
            try:
                ws, first = await self._open(last_seq=self.last_seq)
            except SRMUDPError as error:
                failure = f"re-attach failed: {error}"
                if not error.retryable:
                    return failure
                continue
            if self._closing:
                await ws.close()
                return "closed by the client"
            self.reattaches += 1
            await self._adopt(ws, first)
            return None
        return f"{failure} (gave up after {self.reattach_attempts} attempts)"

    async def _adopt(self, ws, first: list) -> None:
        """Makes ws the session's WebSocket, after checking the session survived the drop."""
        status = first[-1]
        lost = self.connection_id is not None and status.connection_id != self.connection_id
        if lost:
            await self._lost_session(status.connection_id)
        for event in first:
            await self._handle(event)
        if not lost:
            await self._resend(ws, status.received)
        async with self._cond:
            self._ws = ws
            self._cond.notify_all()

    async def _lost_session(self, new_id: str) -> None:
        # The server no longer had our session (grace period over, or it restarted) and began a
        # new one: its seq starts again at 1, and messages in flight will never be acked.
        self.last_seq = 0
        self._sent = 0
        self._unconfirmed.clear()
        self._unconfirmed_bytes = 0
        message = (f"message lost: the WebSocket dropped and the server started a new session "
                   f"{new_id} instead of {self.connection_id}")
        for message_id in list(self._outstanding):
            await self._handle(Error(message, message_id))

    async def _handle(self, event: Event) -> None:
        async with self._cond:
            if isinstance(event, Data) and event.seq is not None:
                if event.seq <= self.last_seq:
                    return  # replayed after a re-attach, already delivered
                self.last_seq = event.seq
            elif isinstance(event, Status):
                self.status, self.status_message = event.status, event.message
                self.connection_id = event.connection_id or self.connection_id
                self.stats = event.stats if event.stats is not None else self.stats
                if event.received is not None:
                    self._confirmed(event.received)
            elif isinstance(event, (Ack, Error)) and event.id is not None:
                self._resolve(event)
            self._cond.notify_all()
            await self._cond.wait_for(
                lambda: len(self._events) < self._max_events or self._closing)
            self._events.append(event)
            self._cond.notify_all()

    def _resolve(self, event: Union[Ack, Error]) -> None:
        if event.id not in self._outstanding:
            return
        waiter = self._outstanding.pop(event.id)
        if waiter is None or waiter.done():
            return
        if isinstance(event, Ack):
            waiter.set_result(None)
        else:
            waiter.set_exception(SRMUDPError(f"message {event.id} failed: {event.message}"))

    async def _finish(self, reason: str) -> None:
        async with self._cond:
            if self._ended:
                return
            self._ended = True
            self.end_reason = reason
            self._ws = None
            for waiter in self._outstanding.values():
                if waiter is not None and not waiter.done():
                    waiter.set_exception(SRMUDPError(f"no ack before the session ended: {reason}"))
            self._outstanding.clear()
            self._cond.notify_all()

    # ---- Opening one WebSocket

    def _url_and_headers(self, last_seq: Optional[int]):
        params = [("remote_host", self.remote_host), ("remote_port", str(self.remote_port))]
        if self.client_id:
            params.append(("client_id", self.client_id))
        if last_seq is not None:
            params.append(("last_seq", str(last_seq)))
        headers = {}
        if self._key_in_url:
            params.append(("encryption_key", self._key))
        else:
            headers["X-Encryption-Key"] = self._key
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        return build_proxy_url(self.ws_url, params), headers

    def _where(self) -> str:
        parts = urllib.parse.urlsplit(self.ws_url)
        host = parts.netloc.rpartition("@")[2]  # never show user:password
        return f"{parts.scheme}://{host}{parts.path}"

    async def _open(self, last_seq: Optional[int]):
        """Opens a WebSocket and reads up to its first status frame: (ws, [events...])."""
        url, headers = self._url_and_headers(last_seq)
        try:
            ws = await websockets.connect(url, extra_headers=headers,
                                          open_timeout=self.open_timeout,
                                          max_size=MAX_FRAME_BYTES, create_protocol=_Protocol)
        except _RejectedUpgrade as refused:
            body = redact(refused.body, (self._key, self._token))
            raise SRMUDPError(f"the server refused the WebSocket: HTTP {refused.status_code}: "
                              f"{body}", status_code=refused.status_code, body=body,
                              retryable=refused.status_code in RETRYABLE_HTTP) from None
        except InvalidURI:
            raise SRMUDPError(f"invalid WebSocket URL {self._where()!r}") from None
        except asyncio.TimeoutError:
            raise SRMUDPTimeout(f"opening the WebSocket to {self._where()} timed out after "
                                f"{self.open_timeout} s", retryable=True) from None
        except (OSError, InvalidHandshake) as error:
            text = redact(str(error), (self._key, self._token))
            raise SRMUDPError(f"cannot open the WebSocket to {self._where()}: {text}",
                              retryable=True) from None
        try:
            return ws, await self._first_frames(ws)
        except BaseException:
            await ws.close()
            raise

    async def _first_frames(self, ws) -> list:
        """The server's frames up to and including its first status frame."""
        frames = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.open_timeout
        while not frames or not isinstance(frames[-1], Status):
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise SRMUDPTimeout(f"no status frame from {self._where()} within "
                                    f"{self.open_timeout} s", retryable=True) from None
            except ConnectionClosed as closed:
                raise SRMUDPError(f"{self._describe_close(closed)} before its first status "
                                  f"frame", retryable=closed.rcvd is None) from None
            event = parse_frame(raw)
            if event is not None:
                frames.append(event)
        return frames


# ---- CLI ------------------------------------------------------------------------------------

HEX_PREFIX_BYTES = 32
MAX_LINE_BYTES = 16 << 20


def shown(text: str) -> str:
    """text with control characters escaped, so a peer cannot drive the terminal."""
    return "".join(c if not (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) else f"\\x{ord(c):02x}"
                   for c in text)


def describe(event: Event) -> str:
    """One output line for an event."""
    if isinstance(event, Status):
        return f"[status {event.status}] {shown(event.message)}"
    if isinstance(event, Ack):
        return f"[ack] {event.id}"
    if isinstance(event, Error):
        suffix = "" if event.id is None else f" (id {event.id})"
        return f"[error] {shown(event.message)}{suffix}"
    if event.format == "text":
        return f"[text] {shown(event.data)}"
    more = "..." if len(event.data) > HEX_PREFIX_BYTES else ""
    return f"[binary {len(event.data)} bytes] {event.data[:HEX_PREFIX_BYTES].hex()}{more}"


class CliSession:
    """The CLI's bookkeeping: prints events, tracks the ids it sent until acked or failed."""

    def __init__(self, client: SRMUDPWebSocketClient, verbose: bool, secrets):
        self.client = client
        self.verbose = verbose
        self.secrets = secrets
        self.pending: set = set()
        self.failures = 0
        self.changed = asyncio.Condition()
        self.over = asyncio.Event()  # the session ended and every event was printed
        self.last_status = None

    def out(self, line: str) -> None:
        print(redact(line, self.secrets), flush=True)

    async def print_events(self) -> None:
        async for event in self.client.events():
            if isinstance(event, Status) and event.status == self.last_status and not self.verbose:
                continue  # the regular status frames repeat the same status
            if isinstance(event, Status):
                self.last_status = event.status
            self.out(describe(event))
            if isinstance(event, (Ack, Error)) and event.id in self.pending:
                self.pending.discard(event.id)
                self.failures += isinstance(event, Error)
            async with self.changed:
                self.changed.notify_all()
        self.over.set()
        async with self.changed:
            self.changed.notify_all()

    async def send(self, message_id: int, payload: Union[str, bytes], binary: bool) -> None:
        self.pending.add(message_id)
        if binary:
            await self.client.send_binary(payload, id=message_id)
        else:
            await self.client.send_text(payload, id=message_id)

    async def wait_acks(self, timeout: float) -> bool:
        """True if every id sent was acked in time; counts the rest as failures."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(
                    lambda: not self.pending or self.client.ended), timeout)
            except asyncio.TimeoutError:
                pass
        if self.pending:
            self.out(f"[error] no ack for {sorted(self.pending, key=str)} "
                     f"({self.client.end_reason or f'within {timeout} s'})")
            self.failures += len(self.pending)
            self.pending.clear()
        return self.failures == 0


def line_payload(line: bytes, binary_hex: bool) -> Union[str, bytes]:
    """A stdin line (without its newline) as a message; ValueError if it is not one."""
    if binary_hex:
        return bytes.fromhex(line.decode("ascii", "replace"))
    return line.decode("utf-8")


def split_lines(fd: int, put) -> None:
    """Reads fd to its end and calls put() with each line (bytes, without its newline), a
    ValueError for a line above MAX_LINE_BYTES (skipped), and None at the end."""
    parts, size, skipping = [], 0, False
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        while chunk:
            newline = chunk.find(b"\n")
            piece, chunk = (chunk, b"") if newline < 0 else (chunk[:newline], chunk[newline + 1:])
            if not skipping:
                parts.append(piece)
                size += len(piece)
                if size > MAX_LINE_BYTES:
                    put(ValueError(f"longer than {MAX_LINE_BYTES} bytes"))
                    parts, size, skipping = [], 0, True
            if newline >= 0:
                if not skipping:
                    put(b"".join(parts))
                parts, size, skipping = [], 0, False
    if parts and not skipping:
        put(b"".join(parts))  # a last line without a newline
    put(None)


def start_stdin_reader(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue) -> None:
    """Reads stdin lines in a daemon thread (pipes, files and terminals alike) into a bounded
    queue. It reads the file descriptor itself: a thread blocked inside sys.stdin would hold its
    buffer lock and make the interpreter abort at exit."""
    def put(item) -> None:
        asyncio.run_coroutine_threadsafe(lines.put(item), loop).result()

    def run() -> None:
        try:
            split_lines(sys.stdin.fileno(), put)
        except (RuntimeError, OSError, ValueError):
            pass  # the event loop is gone (the program is ending) or stdin is unusable

    threading.Thread(target=run, name="stdin", daemon=True).start()


async def next_line(lines: asyncio.Queue, over: asyncio.Event):
    """The next stdin line, or the over marker once the session is over (no more waiting for a
    person to type)."""
    getter = asyncio.ensure_future(lines.get())
    ended = asyncio.ensure_future(over.wait())
    await asyncio.wait((getter, ended), return_when=asyncio.FIRST_COMPLETED)
    ended.cancel()
    if getter.done():
        return getter.result()
    getter.cancel()
    return over


async def run_interactive(session: CliSession, args) -> int:
    lines: asyncio.Queue = asyncio.Queue(maxsize=64)
    start_stdin_reader(asyncio.get_running_loop(), lines)
    for number in itertools.count(1):
        line = await next_line(lines, session.over)
        if line is None:
            break
        if session.over.is_set():
            session.out(f"[error] the session is over: {session.client.end_reason}")
            return 1
        try:
            if isinstance(line, ValueError):
                raise line
            payload = line_payload(line.rstrip(b"\r"), args.binary_hex)
        except ValueError as error:
            session.out(f"[error] line {number} not sent: {error}")
            session.failures += 1
            continue
        try:
            await session.send(number, payload, args.binary_hex)
        except SRMUDPError as error:
            session.out(f"[error] {error}")
            return 1
    return 0 if await session.wait_acks(args.ack_timeout) else 1


async def run_once(session: CliSession, args) -> int:
    try:
        payload = line_payload(args.once.encode("utf-8", "surrogateescape"), args.binary_hex)
        await session.send(1, payload, args.binary_hex)
    except (ValueError, SRMUDPError) as error:
        session.out(f"[error] {error}")
        return 1
    if not await session.wait_acks(args.ack_timeout):
        return 1
    await asyncio.sleep(args.linger)
    return 0


async def run_cli(args, key: str, token: Optional[str]) -> int:
    client = SRMUDPWebSocketClient(args.ws_url, args.remote_host, args.remote_port, key,
                                   client_id=args.client_id, token=token,
                                   key_in_url=args.key_in_url, auto_reattach=not args.no_reattach,
                                   open_timeout=args.open_timeout)
    session = CliSession(client, args.verbose, (key, token))
    try:
        await client.connect()
    except SRMUDPError as error:
        print(redact(f"error: {error}", session.secrets), file=sys.stderr, flush=True)
        return 1
    printer = asyncio.create_task(session.print_events())
    try:
        if args.wait_established is not None:
            try:
                await client.wait_established(args.wait_established)
            except SRMUDPError as error:
                session.out(f"[error] {error}")
                return 1
        return await (run_once(session, args) if args.once is not None
                      else run_interactive(session, args))
    finally:
        await client.close()
        try:
            await asyncio.wait_for(printer, 5)
        except asyncio.TimeoutError:
            pass


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Talk to a UDP peer through the srmudp WebSocket proxy. Each stdin line is "
                    "sent as one message; what arrives is printed.")
    parser.add_argument("--ws-url", required=True,
                        help="the proxy's WebSocket URL, e.g. ws://127.0.0.1:8000/v0/ws/proxy")
    parser.add_argument("--remote-host", required=True, help="the peer's IP address")
    parser.add_argument("--remote-port", required=True, type=int, help="the peer's UDP port")
    parser.add_argument("--encryption-key",
                        help="the shared key (default: environment variable SRMUDP_KEY)")
    parser.add_argument("--client-id", help="client id for re-attaching (default: random)")
    parser.add_argument("--token", help="bearer token (default: environment SRMUDP_TOKEN)")
    parser.add_argument("--key-in-url", action="store_true",
                        help="send the key in the URL instead of the X-Encryption-Key header")
    parser.add_argument("--no-reattach", action="store_true",
                        help="end when the WebSocket drops instead of re-attaching")
    parser.add_argument("--binary-hex", action="store_true",
                        help="lines are hex; send them as binary messages")
    parser.add_argument("--wait-established", type=float, metavar="SECONDS",
                        help="wait this long for UDP_ESTABLISHED before sending")
    parser.add_argument("--once", metavar="TEXT",
                        help="send TEXT, wait for its ack, print what arrives for --linger s")
    parser.add_argument("--linger", type=float, default=2.0, metavar="SECONDS")
    parser.add_argument("--ack-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--open-timeout", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--verbose", action="store_true",
                        help="print every status frame, also the regular ones with stats")
    args = parser.parse_args(argv)
    key = args.encryption_key or os.environ.get("SRMUDP_KEY")
    if not key:
        parser.error("no key: give --encryption-key or set SRMUDP_KEY")
    return args, key, args.token or os.environ.get("SRMUDP_TOKEN")


def main(argv=None) -> int:
    args, key, token = parse_args(argv)
    try:
        return asyncio.run(run_cli(args, key, token))
    except ValueError as error:  # a key or token the client refuses to send
        print(f"error: {redact(str(error), (key, token))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
