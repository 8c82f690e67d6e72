"""Two writers at once: the unique constraint is the last word, and the API answers 409, not 500."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, text

from app.auth.services import issue_api_token
from app.extensions import db
from app.funds.models import Fund

from tests.api.helpers import PREFIX


@pytest.mark.postgres_only
def test_same_fund_code_created_concurrently_is_a_409(make_app):
    app = make_app("postgresql", world=True)
    with app.app_context():
        from testkit.world import load_world
        world = load_world()
        token = issue_api_token(None, world.user("admin"))
        db.session.commit()
        gen_id, period_id = world.gen.id, world.period.id
        other = db.engine.connect()
        pending = other.begin()
        # Someone else inserted RACE and has not committed: the API's duplicate check cannot see it.
        other.execute(insert(Fund).values(code="RACE", name="Race", fiscal_period_id=period_id, ledger_id=gen_id,
                                          kind="allocated"))
        answer = {}

        def request():
            resp = app.test_client().post(PREFIX + "/funds", headers={"Authorization": f"Bearer {token}"},
                                          json={"code": "RACE", "name": "Race", "ledger": gen_id})
            answer["status"], answer["body"] = resp.status_code, resp.get_json()

        thread = threading.Thread(target=request)
        thread.start()
        try:
            deadline = time.time() + 60
            with db.engine.connect() as watcher:  # wait until the API's INSERT waits for our row lock
                while time.time() < deadline and not watcher.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database() AND query ILIKE 'INSERT INTO fund %'")).scalar():
                    time.sleep(0.05)
                    watcher.rollback()
            pending.commit()
        finally:
            thread.join(60)
            other.close()
        assert answer["status"] == 409, answer
        assert answer["body"]["error"]["code"] == "duplicate"
        assert "same time" in answer["body"]["error"]["message"]
        assert db.session.scalar(db.select(db.func.count()).select_from(Fund).where(Fund.code == "RACE")) == 1


def test_api_routes_follow_the_role_matrix(app):
    from tests.route_matrix import API_MATRIX, API_READ, API_WRITE
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            default = API_WRITE if rule.methods & {"POST", "PUT", "DELETE", "PATCH"} else API_READ
            expected = API_MATRIX.get(rule.endpoint, default)
            assert app.view_functions[rule.endpoint].allowed_roles == expected, rule.endpoint
            seen += 1
    assert seen >= 10
