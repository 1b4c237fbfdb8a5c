"""Attendance: consent-bound check-in and check-out, offline sync, team service, the volunteer's
feedback. Its records have their own lifecycle (`state.py`); the lead's checks move the wish
through the wish loop (`events.py`), and confirmation happens downstream in `app.records`."""
