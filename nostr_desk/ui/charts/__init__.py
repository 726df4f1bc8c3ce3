"""Chart data (ring buffers, per-relay series) and the pyqtgraph widgets that draw them."""
