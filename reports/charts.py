"""The dashboards' charts, as plotly figure JSON that the browser draws with the locally served plotly.js.

A figure is written as the plain dictionary plotly.js reads and serialised with plotly's own to_json
(orjson engine when it is installed). The tests run every figure through plotly's validation, so the
page view does not have to pay for it on every request.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import plotly.io as pio
from django.utils.html import mark_safe
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

ACCENT = "#c62828"
ACCENT_SOFT = "rgba(198, 40, 40, 0.12)"
BLUE = "#2f6fb5"
GREY = "#9aa5b1"
INK = "#1f2933"
GRID = "#e4e7eb"
FONT = 'system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif'

# The characters that could close the <script> element the JSON is embedded in.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class Chart:
    """A figure for the page: its element id, its JSON, and the text screen readers get."""

    id: str
    title: str
    figure: dict

    @property
    def json(self) -> SafeString:
        return mark_safe(figure_json(self.figure).translate(_SCRIPT_ESCAPES))


def figure_json(figure: dict) -> str:
    return pio.to_json(figure, validate=False, engine="auto")


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def _layout(**extra) -> dict:
    layout = {
        "font": {"family": FONT, "size": 13, "color": INK},
        "margin": {"l": 56, "r": 16, "t": 12, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": ".,",
        "showlegend": False,
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {"gridcolor": GRID, "zeroline": False},
        "yaxis": {"gridcolor": GRID, "zeroline": False, "rangemode": "tozero", "tickformat": ",d"},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _date_axis() -> dict:
    # plotly.js ships English month names only: Chinese pages get numeric dates instead.
    axis = {"type": "date", "gridcolor": GRID, "hoverformat": "%Y-%m-%d"}
    if _chinese():
        axis["tickformat"] = "%Y-%m"
    return axis


def trend(chart_id: str, title: str, days: Iterable, values: Iterable[int], *, name: str, color: str = ACCENT) -> Chart:
    """A line of one daily figure since the ledger opened."""
    x = [day.isoformat() for day in days]
    figure = {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": x,
                "y": list(values),
                "line": {"color": color, "width": 2.5, "shape": "hv"},
                "fill": "tozeroy",
                "fillcolor": ACCENT_SOFT if color == ACCENT else "rgba(47, 111, 181, 0.12)",
                "hovertemplate": "%{x|%Y-%m-%d}<br>" + name + ": %{y:,d}<extra></extra>",
            }
        ],
        "layout": _layout(height=300, xaxis=_date_axis(), hovermode="x"),
    }
    return Chart(chart_id, title, figure)


def ranked_bars(chart_id: str, title: str, rows: list[tuple[str, int, str]], *, name: str) -> Chart:
    """Horizontal bars, largest at the top. `rows` holds (label, value, link); a click follows the link."""
    labels = [label for label, _value, _link in rows]
    figure = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "x": [value for _label, value, _link in rows],
                "y": labels,
                "customdata": [link for _label, _value, link in rows],
                "marker": {"color": ACCENT},
                "hovertemplate": "%{y}: %{x:,d}<extra></extra>",
                "texttemplate": "%{x:,d}",
                "textposition": "outside",
                "cliponaxis": False,
            }
        ],
        "layout": _layout(
            height=max(160, 26 * len(rows) + 50),
            margin={"l": 8, "r": 56, "t": 8, "b": 32},
            bargap=0.25,
            xaxis={"tickformat": ",d", "rangemode": "tozero"},
            yaxis={"autorange": "reversed", "automargin": True, "type": "category", "tickformat": ""},
        ),
    }
    return Chart(chart_id, title, figure)


def group_comparison(chart_id: str, title: str, rows: list[tuple[str, float | None, float | None]]) -> Chart:
    """Decrease since the baseline, in percent, for each county group beside the rest of the country."""
    names = [name for name, _inside, _rest in rows]
    inside_label, rest_label = _("Counties in the group"), _("Rest of the country")
    figure = {
        "data": [
            {
                "type": "bar",
                "name": inside_label,
                "x": names,
                "y": [inside for _name, inside, _rest in rows],
                "marker": {"color": ACCENT},
                "hovertemplate": "%{x}<br>" + inside_label + ": %{y:.1f}%<extra></extra>",
                "texttemplate": "%{y:.1f}%",
                "textposition": "outside",
                "cliponaxis": False,
            },
            {
                "type": "bar",
                "name": rest_label,
                "x": names,
                "y": [rest for _name, _inside, rest in rows],
                "marker": {"color": GREY},
                "hovertemplate": "%{x}<br>" + rest_label + ": %{y:.1f}%<extra></extra>",
                "texttemplate": "%{y:.1f}%",
                "textposition": "outside",
                "cliponaxis": False,
            },
        ],
        "layout": _layout(
            height=300,
            barmode="group",
            showlegend=True,
            legend={"orientation": "h", "y": -0.18},
            margin={"t": 24, "b": 56},
            yaxis={"ticksuffix": "%", "tickformat": ".0f", "range": [0, 105]},
            xaxis={"type": "category"},
        ),
    }
    return Chart(chart_id, title, figure)
