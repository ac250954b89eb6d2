"""The HTTP benchmark's floor view exists only behind its switch, and then only for loopback."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client, RequestFactory, override_settings

from autocrm.config.urls import bench_urlpatterns
from autocrm.customers.views_bench import floor

from .factories import actor_for, make_customer


def test_not_mounted_without_the_switch():
    assert bench_urlpatterns() == []


@pytest.mark.django_db
def test_the_path_is_404_in_a_normal_deployment():
    assert Client().get("/_bench/floor/1").status_code == 404


@override_settings(AUTOCRM_BENCH_FLOOR=True)
def test_mounted_with_the_switch():
    assert [p.name for p in bench_urlpatterns()] == ["bench_floor"]


@pytest.mark.django_db
def test_reads_one_row_for_loopback_only(demo):
    customer = make_customer(actor_for("sales_a1", "a"), name="张伟", mobile="13812345678")
    factory = RequestFactory()
    response = floor(factory.get("/", REMOTE_ADDR="127.0.0.1"), customer.pk)
    assert response.status_code == 200
    body = response.content.decode()
    assert str(customer.pk) in body and "13812345678" not in body and "张伟" not in body
    with pytest.raises(Http404):
        floor(factory.get("/", REMOTE_ADDR="10.0.0.8"), customer.pk)
    with pytest.raises(Http404):
        floor(factory.get("/", REMOTE_ADDR="127.0.0.1"), 987654)
