"""Reading departments' files (CSV in UTF-8, UTF-8 with BOM or GB18030; XLSX) and the cell values they write.

Rows are numbered as a spreadsheet shows them (title rows and blank rows counted): in a file whose header is row 1 the
first data row is row 2. `ReadLimits` bound what a file may cost: XLSX parts are checked against their declared
inflated sizes before anything is inflated (zipfile never inflates beyond the declared size: a part that lies fails its
CRC), shared strings are counted before openpyxl loads them, rows and columns are capped while reading, and a deadline
stops a load that takes too long. A file over a limit is unreadable as a whole (nothing changed).
"""

import codecs
import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse
from zlib import error as zlib_error

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from models.refusals import Refusal

XLSX_MAGIC = b"PK\x03\x04"
EXCEL_EPOCH = dt.date(1899, 12, 30)
SNIFF_CHUNK = 1 << 20
MAX_COLUMNS = 256  # no department layout has more; a sheet claiming 16,384 columns is read as 256
SHARED_STRINGS = "xl/sharedStrings.xml"
MB = 1 << 20
csv.field_size_limit(1 << 24)


@dataclass(frozen=True)
class ReadLimits:
    """What one file may cost; None: unlimited. `from_config` reads the IMPORT_* settings (config.py)."""

    max_inflated: int | None = None  # bytes: the XLSX's parts inflated, declared sizes summed
    max_shared_bytes: int | None = None  # bytes: xl/sharedStrings.xml inflated
    max_shared_strings: int | None = None  # distinct strings in it
    max_rows: int | None = None  # physical rows read (blank ones count)
    deadline: float | None = None  # time.monotonic() after which the load stops

    @classmethod
    def from_config(cls, config, rows=False, seconds=None):
        """The XLSX limits of `config`; with `rows`, the upload's row limit; with `seconds`, a deadline."""
        return cls(
            max_inflated=config["IMPORT_XLSX_MAX_INFLATED_MB"] * MB,
            max_shared_bytes=config["IMPORT_XLSX_MAX_SHARED_MB"] * MB,
            max_shared_strings=config["IMPORT_XLSX_MAX_SHARED_STRINGS"],
            max_rows=config["IMPORT_UPLOAD_MAX_ROWS"] if rows else None,
            deadline=time.monotonic() + seconds if seconds else None,
        )

    def check_time(self):
        """UnreadableFile once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise UnreadableFile("导入用时超过限制，本次未作任何更改；请将文件拆分为较小的几份后分别上传")

    def check_rows(self, number):
        if self.max_rows is not None and number > self.max_rows:
            raise UnreadableFile(f"文件超过{self.max_rows}行，本次未作任何更改；请拆分后分别上传")


NO_LIMITS = ReadLimits()


class UnreadableFile(Refusal):
    """The file as a whole cannot be read; `message` is one Chinese sentence for the department."""


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


def read_rows(binary, filename, limits=NO_LIMITS):
    """Yield (row_number, values) for each non-empty row (the header among them), within `limits`."""
    head = binary.read(4)
    binary.seek(0)
    suffix = Path(filename or "").suffix.lower()
    if head == XLSX_MAGIC:
        yield from _xlsx_rows(binary, limits)
    elif suffix in (".xlsx", ".xlsm"):
        raise UnreadableFile("文件扩展名为.xlsx，但内容不是有效的Excel工作簿，请重新导出")
    elif suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("不支持旧版Excel（.xls）文件，请另存为.xlsx或CSV后再导入")
    elif suffix in ("", ".csv", ".txt"):
        yield from _csv_rows(binary, limits)
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


def _csv_rows(binary, limits):
    encoding = _detect_encoding(binary)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    try:
        sample = text.read(8192)
        text.seek(0)
        if "\x00" in sample:
            raise UnreadableFile("文件内容不是文本表格，请使用CSV或XLSX文件")
        for number, values in enumerate(csv.reader(text), start=1):
            limits.check_rows(number)
            if number % 1000 == 0:
                limits.check_time()
            if "".join(values).strip():  # not a blank row (some cell holds more than spaces)
                yield number, values[:MAX_COLUMNS]
    except csv.Error as exc:
        raise UnreadableFile(f"CSV格式错误：{exc}") from exc
    finally:
        text.detach()


def _xlsx_rows(binary, limits):
    check_xlsx(binary, limits)
    try:
        book = load_workbook(binary, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ParseError, ValueError) as exc:
        raise UnreadableFile("Excel文件已损坏或无法读取，请重新导出") from exc
    number = 0
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a stored dimension smaller than the data would drop rows and columns silently
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            number += 1
            limits.check_rows(number)
            if number % 1000 == 0:
                limits.check_time()
            if any(v not in (None, "") and str(v).strip() for v in values):
                values = list(values)
                while values[-1] is None:
                    values.pop()
                yield number, values
    except (zipfile.BadZipFile, ParseError, KeyError, IndexError, EOFError, zlib_error) as exc:
        raise UnreadableFile(f"Excel文件第{number + 1}行附近内容已损坏，请重新导出") from exc
    finally:
        book.close()


def check_xlsx(binary, limits):
    """UnreadableFile when the workbook's declared inflated size or its shared strings exceed `limits`."""
    try:
        archive = zipfile.ZipFile(binary)
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile("Excel文件已损坏或无法读取，请重新导出") from exc
    inflated = sum(part.file_size for part in parts)
    if limits.max_inflated is not None and inflated > limits.max_inflated:
        raise UnreadableFile(f"Excel文件解压后超过{limits.max_inflated // MB}MB，本次未作任何更改；"
                             "请删除无关的工作表、图片和格式，或另存为CSV后再上传")
    shared = next((p for p in parts if p.filename == SHARED_STRINGS), None)
    if shared is not None:
        if limits.max_shared_bytes is not None and shared.file_size > limits.max_shared_bytes:
            raise UnreadableFile(f"Excel文件中的文字内容超过{limits.max_shared_bytes // MB}MB，本次未作任何更改；"
                                 "请拆分后分别上传，或另存为CSV")
        if limits.max_shared_strings is not None:
            _count_shared_strings(archive, limits.max_shared_strings)
    binary.seek(0)


def _count_shared_strings(archive, limit):
    """Count the <si> items of the shared strings streaming (openpyxl keeps them all in memory) up to `limit`."""
    count = 0
    try:
        with archive.open(SHARED_STRINGS) as part:
            for _event, element in iterparse(part):
                if element.tag.endswith("}si") or element.tag == "si":
                    count += 1
                    if count > limit:
                        raise UnreadableFile(f"Excel文件中的不同文字超过{limit}项，本次未作任何更改；"
                                             "请拆分后分别上传，或另存为CSV")
                    element.clear()
    except (zipfile.BadZipFile, ParseError, EOFError, zlib_error) as exc:
        raise UnreadableFile("Excel文件已损坏或无法读取，请重新导出") from exc


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


def verbatim(value):
    """Official text (文号, 违法事实, 处罚内容 …) as sent: trimmed, NUL removed, never normalised."""
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    return text(value)


def text(value):
    """A cell as stripped text ('' for empty); integral floats lose their '.0'."""
    if type(value) is str:  # the common case first
        if not value.isascii() and not unicodedata.is_normalized("NFKC", value):
            value = unicodedata.normalize("NFKC", value)
        return value.replace("\x00", "").strip()
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


MAX_MAGNITUDE = Decimal("1e15")  # beyond any amount: refused before rounding (1e309 cannot be quantized)


def parse_decimal(value, places):
    """A non-negative decimal (thousands separators allowed) rounded to `places`; None when empty.

    CellError for anything else, NaN, Infinity and absurd magnitudes (1e309) included."""
    if isinstance(value, bool):
        raise CellError(f"“{value}”不是数字")
    if isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        raw = text(value).replace(",", "").replace("，", "")
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise CellError(f"“{raw[:40]}”不是数字") from None
    if not number.is_finite():
        raise CellError("不是有效数字")
    if number < 0:
        raise CellError("金额不能为负数")
    if number >= MAX_MAGNITUDE:
        raise CellError("金额过大，请核对单位")
    return number.quantize(Decimal(1).scaleb(-places))
