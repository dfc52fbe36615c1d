"""One worker at a time per (asset, partition) across hosts, while its files are on object storage.

With the files in a bucket, a step works on a local copy: it pulls the partition's files, works,
and pushes what it wrote. Two workers doing the same partition at once (a Celery task handed to a
second worker while the first still runs it, a real-time run beside a backfill) would each pull,
then remove or overwrite what the other pushes. So the runner holds a lease on the partition from
the pull to the push: a session-level PostgreSQL advisory lock in the Dagster instance's database
(the one that also keeps request spacing). The second worker waits, then pulls the first one's
result. A worker that dies loses its connection, and PostgreSQL releases its leases with it.

Without a PostgreSQL instance (one machine, local files) no lease is taken: the local stages write
atomically, and a machine's runs of one ISO are limited by the run queue.
"""

import contextlib
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions

from power_assets.store.postgres import dsn, redacted

# Advisory lock ids are shared by everything using the database: names carry this prefix so they
# never meet the warehouse's (which hashes other text) by design rather than by luck.
_PREFIX = "power_assets files "


class PartitionLeases:
    """Leases by name over one connection (opened on first use; `close()` releases them all)."""

    def __init__(self, url: str):
        self.url = url
        self._con: psycopg2.extensions.connection | None = None

    def _connection(self) -> psycopg2.extensions.connection:
        if self._con is None or self._con.closed:
            try:
                self._con = psycopg2.connect(dsn(self.url), connect_timeout=10)
            except psycopg2.OperationalError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreachable"
                raise ConnectionError(f"partition leases on {redacted(self.url)}: {first}") from None
            self._con.autocommit = True
        return self._con

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Wait for the lease `name`, hold it for the block, release it."""
        con = self._connection()
        with con.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (_PREFIX + name,))
        try:
            yield
        finally:
            if not con.closed:
                with con.cursor() as cur:
                    cur.execute(
                        "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (_PREFIX + name,)
                    )

    def close(self) -> None:
        if self._con is not None and not self._con.closed:
            self._con.close()
