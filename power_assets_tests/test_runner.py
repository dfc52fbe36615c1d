"""The runner records each (asset, partition) of a run on its own.

Two synthetic steps (`first` feeds `second`) run over a three-day range of one ISO, as a single-run
backfill hands them to the op. Whatever goes wrong on one day (any exception, or a blocking check)
stays on that day: the other days are materialized with their own figures and checks, the day's
downstream step is not run, and the run fails at the end naming the day, the asset and the cause.
"""

from datetime import date

import dagster as dg

from power_assets.assets.market_day import step_specs
from power_assets.assets.partitions import market_day_partitions
from power_assets.assets.runner import run_steps
from power_assets.assets.steps import CheckRule, Finding, Step, StepEnv, StepOutcome
from power_assets.layout import Layout

DAYS = [date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 11)]
KEYS = [f"{day}|CAISO" for day in DAYS]
FIRST, SECOND = dg.AssetKey("first"), dg.AssetKey("second")
RULE = CheckRule("positive", "Every value is positive.", blocking=True)


def _defs(raising_day: date | None = None, failing_day: date | None = None) -> dg.Definitions:
    published: list[str] = []

    def first(env, iso, partition) -> StepOutcome:
        if partition.day == raising_day:
            raise ValueError("cannot flatten a frame with 0 columns")  # not a PowerAssetsError
        rows = partition.day.day  # a figure of this day alone: 9, 10, 11
        problems = 1 if partition.day == failing_day else 0
        return StepOutcome(
            {"rows": rows},
            {"positive": Finding(problems, f"{problems} value(s) not positive")},
            publish=lambda: published.append(str(partition.key)),
        )

    def second(env, iso, partition) -> StepOutcome:
        return StepOutcome({"rows": partition.day.day * 2})

    steps = [
        Step(FIRST, "first", first, rules=(RULE,)),
        Step(SECOND, "second", second, deps=(FIRST,), upstream=lambda iso: (FIRST,)),
    ]
    specs, checks = step_specs(steps, market_day_partitions(["CAISO", "NYISO"]))

    @dg.multi_asset(
        specs=specs,
        check_specs=checks,
        can_subset=True,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def both(context: dg.AssetExecutionContext):
        env = StepEnv(layout=Layout(root=None), now=None, log=context.log)  # type: ignore[arg-type]
        yield from run_steps(context, steps, env)

    defs = dg.Definitions(assets=[both])
    defs.published = published  # type: ignore[attr-defined]
    return defs


def _run(defs: dg.Definitions, instance: dg.DagsterInstance):
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": KEYS[0],
            "dagster/asset_partition_range_end": KEYS[-1],
        },
        raise_on_error=False,
    )


def _rows(result, key: dg.AssetKey) -> dict[str, int]:
    return {
        e.materialization.partition: e.materialization.metadata["rows"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key == key
    }


def _failure(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    return failures[0].event_specific_data.error.message


def test_a_clean_range_records_each_day_with_its_own_figures_and_no_run_total():
    with dg.instance_for_test() as instance:
        result = _run(_defs(), instance)
        assert result.success
        assert _rows(result, FIRST) == {KEYS[0]: 9, KEYS[1]: 10, KEYS[2]: 11}
        assert _rows(result, SECOND) == {KEYS[0]: 18, KEYS[1]: 20, KEYS[2]: 22}
        # One materialization per (asset, day): no second, run-level one with the range's totals.
        assert len(result.get_asset_materialization_events()) == 6
        evaluations = result.get_asset_check_evaluations()
        assert sorted(e.partition for e in evaluations) == KEYS
        assert all(e.passed for e in evaluations)


def test_any_exception_on_one_day_stays_on_that_day():
    with dg.instance_for_test() as instance:
        result = _run(_defs(raising_day=DAYS[1]), instance)
        assert not result.success
        assert _rows(result, FIRST) == {KEYS[0]: 9, KEYS[2]: 11}
        assert _rows(result, SECOND) == {KEYS[0]: 18, KEYS[2]: 22}
        message = _failure(result)
        assert f"- {KEYS[1]} first: ValueError: cannot flatten a frame with 0 columns" in message
        assert f"- {KEYS[1]} not run (upstream failed): second" in message
        assert instance.get_materialized_partitions(SECOND) == {KEYS[0], KEYS[2]}


def test_a_blocking_check_failing_on_one_day_blocks_that_day_only():
    defs = _defs(failing_day=DAYS[2])
    with dg.instance_for_test() as instance:
        result = _run(defs, instance)
        assert not result.success
        assert _rows(result, FIRST) == {KEYS[0]: 9, KEYS[1]: 10}
        assert _rows(result, SECOND) == {KEYS[0]: 18, KEYS[1]: 20}
        assert defs.published == KEYS[:2]  # the failing day's result never replaced the old one
        verdicts = {e.partition: e.passed for e in result.get_asset_check_evaluations()}
        assert verdicts == {KEYS[0]: True, KEYS[1]: True, KEYS[2]: False}
        message = _failure(result)
        assert f"- {KEYS[2]} first: blocking check failed: positive (1 value(s) not positive)" in (
            message
        )
        assert KEYS[0] not in message and KEYS[1] not in message
