"""Institution (one per installation) and its libraries."""
from ..extensions import db


class Institution(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    currency = db.Column(db.String(3), nullable=False)

    @classmethod
    def current(cls) -> "Institution | None":
        return db.session.scalars(db.select(cls).order_by(cls.id).limit(1)).first()


class Library(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)

    def __str__(self):
        return f"{self.name} ({self.code})"
