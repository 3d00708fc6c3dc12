"""Route groups, one module per protocol or purpose; each exposes `register(app)`."""
