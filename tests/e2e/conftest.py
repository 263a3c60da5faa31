import os

import pytest

from harness import EXT_PROC, PARAPET, WASM, Envoy, Standin


def pytest_sessionstart(session):
    missing = [p for p in (WASM, PARAPET, EXT_PROC) if not p.exists()]
    if missing:
        raise pytest.UsageError(f"build artefacts missing: {missing}; run scripts/test.sh (it builds them)")


@pytest.fixture(scope="session")
def standin():
    s = Standin()
    yield s
    s.stop()


@pytest.fixture
def upstream(standin):
    standin.clear()
    return standin


@pytest.fixture
def make_envoy(standin, request):
    """Start Envoy instances for a test; print their logs if the test fails."""
    started = []

    def make(policy=None, **kw):
        e = Envoy(standin.port, policy=policy, **kw)
        started.append(e)
        return e

    yield make
    failed = getattr(request.node, "rep_call", None)
    for e in started:
        e.stop()
        if failed is not None and failed.failed:
            print(f"--- envoy log ({e.log_path}) ---\n{e.logs()[-6000:]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="module")
def default_envoy(standin):
    """Envoy with the shipped config exactly as it is (default policy), shared by a module."""
    e = Envoy(standin.port)
    yield e
    e.stop()
