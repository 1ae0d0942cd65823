"""Staff: reach while a call is open: who is applying (by each mix dimension, on a chart, a map
and a weekly trend), whether the quota table can be met yet, the outreach export, and how the
reminders to unsent drafts went. Views register on the staff blueprint (app/staff/__init__.py)."""
