"""Data subjects' rights over their personal data (PIPL): reveals where a task needs them,
deleting one's account, and retention of finished wishes."""
