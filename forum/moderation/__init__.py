"""Moderation: reports, the moderators' queue, hiding and restoring, locks, bans and the log."""
