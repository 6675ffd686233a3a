import pytest

from calibench.models.client import ModelRequestError
from calibench.study.failures import RATE_LIMITED, FailureGuard, RunStopped, failure_limit


def test_failure_limit_is_a_count_or_a_share_rounded_up():
    assert failure_limit(20, 1000) == 20 and failure_limit(0.05, 1000) == 50 and failure_limit(0.05, 3) == 1


def test_the_guard_stops_on_a_fatal_status_with_every_endpoint_down_and_over_the_limit(tmp_path):
    guard = FailureGuard("m", limit=100, out=tmp_path)
    with pytest.raises(RunStopped, match="HTTP 403 Forbidden"):
        guard.fail(ModelRequestError("no", status=403))
    with pytest.raises(RunStopped, match="HTTP 403"):  # once stopped, every later request is refused too
        guard.check()
    guard = FailureGuard("m", limit=100, out=tmp_path)
    guard.fail(ModelRequestError("gave up", status=503, retryable=True))  # one failure: the run goes on
    with pytest.raises(RunStopped, match="every endpoint is down"):
        guard.fail(ModelRequestError("every endpoint is down (...)", down=True))
    said = []
    guard = FailureGuard("m", limit=2, out=tmp_path, say=said.append)
    guard.endpoint_down("http://a/v1 dropped: 10 attempts in a row failed")
    assert said == ["warning: m: http://a/v1 dropped: 10 attempts in a row failed"]
    guard.fail(ModelRequestError("bad", status=400))
    guard.fail(ModelRequestError("bad", status=400))
    with pytest.raises(RunStopped, match="3 requests failed, more than max_failed allows"):
        guard.fail(ModelRequestError("bad", status=400))


def test_a_spent_quota_stops_the_run(tmp_path):
    guard = FailureGuard("m", limit=1000, out=tmp_path)
    for _ in range(RATE_LIMITED - 1):
        guard.fail(ModelRequestError("gave up: HTTP 429: slow down", status=429, retryable=True))
    guard.ok()  # a reply in between: a rate limit, not a spent quota
    for _ in range(RATE_LIMITED - 1):
        guard.fail(ModelRequestError("gave up: HTTP 429: slow down", status=429, retryable=True))
    with pytest.raises(RunStopped, match=f"{RATE_LIMITED} request\\(s\\) in a row ran out of retries on HTTP 429"):
        guard.fail(ModelRequestError("gave up: HTTP 429: slow down", status=429, retryable=True))
    guard = FailureGuard("m", limit=1000, out=tmp_path)
    with pytest.raises(RunStopped, match="quota may be spent"):
        guard.fail(ModelRequestError('HTTP 429: {"error": {"code": "insufficient_quota"}}', status=429, retryable=True))
