"""Read-side summaries for `clausewatch status`."""
from __future__ import annotations

from typing import Any

from sqlite_utils import Database


def source_status(db: Database) -> list[dict[str, Any]]:
    return list(db.query(
        """SELECT s.source_id, s.status, s.active, s.last_fetch_at, s.last_success_at, s.last_change_at,
                  s.last_error, s.consecutive_failures,
                  (SELECT COUNT(*) FROM versions v WHERE v.source_id = s.id) AS versions,
                  (SELECT v.process_error FROM versions v WHERE v.source_id = s.id AND v.process_error IS NOT NULL
                   ORDER BY v.seq DESC LIMIT 1) AS processing_error,
                  (SELECT COUNT(*) FROM change_comparisons c WHERE c.source_id = s.id
                     AND c.reverted_to_version_id IS NOT NULL) AS reverts,
                  (SELECT COUNT(*) FROM changes ch WHERE ch.source_id = s.id AND ch.alert = 1) AS alerts
           FROM sources s WHERE s.active = 1 ORDER BY s.source_id"""))
