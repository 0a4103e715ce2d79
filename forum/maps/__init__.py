"""A disease's member map: joining a community, the world map and who is where."""
