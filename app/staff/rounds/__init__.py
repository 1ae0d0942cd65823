"""Staff: rounds: the staff home, a round's settings and its quota table. Views register on the
staff blueprint (app/staff/__init__.py)."""
