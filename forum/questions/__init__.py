"""Questions of a disease: the list, each one's page, upvotes and asking."""
