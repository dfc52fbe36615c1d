"""Readers and writers of the DuckDB store in separate processes wait for each other, within a
bound, and say on whom they wait; nothing here mocks the lock."""

import multiprocessing
import os
import signal
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from power_assets import open_warehouse
from power_assets.errors import PowerAssetsError
from power_assets.isos import DatasetKind
from power_assets.store.warehouse import load_partition, writer
from power_assets_tests.helpers import lmp_long

# Summer days: 24 hourly intervals, so every partition of two locations has the same row count.
FIRST_DAY = date(2024, 6, 1)
LOCATIONS = ["A", "B"]
ROWS_PER_DAY = 24 * len(LOCATIONS)
FOR_WHAT = "warehouse/lmp_da 2024-06-01|CAISO"
SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter, as a second run would be


def _day_file(folder: Path, day: date) -> Path:
    path = folder / f"{day}.parquet"
    lmp_long(day, timedelta(hours=1), LOCATIONS, market="DAM").write_parquet(path)
    return path


def _load(database: Path, day: date, **writer_options) -> None:
    resource = DuckDBResource(database=str(database))
    with writer(resource, **writer_options) as con:
        load_partition(
            con,
            DatasetKind.LMP,
            _day_file(database.parent, day),
            iso="CAISO",
            dataset="lmp_da",
            market_date=day,
        )


@pytest.fixture
def store(tmp_path) -> Path:
    """A store holding the first day."""
    database = tmp_path / "power.duckdb"
    _load(database, FIRST_DAY)
    return database


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM lmp").fetchone()[0]


# --- what the other processes do (module level, so that a spawned process can import them) ---


def _read_in_a_loop(database: str, started, stop, results) -> None:
    counts, errors = [], []
    while True:
        last_round = stop.is_set()
        try:
            with open_warehouse(database) as con:
                counts.append(_count(con))
        except Exception as error:
            errors.append(repr(error))
        started.set()
        if last_round:
            break
    results.put((counts, errors))


def _load_days(database: str, days: list[date], results) -> None:
    errors = []
    for day in days:
        try:
            _load(Path(database), day, for_what=f"warehouse/lmp_da {day}|CAISO")
        except Exception as error:
            errors.append(repr(error))
    results.put(errors)


def _hold_reader(database: str, hold_s: float, holding, results) -> None:
    with open_warehouse(database) as con:
        _count(con)
        holding.set()
        time.sleep(hold_s)
        released_at = time.time()
    results.put(released_at)


def _hold_plain_duckdb(database: str, hold_s: float, holding) -> None:
    con = duckdb.connect(database, read_only=True)
    holding.set()
    time.sleep(hold_s)
    con.close()


def _die_while_writing(database: str, holding) -> None:
    with writer(DuckDBResource(database=database), for_what="doomed write"):
        holding.set()
        time.sleep(600)


def _start(target, *args) -> multiprocessing.Process:
    process = SPAWN.Process(target=target, args=args, daemon=True)
    process.start()
    return process


def _wait_for(event, process) -> None:
    assert event.wait(60), f"{process.name} did not get going"


# --- the tests ---


def test_a_reader_polling_while_a_writer_loads_20_partitions_never_fails_nor_tears(store):
    days = [FIRST_DAY + timedelta(days=i) for i in range(1, 21)]
    started, stop, reads, writes = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue(), SPAWN.Queue()
    reader = _start(_read_in_a_loop, str(store), started, stop, reads)
    _wait_for(started, reader)
    loader = _start(_load_days, str(store), days, writes)
    write_errors = writes.get(timeout=300)
    stop.set()
    counts, read_errors = reads.get(timeout=60)
    loader.join(30)
    reader.join(30)

    assert write_errors == []
    assert read_errors == []
    assert {count % ROWS_PER_DAY for count in counts} == {0}, sorted(set(counts))
    assert counts[0] == ROWS_PER_DAY and counts[-1] == 21 * ROWS_PER_DAY
    assert len(set(counts)) > 2, "the reader should have read between partitions"


@pytest.mark.e2e
def test_a_writer_waits_for_a_long_reader_says_so_and_writes_right_after(store):
    holding, results = SPAWN.Event(), SPAWN.Queue()
    reader = _start(_hold_reader, str(store), 125.0, holding, results)
    _wait_for(holding, reader)
    messages: list[str] = []
    _load(store, FIRST_DAY + timedelta(days=1), for_what=FOR_WHAT, log=messages.append)
    written_at = time.time()
    released_at = results.get(timeout=30)
    reader.join(30)

    assert 0 <= written_at - released_at < 5
    assert messages, "the writer should have said what it waited for"
    assert all(FOR_WHAT in message for message in messages)
    assert "reader" in messages[0] and f"pid {reader.pid}" in messages[0]
    assert len(messages) >= 2, "a long wait should be reported again about every minute"
    with open_warehouse(store) as con:
        assert _count(con) == 2 * ROWS_PER_DAY


def test_a_writer_gives_up_after_its_bound_naming_what_it_wrote_and_the_holder(store):
    holding, results = SPAWN.Event(), SPAWN.Queue()
    reader = _start(_hold_reader, str(store), 30.0, holding, results)
    _wait_for(holding, reader)
    began = time.monotonic()
    try:
        with pytest.raises(PowerAssetsError) as raised:
            _load(store, FIRST_DAY + timedelta(days=1), for_what=FOR_WHAT, wait_s=2)
        waited = time.monotonic() - began
    finally:
        reader.kill()
        reader.join(30)

    message = str(raised.value)
    assert 2 <= waited < 10
    assert FOR_WHAT in message
    assert str(store) in message
    assert "reader" in message and f"pid {reader.pid}" in message
    assert "POWER_ASSETS_DUCKDB_WAIT_S" in message


def test_a_writer_waits_for_a_plain_duckdb_reader_outside_power_assets(store):
    holding = SPAWN.Event()
    outsider = _start(_hold_plain_duckdb, str(store), 3.0, holding)
    _wait_for(holding, outsider)
    messages: list[str] = []
    began = time.monotonic()
    _load(store, FIRST_DAY + timedelta(days=1), for_what=FOR_WHAT, log=messages.append, wait_s=30)
    waited = time.monotonic() - began
    outsider.join(30)

    assert waited > 1, "the outsider held the file for about 3 s"
    assert any(
        "another process outside power_assets holds" in message and str(store) in message
        for message in messages
    ), messages
    with open_warehouse(store) as con:
        assert _count(con) == 2 * ROWS_PER_DAY


def test_the_note_of_a_dead_writer_neither_delays_nor_names_anyone(store):
    holding = SPAWN.Event()
    doomed = _start(_die_while_writing, str(store), holding)
    _wait_for(holding, doomed)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(30)
    sidecars = [p for p in store.parent.iterdir() if p.is_file() and p != store]
    assert any("doomed write" in p.read_text(errors="replace") for p in sidecars), (
        "the killed writer should have left its note behind"
    )

    messages: list[str] = []
    began = time.monotonic()
    # A writer honouring the dead note would wait its full 30 s and say whom it waits for.
    _load(store, FIRST_DAY + timedelta(days=1), log=messages.append, wait_s=30)
    assert time.monotonic() - began < 15
    assert messages == []

    # While someone really holds the store, the dead writer's note is not named as a holder.
    holding, results = SPAWN.Event(), SPAWN.Queue()
    reader = _start(_hold_reader, str(store), 30.0, holding, results)
    _wait_for(holding, reader)
    try:
        with pytest.raises(PowerAssetsError) as raised:
            _load(store, FIRST_DAY + timedelta(days=2), wait_s=1)
    finally:
        reader.kill()
        reader.join(30)
    assert "doomed" not in str(raised.value)
    assert f"pid {reader.pid}" in str(raised.value)
