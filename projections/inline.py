"""In-process projection for the embedded mode (no Redis): run right after each command."""

from projections.projector import catch_up


def catch_up_now() -> None:
    """Bring the read tables up to date before the command answers."""
    catch_up()
