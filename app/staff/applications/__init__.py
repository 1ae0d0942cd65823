"""Staff: applications: the list, one application, screening, staff entry, withdraw, merge,
data protection and exports. Views register on the staff blueprint (app/staff/__init__.py)."""
