"""The report: tables, figures and a self-contained HTML page, rendered from results.json alone."""

from calibench.report.figures import (
    plot_reliability,
    plot_risk_coverage,
    plot_trends,
    reliability_data,
    risk_coverage_data,
    small_multiples,
    trend_data,
)
from calibench.report.headline import caveats, headline
from calibench.report.html import merge, render_html, write_report
from calibench.report.table import markdown, rich_table, rows

__all__ = [
    "caveats",
    "headline",
    "markdown",
    "merge",
    "plot_reliability",
    "plot_risk_coverage",
    "plot_trends",
    "reliability_data",
    "render_html",
    "rich_table",
    "risk_coverage_data",
    "rows",
    "small_multiples",
    "trend_data",
    "write_report",
]
