import pytest

from .site import SITE, browser, chromium_missing_reason, serve


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def site_url():
    if not (SITE / "index.html").exists():
        pytest.skip("the book is not built: run `make book` (make test-browser does it for you)")
    with serve(SITE) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    with browser() as context:
        yield context
