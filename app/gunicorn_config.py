"""gunicorn settings for production: `gunicorn -c python:app.gunicorn_config wsgi:app`, as
`make serve` runs it. Each can be overridden on the command line or by the environment below.

The service sits behind a TLS-terminating reverse proxy that buffers requests (nginx, Caddy, a
cloud load balancer), so gunicorn's plain sync workers are the right shape: each handles one
request at a time and the proxy absorbs slow clients. The workers share nothing in memory:
sessions are signed cookies, and drafts, the outbox and rate-limit counters live in PostgreSQL
and Redis.
"""

from __future__ import annotations

import multiprocessing
import os
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from app.redaction import redact_secret_links

# BIND: "127.0.0.1:8000" (the default: only the proxy on this host reaches it), "0.0.0.0:8000",
# or "unix:/run/partner-select.sock".
bind = [os.environ.get("BIND") or "127.0.0.1:8000"]
# WEB_CONCURRENCY: the number of worker processes; by default gunicorn's advice, 2 x cores + 1.
# On 2 cores the final submit is bound by CPU (Python and PostgreSQL), not by waiting: 3 and 5
# workers cost the same CPU per request in benchmarks/web_bench.py, so the advice stands.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"
# A request that takes longer than this is stuck: the worker is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak can never build up. Not too often: a
# worker's start costs about 1.8 s of CPU (it imports the service, pandas and scipy), which every
# 2,000 requests came to about 0.9 ms a request, a fifth of a final submit's whole cost.
max_requests = 20000
max_requests_jitter = 2000
# Each worker builds its own app and database pool: a pool must never be shared across fork().
preload_app = False
# The runtime control socket (gunicornc) is off: one fixed path would clash between instances.
control_socket_disable = True

# X-Forwarded-* headers are believed only by the app, through werkzeug's ProxyFix, and only for
# the number of proxy hops set in TRUSTED_PROXIES. gunicorn must not also trust them (by default
# it believes X-Forwarded-Proto from 127.0.0.1), or a second, unconfigured path would exist.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# Access log on stdout: method, path (no query string, which may hold search terms), status,
# size, time and worker pid. No client address, referrer or user agent. Secret links (resume,
# set-password: app/redaction.py) are redacted.
accesslog = "-"
errorlog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms worker=%(p)s'


class RedactingLogger(Logger):
    """gunicorn's logger, giving the access log only the atoms that hold no personal data, with
    the secrets of secret links (resume, set-password) taken out of the path.

    gunicorn offers every request and response header and the whole WSGI environ to the format
    (cookies, the referrer, the user agent, the query string); here they do not exist, so a
    changed `access_log_format` cannot log them by mistake: an atom not listed shows "-". It is
    also cheaper: gunicorn's own atoms build a dict of about fifty entries for every request.
    The client's address is left out too: behind the proxy, werkzeug's ProxyFix (TRUSTED_PROXIES)
    writes the applicant's own address from X-Forwarded-For into the environ this log reads, and
    an IP address is personal data.
    """

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        return {
            "t": self.now(),
            "m": environ.get("REQUEST_METHOD"),
            "U": redact_secret_links(environ.get("PATH_INFO") or ""),
            "s": status,
            "b": str(sent) if sent is not None else "-",
            "B": sent,
            "T": request_time.seconds,
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "D": request_time.seconds * 1_000_000 + request_time.microseconds,
            "p": f"<{os.getpid()}>",
        }


logger_class = RedactingLogger
