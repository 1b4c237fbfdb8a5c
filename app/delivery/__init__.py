"""Delivering outbox messages: the channels' plug-in point (`channels.py`)."""
