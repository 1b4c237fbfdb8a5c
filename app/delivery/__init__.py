"""Delivering outbox messages through their channels."""
