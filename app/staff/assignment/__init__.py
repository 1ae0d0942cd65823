"""Staff: assignment: reviewers for each application, automatic assignment and moderation. Views
register on the staff blueprint (app/staff/__init__.py)."""
