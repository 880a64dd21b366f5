"""GraphQL reads, HTML previews, and the history and state endpoints."""
