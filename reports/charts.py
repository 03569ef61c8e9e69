"""The dashboards' charts, as plotly figure JSON that the browser draws with the locally served plotly.js.

A figure is written as the plain dictionary plotly.js reads and serialised with plotly's own to_json
(orjson engine when it is installed). The tests run every figure through plotly's validation, so the
page view does not have to pay for it on every request.
"""

import datetime
from dataclasses import dataclass, field

import plotly.io as pio
from django.utils.html import escape, mark_safe
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

ACCENT = "#c62828"
ACCENT_SOFT = "rgba(198, 40, 40, 0.12)"
BLUE = "#2f6fb5"
GREY = "#9aa5b1"
INK = "#1f2933"
GRID = "#e4e7eb"
# The lines drawn beside an area's own, in the order they are chosen.
OVERLAY_COLORS = ("#1f2933", BLUE, "#b7791f", "#2f855a", "#6b46c1", "#0e7490", "#b83280", "#5a7d16", GREY)
FONT = 'system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif'


@dataclass(frozen=True)
class Chart:
    """A figure for the page: its element id, its title, its JSON, and its figures as a table."""

    id: str
    title: str
    figure: dict
    table: SafeString | str = ""
    # What a saved PNG carries (dashboard.js): its file name, and the title, range and source drawn into it.
    export: dict = field(default_factory=dict)

    @property
    def json(self) -> SafeString:
        # Escape what could close the <script> element the JSON is embedded in.
        text = figure_json(self.figure).replace("&", "\\u0026").replace("<", "\\u003C").replace(">", "\\u003E")
        return mark_safe(text)


# A row of a chart's table view: its label, the address the row leads to ("" for none), its cells.
TableRow = tuple[str, str, list[str]]


def table(headers: list[str], rows: list[TableRow], *, caption: str = "", css: str = "") -> SafeString:
    """A chart's figures as an accessible table, for screen readers and for copying.

    The first column labels each row; the others are figures, right-aligned. When a row has an
    address, its label and every figure link to it. Built as one string: a dashboard holds a few
    hundred cells, and this is the page's hottest path.
    """
    e = escape
    head = "".join(
        f'<th scope="col" class="num">{e(h)}</th>' if i else f'<th scope="col">{e(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for label, link, cells in rows:
        if link:
            href = e(link)
            row = f'<th scope="row"><a href="{href}">{e(label)}</a></th>' + "".join(
                f'<td class="num"><a href="{href}">{e(cell)}</a></td>' for cell in cells
            )
        else:
            row = f'<th scope="row">{e(label)}</th>' + "".join(f'<td class="num">{e(cell)}</td>' for cell in cells)
        body.append(f"<tr>{row}</tr>")
    caption_html = f"<caption>{e(caption)}</caption>" if caption else ""
    rows_html = "".join(body)
    return mark_safe(
        f'<table class="data {e(css)}">{caption_html}<thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>'
    )


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


def date_ticks(first: datetime.date, last: datetime.date) -> dict:
    """Ticks for a date axis showing `first` to `last`: one label per week, month, quarter or year, never two
    alike. Numeric dates read the same in both languages (dashboard.js applies the same rule after a zoom)."""
    days = (last - first).days
    if days <= 62:
        return {"dtick": 7 * 24 * 3600 * 1000, "tickformat": "%m-%d"}
    if days <= 15 * 31:
        return {"dtick": "M1", "tickformat": "%Y-%m"}
    if days <= 4 * 366:
        return {"dtick": "M3", "tickformat": "%Y-%m"}
    return {"dtick": "M12", "tickformat": "%Y"}


def _date_axis(days: list) -> dict:
    axis = {"type": "date", "gridcolor": GRID, "hoverformat": "%Y-%m-%d"}
    if days:
        axis.update(date_ticks(days[0], days[-1]))
    return axis


def _count_axis(values: list[int]) -> dict:
    # Small counts get a tick per whole number, never 0.5 of a child.
    axis = {"tickformat": ",d", "rangemode": "tozero"}
    if max(values, default=0) <= 6:
        axis["dtick"] = 1
    return axis


def _range_buttons() -> dict:
    return {
        "buttons": [
            {"count": 3, "step": "month", "stepmode": "backward", "label": _("3 months")},
            {"count": 1, "step": "year", "stepmode": "backward", "label": _("1 year")},
            {"step": "all", "label": _("All")},
        ],
        "x": 0,
        "y": 1.02,
        "yanchor": "bottom",
        "font": {"size": 12},
        "bgcolor": "#f5f7fa",
        "activecolor": "#e4e7eb",
    }


def _steps(days: list, values: list[int]) -> tuple[list[str], list[int]]:
    """The days on which the figure changes (and the last day): drawn as steps, the line is the same."""
    x, y = [], []
    last = len(values) - 1
    previous = None
    for i, value in enumerate(values):
        if value != previous or i == last:
            x.append(days[i].isoformat())
            y.append(value)
            previous = value
    return x, y


@dataclass(frozen=True)
class Line:
    """One more area drawn on a trend: its name, and its daily figures (None where a share has no baseline)."""

    name: str
    days: list
    values: list


def trend(
    chart_id: str,
    title: str,
    days: list,
    values: list,
    *,
    name: str,
    color: str = ACCENT,
    table: str = "",
    overlays: list[Line] = (),
    percent: bool = False,
    export: dict | None = None,
) -> Chart:
    """A step line of one daily figure over the chosen days, with buttons to zoom to the latest months.

    `overlays` are drawn beside it, each in a colour of its own, with a legend; `percent` draws every line as
    a share of its baseline instead of a count.
    """
    value_format = "%{y:.2f}%" if percent else "%{y:,d}"

    def line(line_name: str, line_days: list, line_values: list, line_color: str, main: bool) -> dict:
        x, y = _steps(line_days, line_values)
        trace = {
            "type": "scatter",
            "mode": "lines",
            "name": line_name,
            "x": x,
            "y": y,
            "line": {"color": line_color, "width": 2.5 if main else 2, "shape": "hv"},
            "hovertemplate": "%{x|%Y-%m-%d}<br>" + line_name + ": " + value_format + "<extra></extra>",
        }
        if main and not overlays:
            trace["fill"] = "tozeroy"
            trace["fillcolor"] = ACCENT_SOFT if line_color == ACCENT else "rgba(47, 111, 181, 0.12)"
        return trace

    data = [line(name, days, values, color, True)]
    data += [
        line(overlay.name, overlay.days, overlay.values, OVERLAY_COLORS[i % len(OVERLAY_COLORS)], False)
        for i, overlay in enumerate(overlays)
    ]
    if percent:
        yaxis = {"ticksuffix": "%", "tickformat": ".1f", "rangemode": "tozero"}
    else:
        yaxis = _count_axis([v for trace in data for v in trace["y"] if v is not None])
    # With more than one line, a legend under the chart names them.
    legend = {"showlegend": True, "legend": {"orientation": "h", "y": -0.15}} if overlays else {}
    figure = {
        "data": data,
        "layout": _layout(
            height=380 if overlays else 320,
            margin={"t": 36, "b": 72 if overlays else 40},
            xaxis={**_date_axis(days), "rangeselector": _range_buttons()},
            yaxis=yaxis,
            hovermode="x",
            **legend,
        ),
    }
    return Chart(chart_id, title, figure, table, export or {})


def modebar_config() -> dict:
    """plotly.js's config for every chart: only the buttons users need, nothing that leaves the ledger.

    The cloud and share links would upload the figures to Plotly's servers; the PNG button is replaced by one
    that draws the chart's title, area, range and source into the image (dashboard.js).
    """
    config = {
        "responsive": True,
        "displaylogo": False,
        "showLink": False,
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "plotlyServerURL": "",
        "modeBarButtonsToRemove": [
            "toImage",
            "sendDataToCloud",
            "editInChartStudio",
            "select2d",
            "lasso2d",
            "zoomIn2d",
            "zoomOut2d",
            "toggleSpikelines",
            "hoverClosestCartesian",
            "hoverCompareCartesian",
        ],
    }
    if _chinese():
        # Registered by static/js/plotly-locale-zh-cn.js, plotly.js's own dictionary.
        config["locale"] = "zh-CN"
    return config


def ranked_bars(chart_id: str, title: str, rows: list[tuple[str, int, str]], *, name: str, table: str = "") -> Chart:
    """Horizontal bars, largest at the top. `rows` holds (label, value, link); a click follows the link."""
    labels = [label for label, _value, _link in rows]
    values = [value for _label, value, _link in rows]
    figure = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "x": values,
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
            # A ranking is read, not zoomed: a click on a bar opens that area instead.
            xaxis={**_count_axis(values), "fixedrange": True},
            yaxis={
                "autorange": "reversed",
                "automargin": True,
                "type": "category",
                "tickformat": "",
                "fixedrange": True,
            },
        ),
    }
    return Chart(chart_id, title, figure, table)


def group_comparison(
    chart_id: str, title: str, rows: list[tuple[str, float | None, float | None]], *, table: str = ""
) -> Chart:
    """For each county group beside the rest of the country: the share of the baseline still open, in percent.

    Both sides fall by about 99%; what is left is where they differ, so that is what the bars show.
    """
    inside_label, rest_label = _("Counties in the group"), _("Rest of the country")

    def bars(label: str, values: list[float | None], color: str) -> dict:
        return {
            "type": "bar",
            "name": label,
            "x": [name for name, _inside, _rest in rows],
            "y": values,
            "marker": {"color": color},
            "hovertemplate": "%{x}<br>" + label + ": %{y:.2f}%<extra></extra>",
            "texttemplate": "%{y:.2f}%",
            "textposition": "outside",
            "cliponaxis": False,
        }

    figure = {
        "data": [
            bars(inside_label, [inside for _name, inside, _rest in rows], ACCENT),
            bars(rest_label, [rest for _name, _inside, rest in rows], GREY),
        ],
        "layout": _layout(
            height=300,
            barmode="group",
            showlegend=True,
            legend={"orientation": "h", "y": -0.18},
            margin={"t": 24, "b": 56},
            yaxis={"ticksuffix": "%", "tickformat": ".1f", "rangemode": "tozero", "fixedrange": True},
            xaxis={"type": "category", "fixedrange": True},
        ),
    }
    return Chart(chart_id, title, figure, table)
