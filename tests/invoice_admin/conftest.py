"""Fixtures of the invoicing administration tests: the invoice vendors and a library-scoped administrator."""
import pytest

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from tests.conftest import PASSWORD
from tests.invoices.helpers import make_vendors


@pytest.fixture
def vendors(world):
    return make_vendors(world)


@pytest.fixture
def admin_a(world):
    """An administrator of library A only: not an institution administrator."""
    user = create_user(None, "admin-a", PASSWORD, full_name="Admin A", roles=[(Role.ADMIN, world.lib_a)])
    db.session.commit()
    world.users[user.username] = user.id
    return user


# The real-browser fixtures (live server with CSRF on, log_in, page_problems, shot) of tests/browser.
from tests.browser.conftest import (browser_app, browser_context_args, browser_type_launch_args,  # noqa: E402,F401
                                    live_server, log_in, page_problems, screenshot_dir, shot)
