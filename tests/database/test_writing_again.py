"""The tests' guard against a write after a request's commit without ``writing_again()``
(app/database.py) works whether the test runs in a rolled-back transaction (where each request only
opens a SAVEPOINT) or on a database of its own (where each request begins a real transaction).
The guard is SQLite's (its write transactions take the lock up front): these run on SQLite even
with ``--all-databases``."""
from __future__ import annotations

import pytest

from app.database import writing_again
from app.extensions import db

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _post_that_writes_twice(app, world, again: bool) -> None:
    """Within a POST: save, commit, then save again (after ``writing_again()`` when ``again``)."""
    with app.test_request_context("/funds", method="POST"):
        app.preprocess_request()
        user = world.user("viewer")
        user.full_name = "First save"
        db.session.commit()
        db.session.get(type(user), user.id).full_name   # reads what it saved (after the commit)
        if again:
            writing_again()
        user.full_name = "Second save"
        db.session.commit()


@pytest.mark.parametrize("isolation", ["rolled back", pytest.param("own database", marks=pytest.mark.committing)])
def test_a_write_after_the_requests_commit_without_writing_again_is_refused(app, world, isolation):
    with pytest.raises(Exception, match="without writing_again"):
        _post_that_writes_twice(app, world, again=False)
    db.session.rollback()


@pytest.mark.parametrize("isolation", ["rolled back", pytest.param("own database", marks=pytest.mark.committing)])
def test_a_write_after_writing_again_is_saved(app, world, isolation):
    _post_that_writes_twice(app, world, again=True)
    db.session.expire_all()
    assert world.user("viewer").full_name == "Second save"
