"""Qt item models over plain console state (testable without widgets or a hub)."""
