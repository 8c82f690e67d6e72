"""Placeholder: being written."""


def export_orders(ctx) -> None:
    raise NotImplementedError


def export_po_lines(ctx) -> None:
    raise NotImplementedError
