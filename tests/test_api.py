"""POST /api/v1/records: per-department keys, permissions, per-item errors, limits; the same validation as files."""

import json
from decimal import Decimal

import pytest

from models.policy import departments
from models.policy.uscc import make_org_code, make_uscc
from models.tables.records import FeedStatus, ImportBatch, PenaltyRecord
from models.tables.registry import ApiKey, Department, Enterprise
from webhooks.api import MAX_ITEMS

CODE = make_uscc("91231124" + make_org_code("MA0XK001"))
NAME = "孙吴县兴安建材有限公司"


def item(number, **over):
    values = {"行政相对人名称": NAME, "统一社会信用代码": CODE, "行政处罚决定书文号": f"孙住建罚〔2025〕{number}号",
              "处罚类别": "罚款", "罚款金额（万元）": 0.8, "处罚决定日期": "2025-04-01",
              "处罚机关": "孙吴县住房和城乡建设局", "领域": "housing", "程序类型": "普通程序"}
    values.update(over)
    return values


@pytest.fixture
def key(app):
    Enterprise.create(uscc=CODE, name=NAME, county="孙吴县")
    return departments.create_api_key(Department.get(Department.code == "housing"))


def post(client, key, body, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/v1/records", json=body, headers=headers, **kw)


def test_push_with_per_item_errors(client, key):
    body = {"kind": "penalty", "as_of": "2025-11-20",
            "items": [item(1), item(2, 程序类型="特别程序"), item(3, 领域="urban"), item(1)]}
    response = post(client, key, body)
    assert response.status_code == 200
    data = response.get_json()
    assert (data["imported"], data["updated"], data["rejected"], data["held"]) == (1, 0, 3, 0)
    errors = [(e["index"], e["field"]) for e in data["errors"]]
    assert errors == [(1, "程序类型"), (2, "领域"), (3, "行政处罚决定书文号")]
    assert data["errors"][2]["reason"] == "与第1项重复"  # `index` is the array's (0-based); the text counts from 1
    record = PenaltyRecord.get()
    assert (record.department.code, record.fine_wan) == ("housing", Decimal("0.8"))
    assert ImportBatch.get_by_id(data["batch_id"]).source == "api"

    again = post(client, key, {"kind": "penalty", "items": [item(1)]}).get_json()
    assert (again["imported"], again["unchanged"]) == (0, 1)
    assert PenaltyRecord.select().count() == 1


def test_keys_are_stored_hashed(app, key):
    stored = ApiKey.get()
    assert key not in (stored.prefix, stored.key_hash) and stored.prefix in key
    assert departments.authenticate(key).code == "housing"
    assert departments.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert departments.authenticate("hg_nothing_here") is None


@pytest.mark.parametrize("auth", [None, "Bearer hg_000000000000_wrong", "Basic abc"])
def test_401_without_a_valid_key(client, key, auth):
    headers = {"Authorization": auth} if auth else {}
    response = client.post("/api/v1/records", json={"kind": "penalty", "items": [item(1)]}, headers=headers)
    assert response.status_code == 401
    assert "接口密钥" in response.get_json()["error"]
    assert PenaltyRecord.select().count() == 0


def test_403_for_a_kind_not_granted(client, key):
    response = post(client, key, {"kind": "fund_arrears", "items": [{"单位名称": NAME}]})
    assert response.status_code == 403
    assert response.get_json()["error"] == "黑河市住房和城乡建设局无权报送公积金欠缴数据"
    assert ImportBatch.select().count() == 0


def test_revoked_key_is_refused(client, key):
    departments.revoke_api_keys(Department.get(Department.code == "housing"))
    assert post(client, key, {"kind": "penalty", "items": [item(1)]}).status_code == 401


@pytest.mark.parametrize("body, needle", [
    ({"kind": "crime", "items": [{}]}, "kind应为"),
    ({"kind": ["penalty"], "items": [{}]}, "kind应为"),
    ({"kind": {"a": 1}, "items": [{}]}, "kind应为"),
    ({"kind": 3, "items": [{}]}, "kind应为"),
    ({"kind": "penalty", "as_of": ["2026-01-01"], "items": [{}]}, "as_of日期无法识别"),
    ({"kind": "penalty", "items": []}, "items应为非空数组"),
    ({"kind": "penalty", "items": "x"}, "items应为非空数组"),
    ({"kind": "penalty", "as_of": "someday", "items": [{}]}, "as_of日期无法识别"),
    ({"kind": "penalty", "as_of": "2999-01-01", "items": [{}]}, "晚于今天"),
    ([1, 2], "请求体应为JSON对象"),
])
def test_400_for_malformed_bodies(client, key, body, needle):
    response = post(client, key, body)
    assert response.status_code == 400
    assert needle in response.get_json()["error"]
    assert PenaltyRecord.select().count() == 0


def test_400_for_invalid_json(client, key):
    response = client.post("/api/v1/records", data=b"{not json", content_type="application/json",
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "请求体不是有效的JSON"


def test_413_for_too_many_items(client, key):
    response = post(client, key, {"kind": "penalty", "items": [item(i) for i in range(MAX_ITEMS + 1)]})
    assert response.status_code == 413
    assert "分批报送" in response.get_json()["error"]
    assert PenaltyRecord.select().count() == 0


def test_arrears_and_feed_status(client, app):
    Enterprise.create(uscc=CODE, name=NAME, county="孙吴县")
    key = departments.create_api_key(Department.get(Department.code == "housing_fund"))
    body = {"kind": "fund_arrears", "as_of": "2025-10-31", "items": [
        {"单位名称": NAME, "统一社会信用代码": CODE, "欠缴起始月份": "2025-01", "欠缴截止月份": "2025-02",
         "欠缴金额（元）": "1500", "是否已补缴": "否"}]}
    data = post(client, key, body).get_json()
    assert (data["imported"], data["rejected"]) == (1, 0)
    feed = FeedStatus.get(FeedStatus.kind == "fund_arrears")
    assert (feed.domain, str(feed.complete_until)) == (None, "2025-10-31")


def test_413_for_an_oversized_body(client, key):
    response = client.post("/api/v1/records", data=b"[" + b" " * (5 * 1024 * 1024) + b"]",
                           content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 413
    assert "请求体过大" in response.get_json()["error"]
    assert ImportBatch.select().count() == 0


def test_control_characters_do_not_break_the_load(client, key):
    data = post(client, key, {"kind": "penalty", "items": [item(1, 违法事实="事实\u0000说明")]}).get_json()
    assert data["imported"] == 1
    assert PenaltyRecord.get().facts == "事实说明"


def test_an_amount_of_1e309_is_a_rejected_item_and_the_good_one_beside_it_loads(client, key):
    bad = json.dumps(item(1, **{"罚款金额（万元）": "x"}), ensure_ascii=False).replace('"x"', "1e309")
    body = f'{{"kind": "penalty", "items": [{bad}, {json.dumps(item(2), ensure_ascii=False)}]}}'
    response = client.post("/api/v1/records", data=body.encode(), content_type="application/json",
                           headers={"Authorization": f"Bearer {key}"})
    data = response.get_json()
    assert response.status_code == 200 and (data["imported"], data["rejected"]) == (1, 1)
    assert data["errors"] == [{"index": 0, "field": "罚款金额（万元）", "reason": "不是有效数字"}]
    assert ImportBatch.get_by_id(data["batch_id"]).status == "done"


def test_held_and_skipped_items_are_listed_with_their_index(client, key):
    person = {"行政相对人名称": "张三", "行政相对人类别": "自然人", "证件号码": "232601197903124019",
              "行政处罚决定书文号": "孙住建罚〔2025〕9号", "处罚类别": "罚款", "处罚决定日期": "2025-04-01",
              "处罚机关": "孙吴县住房和城乡建设局"}
    stranger = item(2, 处罚机关="黑河市公安局")
    data = post(client, key, {"kind": "penalty", "items": [item(1), person, stranger]}).get_json()
    assert (data["imported"], data["held"], data["skipped"], data["rejected"]) == (2, 1, 1, 0)
    assert data["skipped_items"] == [{"index": 1, "reason": "行政相对人类别为自然人"}]
    assert data["held_items"][0]["index"] == 2 and "黑河市公安局" in data["held_items"][0]["reason"]
    assert "232601197903124019" not in json.dumps([r.__data__ for r in PenaltyRecord.select()], default=str)
