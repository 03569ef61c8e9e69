"""Where a worker saves the figures it has taken so far (its output file, once the worker has set it)."""

import json

_path: str | None = None


def save_to(path: str) -> None:
    global _path
    _path = path


def checkpoint(data: dict) -> None:
    """Save the figures taken so far: if the worker is stopped for overrunning, they are not lost."""
    if _path is None:
        return
    with open(_path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
