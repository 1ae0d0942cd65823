"""WSGI entry point: `gunicorn wsgi:app` in production, `flask run` in development."""

from app import create_app

app = create_app()
