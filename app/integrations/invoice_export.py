"""Placeholder: being written."""


def export_invoices(ctx) -> None:
    raise NotImplementedError
