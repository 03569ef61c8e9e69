"""Argument types shared by the management commands."""

import datetime

from django.core.management.base import CommandError


def parse_day(value: str) -> datetime.date:
    """A day given on the command line as YYYY-MM-DD (argparse `type=`)."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from error
