"""Accounts and logging in: sign-up, login, logout, login sessions and passwords."""
