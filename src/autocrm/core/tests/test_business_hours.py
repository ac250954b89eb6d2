import datetime as dt
import zoneinfo

from autocrm.core.business_hours import ALL_DAY, add_business_minutes, business_minutes_between, parse_opening_hours

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def test_parse():
    assert parse_opening_hours("08:30-18:00") == ((510, 1080),)
    assert parse_opening_hours("13:30-18:00, 08:30-12:00") == ((510, 720), (810, 1080))
    assert parse_opening_hours("") == ALL_DAY
    assert parse_opening_hours("nonsense") == ALL_DAY
    assert parse_opening_hours("18:00-08:00") == ALL_DAY
    assert parse_opening_hours("08:99-18:00") == ALL_DAY


def test_within_and_across_closing_time():
    hours = "08:30-18:00"
    assert add_business_minutes(at(1, 10), 30, hours, TZ) == at(1, 10, 30)
    assert add_business_minutes(at(1, 17, 50), 30, hours, TZ) == at(2, 8, 50)
    assert add_business_minutes(at(1, 22), 30, hours, TZ) == at(2, 9, 0)
    assert add_business_minutes(at(1, 6), 30, hours, TZ) == at(1, 9, 0)
    assert add_business_minutes(at(1, 18), 0, hours, TZ) == at(2, 8, 30)


def test_lunch_break_and_many_days():
    hours = "08:30-12:00,13:30-18:00"
    assert add_business_minutes(at(1, 11, 50), 30, hours, TZ) == at(1, 13, 50)
    assert add_business_minutes(at(1, 8, 30), 8 * 60 * 3, hours, TZ) == at(3, 18, 0)


def test_utc_input_is_read_in_local_time():
    utc = dt.datetime(2026, 12, 1, 9, 50, tzinfo=dt.UTC)  # 17:50 in Shanghai
    assert add_business_minutes(utc, 30, "08:30-18:00", TZ) == at(2, 8, 50)


def test_minutes_between():
    assert business_minutes_between(at(1, 17, 50), at(2, 8, 50), "08:30-18:00", TZ) == 30
    assert business_minutes_between(at(2, 9), at(1, 9), "08:30-18:00", TZ) == 0
