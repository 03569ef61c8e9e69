"""What an uploaded ledger file may hold, and the checks that refuse a hostile one before it costs memory or time.

A spreadsheet is read by a worker with a few hundred megabytes; a file of a few kilobytes can unpack to gigabytes
(a ZIP bomb), declare a million rows, a sixteen-thousand-column row, or one cell of 300 MB. Each limit is a setting
(IMPORT_MAX_*, read when a file is opened, never at import time), and each is refused with a message that names it:
- the unpacked size of an XLSX: the sizes its ZIP entries declare, checked before anything is unpacked, and the
  bytes actually unpacked, counted as they are read (`CappedZipFile`), so a lying declaration is caught too;
  a CSV's size counts as its unpacked size;
- how tightly a part of an XLSX is packed: a spreadsheet's parts unpack to ten or twenty times their size, a ZIP
  bomb's to a thousand (a 16 KB file of 100,000 rows), so a large part past the ratio is refused unread;
- rows, columns and the characters of one cell, checked as rows are read (students.ledger_reading);
- problems kept: the check stops once it has found this many (students.importing).
"""

import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MB = 1024 * 1024


class FileProblem(Exception):
    """The file as a whole cannot be read as a ledger (no header, wrong type, unknown encoding, past a limit)."""


@dataclass(frozen=True)
class Limits:
    unpacked_bytes: int
    rows: int
    columns: int
    cell_chars: int
    problems: int
    inflate_ratio: int = 100

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_MB * MB,
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            problems=settings.IMPORT_MAX_PROBLEMS,
            inflate_ratio=settings.IMPORT_MAX_INFLATE_RATIO,
        )

    def too_large(self) -> FileProblem:
        megabytes = self.unpacked_bytes // MB
        return FileProblem(
            _(
                "The file unpacks to more than %(mb)s MB, the most a ledger file may hold. Split it (by school, say) "
                "and import each part."
            )
            % {"mb": f"{megabytes:,}"}
        )

    def too_many_rows(self) -> FileProblem:
        return FileProblem(
            ngettext(
                "The file has more than %(count)s row, the most a ledger file may hold. Split it (by school, say).",
                "The file has more than %(count)s rows, the most a ledger file may hold. Split it (by school, say).",
                self.rows,
            )
            % {"count": f"{self.rows:,}"}
        )

    def too_many_columns(self, where: str) -> FileProblem:
        return FileProblem(
            ngettext(
                "%(where)s goes past column %(count)s, the most a ledger file may have. Delete the empty columns "
                "at the right of the sheet.",
                "%(where)s goes past column %(count)s, the most a ledger file may have. Delete the empty columns "
                "at the right of the sheet.",
                self.columns,
            )
            % {"where": where, "count": f"{self.columns:,}"}
        )

    def cell_too_long(self, where: str, length: int) -> FileProblem:
        return FileProblem(
            _("Cell %(cell)s holds %(length)s characters; a cell may hold at most %(limit)s.")
            % {"cell": where, "length": f"{length:,}", "limit": f"{self.cell_chars:,}"}
        )

    def packed_too_tightly(self, name: str) -> FileProblem:
        return FileProblem(
            _(
                "A part of the file (%(part)s) unpacks to more than %(ratio)s times its size, which no spreadsheet "
                "does: it is refused as a ZIP bomb. Save the file again from Excel or WPS."
            )
            % {"part": name, "ratio": self.inflate_ratio}
        )


# Parts smaller than this unpacked may be packed as tightly as they like (a few kilobytes of styles, say).
RATIO_FROM_BYTES = MB


def check_declared_sizes(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a ZIP whose entries declare more than the limit unpacked, or a part packed as only a bomb is, before
    any is unpacked."""
    if sum(info.file_size for info in archive.infolist()) > limits.unpacked_bytes:
        raise limits.too_large()
    for info in archive.infolist():
        if info.file_size > RATIO_FROM_BYTES and info.file_size > limits.inflate_ratio * max(info.compress_size, 1):
            raise limits.packed_too_tightly(info.filename)


class _CountedStream(io.RawIOBase):
    """One ZIP entry being unpacked, counting its bytes against what the whole archive may unpack to, and against
    what its own packed size may unpack to."""

    def __init__(self, inner, archive: "CappedZipFile", info: zipfile.ZipInfo):
        self.inner = inner
        self.archive = archive
        self.name = info.filename
        self.most = max(RATIO_FROM_BYTES, archive.limits.inflate_ratio * max(info.compress_size, 1))
        self.unpacked = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.unpacked += len(data)
        if self.unpacked > self.most:
            raise self.archive.limits.packed_too_tightly(self.name)
        self.archive.count(len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


class CappedZipFile(zipfile.ZipFile):
    """A ZipFile whose entries, together, unpack to no more than the limit: past it, reading raises FileProblem.

    The sizes an entry declares can lie; the bytes read cannot. What openpyxl reads (its shared strings, the
    worksheet it streams) goes through here.
    """

    def __init__(self, file, limits: Limits):
        super().__init__(file, "r")
        self.limits = limits
        self.unpacked = 0
        check_declared_sizes(self, limits)

    def count(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.limits.unpacked_bytes:
            raise self.limits.too_large()

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        entry = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return entry
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        return io.BufferedReader(_CountedStream(entry, self, info), 1 << 16)

    def read(self, name, pwd=None) -> bytes:
        with self.open(name, "r", pwd) as entry:
            return entry.read()
