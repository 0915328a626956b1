"""live: real-time scoring for live contest finals (the hub and its functional core)."""

__version__ = "0.1.0"
