"""A plain HTTP client of a Server-Sent Events stream, read line by line from a real socket."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

#: What :meth:`EventStream.next` gives for a ``: ping`` comment.
PING = ("ping", None)


class EventStream:
    """``GET path`` on the server at ``base``: the status, the headers, then its events one by one."""

    def __init__(
        self, base: str, path: str, headers: dict[str, str], timeout: float = 20, **params: str
    ) -> None:
        where = urlsplit(base)
        self.connection = http.client.HTTPConnection(where.hostname, where.port, timeout=timeout)
        self.connection.request("GET", path + ("?" + urlencode(params) if params else ""), headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers

    def json(self) -> Any:
        """The body of an answer that is no stream."""
        return json.loads(self.response.read())

    def next(self, timeout: float | None = None) -> tuple[str, Any]:
        """The next event, its name and its JSON body, or :data:`PING`; ``("end", None)`` when the
        server ended the stream. Past ``timeout`` seconds, ``TimeoutError``."""
        sock = self.connection.sock
        if timeout is not None and sock is not None:
            sock.settimeout(timeout)
        event, data = None, None
        while True:
            try:
                line = self.response.readline().decode()
            except TimeoutError:
                raise TimeoutError from None
            if line == "":
                return ("end", None)
            line = line.rstrip("\n")
            if line == ": ping":
                return PING
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
            elif line == "" and event is not None:
                return event, data

    def next_event(self, timeout: float) -> tuple[str, Any]:
        """The next event that is no ping, within ``timeout`` seconds (else ``TimeoutError``)."""
        until = time.monotonic() + timeout
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError
            found = self.next(left)
            if found != PING:
                return found

    def close(self) -> None:
        """Hang up: the response holds the socket too."""
        self.response.close()
        self.connection.close()
