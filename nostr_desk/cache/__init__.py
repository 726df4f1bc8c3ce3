"""The client cache: idempotent projections of the event store and the read models the UI pages through.

`Projector` (projections.py) keeps the `cache_*` tables in step with the store; `CacheQueries`
(queries.py) answers the timelines, threads, notifications and search from them.
"""

from .projections import ProjectionConfig, Projector
from .queries import CacheQueries
from .views import Cursor, Notification, NoteView, Page, Profile, ThreadNode

__all__ = [
    "CacheQueries",
    "Cursor",
    "NoteView",
    "Notification",
    "Page",
    "Profile",
    "ProjectionConfig",
    "Projector",
    "ThreadNode",
]
