"""When a run stops asking: failures that retrying cannot fix.

A model's run stops on an answer of 401, 403 or 404 (a key or a model that will not work on
the next request either); when every endpoint of the model is down (see
:mod:`calibench.models.client` for when the client drops one); on a quota that is spent (a
429 that says ``insufficient_quota``, or ``RATE_LIMITED`` requests in a row that ran out of
retries on 429: a rate limit clears within a request's retries, a spent quota does not); or
on more failed requests than the study's ``max_failed`` allows. What was stored stays, and
running the same command resumes, asking the failed requests again.
"""

from __future__ import annotations

import math
from pathlib import Path

from calibench.errors import CalibenchError
from calibench.models.client import ModelRequestError

FATAL_STATUS = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
RATE_LIMITED = 10  # requests in a row that ran out of retries on HTTP 429


class RunStopped(CalibenchError):
    """A run stopped on failures it cannot recover from; what it stored stays, and a rerun resumes."""


class FailureGuard:
    """Stops a model's run on a failure that retrying cannot fix: an answer of 401, 403 or 404,
    every endpoint down, a spent quota, or more failures than ``limit`` in this sitting."""

    def __init__(self, model: str, limit: int, out: Path, *, say=print):
        self.model, self.limit, self.out, self.say = model, limit, out, say
        self.failed = 0
        self.rate_limited = 0  # requests in a row that ended on 429
        self.stopped: RunStopped | None = None

    def check(self) -> None:
        """Before a request: once stopped, no other request starts."""
        if self.stopped is not None:
            raise self.stopped

    def ok(self) -> None:
        self.rate_limited = 0

    def endpoint_down(self, message: str) -> None:
        """The client dropped one of the model's endpoints: say so (the run goes on while one is left)."""
        self.say(f"warning: {self.model}: {message}")

    def fail(self, exc: ModelRequestError) -> None:
        self.failed += 1
        self.rate_limited = self.rate_limited + 1 if exc.status == 429 else 0
        resume = f"what was stored stays in {self.out}; run the same command to resume"
        if self.stopped is None and exc.status in FATAL_STATUS:
            self.stopped = RunStopped(f"{self.model}: HTTP {exc.status} {FATAL_STATUS[exc.status]} ({exc}); stopped: {resume}")
        elif self.stopped is None and exc.down:
            self.stopped = RunStopped(f"{self.model}: {exc}; stopped: {resume}")
        elif self.stopped is None and exc.status == 429 and ("insufficient_quota" in str(exc) or self.rate_limited >= RATE_LIMITED):
            self.stopped = RunStopped(f"{self.model}: {self.rate_limited} request(s) in a row ran out of retries on HTTP 429 "
                                      f"(last: {exc}); the endpoint's quota may be spent; stopped: {resume}")
        elif self.stopped is None and self.failed > self.limit:
            self.stopped = RunStopped(f"{self.model}: {self.failed} requests failed, more than max_failed allows "
                                      f"({self.limit}; last: {exc}); stopped: {resume}")
        self.check()


def failure_limit(max_failed: float, requests: int) -> int:
    """The failed requests allowed: ``max_failed`` itself when it is a count (1 or more), else that
    share of ``requests``, rounded up."""
    return int(max_failed) if max_failed >= 1 else math.ceil(max_failed * requests)
