"""Dashboards: the national, regional, county and group pages, the school page, and plotly.js."""

from .assets import plotly_js
from .dashboards import division, group, national
from .home import home
from .school import school

__all__ = ["division", "group", "home", "national", "plotly_js", "school"]
