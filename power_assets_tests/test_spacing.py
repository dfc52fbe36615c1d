"""A sensor's probe takes a request turn only if it can within its budget, never queueing."""

from power_assets.io.spacing import RequestSpacer


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_try_turn_waits_within_its_budget_and_records_the_turn(tmp_path):
    clock = Clock()
    spacer = RequestSpacer("CAISO", 5.0, tmp_path, clock=clock, sleep=clock.sleep)
    spacer.wait_turn()
    clock.now += 4.0  # one second of spacing left
    assert spacer.try_turn(budget_s=2.0) is True
    assert clock.slept == [1.0]
    assert float(spacer.path.read_text()) == clock.now


def test_try_turn_gives_up_without_waiting_or_recording_when_the_budget_is_short(tmp_path):
    clock = Clock()
    spacer = RequestSpacer("CAISO", 5.0, tmp_path, clock=clock, sleep=clock.sleep)
    spacer.wait_turn()
    recorded = spacer.path.read_text()
    clock.now += 1.0  # four seconds of spacing left, budget two
    assert spacer.try_turn(budget_s=2.0) is False
    assert clock.slept == []
    assert spacer.path.read_text() == recorded


def test_without_spacing_a_turn_is_always_free(tmp_path):
    assert RequestSpacer("NYISO", 0.0, tmp_path).try_turn(budget_s=0.0) is True
