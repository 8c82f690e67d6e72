"""Institution (one per installation) and its libraries."""
from ..extensions import db


class Institution(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    currency = db.Column(db.String(3), nullable=False)
    # Printed on letters to vendors; the billing address defaults to the address.
    address = db.Column(db.Text, nullable=False, default="")
    billing_address = db.Column(db.Text, nullable=False, default="")
    email = db.Column(db.String(200), nullable=False, default="")
    # The institution in EDI files it sends (UNB sender, NAD+BY): SAN, GLN/EAN, ...
    edi_id = db.Column(db.String(35), nullable=False, default="")
    edi_id_qualifier = db.Column(db.String(4), nullable=False, default="")
    # Times of day (HH:MM, local; "" = not scheduled) of the daily jobs: renewals, automatic
    # packaging, the notification digest.
    renewals_at = db.Column(db.String(5), nullable=False, default="06:00")
    packaging_at = db.Column(db.String(5), nullable=False, default="")
    digest_at = db.Column(db.String(5), nullable=False, default="07:00")

    @classmethod
    def current(cls) -> "Institution | None":
        return db.session.scalars(db.select(cls).order_by(cls.id).limit(1)).first()


class Library(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    address = db.Column(db.Text, nullable=False, default="")   # delivery address of its orders

    def __str__(self):
        return f"{self.name} ({self.code})"
