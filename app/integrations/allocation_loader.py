"""Placeholder: being written."""


def load_allocations(ctx) -> None:
    raise NotImplementedError
