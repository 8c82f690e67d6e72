"""Column types for exact fixed-point values.

PostgreSQL stores them as NUMERIC. SQLite has no decimal type (its NUMERIC affinity keeps
fractions as binary floating point, so SUM would drift), so there the value is stored as an
integer count of the smallest unit (cents for money) and converted back to Decimal on load.
"""
from decimal import Decimal

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.types import TypeDecorator


class Fixed(TypeDecorator):
    """A Decimal with a fixed number of decimals, exact on every supported database."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2):
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self._unit = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("refusing a float for an exact column; use Decimal")
        value = Decimal(value)
        if value != value.quantize(self._unit):
            raise ValueError(f"{value} has more than {self.scale} decimals")
        if dialect.name == "sqlite":
            return int(value.scaleb(self.scale))
        return value.quantize(self._unit)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._unit)
        return Decimal(value).quantize(self._unit)

    def __repr__(self):
        return f"Fixed(precision={self.precision}, scale={self.scale})"


def Money():  # noqa: N802 - reads like a type in model definitions
    return Fixed(14, 2)


def Percent():  # noqa: N802
    return Fixed(7, 2)
