"""The status page: static HTML, CSS and JS served by the proxy at /ui/ (no CDN, works offline)."""
