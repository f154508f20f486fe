"""tests/data/national: the committed files are the generator's output, and they are what MANIFEST.md says they are."""

import codecs
import importlib.util
import itertools
from pathlib import Path

import pytest
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from models.policy import uscc
from models.policy.ingestion.formats import normalise_header, open_binary, parse_date, parse_decimal, read_rows, text

HERE = Path(__file__).parent / "data" / "national"


def load_generator():
    """The generator script as a module (tests/data is no package)."""
    spec = importlib.util.spec_from_file_location("make_fixtures", HERE / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mf = load_generator()


def rows_of(name):
    """(row number, values) of a fixture file as the importer's reader yields them."""
    with open_binary(HERE / name) as binary:
        return list(read_rows(binary, name))


def test_committed_files_are_the_generators_output_and_it_is_deterministic():
    first, second = mf.outputs(), mf.outputs()
    assert first == second
    assert {p.name for p in first} == {name for name, _ in mf.FILES} | {"MANIFEST.md"}
    for path, data in first.items():
        assert mf.same_content(path, data), f"{path.name} differs: run tests/data/national/make_fixtures.py"


def test_every_code_is_valid_except_the_bad_one():
    for key, subject in mf.S.items():
        assert uscc.validate(subject.code) == subject.code, key
        assert stdnum_uscc.is_valid(subject.code), key
    for name in mf.AUTHORITIES:
        assert stdnum_uscc.is_valid(mf.agency_code(name)) and uscc.is_valid(mf.agency_code(name)), name
    sent = {row.cells["统一社会信用代码"]: row.outcome for row in mf.safety_rows()}
    bad = mf.wrong_check(mf.S["E11"].code)
    with pytest.raises(uscc.InvalidUSCC, match="第18位校验码错误"):
        uscc.validate(bad)
    assert sent[bad].startswith("rejected [统一社会信用代码]")
    assert sent[""].startswith("rejected [统一社会信用代码]")


def test_personal_ids_are_real_in_form_and_all_listed_in_the_manifest():
    manifest = (HERE / "MANIFEST.md").read_text(encoding="utf-8")
    found = mf.personal_ids()
    assert len(found) >= 10
    for value in found:
        assert ric.validate(value) == value
        assert f"`{value}`" in manifest
    for name, (_, parts) in mf.PEOPLE.items():
        assert mf.person_id(*parts) in found, name


def test_encodings_are_the_ones_departments_send():
    market = (HERE / "market-penalties-national.csv").read_bytes()
    assert market.startswith(codecs.BOM_UTF8)
    assert market.decode("utf-8-sig").splitlines()[0].split(",") == mf.NATIONAL
    for name in ("ecology-penalties-2016.csv", "criminal-judgments.csv"):
        raw = (HERE / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert "行政处罚决定书文号" in raw.decode("gb18030") or "被告单位名称" in raw.decode("gb18030")
    edited = (HERE / "work-safety-penalties-edited.csv").read_bytes()
    assert not edited.startswith(codecs.BOM_UTF8) and edited.decode("utf-8").startswith("行政相对人名称,")


def test_headers_sit_where_the_manifest_says():
    for name, (headers, rows, first) in mf.tables().items():
        found = rows_of(name)
        numbers = [number for number, _ in found]
        assert numbers[-len(rows):] == list(range(first, first + len(rows))), name
        header = dict(found)[first - 1]
        assert [normalise_header(h) for h in header] == [normalise_header(h) for h in headers], name
    title = rows_of("market-penalties-national.xlsx")[0]
    assert title[0] == 1 and title[1][0] == mf.XLSX_TITLE and not any(title[1][1:])
    assert 2 not in dict(rows_of("market-penalties-national.xlsx"))  # the blank row above the header


def test_xlsx_holds_the_same_values_as_the_csv():
    csv_rows = [values for number, values in rows_of("market-penalties-national.csv") if number > 1]
    xlsx_rows = [values for number, values in rows_of("market-penalties-national.xlsx") if number > 3]
    dates = {mf.NATIONAL.index(c) for c in ("处罚决定日期", "处罚有效期", "公示截止期")}
    amounts = {i for i, c in enumerate(mf.NATIONAL) if "万元" in c}
    assert len(csv_rows) == len(xlsx_rows) == len(mf.market_rows())
    for csv_row, xlsx_row in zip(csv_rows, xlsx_rows, strict=True):
        assert len(xlsx_row) <= len(csv_row) == len(mf.NATIONAL)  # trailing empty cells are not read from XLSX
        for index, (a, b) in enumerate(itertools.zip_longest(csv_row, xlsx_row)):
            if index in dates and text(a):
                assert parse_date(a) == parse_date(b)
            elif index in amounts:
                assert parse_decimal(a, 4) == parse_decimal(b, 4)
            else:
                assert text(a) == text(b)


def test_register_leaves_out_exactly_the_unregistered():
    register = {values[1]: values[0] for number, values in rows_of("enterprises.csv") if number > 1}
    for key, subject in mf.S.items():
        if subject.registered:
            assert register[subject.code] == (subject.register_name or subject.name), key
        else:
            assert subject.code not in register, key
    assert register[mf.S["E14"].code] != mf.S["E14"].name  # sent under another name: held for 核验


def test_summaries_follow_the_outcomes():
    held_rows = [row for row in mf.market_rows() if row.outcome.startswith("held")]
    assert mf.summary(mf.market_rows()) == (
        "`imported 19, updated 0, rejected 0` then `held 4, skipped 2, unchanged 0`")
    assert len(held_rows) == 4
    assert mf.summary(mf.safety_rows()) == "`imported 8, updated 0, rejected 4` then `held 1, skipped 0, unchanged 0`"
