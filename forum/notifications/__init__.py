"""Notifications and their email settings."""
