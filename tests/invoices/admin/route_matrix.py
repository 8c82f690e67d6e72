"""Role rows for the invoicing administration pages (merged into tests/route_matrix.py): institution
administrators only (a library-scoped administrator is refused by the pages themselves)."""
from tests.route_matrix_roles import ADMIN

MATRIX: dict = {
    "invoice_admin.settings": ADMIN,
    "invoice_admin.update_setting": ADMIN,
    "invoice_admin.review_rules": ADMIN,
    "invoice_admin.update_review_rule": ADMIN,
    "invoice_admin.approval_rules": ADMIN,
    "invoice_admin.edit_approval_rule": ADMIN,
    "invoice_admin.move_approval_rule": ADMIN,
    "invoice_admin.delete_approval_rule": ADMIN,
    "invoice_admin.charge_types": ADMIN,
    "invoice_admin.set_charge_type_active": ADMIN,
}
API_MATRIX: dict = {}
INSTITUTION_WIDE = set(MATRIX)  # the institution's settings and rules


def url_args(world) -> dict:
    """URL values for the pages: one approval rule (made once per database), a review rule and a
    charge type of the library's own."""
    from app.extensions import db
    from app.invoices import rules
    from app.invoices.models import ApprovalRule, ChargeType, ReviewRule

    rule = db.session.scalar(db.select(ApprovalRule).filter_by(name="Matrix rule"))
    if rule is None:
        admin = world.user("admin")
        rule = rules.create_approval_rule(admin, rules.ApprovalRuleFields(name="Matrix rule"))
        rules.create_charge_type(admin, "matrix", "Matrix charge")
        db.session.commit()
    return {"approval_rule_id": rule.id,
            "review_rule_id": db.session.scalar(db.select(ReviewRule.id).order_by(ReviewRule.id)),
            "charge_type_id": db.session.scalar(db.select(ChargeType.id).filter_by(code="matrix"))}
