"""Binding reviews (credit office): the list, a request's documents, approve or refuse."""



from flask import abort, flash, g, redirect, render_template, request, url_for
from peewee import DoesNotExist

from jobs.notices import binding_decided
from models.policy.staff import (
    approve_binding,
    audit,
    refuse_binding,
)
from models.tables.accounts import BindingReview
from webhooks.staff.common import bp, office_only, refused_back_to

# -- binding reviews (office) --------------------------------------------------------------------------------------


@bp.get("/bindings")
@office_only
def bindings():
    return render_template("staff/bindings.html", reviews=BindingReview.latest(300))


@bp.get("/bindings/<int:review_id>")
@office_only
def binding_detail(review_id):
    review = BindingReview.find(review_id) or abort(404)
    return render_template("staff/binding.html", review=review, blob_ids=sorted(review.blob_ids() - {None}))


@bp.post("/bindings/<int:review_id>/<decision>")
@office_only
@refused_back_to("staff.binding_detail", "review_id")
def binding_decide(review_id, decision):
    """Approve (create the binding) or refuse with a reason; tell the applicant in the chat."""
    if decision not in ("approve", "refuse"):
        abort(404)
    try:
        if decision == "approve":
            review = approve_binding(review_id, g.staff)
        else:
            review = refuse_binding(review_id, g.staff, request.form.get("reason", ""))
    except DoesNotExist:
        abort(404)
    binding_decided(review)
    audit(g.staff, f"binding_{decision}", review.enterprise.uscc, review=review.id, reason=review.reason)
    flash("已保存。")
    return redirect(url_for("staff.bindings"), 303)


