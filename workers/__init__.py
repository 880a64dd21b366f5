"""Celery tasks: thin wrappers around code that lives in the other folders."""
