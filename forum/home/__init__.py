"""The home page with its disease search."""
