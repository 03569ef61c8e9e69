"""Ledger spreadsheets for the import and export tests: rows as dicts keyed by column, written as CSV or XLSX."""

import csv
import datetime
from pathlib import Path

import openpyxl

from students.ledger_columns import BY_KEY, COLUMNS
from tests.factories import make_id_number

BIRTH = datetime.date(2009, 6, 1)  # apart from the factories' children (2008)


def ledger_row(school, sequence: int = 1, **values) -> dict:
    """A valid row for a new dropout at `school`; keyword arguments replace or add cells by column key."""
    row = {
        "name": f"学生{sequence}",
        "id_number": make_id_number("513230", BIRTH + datetime.timedelta(days=sequence // 500), 2 * (sequence % 500)),
        "school_code": school.code,
        "grade": 7,
        "dropout_date": "2019-04-01",
        "reason": "因贫",
    }
    row.update(values)
    return row


def write_csv(path: Path, rows: list[dict], *, language: str = "zh", encoding: str = "utf-8", headers=None) -> Path:
    keys = headers or _keys(rows)
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow([_header(key, language) for key in keys])
        for row in rows:
            writer.writerow(["" if row.get(_key(k)) is None else row.get(_key(k)) for k in keys])
    return path


def write_xlsx(path: Path, rows: list[dict], *, language: str = "zh", headers=None) -> Path:
    keys = headers or _keys(rows)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([_header(key, language) for key in keys])
    for row in rows:
        sheet.append([row.get(_key(k)) for k in keys])
    workbook.save(path)
    return path


def _keys(rows: list[dict]) -> list[str]:
    present = {key for row in rows for key in row}
    return [column.key for column in COLUMNS if column.key in present]


def _key(header: str) -> str:
    return header.split("=", 1)[0]


def _header(key: str, language: str) -> str:
    # "id_number=公民身份号码" writes a header variant for that column.
    if "=" in key:
        return key.split("=", 1)[1]
    return BY_KEY[key].header(language)
