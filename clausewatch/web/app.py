"""The public web process: Datasette (read-only) with the subscription pages mounted beside it.

Requests for :data:`clausewatch.web.signup_pages.PATHS` go to the subscription pages, which alone may
write (to the private database); everything else goes to Datasette, whose plugins answer every method
but GET, HEAD and OPTIONS with 405.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from clausewatch.config import private_db_path
from clausewatch.web.datasette_app import build_datasette
from clausewatch.web.signup_pages import PATHS, SubscriptionPages


class PublicApp:
    """ASGI app of `clausewatch serve`."""

    def __init__(self, public_path: Path, *, settings: dict[str, Any] | None = None) -> None:
        self.public_path = Path(public_path).resolve()
        self.datasette = build_datasette(self.public_path, settings=settings)
        self.subscriptions = SubscriptionPages(self.public_path, private_db_path(self.public_path))
        self._datasette_app = self.datasette.app()

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "http" and scope.get("path") in PATHS:
            await self.subscriptions(scope, receive, send)
            return
        await self._datasette_app(scope, receive, send)
