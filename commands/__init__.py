"""The write side: DRF command views, command handlers, idempotency keys.

Only this package appends events (ARCHITECTURE.md rule 1).
"""
