"""The Cloud Code `v1internal` upstream: the wire format (pure codecs) and, later, its HTTP client."""
