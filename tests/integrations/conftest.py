"""Real-browser fixtures for the ERP integration pages (Chromium on a live server with CSRF on)."""
from tests.browser.conftest import (browser_app, browser_context_args, browser_type_launch_args, live_server, log_in,
                                    page_problems, screenshot_dir, shot)

__all__ = ["browser_app", "browser_context_args", "browser_type_launch_args", "live_server", "log_in",
           "page_problems", "screenshot_dir", "shot"]
