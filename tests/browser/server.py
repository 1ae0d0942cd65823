"""The app on a free loopback port with its own migrated SQLite database, for the browser."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from app import create_app


def browser_app(instance: Path) -> Flask:
    """A test-configured app on a fresh SQLite file, migrated with Alembic like a deployment."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'browser.sqlite3'}",
            "SERVER_NAME": None,
            "MAIL_OUTBOX_DIR": str(instance / "outbox"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
    return app


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve the app with werkzeug's threaded server; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
