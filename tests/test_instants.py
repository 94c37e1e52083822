"""core/instants: the one reader of dates and instants, by need (see its module notes).

Properties, not examples alone: every instant written by :func:`format_instant` reads
back the same through every reader; the tolerant reader never raises on any text; the
strict one refuses what is not RFC 3339 and names it; Graph's seven-digit fractions read
on every supported Python.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sprawl_audit.core.instants import (
    NotADate,
    date_of,
    epoch_instant,
    format_instant,
    instant_in_format,
    iso_date,
    parse_instant,
    seconds_of,
    strict_instant,
)

UTC = timezone.utc
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=st.just(UTC))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m)))


@given(moments)
def test_format_then_read_is_the_same_instant_to_the_second(moment: datetime) -> None:
    text = format_instant(moment)
    assert text.endswith("Z") and len(text) == 20
    whole = moment.replace(microsecond=0)
    assert parse_instant(text) == whole
    assert strict_instant(text) == whole
    assert epoch_instant(seconds_of(whole)) == whole
    assert format_instant(whole.timestamp()) == text


@given(moments, offsets, st.integers(min_value=1, max_value=9))
def test_any_offset_and_fraction_length_reads_as_the_same_instant(
        moment: datetime, offset: timezone, digits: int) -> None:
    local = moment.astimezone(offset)
    fraction = f"{local.microsecond:06d}"[:digits].ljust(digits, "0")
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + "." + fraction + local.strftime("%z")
    text = text[:-2] + ":" + text[-2:]  # +0100 -> +01:00
    kept = int((fraction + "000000")[:6])
    expected = local.replace(microsecond=kept)
    assert parse_instant(text) == expected
    assert strict_instant(text) == expected


@given(st.text(max_size=80))
def test_the_tolerant_reader_never_raises(text: str) -> None:
    found = parse_instant(text)
    assert found is None or found.tzinfo is not None


@given(st.text(max_size=40))
def test_strict_accepts_only_what_the_tolerant_reader_reads(text: str) -> None:
    try:
        found = strict_instant(text)
    except ValueError as exc:
        assert "instant" in str(exc) or "date and time" in str(exc)
    else:
        assert found == parse_instant(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-10-01T09:00:00Z", datetime(2026, 10, 1, 9, tzinfo=UTC)),
    ("2026-10-01T09:00:00.1234567Z", datetime(2026, 10, 1, 9, 0, 0, 123456, tzinfo=UTC)),
    ("2026-10-01 09:00:00", datetime(2026, 10, 1, 9, tzinfo=UTC)),  # naive is UTC
    ("2026-10-01", datetime(2026, 10, 1, tzinfo=UTC)),
    ("2026-10-01T10:00:00+01:00", datetime(2026, 10, 1, 9, tzinfo=UTC)),
    ("yesterday", None), ("", None), ("2026-13-01", None), (None, None), (17, None),
])
def test_tolerant_examples(text: object, expected: datetime | None) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", [
    "2026-10-01", "2026-10-01T09:00:00", "2026-10-01 09:00:00Z", "2026-10-01T09:00Z",
    "2026-13-01T09:00:00Z", "2026-10-01T25:00:00Z", "x" * 100,
])
def test_strict_refuses_what_is_not_rfc_3339(text: str) -> None:
    with pytest.raises(ValueError):
        strict_instant(text)


@given(st.dates())
def test_a_date_reads_back(day: date) -> None:
    assert iso_date(day.isoformat()) == day
    assert iso_date(f"  {day.isoformat()} ") == day
    assert date_of(day) == day == date_of(day.isoformat())
    assert date_of(datetime(day.year, day.month, day.day, 9)) == day
    assert date_of(day.isoformat() + "T09:15:00Z", instant_text=True) == day
    assert date_of(day.isoformat() + "T09:15:00Z") is None  # a date alone, unless told


def test_a_date_shape_and_a_day_that_does_not_exist_are_told_apart() -> None:
    with pytest.raises(NotADate):
        iso_date("2026-1-5")
    with pytest.raises(NotADate):
        iso_date("20261005")  # Python 3.11 reads it; a config written so is a slip
    with pytest.raises(ValueError, match="day is out of range") as exc:
        iso_date("2026-02-30")
    assert not isinstance(exc.value, NotADate)


@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=30),
                 st.booleans(), st.none()))
def test_epoch_never_raises(value: object) -> None:
    found = epoch_instant(value)
    if found is not None:
        assert found.tzinfo is UTC
        assert not isinstance(value, bool)
        if isinstance(value, float):
            assert math.isfinite(value)


def test_epoch_examples() -> None:
    assert epoch_instant(1792487702) == datetime(2026, 10, 20, 9, 15, 2, tzinfo=UTC)
    assert epoch_instant("1792487702.5") == datetime(2026, 10, 20, 9, 15, 2, 500000,
                                                    tzinfo=UTC)
    assert epoch_instant(1e20) is None and epoch_instant(float("inf")) is None
    with pytest.raises(ValueError):
        format_instant(1e20)


def test_a_named_format_reads_naive_as_utc() -> None:
    assert instant_in_format("20/10/2026 09:15:02", "%d/%m/%Y %H:%M:%S") == \
        datetime(2026, 10, 20, 9, 15, 2, tzinfo=UTC)
    assert instant_in_format("2026-10-20", "%d/%m/%Y") is None
    assert seconds_of(None) is None
