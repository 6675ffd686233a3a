"""Number formatting shared by every table of the report (terminal, Markdown and HTML)."""

from __future__ import annotations


def pct(x: float | None) -> str:
    """0.42 -> "42%"; None -> "-"."""
    return "-" if x is None else f"{x:.0%}"


def num(x: float | None, fmt: str = ".3f") -> str:
    return "-" if x is None else format(x, fmt)


def points(x: float | None) -> str:
    """A signed gap in percentage points: 0.19 -> "+19pt"."""
    return "-" if x is None else f"{x * 100:+.0f}pt"


def estimate(est, fmt: str = ".3f") -> str:
    """An estimate with its interval: "0.213 [0.170, 0.261]"; the value alone if it has none."""
    if est is None or est.value is None:
        return "-"
    if est.low is None or est.high is None:
        return format(est.value, fmt)
    return f"{format(est.value, fmt)} [{format(est.low, fmt)}, {format(est.high, fmt)}]"


def gap_estimate(est) -> str:
    """A gap estimate in points with its interval: "+19pt [+12, +25]"."""
    if est is None or est.value is None:
        return "-"
    return f"{est.value * 100:+.0f}pt [{est.low * 100:+.0f}, {est.high * 100:+.0f}]"

