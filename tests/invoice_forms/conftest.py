"""Invoice form fixtures: the invoice vendors, and the real-browser fixtures (Chromium on a live
server with CSRF on) for test_browser.py."""
import pytest

from tests.browser.conftest import (browser_app, browser_context_args, browser_type_launch_args, live_server, log_in,
                                    page_problems, screenshot_dir, shot)
from tests.invoices.helpers import make_vendors

__all__ = ["vendors", "browser_app", "browser_context_args", "browser_type_launch_args", "live_server", "log_in",
           "page_problems", "screenshot_dir", "shot"]


@pytest.fixture
def vendors(world):
    return make_vendors(world)
