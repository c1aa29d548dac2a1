"""Row-by-row writers of CSV and XLSX onto a file: memory stays flat however many rows.

CSV: UTF-8 with a byte-order mark (Excel then reads Chinese correctly), CRLF lines.
XLSX: the Office Open XML package written by hand with zipfile, one worksheet streamed
into the zip entry (force_zip64: its size is unknown until the end) with inline strings, so
no shared-string table grows with the rows and no new dependency is needed. A sheet holds
at most 1,048,576 rows; longer exports continue on a next sheet.
"""
import csv
import io
import re
import zipfile
from xml.sax.saxutils import escape

from .domain import safe_text

SHEET_ROWS = 1_048_575  # rows per sheet after its header row
# characters XML 1.0 cannot carry (control characters but tab, LF, CR)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _text(value):
    return safe_text(value) if isinstance(value, str) else value


class CsvWriter:
    def __init__(self, fileobj, headers):
        self._raw = fileobj
        self._text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="",
                                      write_through=True)
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._csv.writerow(headers)

    def row(self, values):
        self._csv.writerow(["" if v is None else _text(v) for v in values])

    def close(self):
        self._text.flush()
        self._text.detach()  # the caller keeps (and closes) the file


def _col(n):
    name = ""
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(ref, value):
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(_XML_ILLEGAL.sub("", _text(str(value))))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<sheetData>')
_SHEET_TAIL = '</sheetData></worksheet>'


class XlsxWriter:
    def __init__(self, fileobj, headers, sheet_title="Sheet"):
        self._zip = zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED,
                                    compresslevel=1)
        self._headers, self._title = headers, sheet_title
        self._letters = [_col(i + 1) for i in range(len(headers))]
        self._sheets = 0
        self._sheet = None
        self._new_sheet()

    def _new_sheet(self):
        if self._sheet is not None:
            self._end_sheet()
        self._sheets += 1
        self._sheet = self._zip.open(f"xl/worksheets/sheet{self._sheets}.xml", "w",
                                     force_zip64=True)
        self._sheet.write(_SHEET_HEAD.encode())
        self._row_no = 0
        self._write(self._headers)

    def _end_sheet(self):
        self._sheet.write(_SHEET_TAIL.encode())
        self._sheet.close()

    def _write(self, values):
        self._row_no += 1
        r = self._row_no
        cells = "".join(_cell(f"{letter}{r}", v)
                        for letter, v in zip(self._letters, values) if v is not None)
        self._sheet.write(f'<row r="{r}">{cells}</row>'.encode())

    def row(self, values):
        if self._row_no > SHEET_ROWS:
            self._new_sheet()
        self._write(values)

    def close(self):
        self._end_sheet()
        n = self._sheets
        names = [self._title if n == 1 else f"{self._title} {i}" for i in range(1, n + 1)]
        z = self._zip
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in range(1, n + 1)) + '</Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'))
        z.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(f'<sheet name="{escape(name[:31])}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, name in enumerate(names, 1)) + '</sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, n + 1)) + '</Relationships>'))
        z.close()


def open_writer(fmt, fileobj, headers, sheet_title="Sheet"):
    return XlsxWriter(fileobj, headers, sheet_title) if fmt == "xlsx" else \
        CsvWriter(fileobj, headers)
