"""The read side's tables and the projectors that fill them from the event store."""
