"""The publication clock the loopback fake ISOs share: what a real ISO has published by `now`.

What belongs here: the clock rules common to FakeOasis, FakeNyiso and FakeIsone (a settable aware
`now`, where None means everything generated is published; a real-time interval is published once
its end plus `publish_lag` has passed; a day-ahead market day is published at a fixed ISO-local time
some days before it). Which dataset follows which rule, and the ISO's times, stay in each fake.
"""

from datetime import date, datetime, time, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


class PublicationClock:
    """Mixin for a fake ISO: subclasses set `clock_timezone` (the ISO's zone) and call
    `_init_clock` from their `__init__`.

    Every comparison goes through UTC: aware datetimes sharing a tzinfo compare by wall time with
    the fold ignored, which would misorder the repeated fall-back hour.
    """

    clock_timezone: ClassVar[ZoneInfo]

    def _init_clock(
        self, now: datetime | None, publish_lag: timedelta, day_ahead_published_at: time
    ) -> None:
        if publish_lag < timedelta(0):
            raise ValueError(f"publish_lag must not be negative, not {publish_lag}")
        self.publish_lag = publish_lag
        self.day_ahead_published_at = day_ahead_published_at
        self.now = now

    @property
    def now(self) -> datetime | None:
        """The fake's clock (aware, in the ISO's zone); None serves everything generated."""
        return self._now

    @now.setter
    def now(self, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{type(self).__name__}.now must be aware, not naive {value}")
        self._now = None if value is None else value.astimezone(self.clock_timezone)

    def published_until(self) -> datetime | None:
        """UTC instant such that a real-time interval ending at or before it is published;
        None when the clock is off (everything is published)."""
        now = self._now
        return None if now is None else now.astimezone(UTC) - self.publish_lag

    def day_ahead_publication(self, market_day: date, days_ahead: int = 1) -> datetime:
        """When (UTC) a day-ahead product for `market_day` is published: the ISO-local
        `day_ahead_published_at` on the day `days_ahead` days before it."""
        eve = market_day - timedelta(days=days_ahead)
        local = datetime.combine(eve, self.day_ahead_published_at, tzinfo=self.clock_timezone)
        return local.astimezone(UTC)

    def day_ahead_published(self, market_day: date, days_ahead: int = 1) -> bool:
        now = self._now
        if now is None:
            return True
        return self.day_ahead_publication(market_day, days_ahead) <= now.astimezone(UTC)
