"""The site's own pages, linked from the footer: about, community guidelines, privacy, contact."""
