"""A disease's page: overview, top questions and the map block."""
