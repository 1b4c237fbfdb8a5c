"""Bulk import of volunteers and staff accounts from the coordinators' Excel sheets."""
