"""A nightly job scheduled at 02:20 runs at 02:20 in Shanghai, whatever clock Huey reads."""

import datetime as dt

from huey.contrib.djhuey import HUEY

from autocrm.core.schedule import local_crontab


def test_fields_are_read_on_beijing_time():
    nightly = local_crontab(minute="20", hour="2")
    # Huey passes naive UTC: 18:20 UTC the day before is 02:20 in Shanghai.
    assert nightly(dt.datetime(2026, 3, 9, 18, 20)) is True
    assert nightly(dt.datetime(2026, 3, 10, 2, 20)) is False  # 10:20 in Shanghai
    assert nightly(dt.datetime(2026, 3, 9, 18, 21)) is False


def test_day_of_week_and_date_roll_over_with_the_local_day():
    monday_morning = local_crontab(minute="0", hour="7", day_of_week="1")
    # Sunday 23:00 UTC is Monday 07:00 in Shanghai.
    assert monday_morning(dt.datetime(2026, 3, 8, 23, 0)) is True
    assert monday_morning(dt.datetime(2026, 3, 9, 7, 0)) is False


def test_aware_timestamps_are_taken_as_they_are():
    nightly = local_crontab(minute="5", hour="0")
    at = dt.datetime(2026, 3, 10, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert nightly(at) is True


def test_huey_reads_its_clock_in_utc():
    """The reason for local_crontab: if this changes, the schedules would shift by eight hours."""
    assert HUEY.utc is True


def _matching_hours(task_class) -> set[int]:
    task = task_class()
    day = dt.datetime(2026, 3, 10)
    return {
        (day + dt.timedelta(minutes=m)).hour
        for m in range(24 * 60)
        if task.validate_datetime(day + dt.timedelta(minutes=m))
    }


def test_every_time_of_day_schedule_is_on_the_local_clock(settings):
    """A periodic task that runs at a time of day (not every few minutes) follows the local clock:
    moving TIME_ZONE moves the UTC hours it runs at. A plain Huey crontab would not move."""
    from huey.api import PeriodicTask

    periodic = {n: c for n, c in HUEY._registry._registry.items()
                if issubclass(c, PeriodicTask) and n.startswith("autocrm.") and ".tests." not in n}  # fmt: skip
    timed = {n: _matching_hours(c) for n, c in periodic.items()}
    timed = {n: hours for n, hours in timed.items() if len(hours) < 24}
    assert "autocrm.maintenance.tasks.maintenance_due_nightly" in timed
    settings.TIME_ZONE = "UTC"
    stuck = [n for n, c in periodic.items() if n in timed and _matching_hours(c) == timed[n]]
    assert stuck == []
