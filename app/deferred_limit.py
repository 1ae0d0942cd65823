"""A rate limit sent to Redis as the request starts, its answer read before anything is written.

Flask-Limiter (`extensions.limiter`) checks a route's limit before the view runs and waits for
Redis's answer: a blocking round trip at the head of the request. The final submit, the
journey's busiest POST, checks its limit this way instead: the hit goes to Redis at once, the view
reads the draft from the database meanwhile, and Redis's answer, by then almost always arrived, is
read before the claim. One wait fewer for the request; see benchmarks/RESULTS.md for what it saves.

It keeps Flask-Limiter's behaviour for this limit (tests/app/test_deferred_limit.py):
- a moving window of the limit set in the config (e.g. APPLY_SUBMIT_RATE_LIMIT = "20 per hour"),
  per client address (`remote_addr`, as ProxyFix sets it), counted in Redis when
  RATELIMIT_STORAGE_URI is a Redis URL, so every worker and host shares it, else in memory;
- every POST counts, whatever becomes of it; one over the limit is refused with a 429 page saying
  when to come back (Retry-After), logged without the address, and nothing is written;
- when Redis cannot be reached, each process counts in its own memory (a warning, no address)
  and asks Redis again after a back-off of 1 to 32 seconds: applicants are never refused because
  the counter store blinked;
- RATELIMIT_ENABLED = False turns it off; its Redis keys have the shape Flask-Limiter's have
  (the storage's prefix, RATELIMIT_KEY_PREFIX, address, endpoint, limit), so
  `limiter.reset()` clears them too.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

import redis
from flask import Flask, current_app, request
from limits import RateLimitItem, parse, parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

# One hit on a moving-window limit, in one step on the Redis server. KEYS[1]: the times of the
# hits taken, newest first, at most `limit` of them. Returns 0 when this hit is taken, else the
# whole seconds until one more would be (the oldest of the window's hits leaves it).
SCRIPT = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local oldest = redis.call('LINDEX', KEYS[1], limit - 1)
if oldest and tonumber(oldest) > now - window then
    return math.max(1, math.ceil(tonumber(oldest) + window - now))
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, limit - 1)
redis.call('EXPIRE', KEYS[1], window)
return 0
"""
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()
LONGEST_BACK_OFF = 32.0  # seconds between tries of a Redis that is down, at most
Key = tuple[str, str, str]  # RATELIMIT_KEY_PREFIX, client address, endpoint


class DeferredLimit:
    """One route's limit, its hit sent before the view's work and its answer read after."""

    def __init__(self, endpoint: str, setting: str) -> None:
        self.endpoint = endpoint
        self.setting = setting  # the config key holding the limit, e.g. "20 per hour"

    def init_app(self, app: Flask) -> None:
        setting = str(app.config[self.setting])
        try:
            one = len(parse_many(setting)) == 1
        except ValueError:
            one = False
        if not one:  # at start, not at the first submit
            raise ValueError(
                f"{self.setting} = {setting!r} is not one rate limit: write, for example, "
                "'20 per hour'"
            )
        app.extensions[f"deferred_limit:{self.endpoint}"] = _Counters(app.config)

    def hit(self) -> PendingHit:
        """Count this request. The answer is the returned hit's: call its `enforce()` before
        writing anything, and on every other way out of the view; use it as a context manager."""
        counters: _Counters = current_app.extensions[f"deferred_limit:{self.endpoint}"]
        if not counters.enabled:
            return PendingHit(self, None, None)
        item = _parsed(str(current_app.config[self.setting]))
        address = request.remote_addr or "127.0.0.1"
        return counters.hit(self, item, (counters.prefix, address, self.endpoint))


class PendingHit:
    """A hit on the limit whose answer may not yet be read."""

    def __init__(
        self, limit: DeferredLimit, item: RateLimitItem | None, refused_for: int | None
    ) -> None:
        self.limit = limit
        self.item = item
        self.refused_for = refused_for  # seconds until one more hit is taken; None: taken
        self._read: Any = None  # reads the answer, while it is still on its way

    def enforce(self) -> None:
        """Raise TooManyRequests (a 429, with Retry-After) if the limit refused this hit."""
        if self._read is not None:
            read, self._read = self._read, None
            self.refused_for = read()
        if self.refused_for:
            log.info(
                "ratelimit %s (address withheld) exceeded at endpoint: %s",
                self.item,
                self.limit.endpoint,
            )
            raise TooManyRequests(retry_after=self.refused_for)

    def close(self) -> None:
        """Read the answer if the view never did (it failed), so the connection can go back to
        the pool; the hit stays counted."""
        if self._read is not None:
            read, self._read = self._read, None
            self.refused_for = read()

    def __enter__(self) -> PendingHit:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_items: dict[str, RateLimitItem] = {}


def _parsed(limit: str) -> RateLimitItem:
    item = _items.get(limit)
    if item is None:
        item = _items[limit] = parse(limit)
    return item


class _Counters:
    """Where one app's hits are counted: Redis, or this process's memory (also Redis's stand-in
    while it cannot be reached). Per process, like Flask-Limiter's own fall-back."""

    def __init__(self, config: Any) -> None:
        self.enabled = bool(config.get("RATELIMIT_ENABLED", True))
        self.prefix = str(config.get("RATELIMIT_KEY_PREFIX") or "")
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
        self.redis_uri = None if uri.startswith("memory://") else uri
        self.redis_options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        self._pool: Any = None  # made at the first hit, in the worker that sends it
        self._down = False
        self._retry_at = 0.0
        self._back_off = 1.0

    def hit(self, limit: DeferredLimit, item: RateLimitItem, key: Key) -> PendingHit:
        pending = PendingHit(limit, item, None)
        if self.redis_uri is None or (self._down and time.monotonic() < self._retry_at):
            pending.refused_for = self._memory_hit(item, key)
            return pending
        # The key as Flask-Limiter's Redis storage names its own: "LIMITS:LIMITER/prefix/...".
        redis_key = f"{RedisStorage.PREFIX}:{item.key_for(*key)}"
        arguments = (redis_key, repr(time.time()), item.amount, item.get_expiry())
        connection = None
        try:
            connection = self._connection()
            connection.send_command("EVALSHA", SCRIPT_SHA, 1, *arguments)
        except (redis.RedisError, OSError) as error:
            self._unreachable(error, connection)
            pending.refused_for = self._memory_hit(item, key)
            return pending

        def read() -> int | None:
            return self._answer(connection, arguments, item, key)

        pending._read = read
        return pending

    def _connection(self) -> Any:
        if self._pool is None:
            client = redis.Redis.from_url(self.redis_uri, **self.redis_options)
            self._pool = client.connection_pool
        return self._pool.get_connection()

    def _answer(
        self, connection: Any, arguments: tuple[Any, ...], item: RateLimitItem, key: Key
    ) -> int | None:
        try:
            try:
                answer = connection.read_response()
            except redis.exceptions.NoScriptError:
                # Redis restarted or its scripts were flushed: this once, send the script itself
                # (which also loads it for the next EVALSHA).
                self._pool.release(connection)
                connection = None
                answer = redis.Redis(connection_pool=self._pool).eval(SCRIPT, 1, *arguments)
        except (redis.RedisError, OSError) as error:
            self._unreachable(error, connection)
            return self._memory_hit(item, key)
        if connection is not None:
            self._pool.release(connection)
        if self._down:
            self._down = False
            self._back_off = 1.0
            log.info("Rate limit storage recovered: %s counted in Redis again", item)
        return int(answer) or None

    def _unreachable(self, error: Exception, connection: Any) -> None:
        if connection is not None:
            connection.disconnect()
            self._pool.release(connection)
        if not self._down:
            log.warning(
                "Rate limit storage unreachable (%s) - counting in this process's memory",
                type(error).__name__,
            )
            self._down = True
        self._retry_at = time.monotonic() + self._back_off
        self._back_off = min(self._back_off * 2, LONGEST_BACK_OFF)

    def _memory_hit(self, item: RateLimitItem, key: Key) -> int | None:
        if self.memory.hit(item, *key):
            return None
        reset_at = self.memory.get_window_stats(item, *key).reset_time
        return max(1, math.ceil(reset_at - time.time()))
