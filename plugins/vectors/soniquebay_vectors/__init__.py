"""SoniqueBay's vectors plugin: it turns tracks and search queries into vectors; the core stores and queries them."""
