"""ladderctl: Ladder's command line, over its REST API (standard library only)."""

__version__ = "1.0.0"
