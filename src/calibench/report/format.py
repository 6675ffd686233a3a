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


TOO_SMALL = "n too small"


def estimate(est, fmt: str = ".3f", n: int | None = None) -> str:
    """An estimate with its interval: "0.213 [0.170, 0.261]"; the value alone if it has none,
    and "(n too small)" instead of an interval drawn from a single answer (``n`` < 2)."""
    if est is None or est.value is None:
        return "-"
    if n is not None and n < 2:
        return f"{format(est.value, fmt)} ({TOO_SMALL})"
    if est.low is None or est.high is None:
        return format(est.value, fmt)
    return f"{format(est.value, fmt)} [{format(est.low, fmt)}, {format(est.high, fmt)}]"


def gap_estimate(est, n: int | None = None) -> str:
    """A gap estimate in points with its interval: "+19pt [+12, +25]" (see :func:`estimate` for ``n``)."""
    if est is None or est.value is None:
        return "-"
    if n is not None and n < 2:
        return f"{est.value * 100:+.0f}pt ({TOO_SMALL})"
    return f"{est.value * 100:+.0f}pt [{est.low * 100:+.0f}, {est.high * 100:+.0f}]"

