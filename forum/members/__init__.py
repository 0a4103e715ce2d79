"""Member profiles and a member's own account page."""
