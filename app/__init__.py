"""Volunteer dispatch service for New Era Civilization Practice centres."""
