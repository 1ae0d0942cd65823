"""Partner Select: the application factory."""

from __future__ import annotations

import logging
import os
import secrets
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import (
    CONFIGS,
    Config,
    check_production,
    check_rate_limits,
    trusted_hosts,
    url_settings,
)
from .redaction import RedactSecretLinks

CHECKOUT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "partner-select"


def data_folder() -> Path:
    """The folder holding templates/, static/ and migrations/: the checkout's top level when the
    code runs from a checkout (or an editable install), else where `pip install .` put them
    (share/partner-select/ under the environment, setup.cfg's data_files)."""
    if (CHECKOUT / "templates" / "base.html").is_file() and (CHECKOUT / "migrations").is_dir():
        return CHECKOUT
    for file in distribution(DISTRIBUTION).files or []:
        if file.as_posix().endswith("share/partner-select/migrations/env.py"):
            return Path(str(file.locate())).resolve().parent.parent
    raise RuntimeError(f"{DISTRIBUTION} is installed without its templates: reinstall it")


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    data = data_folder()
    # The instance folder (SQLite database, generated secret key, outbox): INSTANCE_PATH, else
    # instance/ in the checkout, else Flask's default for an installed package
    # (<environment>/var/app-instance/).
    instance_path = os.environ.get("INSTANCE_PATH") or (
        str(CHECKOUT / "instance") if data == CHECKOUT else None
    )
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(data / "templates"),
        static_folder=str(data / "static"),
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
    check_rate_limits(app.config)
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.config.update(url_settings(app.config))
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

    security.refuse_untrusted_hosts(app)
    extensions.db.init_app(app)
    init_database(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=str(data / "migrations"), render_as_batch=True
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    from . import language

    extensions.babel.init_app(
        app, locale_selector=language.select_locale, default_timezone="Europe/London"
    )
    language.init_app(app)
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

    from .admin import bp as admin_bp
    from .apply import bp as apply_bp
    from .auth import bp as auth_bp
    from .panel import bp as panel_bp
    from .staff import bp as staff_bp

    for blueprint in (apply_bp, auth_bp, admin_bp, staff_bp, panel_bp):
        app.register_blueprint(blueprint)

    from .templating import init_templating

    init_templating(app)
    return app


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


class RedactLimitKeys(logging.Filter):
    """Flask-Limiter logs each refusal with its key, the person's IP address (personal data):
    keep the limit and the page, not the address."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "ratelimit %s (%s) exceeded at endpoint: %s" and record.args:
            limit, _key, endpoint = record.args  # type: ignore[misc]
            record.args = (limit, "address withheld", endpoint)
        return True


def _logging(app: Flask) -> None:
    redact = RedactSecretLinks()
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretLinks) for f in logger.filters):
            logger.addFilter(redact)
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, RedactLimitKeys) for f in limiter_log.filters):
        limiter_log.addFilter(RedactLimitKeys())
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
