"""models.policy.ingestion.formats: what a file may cost (XLSX bombs, row floods, lying dimensions, deadlines), cells
kept as sent, and amounts that are no numbers."""

import io
import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from models.policy.ingestion import formats
from models.policy.ingestion.formats import CellError, ReadLimits, UnreadableFile, parse_decimal, read_rows, verbatim

SHEET = "xl/worksheets/sheet1.xml"
SHARED = "xl/sharedStrings.xml"
NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'


def workbook(rows):
    """A real XLSX with `rows` (lists of cell values)."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_part(data, name, writer, size=None):
    """`data` (an XLSX) with part `name` replaced by what `writer(handle)` writes (streamed, deflated)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        with target.open(name, "w", force_zip64=True) as handle:
            writer(handle)
    return out.getvalue()


def rows_of(data, limits=formats.NO_LIMITS, name="f.xlsx"):
    return list(read_rows(io.BytesIO(data), name, limits))


def test_an_xlsx_inflating_beyond_the_limit_is_refused_before_anything_is_inflated():
    def bomb(handle):
        handle.write(NS + b'<row r="1"><c r="A1" t="inlineStr"><is><t>')
        block = b"A" * (1 << 20)
        for _ in range(40):
            handle.write(block)
        handle.write(b"</t></is></c></row></sheetData></worksheet>")

    data = with_part(workbook([["x"]]), SHEET, bomb)
    assert len(data) < 200_000  # 40 MB inflated from a small file
    with pytest.raises(UnreadableFile, match="解压后超过8MB"):
        rows_of(data, ReadLimits(max_inflated=8 << 20))


def test_a_part_that_lies_about_its_size_is_unreadable_not_inflated():
    """zipfile inflates no more than the declared size; the truncated part fails to parse (or its CRC)."""
    data = bytearray(workbook([["企业名称"], ["甲"]]))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET)
    lie = (10).to_bytes(4, "little")
    data[info.header_offset + 22:info.header_offset + 26] = lie  # the local header's uncompressed size
    entry = bytes(data).find(b"PK\x01\x02")
    while entry != -1:  # and the central directory's
        length = int.from_bytes(data[entry + 28:entry + 30], "little")
        if bytes(data[entry + 46:entry + 46 + length]) == SHEET.encode():
            data[entry + 24:entry + 28] = lie
        entry = bytes(data).find(b"PK\x01\x02", entry + 4)
    with pytest.raises(UnreadableFile):
        rows_of(bytes(data))


def test_shared_strings_are_counted_and_measured_before_openpyxl_keeps_them():
    def strings(handle):
        handle.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        for n in range(5000):
            handle.write(b"<si><t>%d</t></si>" % n)
        handle.write(b"</sst>")

    data = with_part(workbook([["a", "b"], ["c", "d"]]), SHARED, strings)
    with pytest.raises(UnreadableFile, match="不同文字超过1000项"):
        rows_of(data, ReadLimits(max_shared_strings=1000))
    with pytest.raises(UnreadableFile, match="文字内容超过"):
        rows_of(data, ReadLimits(max_shared_bytes=10_000))
    assert rows_of(data, ReadLimits(max_shared_strings=10_000))  # within limits it reads


def test_a_flood_of_rows_stops_at_the_row_limit():
    def flood(handle):
        handle.write(NS)
        handle.write(b"<row><c><v>1</v></c></row>" * 300_000)
        handle.write(b"</sheetData></worksheet>")

    data = with_part(workbook([["x"]]), SHEET, flood)
    assert len(data) < 150_000  # 300,000 rows in a small file
    with pytest.raises(UnreadableFile, match="文件超过1000行"):
        rows_of(data, ReadLimits(max_rows=1000))
    empty_rows = with_part(workbook([["x"]]), SHEET, lambda h: h.write(
        NS + b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>'))
    with pytest.raises(UnreadableFile, match="文件超过1000行"):  # the rows skipped count as rows
        rows_of(empty_rows, ReadLimits(max_rows=1000))
    csv_flood = ("a\n" * 5000).encode()
    with pytest.raises(UnreadableFile, match="文件超过1000行"):
        rows_of(csv_flood, ReadLimits(max_rows=1000), name="f.csv")


def test_a_dimension_that_lies_drops_nothing_and_costs_nothing():
    def lying(handle):
        handle.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     b'<dimension ref="A1:XFD2"/><sheetData>')
        for r in range(1, 6):
            handle.write(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>v%d</t></is></c></row>' % (r, r, r))
        handle.write(b"</sheetData></worksheet>")

    found = rows_of(with_part(workbook([["x"]]), SHEET, lying))
    assert found == [(n, [f"v{n}"]) for n in range(1, 6)]  # rows past the claimed A1:XFD2 kept, no 16,384 columns


def test_the_deadline_stops_a_slow_load():
    limits = ReadLimits(deadline=time.monotonic() - 1)
    with pytest.raises(UnreadableFile, match="用时超过限制"):
        rows_of(("a\n" * 3000).encode(), limits, name="f.csv")


def test_limits_from_the_settings(app):
    limits = ReadLimits.from_config(app.config, rows=True, seconds=60)
    assert limits.max_inflated == app.config["IMPORT_XLSX_MAX_INFLATED_MB"] << 20
    assert limits.max_rows == app.config["IMPORT_UPLOAD_MAX_ROWS"] and limits.deadline > time.monotonic()
    assert ReadLimits.from_config(app.config).max_rows is None  # the CLI has no row limit, only the XLSX ones


@pytest.mark.parametrize("value", ["1e309", "-1e309", "NaN", "Infinity", "-Infinity", "sNaN", float("inf"),
                                   float("nan"), "1e16", "１２ab"])
def test_amounts_that_are_no_numbers_are_cell_errors(value):
    with pytest.raises(CellError):
        parse_decimal(value, 4)


def test_amounts_as_departments_write_them():
    assert parse_decimal("5.000000", 4) == Decimal("5.0000")
    assert parse_decimal("18,640.50", 2) == Decimal("18640.50")
    assert parse_decimal(18640.5, 2) == Decimal("18640.50")
    assert parse_decimal("", 2) is None


def test_official_text_is_kept_as_sent_and_keys_are_folded():
    sent = " 罚款；没收违法所得　黑市监罚〔２０２６〕118号 "
    assert verbatim(sent) == "罚款；没收违法所得　黑市监罚〔２０２６〕118号"
    assert formats.text(sent) == "罚款;没收违法所得 黑市监罚〔2026〕118号"
    assert verbatim("事实\x00说明") == "事实说明"
