"""A rate limit sent to Redis as the request starts, its answer read before anything is written.

Flask-Limiter (`extensions.limiter`) checks a route's limit before the view runs and waits for
Redis's answer: a blocking round trip at the head of the request. The final submit, the
journey's busiest POST, checks its limit this way instead: the hit goes to Redis at once, the view
checks the declaration and its CSRF token meanwhile (and reads the draft, when it must), and
Redis's answer, by then usually arrived, is read before the claim. benchmarks/RESULTS.md says
what it saved. The price: a POST over the limit may be refused after the draft's SELECT, not
before it (one indexed read, as reading the check answers page costs, which is not limited).

For this limit it keeps what the service uses of Flask-Limiter (tests/app/test_deferred_limit.py):
- a moving window (the service's RATELIMIT_STRATEGY) of the limit in the config (e.g.
  APPLY_SUBMIT_RATE_LIMIT = "20 per hour"; the service does not start with one it cannot read),
  per client address (`remote_addr`, as ProxyFix sets it), counted in Redis when
  RATELIMIT_STORAGE_URI is a redis://, rediss:// or unix:// URL (with RATELIMIT_STORAGE_OPTIONS
  for redis-py), so every worker and host shares it, else (memory://) in this process;
- every POST counts, whatever becomes of it; one over the limit is refused with a 429 page saying
  when to come back (Retry-After), logged without the address, and nothing is written;
- when Redis cannot be used, each process counts in its own memory (a warning, no address) and
  asks Redis again after a back-off of 1 to 32 seconds (as RATELIMIT_IN_MEMORY_FALLBACK_ENABLED
  does, which the service turns on): applicants are not refused because the counter store blinked;
- RATELIMIT_ENABLED = False turns it off; its Redis keys are named as Flask-Limiter's are
  ("LIMITS:LIMITER/<RATELIMIT_KEY_PREFIX>/<address>/<endpoint>/<limit>"), so `limiter.reset()`
  clears them too.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from time import monotonic
from typing import Any

import redis
from flask import Flask, current_app, request
from limits import RateLimitItem, parse, parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.connection import AbstractConnection
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

# One hit on a moving-window limit, in one step on the Redis server. KEYS[1]: the times of the
# hits taken, newest first, at most `limit` of them; a hit `window` seconds old or less is in the
# window (as in the limits library). Returns 0 when this hit is taken, else the whole seconds
# until one more would be (the oldest of the window's hits leaves it).
SCRIPT = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local oldest = redis.call('LINDEX', KEYS[1], limit - 1)
if oldest and tonumber(oldest) >= now - window then
    return math.max(1, math.ceil(tonumber(oldest) + window - now))
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, limit - 1)
redis.call('EXPIRE', KEYS[1], window)
return 0
"""
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()
LONGEST_BACK_OFF = 32.0  # seconds between tries of a Redis that is down, at most
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
Key = tuple[str, ...]  # RATELIMIT_KEY_PREFIX (if set), client address, endpoint


class DeferredLimit:
    """One route's limit, its hit sent before the view's work and its answer read after."""

    def __init__(self, endpoint: str, setting: str) -> None:
        self.endpoint = endpoint
        self.setting = setting  # the config key holding the limit, e.g. "20 per hour"

    def init_app(self, app: Flask) -> None:
        """Check the settings (a limit or storage it cannot use stops the start, not the first
        submit) and set up this app's counters."""
        setting = str(app.config[self.setting])
        try:
            items = parse_many(setting)
        except ValueError:
            items = []
        if len(items) != 1 or items[0].amount < 1:
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
        key = (
            (counters.prefix, address, self.endpoint)
            if counters.prefix
            else (address, self.endpoint)
        )
        return counters.hit(self, item, key)


class PendingHit:
    """A hit on the limit whose answer may not yet be read."""

    def __init__(
        self, limit: DeferredLimit, item: RateLimitItem | None, refused_for: int | None
    ) -> None:
        self.limit = limit
        self.item = item
        self.refused_for = refused_for  # seconds until one more hit is taken; None: taken
        self._read: Callable[[], int | None] | None = None  # the answer, while on its way

    def enforce(self) -> None:
        """Raise TooManyRequests (a 429, with Retry-After) if the limit refused this hit,
        reading Redis's answer first if it is not read yet."""
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

    def enforce_if_known(self) -> None:
        """`enforce()` if the answer is known without waiting (counted in memory): a refused
        POST then does nothing else, as with Flask-Limiter."""
        if self._read is None:
            self.enforce()

    def close(self) -> None:
        """Read the answer if the view never did (it failed), so the connection goes back to the
        pool ready for its next command; the hit stays counted."""
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
    while it cannot be used). Per process, like Flask-Limiter's own fall-back."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.enabled = bool(config.get("RATELIMIT_ENABLED", True))
        self.prefix = str(config.get("RATELIMIT_KEY_PREFIX") or "")
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
        self.pool: redis.ConnectionPool | None = None
        if not uri.startswith("memory://"):
            self.pool = _redis_pool(uri, dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {}))
        self._down = False
        self._retry_at = 0.0
        self._back_off = 1.0

    def hit(self, limit: DeferredLimit, item: RateLimitItem, key: Key) -> PendingHit:
        pending = PendingHit(limit, item, None)
        pool = self.pool
        probe = self._down  # Redis was down: this hit asks whether it is back
        if pool is None or (probe and monotonic() < self._retry_at):
            pending.refused_for = self._memory_hit(item, key)
            return pending
        # The key as Flask-Limiter's Redis storage names its own: "LIMITS:LIMITER/prefix/...".
        redis_key = f"{RedisStorage.PREFIX}:{item.key_for(*key)}"
        arguments = (redis_key, repr(time.time()), item.amount, item.get_expiry())
        connection = None
        try:
            connection = pool.get_connection()
            connection.send_command("EVALSHA", SCRIPT_SHA, 1, *arguments)
        except Exception as error:  # whatever Redis does: count in memory
            self._unusable(error, pool, connection, probe)
            pending.refused_for = self._memory_hit(item, key)
            return pending

        def read() -> int | None:
            return self._answer(pool, connection, arguments, item, key, probe)

        pending._read = read
        return pending

    def _answer(
        self,
        pool: redis.ConnectionPool,
        connection: AbstractConnection,
        arguments: tuple[Any, ...],
        item: RateLimitItem,
        key: Key,
        probe: bool,
    ) -> int | None:
        held: AbstractConnection | None = connection  # None once back in the pool
        try:
            try:
                answer = connection.read_response()
            except redis.exceptions.NoScriptError:
                # Redis restarted or its scripts were flushed: this once, send the script itself
                # (which also loads it for the next EVALSHA).
                pool.release(connection)
                held = None
                answer = redis.Redis(connection_pool=pool).eval(SCRIPT, 1, *arguments)
        except Exception as error:  # whatever Redis does: count in memory
            self._unusable(error, pool, held, probe)
            return self._memory_hit(item, key)
        except BaseException:  # interrupted: the answer is unread, so the connection is spoilt
            if held is not None:
                held.disconnect()
                pool.release(held)
            raise
        if held is not None:
            pool.release(held)
        if self._down:
            self._down = False
            self._back_off = 1.0
            log.info("Rate limit storage recovered: %s counted in Redis again", item)
        return int(answer) or None

    def _unusable(
        self,
        error: Exception,
        pool: redis.ConnectionPool,
        connection: AbstractConnection | None,
        probe: bool,
    ) -> None:
        if connection is not None:
            connection.disconnect()
            pool.release(connection)
        if not self._down:
            log.warning(
                "Rate limit storage unreachable (%s) - counting in this process's memory",
                type(error).__name__,
            )
            self._down = True
        elif not probe:
            return  # sent before Redis was found down (another thread): the back-off stands
        self._retry_at = monotonic() + self._back_off
        self._back_off = min(self._back_off * 2, LONGEST_BACK_OFF)

    def _memory_hit(self, item: RateLimitItem, key: Key) -> int | None:
        if self.memory.hit(item, *key):
            return None
        reset_at = self.memory.get_window_stats(item, *key).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def _redis_pool(uri: str, options: dict[str, Any]) -> redis.ConnectionPool:
    """The pool of connections to the counters' Redis, its settings checked (nothing connects
    yet; each gunicorn worker makes its own connections, as redis-py's pool does after a fork)."""
    if not uri.startswith(REDIS_SCHEMES):
        raise ValueError(
            "RATELIMIT_STORAGE_URI must be memory:// or a Redis URL "
            f"({', '.join(REDIS_SCHEMES)}), not {uri.split(':', 1)[0]}:"
        )
    try:
        pool = redis.ConnectionPool.from_url(uri, **options)
        pool.connection_class(**pool.connection_kwargs)  # unknown options fail here, at start
    except (TypeError, ValueError) as error:
        raise ValueError(f"RATELIMIT_STORAGE_URI or RATELIMIT_STORAGE_OPTIONS: {error}") from error
    return pool
