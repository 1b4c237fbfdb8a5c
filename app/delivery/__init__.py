"""Delivering the outbox's messages through their channels (`channels`: the plug-in point),
with fenced leases, retries and dead letters (`engine`), and the admins' view of dead letters
(`router`)."""
