import datetime as dt
import threading

from models.base import db
from models.policy.report import numbering
from models.tables.reports import ReportSequence

DAY = dt.date(2026, 11, 27)


def test_numbers_follow_the_region_day_and_sequence(app):
    assert numbering.next_number("HH", DAY) == "HH-20261127-000001"
    assert numbering.next_number("HH", DAY) == "HH-20261127-000002"
    assert numbering.next_number("HH", DAY + dt.timedelta(days=1)) == "HH-20261128-000001"
    assert numbering.next_number("BA", DAY) == "BA-20261127-000001"
    row = ReportSequence.get((ReportSequence.region == "HH") & (ReportSequence.day == DAY))
    assert row.last == 2
    assert ReportSequence.select().count() == 3


def test_a_rolled_back_transaction_gives_its_number_back(app):
    numbering.next_number("HH", DAY)
    try:
        with numbering.write_transaction():
            assert numbering.next_number("HH", DAY) == "HH-20261127-000002"
            raise RuntimeError("the report insert failed")
    except RuntimeError:
        pass
    assert numbering.next_number("HH", DAY) == "HH-20261127-000002"


def test_numbers_are_unique_under_concurrency_including_the_first_of_the_day(app):
    threads_n, per_thread = 6, 8
    barrier = threading.Barrier(threads_n)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                results.append(numbering.next_number("HH", DAY))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = threads_n * per_thread
    assert len(results) == total and len(set(results)) == total
    assert sorted(results) == [f"HH-20261127-{n:06d}" for n in range(1, total + 1)]
    assert ReportSequence.get(ReportSequence.day == DAY).last == total


def test_check_codes_are_long_random_and_unambiguous():
    codes = {numbering.new_check_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) >= 8
        assert not set(code) & set("0O1IL")
        assert set(code) <= set(numbering.CHECK_CODE_ALPHABET)
