"""The web benchmark's client and its CPU accounting.

The client is one asyncio event loop, in the benchmark's own process, that keeps `clients`
requests in flight: each opens a connection (gunicorn's sync workers close every connection
after one response), writes a request prepared in advance and reads the response to its end,
through a bare protocol rather than asyncio's streams.
It needs a fraction of a millisecond of CPU per request, where `requests` with one thread per
client needed several: on two cores shared by client, server and database, a heavy client takes
CPU from the server it measures and flattens the difference between the endpoints compared.

The CPU accounting reads each process's user + system time from /proc before and after a level:
this process (the client), the gunicorn master and workers, and the PostgreSQL backends serving
the benchmark's database. What the rest of the machine used in the meantime is reported too: the
machine is shared, and CPU time per request is steadier than requests per second.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BadResponse(Exception):
    """The server answered with something the benchmark did not expect."""


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), [""])[0]


def http_request(
    method: str,
    host: str,
    port: int,
    path: str,
    *,
    form: bytes | None = None,
    cookie: str | None = None,
) -> bytes:
    """An HTTP/1.1 request as bytes, asking the server to close the connection after it."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if form is not None:
        lines += [
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(form)}",
        ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (form or b"")


def parse_reply(data: bytes) -> Reply:
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        raise BadResponse("the connection closed before the headers ended")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in headers.get("transfer-encoding", [""])[0].lower():
        raise BadResponse("chunked responses are not read by this client")
    return Reply(int(status_line.split(" ", 2)[1]), headers, body)


class _Exchange(asyncio.Protocol):
    """One request on its own connection: written once connected, the response gathered until
    the server closes. A bare protocol, not asyncio's streams, whose reader and writer objects
    and buffer bookkeeping cost the client CPU that the machine's server then lacks."""

    def __init__(self, request: bytes, done: asyncio.Future[bytes]) -> None:
        self.request = request
        self.done = done
        self.chunks: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is None:
            self.done.set_result(b"".join(self.chunks))
        else:
            self.done.set_exception(exc)


async def exchange(host: str, port: int, request: bytes) -> Reply:
    """Send one request on a new connection and read the response until the server closes."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _Exchange(request, done), host, port)
    try:
        data = await done
    finally:
        transport.close()
    return parse_reply(data)


@dataclass
class Timed:
    """One level's requests: how long they took together and each on its own."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, other: Timed) -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.errors += other.errors


def run_requests(
    host: str,
    port: int,
    requests: Iterable[bytes],
    clients: int,
    accept: Callable[[Reply], bool],
) -> Timed:
    """Send every request with `clients` of them in flight; a client sends its next request as
    soon as its last one is answered. A reply that `accept` refuses counts as an error."""
    pending = iter(requests)
    timed = Timed()

    async def client() -> None:
        for request in pending:
            started = time.perf_counter()
            try:
                reply = await exchange(host, port, request)
            except (OSError, BadResponse):
                timed.errors += 1
                continue
            latency = time.perf_counter() - started
            if accept(reply):
                timed.latencies.append(latency)
            else:
                timed.errors += 1

    async def all_clients() -> None:
        await asyncio.gather(*(client() for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(all_clients())
    timed.seconds = time.perf_counter() - started
    return timed


# --- CPU accounting ---------------------------------------------------------------------------


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it has gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            # The command name may hold spaces: the fields that follow start after its ")".
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy (not idle, not waiting for the disk) since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(x) for x in stat.readline().split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    # guest time is already counted in user time
    return (sum(ticks[:8]) - idle - iowait) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as found:
            return [int(child) for child in found.read().split()]
    except OSError:
        return []


class DatabaseBackends:
    """The PostgreSQL server processes connected to one database, found in pg_stat_activity."""

    def __init__(self, admin_url: str, database: str, also: tuple[int, ...] = ()) -> None:
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.database = database
        # Other store processes whose CPU counts with the database's (the Redis server).
        self.also = also

    def pids(self) -> list[int]:
        with self.engine.connect() as connection:
            return [
                *connection.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                    {"name": self.database},
                ),
                *self.also,
            ]

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class CpuUse:
    """CPU seconds spent during one level, by who spent them."""

    client: float
    server: float
    database: float
    rest_of_machine: float
    wall: float

    @property
    def total(self) -> float:
        return self.client + self.server + self.database

    def add(self, other: CpuUse) -> None:
        self.client += other.client
        self.server += other.server
        self.database += other.database
        self.rest_of_machine += other.rest_of_machine
        self.wall += other.wall


class CpuMeter:
    """Measures a block: `with meter.measure() as use:` fills `use` when the block ends."""

    def __init__(self, server_pid: int, backends: DatabaseBackends) -> None:
        self.server_pid = server_pid
        self.backends = backends

    def _server_pids(self) -> list[int]:
        return [self.server_pid, *children(self.server_pid)]

    def measure(self) -> _Measurement:
        return _Measurement(self)


class _Measurement:
    def __init__(self, meter: CpuMeter) -> None:
        self.meter = meter
        self.use = CpuUse(0.0, 0.0, 0.0, 0.0, 0.0)

    def __enter__(self) -> CpuUse:
        self.database_pids = set(self.meter.backends.pids())
        self.server_pids = set(self.meter._server_pids())
        self.before = {pid: process_seconds(pid) for pid in self.database_pids | self.server_pids}
        self.client = own_seconds()
        self.busy = machine_busy_seconds()
        self.wall = time.perf_counter()
        return self.use

    def __exit__(self, *exc_info: object) -> None:
        wall = time.perf_counter() - self.wall
        busy = machine_busy_seconds() - self.busy
        client = own_seconds() - self.client
        # Processes that started during the block (a new connection) count from zero.
        database_pids = self.database_pids | set(self.meter.backends.pids())
        server_pids = self.server_pids | set(self.meter._server_pids())

        def spent(pids: set[int]) -> float:
            # A process that ended during the block reads as 0: count it as nothing, not less.
            return sum(max(0.0, process_seconds(pid) - self.before.get(pid, 0.0)) for pid in pids)

        self.use.client = client
        self.use.server = spent(server_pids)
        self.use.database = spent(database_pids)
        self.use.rest_of_machine = max(0.0, busy - client - self.use.server - self.use.database)
        self.use.wall = wall
