"""Pydantic models shared by hub and console: the wire format. No I/O."""
