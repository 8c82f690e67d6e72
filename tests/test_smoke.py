from decimal import Decimal


def test_world_balances(world, app):
    assert world.shared.balance.available == Decimal("1000.00")
    assert world.fund_a.allocated == Decimal("1000.00")
