import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for
from autocrm.sales import services
from autocrm.sales.choices import DocumentKind

from .factories import PDF, make_deal, make_stock


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def sales(demo):
    return actor_for("sales_a1")


def test_deal_page_stage_bar_missing_evidence_and_upload(sales):
    deal = make_deal(sales, name="孙丽")
    services.deal_advance(actor=sales, deal=deal)
    services.deal_advance(actor=sales, deal=deal)
    client = login("sales_a1")
    page = client.get(reverse("sales:deal_detail", args=[deal.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="stage-bar"' in html and 'aria-current="step"' in html
    assert str(DocumentKind.TEST_DRIVE_AGREEMENT.label) in html  # what the next stage needs
    r = client.post(reverse("sales:document_upload", args=[deal.pk]),
                    {"kind": "test_drive_agreement", "file": SimpleUploadedFile("agreement.pdf", PDF)})  # fmt: skip
    assert r.status_code == 302
    doc = deal.documents.get()
    r = client.post(reverse("sales:deal_advance", args=[deal.pk]), {"to_stage": "test_drive"})
    assert r.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == "test_drive"
    got = client.get(reverse("sales:document_download", args=[deal.pk, doc.pk]))
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert login("sales_a2").get(reverse("sales:document_download", args=[deal.pk, doc.pk])).status_code == 404
    assert login("sales_b1").get(reverse("sales:deal_detail", args=[deal.pk])).status_code == 404


def test_lying_upload_is_refused_with_a_message(sales):
    deal = make_deal(sales)
    client = login("sales_a1")
    r = client.post(reverse("sales:document_upload", args=[deal.pk]),
                    {"kind": "contract", "file": SimpleUploadedFile("c.pdf", b"MZ" + b"\x00" * 100)}, follow=True)  # fmt: skip
    assert r.status_code == 200 and not deal.documents.exists()
    assert "PDF" in r.content.decode()


def test_deal_list_cards_and_stock_ageing(sales):
    make_deal(sales, name="钱多多")
    page = login("sales_a1").get(reverse("sales:deal_list"))
    assert page.status_code == 200 and 'data-testid="deal-cards"' in page.content.decode()
    manager = actor_for("sales_manager_a")
    car = make_stock(manager, arrival_date="2026-06-01")
    listing = login("sales_manager_a").get(reverse("sales:stock_list")).content.decode()
    assert car.vin in listing and 'data-testid="ageing"' in listing and "185000.00" in listing
    assert "185000.00" not in login("sales_a1").get(reverse("sales:stock_list")).content.decode()


def test_prospects_csv_is_formula_safe(sales):
    manager = actor_for("sales_manager_a")
    car = make_stock(manager, arrival_date="2026-06-01")
    deal = make_deal(sales, name="=HYPERLINK(1)", model_interest="汉 EV")
    services.needs_save(actor=sales, deal=deal, data={"price_sensitivity": "high"})
    r = login("marketing_a1").get(reverse("sales:stock_export", args=[car.pk]))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = r.content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in body
    assert login("sales_a1").get(reverse("sales:stock_export", args=[car.pk])).status_code == 403


def test_customer_360_shows_deals_and_purchases(sales):
    from autocrm.customers.tests.factories import make_customer

    customer = make_customer(sales, name="冯刚")
    services.deal_create(actor=sales, data={"model_interest": "海豹"}, customer=customer)
    page = login("sales_a1").get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert 'data-testid="customer-deals"' in page
    listing = login("sales_a1").get(reverse("sales:deal_list"), {"customer": customer.pk}).content.decode()
    assert "海豹" in listing
