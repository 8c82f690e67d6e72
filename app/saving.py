"""Run a change, commit it, or take its refusal: the one request helper of the HTML views.

A view parses its form, then runs its service call(s) inside ``with saving() as saved:``. When the
block ends normally the change is committed; when a service refuses (a :class:`DomainError`) the
transaction is rolled back and the refusal is kept on ``saved`` for the view to answer with (the
form with its message, the page with the reason and the refusal's status, a flash, ...)::

    if form.validate_on_submit():
        with saving(form) as saved:
            record = inventory.create_record(current_user, fields)
        if saved:
            flash(f"Record “{record.title}” saved.", "ok")
            return redirect(url_for(...))
    return render(..., status=422, form=form)     # the refusal is on the form

``form``: the refusal's message goes next to the field it names (:func:`attach_error`, or the
view's own ``attach``). ``once``: a money form; its one-time token is spent in the same transaction
(:mod:`app.idempotency`), and a second post of the form is answered "already done" (409) or
"reload the page" (400) by the application's error handler, as are the ``reraise`` refusals.
``commit=False``: the block only checks (a preview); it is rolled back on a refusal and left
open otherwise.

Everything else goes on as without the helper: a busy database raises (503, :mod:`app.busy`); the
commit starts the request's reads-only part (:func:`app.database.reading_from_now`), so a view that
writes again afterwards calls :func:`app.database.writing_again` first.
"""
from __future__ import annotations

from flask_login import current_user

from .errors import DomainError
from .extensions import db
from .forms_util import attach_error
from .idempotency import AlreadyDone, StaleForm, claim_form_token


def saving(form=None, *, once: bool = False, attach=attach_error, reraise: tuple = (),
           commit: bool = True) -> Saving:
    """``with saving(form) as saved:`` runs the block as one change: see the module's docstring."""
    return Saving(form, once=once, attach=attach, reraise=reraise, commit=commit)


class Saving:
    """The context manager :func:`saving` returns; true once its change was committed (or checked)."""

    def __init__(self, form=None, *, once: bool = False, attach=attach_error, reraise: tuple = (),
                 commit: bool = True):
        self.form, self.once, self.attach, self.commit = form, once, attach, commit
        self.reraise = tuple(reraise) + ((AlreadyDone, StaleForm) if once else ())
        self.error: DomainError | None = None

    def __enter__(self) -> Saving:
        if self.once:
            try:
                claim_form_token(current_user)   # a second post of this form changes nothing
            except DomainError:
                db.session.rollback()
                raise
        return self

    def __exit__(self, kind, exc, _traceback) -> bool:
        if exc is None:
            if self.commit:
                db.session.commit()
            return False
        if not isinstance(exc, DomainError):
            return False   # not a refusal: the error handlers answer it
        db.session.rollback()
        if isinstance(exc, self.reraise):
            return False
        self.error = exc
        if self.form is not None:
            self.attach(self.form, exc)
        return True

    def __bool__(self) -> bool:
        """Whether the change was made (false once refused)."""
        return self.error is None

    @property
    def message(self) -> str:
        return self.error.message if self.error else ""

    @property
    def status(self) -> int:
        return self.error.status if self.error else 200
