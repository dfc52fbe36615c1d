"""`power-assets realtime on|off [ISO]`: the real-time sensors and day-ahead schedules, switched.

What belongs here: which sensors and schedules an ISO has (`realtime__{ISO}` where the ISO has a
real-time feed, `day_ahead__{ISO}` where it has a day-ahead schedule; names from `keys.py`), and
switching them in the project's instance the way the UI's toggles do: the same GraphQL mutations
(`startSensor`, `stopSensor`, `startSchedule`, `stopRunningSchedule`), run by Dagster's own
`dagster-graphql` command against the project's workspace (one process for `on`, two for `off`,
which first reads the states it stops). The answers carry each state as stored afterwards, which
is what is checked and printed. The freshness schedule (`realtime_freshness`, which checks only
ISOs whose sensor runs) is switched on with any sensor and off with the last one.

Why not `dagster sensor start -m power_assets.definitions NAME`: that names the code location
`power_assets.definitions`, and a state stored under that name is not the one the UI (code
location `power_assets`, from workspace.yaml) shows or the daemon runs; it also costs a process,
and a code server, per sensor.
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from power_assets.scale.backfill import UsageError

# workspace.yaml's code location (the UI's and the daemon's), and Dagster's fixed name for the
# repository a `Definitions` object becomes.
LOCATION = "power_assets"
REPOSITORY = "__repository__"
WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"
RUNNING, STOPPED = "RUNNING", "STOPPED"


class RealtimeError(RuntimeError):
    """Dagster did not switch what was asked; the message is the one line the user sees."""


@dataclass(frozen=True)
class Instigator:
    kind: str  # "sensor" or "schedule"
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def _selector(self) -> str:
        field = "sensorName" if self.kind == "sensor" else "scheduleName"
        return (
            f"{{repositoryLocationName: {json.dumps(LOCATION)}, "
            f"repositoryName: {json.dumps(REPOSITORY)}, {field}: {json.dumps(self.name)}}}"
        )

    def read(self) -> str:
        if self.kind == "sensor":
            return (
                f"sensorOrError(sensorSelector: {self._selector()}) {{ __typename "
                "... on Sensor { sensorState { id status } } ... on SensorNotFoundError { message } "
                "... on PythonError { message } }"
            )
        return (
            f"scheduleOrError(scheduleSelector: {self._selector()}) {{ __typename "
            "... on Schedule { scheduleState { id status } } "
            "... on ScheduleNotFoundError { message } ... on PythonError { message } }"
        )

    def start(self) -> str:
        if self.kind == "sensor":
            return (
                f"startSensor(sensorSelector: {self._selector()}) {{ __typename "
                "... on Sensor { sensorState { id status } } ... on SensorNotFoundError { message } "
                "... on UnauthorizedError { message } ... on PythonError { message } }"
            )
        return (
            f"startSchedule(scheduleSelector: {self._selector()}) {{ __typename "
            "... on ScheduleStateResult { scheduleState { id status } } "
            "... on ScheduleNotFoundError { message } ... on UnauthorizedError { message } "
            "... on PythonError { message } }"
        )

    def stop(self, state_id: str) -> str:
        if self.kind == "sensor":
            return (
                f"stopSensor(id: {json.dumps(state_id)}) {{ __typename "
                "... on StopSensorMutationResult { instigationState { id status } } "
                "... on UnauthorizedError { message } ... on PythonError { message } }"
            )
        return (
            f"stopRunningSchedule(id: {json.dumps(state_id)}) {{ __typename "
            "... on ScheduleStateResult { scheduleState { id status } } "
            "... on ScheduleNotFoundError { message } ... on UnauthorizedError { message } "
            "... on PythonError { message } }"
        )


def targets(isos: tuple[str, ...]) -> list[Instigator]:
    """The sensors and schedules of `isos` (every ISO that has them when empty)."""
    from power_assets.isos import get_iso, registered_isos
    from power_assets.keys import day_ahead_schedule_name, realtime_sensor_name

    having = [iso for iso in registered_isos() if iso.realtime or iso.day_ahead]
    chosen = [get_iso(iso) for iso in isos] if isos else having
    found = []
    for iso in chosen:
        if not (iso.realtime or iso.day_ahead):
            raise UsageError(
                f"{iso.id} has no real-time sensor or day-ahead schedule; "
                f"choose from {', '.join(i.id for i in having)}"
            )
        if iso.realtime is not None:
            found.append(Instigator("sensor", realtime_sensor_name(iso.id)))
        if iso.day_ahead is not None:
            found.append(Instigator("schedule", day_ahead_schedule_name(iso.id)))
    return found


def _all_sensors() -> list[Instigator]:
    from power_assets.isos import registered_isos
    from power_assets.keys import realtime_sensor_name

    return [
        Instigator("sensor", realtime_sensor_name(i.id)) for i in registered_isos() if i.realtime
    ]


def _freshness() -> Instigator:
    from power_assets.keys import FRESHNESS_JOB

    return Instigator("schedule", FRESHNESS_JOB)  # the schedule is named after its job


def _graphql(document: str, workspace: Path) -> dict[str, dict]:
    """Run one GraphQL document against the workspace, in this instance; its answers by alias."""
    command = [str(Path(sys.executable).with_name("dagster-graphql")), "-w", str(workspace),
               "-t", document]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    # The code server's log lines share stdout with the answer, which is one JSON line.
    answers = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not answers:
        tail = (done.stderr or done.stdout).strip().splitlines()
        raise RealtimeError(f"dagster-graphql failed: {tail[-1] if tail else done.returncode}")
    payload = json.loads(answers[-1])
    if payload.get("errors"):
        raise RealtimeError(f"dagster-graphql: {payload['errors'][0].get('message', payload)}")
    return payload["data"]


def _state(answer: dict, instigator: Instigator) -> tuple[str, str]:
    """(state id, status) of one answer, or RealtimeError with Dagster's message."""
    for field in ("sensorState", "scheduleState", "instigationState"):
        if answer.get(field):
            return answer[field]["id"], answer[field]["status"]
    raise RealtimeError(f"{instigator}: {answer.get('message') or answer.get('__typename')}")


def _document(kind: str, parts: dict[str, str]) -> str:
    return kind + " { " + " ".join(f"{alias}: {field}" for alias, field in parts.items()) + " }"


def _workspace(scratch: Path) -> Path:
    """The project's workspace.yaml, else an equivalent one (same code location name)."""
    if WORKSPACE.is_file():
        return WORKSPACE
    written = scratch / "workspace.yaml"
    written.write_text(
        "load_from:\n  - python_module:\n      module_name: power_assets.definitions\n"
        f"      location_name: {LOCATION}\n"
    )
    return written


def switch(on: bool, isos: tuple[str, ...]) -> list[tuple[Instigator, str]]:
    """Start (on) or stop the sensors and schedules of `isos`; each with its status afterwards."""
    chosen = targets(isos)
    freshness = _freshness()
    with tempfile.TemporaryDirectory(prefix="power_assets_cli_") as scratch:
        workspace = _workspace(Path(scratch))
        if on:
            wanted = [*chosen, freshness] if any(i.kind == "sensor" for i in chosen) else chosen
            data = _graphql(
                _document("mutation", {f"a{k}": i.start() for k, i in enumerate(wanted)}), workspace
            )
            after = {i: _state(data[f"a{k}"], i)[1] for k, i in enumerate(wanted)}
        else:
            watched = list(dict.fromkeys([*chosen, *_all_sensors(), freshness]))
            data = _graphql(
                _document("query", {f"a{k}": i.read() for k, i in enumerate(watched)}), workspace
            )
            before = {i: _state(data[f"a{k}"], i) for k, i in enumerate(watched)}
            still = [s for s in _all_sensors() if s not in chosen and before[s][1] == RUNNING]
            wanted = [*chosen, *([freshness] if not still else [])]
            stopping = [i for i in wanted if before[i][1] == RUNNING]
            after = {i: before[i][1] for i in wanted}
            if stopping:
                data = _graphql(
                    _document(
                        "mutation", {f"a{k}": i.stop(before[i][0]) for k, i in enumerate(stopping)}
                    ),
                    workspace,
                )
                after.update({i: _state(data[f"a{k}"], i)[1] for k, i in enumerate(stopping)})
    expected = RUNNING if on else STOPPED
    wrong = [f"{i} is {status}" for i, status in after.items() if status != expected]
    if wrong:
        raise RealtimeError(f"not switched {'on' if on else 'off'}: {'; '.join(wrong)}")
    return list(after.items())
