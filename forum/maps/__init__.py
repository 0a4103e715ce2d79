"""A disease's member map: joining a community, the world map and who is where."""

from forum.maps.views import bp

__all__ = ["bp"]
