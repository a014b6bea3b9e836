"""Warmline: an agent-assist desktop console for B2B product specialists."""

__version__ = "0.1.0"
