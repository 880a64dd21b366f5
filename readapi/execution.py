"""The execution context: graphql-sync-dataloaders' deferred execution on today's graphql-core.

graphql-sync-dataloaders 0.1.1 calls ``handle_field_error(error, return_type)``; graphql-core
3.2.14 added a required ``path`` argument. Without this adapter any resolver error (an unknown
status, a bad cursor, ``projectionStatus`` for a non-admin) turned the whole answer into a 400
``missing 1 required positional argument: 'path'`` instead of a located GraphQL error.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLOutputType
from graphql.pyutils import Path
from graphql_sync_dataloaders import DeferredExecutionContext


def _path_of(error: GraphQLError) -> Path | None:
    path = None
    for key in error.path or ():
        path = Path(path, key, None)
    return path


class NexusExecutionContext(DeferredExecutionContext):
    """Deferred execution (DataLoaders) that accepts both ``handle_field_error`` signatures."""

    def handle_field_error(self, error: GraphQLError, return_type: GraphQLOutputType,
                           path: Any = None) -> None:
        if path is None:
            # The library's deferred callbacks (a DataLoader's field) call without a path,
            # and cannot take the exception graphql-core raises to null a non-null field's
            # parent: it would escape the callback and leave the answer unfinished ("deferred
            # execution failed to complete", a 500). There the error is collected and the
            # field alone is null.
            self.collected_errors.add(error, _path_of(error))
            return None
        return super().handle_field_error(error, return_type, path)
