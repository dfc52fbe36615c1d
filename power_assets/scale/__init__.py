"""Running the pipeline on more than one process or host.

What belongs here: how a run's steps are executed (`executors.py`: the executor chosen by
`POWER_ASSETS_EXECUTOR`, and the Celery worker config it must agree with) and how large jobs are
cut into runs that can go to several workers at once (`backfill.py`: a date range split into
chunks, each a `dagster asset materialize` run). Nothing here knows about ISOs or stages beyond
their names: what a run computes is `assets/`; where its results go is `resources.py`.
"""
