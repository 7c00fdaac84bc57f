"""What stands between the network and the page's app: a body limit, security headers, rate
limits. Pure ASGI middleware, so a refused request costs no more than its headers."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable

MAX_BODY = 16 * 1024  # bytes: an answer is about 200

#: The page loads only its own files; nobody frames it; a token in a URL never leaves it.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        b"form-action 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NO_STORE = (b"cache-control", b"no-store")  # unless the app says how long a response keeps


def _json_refusal(status: int, message: str) -> list[dict]:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, *SECURITY_HEADERS, NO_STORE],
        },
        {"type": "http.response.body", "body": body},
    ]


class Guard:
    """Security headers on every response; 413 for a body over `max_body` bytes, before it
    is read (by its Content-Length) or as soon as it passes the limit (a chunked body)."""

    def __init__(self, app, max_body: int = MAX_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        too_big = f"body: over {self.max_body:,} bytes"
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_body:
            for message in _json_refusal(413, too_big if length.isdigit() else "bad length"):
                await send(message)
            return
        received = 0
        refused = False

        async def limited_receive():
            # A chunked body over the limit: refuse it here and tell the app the client left
            # (what it then sends is dropped).
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body and not refused:
                    refused = True
                    for refusal in _json_refusal(413, too_big):
                        await send(refusal)
                    return {"type": "http.disconnect"}
            return message

        async def secured_send(message):
            if refused:
                return
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, limited_receive, secured_send)


class RateLimit:
    """At most `per_key` events per key and `total` events in all within `window` seconds
    (sliding windows)."""

    def __init__(
        self, per_key: int, total: int, window: float = 60.0, clock: Callable = time.monotonic
    ) -> None:
        self.per_key, self.total, self.window, self.clock = per_key, total, window, clock
        self._by_key: dict[str, deque] = {}
        self._all: deque = deque()

    def allow(self, key: str) -> bool:
        """Count an event of `key` when both limits allow it; False (not counted) otherwise."""
        now = self.clock()
        mine = self._by_key.setdefault(key, deque())
        for events in (mine, self._all):
            while events and events[0] <= now - self.window:
                events.popleft()
        if len(mine) >= self.per_key or len(self._all) >= self.total:
            return False
        mine.append(now)
        self._all.append(now)
        if len(self._by_key) > 10_000:  # forget addresses with nothing in the window
            self._by_key = {k: v for k, v in self._by_key.items() if v}
        return True
