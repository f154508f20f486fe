"""bot/periods.py: the report period in the owner's words."""

import datetime as dt

import pytest

from bot import periods, writing
from bot.parse import ParseError

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    "text, start",
    [
        ("近3年", dt.date(2023, 11, 28)),
        ("近三年", dt.date(2023, 11, 28)),
        ("最近两年", dt.date(2024, 11, 28)),
        ("近１年", dt.date(2025, 11, 28)),
        ("3", dt.date(2023, 11, 28)),
        ("五", dt.date(2021, 11, 28)),
        ("近5年", dt.date(2021, 11, 28)),
        ("十二个月", dt.date(2025, 11, 28)),
        ("近18个月", dt.date(2025, 5, 28)),
        ("半年", dt.date(2026, 5, 28)),
        ("近半年", dt.date(2026, 5, 28)),
        ("一年半", dt.date(2025, 5, 28)),
        ("三年以内", dt.date(2023, 11, 28)),
        ("近两三年", dt.date(2023, 11, 28)),
        ("last 3 years", dt.date(2023, 11, 28)),
        ("past two years", dt.date(2024, 11, 28)),
        ("last 12 months", dt.date(2025, 11, 28)),
        ("今年以来", dt.date(2026, 1, 1)),
        ("今年", dt.date(2026, 1, 1)),
        ("this year", dt.date(2026, 1, 1)),
        ("去年至今", dt.date(2025, 1, 1)),
        ("前年到现在", dt.date(2024, 1, 1)),
        ("2024年至今", dt.date(2024, 1, 1)),
        ("2023年以来", dt.date(2023, 1, 1)),
        ("二〇二三年一月到现在", dt.date(2023, 1, 1)),
        ("since 2024", dt.date(2024, 1, 1)),
        ("從2024年3月開始", dt.date(2024, 3, 1)),
    ],
)
def test_periods_up_to_today(text, start):
    assert periods.parse_period(text, TODAY) == (start, TODAY)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2023-01-01至2025-12-31", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("2023年1月1日到2025年12月31日", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("二〇二三年一月一日至二〇二五年十二月三十一日", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("２０２３－０１－０１～２０２５－１２－３１", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("2023.1.1-2025.12.31", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("20230101-20251231", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("2023年3月至2025年6月", dt.date(2023, 3, 1), dt.date(2025, 6, 30)),
        ("2022年至2026年", dt.date(2022, 1, 1), TODAY),
        ("2021-11-27至2026-11-27", dt.date(2021, 11, 27), TODAY),
        ("去年", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("去年一年的", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("last year", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("前年", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        ("上半年", dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        ("去年下半年", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
        ("2025年", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ],
)
def test_explicit_and_named_periods(text, start, end):
    assert periods.parse_period(text, TODAY) == (start, end)


def test_a_bare_first_half_before_july_is_last_years():
    assert periods.parse_period("上半年", dt.date(2026, 3, 10)) == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("2025-01-01至2026-12-31", "不能晚于今天"),
        ("2026-12-01至2026-12-31", "不能晚于今天"),
        ("2020-01-01至2025-12-31", "最长 5 年"),
        ("近6年", "最长 5 年"),
        ("近十年", "最长 5 年"),
        ("七十二个月", "最长 5 年"),
        ("2025-12-31至2023-01-01", "开始日期应早于结束日期"),
        ("2023-02-30至2025-01-01", "不存在"),
        ("2023-01-01", "开始和结束日期"),
        ("随便", "近3年"),
        ("近0年", "近3年"),
    ],
)
def test_wrong_periods_explain_with_example(text, fragment):
    with pytest.raises(ParseError) as err:
        periods.parse_period(text, TODAY)
    assert fragment in err.value.message and "例如" in err.value.message


def test_the_last_period_named_wins():
    text = writing.readable("近三年的，不对，改成近一年")
    (start, end), spans = periods.find_period(text, TODAY)
    assert (start, end) == (dt.date(2025, 11, 28), TODAY) and len(spans) == 2


def test_numbers_that_are_not_dates():
    assert periods.find_period("91231100MA1B2C3D82", TODAY) is None
    assert periods.find_period("改2", TODAY) is None


def test_leap_day_periods():
    assert periods.years_back(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)
    assert periods.months_back(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
