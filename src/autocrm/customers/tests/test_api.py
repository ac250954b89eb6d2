import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.customers.models import Customer


def bearer(username: str) -> dict[str, str]:
    _, secret = token_issue_session(user=User.objects.get(username=username))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def api(demo):
    return Client()


def create(api, username, **data):
    data.setdefault("name", "张伟")
    return api.post("/api/v1/customers", data, content_type="application/json", **bearer(username))


def test_create_read_masked_and_reveal_logged(api):
    r = create(api, "sales_a1", mobile="13812345678", id_number="11010519491231002X")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["mobile"] == "138****5678"
    assert body["id_number"] == "*****************X"
    assert body["kind"] == "person" and body["store"]
    r = api.get(f"/api/v1/customers/{body['id']}/reveal?field=mobile", **bearer("sales_a1"))
    assert r.json() == {"field": "mobile", "value": "+8613812345678"}
    assert AuditEvent.objects.filter(action="pii.reveal", object_id=str(body["id"])).count() == 1


def test_search_by_initials_last4_and_mobile(api):
    create(api, "sales_a1", mobile="13812345678")
    create(api, "sales_a1", name="王芳", mobile="13900009999")
    h = bearer("sales_a1")
    names = lambda q: [c["name"] for c in api.get("/api/v1/customers", {"q": q}, **h).json()["items"]]  # noqa: E731
    assert names("zw") == ["张伟"]
    assert names("zhangwei") == ["张伟"]
    assert names("5678") == ["张伟"]
    assert names("139 0000 9999") == ["王芳"]
    assert names("王") == ["王芳"]


def test_bad_input_400_names_field(api):
    r = create(api, "sales_a1", mobile="12345")
    assert r.status_code == 400
    assert set(r.json()) >= {"code", "message", "fields"} and "mobile" in r.json()["fields"]
    assert not Customer.objects.exists()


def test_duplicate_mobile_409(api):
    assert create(api, "sales_a1", mobile="13812345678").status_code == 201
    r = create(api, "sales_a2", name="张卫", mobile="+86 138 1234 5678")
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_scope_consultant_and_other_store_get_404(api):
    cid = create(api, "sales_a1", mobile="13812345678").json()["id"]
    missing = api.get("/api/v1/customers/999999", **bearer("sales_a2"))
    for user in ("sales_a2", "manager_b", "sales_b1"):
        r = api.get(f"/api/v1/customers/{cid}", **bearer(user))
        assert r.status_code == 404 and r.content == missing.content
    assert api.get(f"/api/v1/customers/{cid}", **bearer("manager_a")).status_code == 200
    assert api.get(f"/api/v1/customers/{cid}", **bearer("director")).status_code == 200
    assert api.get("/api/v1/customers", **bearer("sales_a2")).json()["items"] == []


def test_marketing_sees_but_id_hidden_and_cannot_reveal(api):
    cid = create(api, "sales_a1", mobile="13812345678", id_number="11010519491231002X").json()["id"]
    body = api.get(f"/api/v1/customers/{cid}", **bearer("marketing_a1")).json()
    assert "id_number" not in body or body["id_number"] is None
    r = api.get(f"/api/v1/customers/{cid}/reveal?field=mobile", **bearer("marketing_a1"))
    assert r.status_code == 403
    assert AuditEvent.objects.filter(action="authz.denied", object_id=str(cid)).exists()


def test_consent_withdrawal_via_api(api):
    cid = create(api, "sales_a1", mobile="13812345678").json()["id"]
    h = bearer("sales_a1")
    url = f"/api/v1/customers/{cid}/consents"
    assert (
        api.post(url, {"purpose": "marketing", "channel": "wechat"}, content_type="application/json", **h).status_code
        == 201
    )
    r = api.post(url + "/withdraw", {"purpose": "marketing", "channel": "wechat"}, content_type="application/json", **h)
    [consent] = r.json()
    assert consent["granted"] and consent["withdrawn_at"]


def test_denied_write_inside_a_transaction_is_still_audited(api):
    """A 403 raised inside a service's transaction must not roll back its own audit line."""
    cid = create(api, "sales_a1", mobile="13812345678").json()["id"]
    r = api.patch(
        f"/api/v1/customers/{cid}", {"name": "改名"}, content_type="application/json", **bearer("marketing_a1")
    )
    assert r.status_code == 403
    assert Customer.objects.get(pk=cid).name == "张伟"
    event = AuditEvent.objects.get(action="authz.denied", object_id=str(cid))
    assert event.extra["attempted"] == "change" and event.actor_label == "marketing_a1"


def test_create_and_update_answer_carry_the_address_warnings(api):
    """The doubts the entry page shows before saving come back with the API's answer (the
    customer saved with the address as sent); a plain address, or an update that leaves the
    address alone, has none."""
    h = {**bearer("sales_a1"), "HTTP_ACCEPT_LANGUAGE": "en"}
    r = api.post("/api/v1/customers", {"name": "火星人", "mobile": "13900000011", "address": "火星区人民路1号"},
                 content_type="application/json", **h)  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["warnings"] == ["The district 火星区 is not known."]
    assert Customer.objects.get(pk=body["id"]).address == "火星区人民路1号"
    assert api.get(f"/api/v1/customers/{body['id']}", **h).json()["warnings"] == []  # not stored

    r = api.patch(f"/api/v1/customers/{body['id']}", {"name": "火星人二"}, content_type="application/json", **h)
    assert r.status_code == 200 and r.json()["warnings"] == []
    r = api.patch(f"/api/v1/customers/{body['id']}", {"province": "四川省", "city": "成都市", "district": "火星区"},
                  content_type="application/json", **h)  # fmt: skip
    assert r.status_code == 200 and r.json()["warnings"] == ["The district 火星区 is not known."]

    r = api.post("/api/v1/customers", {"name": "刘萍平", "mobile": "13900000012", "address": "成都锦江区人民路208号"},
                 content_type="application/json", **h)  # fmt: skip
    assert r.status_code == 201 and r.json()["warnings"] == []
    assert (r.json()["city"], r.json()["district"]) == ("成都市", "锦江区")
