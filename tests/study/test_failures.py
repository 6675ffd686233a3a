import pytest

from calibench.models.client import ModelRequestError
from calibench.study.failures import BREAKER, FailureGuard, RunStopped, failure_limit


def test_failure_limit_is_a_count_or_a_share_rounded_up():
    assert failure_limit(20, 1000) == 20 and failure_limit(0.05, 1000) == 50 and failure_limit(0.05, 3) == 1


def test_the_guard_stops_on_a_fatal_status_on_a_run_of_failures_and_over_the_limit(tmp_path):
    guard = FailureGuard("m", limit=100, out=tmp_path)
    with pytest.raises(RunStopped, match="HTTP 403 Forbidden"):
        guard.fail(ModelRequestError("no", status=403))
    with pytest.raises(RunStopped, match="HTTP 403"):  # once stopped, every later request is refused too
        guard.check()
    guard = FailureGuard("m", limit=100, out=tmp_path)
    for _ in range(BREAKER - 1):
        guard.fail(ModelRequestError("down", status=503, retryable=True))
    guard.ok()  # a success resets the run
    for _ in range(BREAKER - 1):
        guard.fail(ModelRequestError("down", status=503, retryable=True))
    with pytest.raises(RunStopped, match=f"{BREAKER} requests in a row failed"):
        guard.fail(ModelRequestError("down", status=503, retryable=True))
    guard = FailureGuard("m", limit=2, out=tmp_path)
    guard.fail(ModelRequestError("bad", status=400))
    guard.ok()
    guard.fail(ModelRequestError("bad", status=400))
    guard.ok()
    with pytest.raises(RunStopped, match="3 requests failed, more than max_failed allows"):
        guard.fail(ModelRequestError("bad", status=400))
