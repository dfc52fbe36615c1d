"""Request spacing per ISO through PostgreSQL: the ISO's rate limit held across hosts.

The lock-file spacer (`io.spacing`) holds on one machine. When the Dagster instance is on
PostgreSQL, every worker host, sensor and run reaches the same database, so the turn of each
request is taken there: one row per ISO holds when the next request may start, and a caller
reserves its slot with one `UPDATE ... RETURNING` (a row lock held for that statement only), then
waits for it outside any transaction. Times come from the database clock, so hosts whose clocks
disagree still space their requests correctly.
"""

import time
from collections.abc import Callable

import psycopg2

from power_assets.store.postgres import connect

TABLE = "power_assets_request_spacing"
_CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (iso TEXT PRIMARY KEY, next_at TIMESTAMPTZ NOT NULL)"
# The slot: the later of the ISO's next start and now; the row moves one spacing past it.
_RESERVE = f"""
UPDATE {TABLE} SET next_at = greatest(next_at, clock_timestamp()) + make_interval(secs => %(s)s)
WHERE iso = %(iso)s {{condition}}
RETURNING extract(epoch FROM (next_at - make_interval(secs => %(s)s) - clock_timestamp()))"""


class PostgresSpacer:
    """`RequestSpacer`'s interface (`wait_turn`, `try_turn`) with the turn kept in PostgreSQL.

    Callers queue in reservation order: with many workers the row's `next_at` runs ahead, and
    each sleeps until its own slot. A spacing of 0 does nothing and touches no database.
    """

    def __init__(
        self,
        iso_id: str,
        min_spacing_s: float,
        url: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.iso_id = iso_id
        self.min_spacing_s = max(0.0, float(min_spacing_s))
        self.url = url
        self._sleep = sleep
        self._ready = False

    def wait_turn(self) -> None:
        """Reserve the ISO's next slot and sleep until it comes."""
        if self.min_spacing_s <= 0:
            return
        wait = self._reserve(budget_s=None)
        if wait is not None and wait > 0:
            self._sleep(wait)

    def try_turn(self, budget_s: float, poll_s: float = 0.05) -> bool:
        """Like `wait_turn`, but reserve nothing and return False when the slot is more than
        `budget_s` away (a sensor tick while downloads hold the ISO's budget)."""
        if self.min_spacing_s <= 0:
            return True
        wait = self._reserve(budget_s=max(0.0, budget_s))
        if wait is None:
            return False
        if wait > 0:
            self._sleep(wait)
        return True

    def _reserve(self, budget_s: float | None) -> float | None:
        """Seconds until the reserved slot, or None when none was within `budget_s`."""
        condition = ""
        params = {"s": self.min_spacing_s, "iso": self.iso_id}
        if budget_s is not None:
            condition = (
                "AND greatest(next_at, clock_timestamp()) "
                "<= clock_timestamp() + make_interval(secs => %(budget)s)"
            )
            params["budget"] = budget_s
        with connect(self.url) as con, con, con.cursor() as cur:
            if not self._ready:
                # Two hosts creating the table at once would collide: one at a time.
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
                cur.execute(_CREATE)
                self._ready = True
            cur.execute(
                f"INSERT INTO {TABLE} (iso, next_at) VALUES (%s, '-infinity') "
                "ON CONFLICT (iso) DO NOTHING",
                [self.iso_id],
            )
            try:
                cur.execute(_RESERVE.format(condition=condition), params)
            except psycopg2.Error as exc:
                raise ConnectionError(f"request spacing for {self.iso_id}: {exc}") from exc
            row = cur.fetchone()
        return None if row is None else max(0.0, float(row[0]))
