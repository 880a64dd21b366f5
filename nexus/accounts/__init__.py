"""Users with a role and a team, teams with their managers, and Bearer tokens."""
