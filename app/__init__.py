"""Partner Select: the application factory."""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import CONFIGS, Config, check_production

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    if isinstance(config, dict):
        app.config.from_object(CONFIGS["test"])
        app.config.update(config)
    else:
        env = os.environ.get("APP_ENV", "development")
        app.config.from_object(config or CONFIGS.get(env, CONFIGS["development"]))
        app.config.from_pyfile("config.py", silent=True)
    if app.config.get("ENV_NAME") == "production":
        check_production(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _secret_key(app)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'partner_select.sqlite3'}"
        )
    if not app.config.get("MAIL_OUTBOX_DIR"):
        app.config["MAIL_OUTBOX_DIR"] = str(Path(app.instance_path) / "outbox")
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)

    from . import access, cli, errors, extensions, security
    from .database import init_database

    extensions.db.init_app(app)
    init_database(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=str(ROOT / "migrations"), render_as_batch=True
    )
    extensions.csrf.init_app(app)
    _no_app_wide_limits(app.config)  # before init_app, which would take them on
    extensions.limiter.init_app(app)
    _limits_on_routes_only(app)
    extensions.submit_limit.init_app(app)
    access.init_app(app)
    from .auth.passwords import configure as configure_passwords

    configure_passwords(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost_kib=app.config["ARGON2_MEMORY_COST_KIB"],
    )
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    _logging(app)

    from .apply import bp as apply_bp
    from .auth import bp as auth_bp
    from .panel import bp as panel_bp
    from .staff import bp as staff_bp

    for blueprint in (apply_bp, auth_bp, staff_bp, panel_bp):
        app.register_blueprint(blueprint)

    from .templating import init_templating

    init_templating(app)
    return app


def _no_app_wide_limits(config: Mapping[str, Any]) -> None:
    """Limits for every route would need the pass `_limits_on_routes_only` takes out: refuse to
    start with one rather than run without it."""
    for setting in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META"):
        if config.get(setting):
            raise RuntimeError(f"{setting} is not supported: put each limit on its route")


def _limits_on_routes_only(app: Flask) -> None:
    """Every rate limit here is on its route, checked by the route's decorator. Flask-Limiter
    also checks default, application and blueprint limits before every request; with none set,
    that pass finds nothing, at a cost on every request (about a tenth of a final submit's time
    in the app), so it is taken out."""
    from .extensions import limiter

    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:  # not there when RATELIMIT_ENABLED is False
        hooks.remove(limiter._check_request_limit)


def _secret_key(app: Flask) -> None:
    """Use SECRET_KEY from the environment or config; else generate one into the instance folder."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("ENV_NAME") == "production":
        raise RuntimeError("Set SECRET_KEY in the environment for production")
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    app.config["SECRET_KEY"] = path.read_text().strip()


class RedactTokens(logging.Filter):
    """Resume links are secrets: keep them out of access logs."""

    pattern = re.compile(r"/resume/[^\s?\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "/resume/" in record.msg:
            record.msg = self.pattern.sub("/resume/[redacted]", record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub("/resume/[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


class RedactLimitKeys(logging.Filter):
    """Flask-Limiter logs each refusal with its key, the person's IP address (personal data):
    keep the limit and the page, not the address."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "ratelimit %s (%s) exceeded at endpoint: %s" and record.args:
            limit, _key, endpoint = record.args  # type: ignore[misc]
            record.args = (limit, "address withheld", endpoint)
        return True


def _logging(app: Flask) -> None:
    redact = RedactTokens()
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(redact)
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, RedactLimitKeys) for f in limiter_log.filters):
        limiter_log.addFilter(RedactLimitKeys())
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
