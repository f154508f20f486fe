"""`POST /api/v1/records`: departments push data as JSON with their own key (`Authorization: Bearer …`).

Body: {"kind": "penalty"|"social_arrears"|"fund_arrears"|"repair"|"enforcement"|"dishonest_list"|"criminal",
       "as_of": "2026-11-20", "items": [{<the Chinese column names of the import files, any spelling>: value, …}, …]}
Replies (JSON, Chinese messages): 200 with the counts, per-item errors (index, field, reason) and the held and skipped
items (index, reason), indexes 0-based as in the array; 400 malformed body; 401 missing or unknown key; 403 the
department may not write this kind; 413 body or item count too large. Every refusal is a `Refusal` (models/refusals.py)
rendered by this blueprint's handler as `{"ok": false, "error": "<Chinese>"}` with its status (docs/CONTRACT.md §4).
"""

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from jobs.delivery import enqueue_rows
from models.policy import departments
from models.policy.ingestion.formats import CellError, parse_date
from models.policy.ingestion.ingest import import_items
from models.refusals import Refusal
from models.tables.registry import DATA_KINDS

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_ITEMS = 5000
MAX_BYTES = 5 * 1024 * 1024
API_KINDS = ("penalty", "social_arrears", "fund_arrears", "repair", "enforcement", "dishonest_list", "criminal",
             "enterprise")


def _error(status, message, **extra):
    response = jsonify({"ok": False, "error": message, **extra})
    response.status_code = status
    return response


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    return _error(413, f"请求体过大，请分批报送（每批不超过{MAX_ITEMS}条）")


@bp.errorhandler(BadRequest)
def _bad_request(exc):
    return _error(400, "请求体不是有效的JSON")


@bp.errorhandler(Refusal)
def _refused(exc):
    """A refusal raised here or below (an unreadable batch, a kind the department may not send …), with its status."""
    return _error(exc.status, exc.message)


def _department():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return departments.authenticate(token)


def _body():
    """(kind, as_of, items) from the JSON body; Refusal (400, 413) when it is not one."""
    body = request.get_json(silent=False)
    if not isinstance(body, dict):
        raise Refusal("请求体应为JSON对象，包含kind、as_of和items")
    kind, items = body.get("kind"), body.get("items")
    if not isinstance(kind, str) or kind not in API_KINDS:
        raise Refusal(f"kind应为{'、'.join(API_KINDS)}之一（字符串）")
    if not isinstance(items, list) or not items:
        raise Refusal("items应为非空数组")
    if len(items) > MAX_ITEMS:
        raise Refusal(f"一次最多报送{MAX_ITEMS}条，请分批报送", status=413)
    try:
        as_of = parse_date(body["as_of"]) if body.get("as_of") else None
    except (CellError, TypeError, ValueError, OverflowError) as exc:
        raise Refusal("as_of日期无法识别，请写作2026-11-20") from exc
    return kind, as_of, items


@bp.post("/records")
def push_records():
    """Load a department's items through the same validation as the import files."""
    department = _department()
    if department is None:
        raise Refusal("接口密钥缺失或无效，请在Authorization头中以Bearer方式提供本单位密钥", status=401)
    limit = min(MAX_BYTES, current_app.config["MAX_CONTENT_LENGTH"] or MAX_BYTES)
    if (request.content_length or 0) > limit:
        raise Refusal(f"请求体过大，请分批报送（每批不超过{MAX_ITEMS}条）", status=413)
    kind, as_of, items = _body()
    if not departments.has_kind(department, kind):
        raise Refusal(f"{department.name}无权报送{DATA_KINDS[kind]}数据", status=403)
    result = import_items(items, kind, department, source="api", actor=f"api:{department.code}", as_of=as_of)
    enqueue_rows(result.outbound)
    return jsonify({
        "ok": True, "batch_id": result.batch_id, "kind": kind,
        "as_of": result.as_of.isoformat(), "imported": result.imported, "updated": result.updated,
        "unchanged": result.unchanged, "rejected": result.rejected, "held": result.held, "skipped": result.skipped,
        "errors": [{"index": e.row, "field": e.column, "reason": e.reason} for e in result.errors],
        "held_items": [{"index": row, "reason": reason} for row, reason in result.held_rows],
        "skipped_items": [{"index": row, "reason": reason} for row, reason in result.skipped_rows],
    })
