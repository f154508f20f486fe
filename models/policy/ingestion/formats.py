"""Reading departments' files (CSV in UTF-8, UTF-8 with BOM or GB18030; XLSX) and the cell values they write.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
"""

import codecs
import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import unicodedata
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

XLSX_MAGIC = b"PK\x03\x04"
EXCEL_EPOCH = dt.date(1899, 12, 30)
SNIFF_CHUNK = 1 << 20
csv.field_size_limit(1 << 24)


class UnreadableFile(Exception):
    """The file as a whole cannot be read; `message` is one Chinese sentence for the department."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class CellError(ValueError):
    """One cell's value is not acceptable; the message is the Chinese reason."""


def normalise_header(text):
    """Header text compared loosely: full-width folded, spaces removed."""
    return unicodedata.normalize("NFKC", str(text or "")).replace(" ", "").strip()


def open_binary(source):
    """A seekable binary file for a path or a file object (copied to a spooled temp file when not seekable)."""
    if isinstance(source, str | Path):
        try:
            return open(source, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise UnreadableFile(f"无法打开文件：{exc.strerror}") from exc
    if getattr(source, "seekable", lambda: False)():
        source.seek(0)
        return source
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    return spool


def read_rows(binary, filename):
    """Yield (row_number, header_list) once, then (row_number, values) for each non-empty data row."""
    head = binary.read(4)
    binary.seek(0)
    suffix = Path(filename or "").suffix.lower()
    if head == XLSX_MAGIC:
        yield from _xlsx_rows(binary)
    elif suffix in (".xlsx", ".xlsm"):
        raise UnreadableFile("文件扩展名为.xlsx，但内容不是有效的Excel工作簿，请重新导出")
    elif suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("不支持旧版Excel（.xls）文件，请另存为.xlsx或CSV后再导入")
    elif suffix in ("", ".csv", ".txt"):
        yield from _csv_rows(binary)
    else:
        raise UnreadableFile(f"不支持的文件类型“{suffix}”，请使用CSV或XLSX文件")


def _detect_encoding(binary):
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030 when that decodes."""
    if binary.read(3) == codecs.BOM_UTF8:
        binary.seek(0)
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        binary.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := binary.read(SNIFF_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        binary.seek(0)
        return encoding
    raise UnreadableFile("无法识别文件编码，请以UTF-8或GB18030（Excel“CSV”格式）保存后再导入")


def _csv_rows(binary):
    encoding = _detect_encoding(binary)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    try:
        sample = text.read(8192)
        text.seek(0)
        if "\x00" in sample:
            raise UnreadableFile("文件内容不是文本表格，请使用CSV或XLSX文件")
        for number, values in enumerate(csv.reader(text), start=1):
            if any(v.strip() for v in values):
                yield number, values
    except csv.Error as exc:
        raise UnreadableFile(f"CSV格式错误：{exc}") from exc
    finally:
        text.detach()


def _xlsx_rows(binary):
    try:
        book = load_workbook(binary, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UnreadableFile("Excel文件已损坏或无法读取，请重新导出") from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(v not in (None, "") and str(v).strip() for v in values):
                yield number, list(values)
    finally:
        book.close()


# ---- cell values --------------------------------------------------------------------------------------------------

DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
MONTH_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
]
SERIAL_RANGE = (1, 2958465)  # Excel serials up to 9999-12-31


def text(value):
    """A cell as stripped text ('' for empty); integral floats lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    value = str(value)
    if not unicodedata.is_normalized("NFKC", value):
        value = unicodedata.normalize("NFKC", value)
    return value.replace("\x00", "").strip()


def parse_date(value):
    """A date as departments write it: 2024-03-05, 2024/3/5, 2024年3月5日, 20240305, a date cell or serial number."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(value)
    raw = text(value)
    raw = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", raw)  # a time part exported along with the date
    for pattern in DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            return _make_date(*match.groups())
    if re.fullmatch(r"\d{1,7}(\.\d+)?", raw):
        return _from_serial(float(raw))
    raise CellError(f"日期“{raw}”无法识别，请写作2024-03-05")


def parse_month(value):
    """The first day of a month written as 2024-03, 2024/3, 2024年3月, 202403, or any full date."""
    if isinstance(value, dt.date | dt.datetime) or isinstance(value, int | float) and value > 300000:
        return parse_date(value).replace(day=1)
    raw = text(value)
    for pattern in MONTH_PATTERNS:
        match = pattern.match(raw)
        if match:
            return _make_date(*match.groups(), "1")
    try:
        return parse_date(raw).replace(day=1)
    except CellError:
        raise CellError(f"月份“{raw}”无法识别，请写作2024-03") from None


def month_end(first):
    """The last day of the month starting at `first`."""
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _make_date(year, month, day):
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise CellError(f"日期{int(year):04d}-{int(month):02d}-{int(day):02d}不存在") from None


def _from_serial(number):
    if not SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]:
        raise CellError(f"日期“{number}”无法识别，请写作2024-03-05")
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


def parse_decimal(value, places):
    """A non-negative decimal (thousands separators allowed) rounded to `places`; None when empty."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = Decimal(str(value))
    else:
        raw = text(value).replace(",", "").replace("，", "")
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise CellError(f"“{raw}”不是数字") from None
    if not number.is_finite():
        raise CellError("不是有效数字")
    if number < 0:
        raise CellError("金额不能为负数")
    return number.quantize(Decimal(1).scaleb(-places))
