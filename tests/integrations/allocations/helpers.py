"""Allocation loader helpers: the ERP's number 23 for FY2026, a loader on a finance profile whose
input folder a test drops files in, and what a run allocated or refused."""
from __future__ import annotations

import pathlib
from dataclasses import dataclass
from decimal import Decimal

from app.extensions import db
from app.funds.models import Fund
from app.integrations import services as integrations
from app.integrations.models import JobRun
from testkit.erp import erp_profile

FOLDER = "allocations/in"
PERIOD_NUMBER = 23


@dataclass
class Loader:
    app: object
    root: pathlib.Path        # the connection's base folder on this machine
    admin_id: int

    @property
    def folder(self) -> pathlib.Path:
        return self.root / FOLDER

    def drop(self, name: str, data: bytes) -> pathlib.Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def run(self, actor: str | None = None, world=None) -> JobRun:
        import jobs.load_allocations
        db.session.commit()
        actor_id = world.users[actor] if actor else self.admin_id
        run_id = jobs.load_allocations.run(self.app, "ERP", actor_id=actor_id)
        db.session.expire_all()
        return db.session.get(JobRun, run_id)

    def names(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir())


def allocated(*codes: str) -> dict[str, Decimal]:
    db.session.expire_all()
    return {f.code: f.allocated for f in db.session.scalars(db.select(Fund).where(Fund.code.in_(codes)))}


def errors_of(run: JobRun) -> list[tuple[str, str]]:
    return [(e.record, e.message) for e in run.events if e.level == "error"]


def make_loader(app, world, connection, root, file_type) -> Loader:
    admin = world.user("admin")
    integrations.set_fiscal_period_mapping(admin, world.period, PERIOD_NUMBER)
    erp_profile(admin, connection, folder_root=root, load_allocations={"file_type": file_type})
    db.session.commit()
    return Loader(app, root, admin.id)
