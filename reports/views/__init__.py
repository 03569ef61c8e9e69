"""Dashboards: the national, regional, county and group pages, the school page, and plotly.js."""

from .assets import plotly_js
from .dashboards import division, group, national
from .figures_csv import division_csv, group_csv, national_csv
from .home import home
from .school import school

__all__ = [
    "division",
    "division_csv",
    "group",
    "group_csv",
    "home",
    "national",
    "national_csv",
    "plotly_js",
    "school",
]
