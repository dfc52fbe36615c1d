"""Request spacing through the real PostgreSQL (a database of its own per test): processes that
share no lock file (as on two hosts) still start their requests one spacing apart, a tick that
cannot wait skips without taking a turn, and two HTTP clients with separate lock folders keep an
ISO's spacing between them at the fake ISO."""

import itertools
import multiprocessing
import threading
import time
from datetime import date

from power_assets.accounts import IsoAccounts
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.io.http import IsoHttpClient
from power_assets.io.pg_spacing import PostgresSpacer
from power_assets.isos import get_iso

SPACING = 0.25
SLACK = 0.02  # clock reading and scheduling jitter between the reservation and time.time()


def _take_turns(url: str, count: int, starts) -> None:
    spacer = PostgresSpacer("PJM", SPACING, url)
    for _ in range(count):
        spacer.wait_turn()
        starts.append(time.time())


def test_processes_without_a_shared_lock_file_take_turns_one_spacing_apart(postgres_url):
    with multiprocessing.Manager() as manager:
        starts = manager.list()
        workers = [
            multiprocessing.Process(target=_take_turns, args=(postgres_url, 4, starts))
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        times = sorted(starts)
    assert len(times) == 8
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= SPACING - SLACK, gaps


def test_a_tick_that_cannot_wait_skips_without_taking_a_turn(postgres_url):
    spacer = PostgresSpacer("PJM", 1.0, postgres_url)
    spacer.wait_turn()  # the next slot is a second away
    started = time.monotonic()
    assert spacer.try_turn(budget_s=0.0) is False
    assert time.monotonic() - started < 0.5
    # Nothing was reserved by the refused tick: the next caller waits one spacing, not two.
    assert spacer.try_turn(budget_s=1.5) is True
    assert 0.5 < time.monotonic() - started < 1.6


def test_two_clients_on_separate_lock_folders_share_the_isos_spacing(postgres_url, tmp_path):
    pjm = get_iso("PJM")
    (request,) = pjm.plan_day("lmp_da", date(2026, 11, 2), None, date(2026, 12, 6))
    with FakeDataMiner(subscription_key="k") as fake:
        clients = [
            IsoHttpClient(
                base_urls={"PJM": fake.base_url},
                min_spacing_s={"PJM": SPACING},
                lock_dir=str(tmp_path / f"host{n}"),
                spacing_database_url=postgres_url,
                accounts=IsoAccounts(pjm_subscription_key="k"),
            )
            for n in (1, 2)
        ]

        def fetch(client: IsoHttpClient) -> None:
            for _ in range(3):
                client.fetch(pjm, request)

        threads = [threading.Thread(target=fetch, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
        arrivals = sorted(r.time for r in fake.requests)
    assert len(arrivals) == 6
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= SPACING - SLACK, gaps
