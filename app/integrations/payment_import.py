"""Placeholder: being written."""


def import_payments(ctx) -> None:
    raise NotImplementedError
