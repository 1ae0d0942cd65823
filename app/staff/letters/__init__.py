"""Staff: the print queue. Letters to applicants who have no email address or prefer post
(app/applications/channels.py): print them and mark them posted. Views register on the staff
blueprint (app/staff/__init__.py)."""
