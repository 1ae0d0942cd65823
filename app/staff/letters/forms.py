"""The print queue's one form: marking a letter posted (only the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class MarkPostedForm(FlaskForm):
    """Only the CSRF token: marking a letter as posted."""
