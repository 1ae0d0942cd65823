"""Reviewer assignment and moderation views (staff), registered on the staff blueprint."""
