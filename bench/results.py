"""One benchmark figure beside its baseline, the ratio between them, and whether the target holds.

A target is a bound on the ratio value / baseline_value: "at most 1.3" (a time that may grow by at
most 30%) or "at least 0.25" (a rate that must reach a quarter of the baseline's). The JSON written
for each result is stable, so that two runs can be compared and a script can tell which targets hold.
"""

import json
import operator
from dataclasses import dataclass
from pathlib import Path

_COMPARE = {"at most": operator.le, "at least": operator.ge}


@dataclass(frozen=True)
class Target:
    """A bound on the ratio (or, with of="value", on the value itself): `kind` is "at most" or "at least"."""

    kind: str
    bound: float
    of: str = "ratio"

    def __post_init__(self) -> None:
        if self.kind not in _COMPARE:
            raise ValueError(f"unknown target kind {self.kind!r}; use 'at most' or 'at least'")
        if self.of not in ("ratio", "value"):
            raise ValueError(f"a target bounds the ratio or the value, not {self.of!r}")

    def holds(self, value: float, ratio: float | None) -> bool | None:
        subject = value if self.of == "value" else ratio
        if subject is None:
            return None
        return _COMPARE[self.kind](subject, self.bound)

    def __str__(self) -> str:
        prefix = "value " if self.of == "value" else ""
        return f"{prefix}{self.kind} {self.bound:.3g}"


def at_most(bound: float, *, of: str = "ratio") -> Target:
    return Target("at most", bound, of)


def at_least(bound: float, *, of: str = "ratio") -> Target:
    return Target("at least", bound, of)


@dataclass(frozen=True)
class Result:
    """A measured figure and the baseline it is judged against (both in `unit`)."""

    metric: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value

    @property
    def meets(self) -> bool | None:
        return self.target.holds(self.value, self.ratio) if self.target else None

    def as_dict(self) -> dict:
        ratio = self.ratio
        data = {
            "metric": self.metric,
            "value": round(self.value, 4),
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": round(self.baseline_value, 4),
            "ratio": None if ratio is None else round(ratio, 4),
            "target": str(self.target) if self.target else None,
            "meets": self.meets,
        }
        if self.note:
            data["note"] = self.note
        return data


def write_json(results: list[Result], path: Path) -> None:
    path.write_text(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value else "0"


def format_table(results: list[Result]) -> str:
    """The results as an aligned plain-text table, one line per figure."""
    header = ("metric", "value", "unit", "baseline", "baseline value", "ratio", "target", "meets")
    rows = [header]
    for r in results:
        meets = {True: "yes", False: "NO", None: "-"}[r.meets]
        rows.append(
            (
                r.metric,
                _fmt(r.value),
                r.unit,
                r.baseline,
                _fmt(r.baseline_value),
                _fmt(r.ratio),
                str(r.target) if r.target else "-",
                meets,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {1, 4, 5}
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.metric}: {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)
