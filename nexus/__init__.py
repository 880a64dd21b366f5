"""The Django project: settings, URLs, accounts, roles and teams, authentication."""
