"""The request, change and decommission forms: errors next to fields, nothing made on bad input."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from provisioning.models import ChangeRequest, Environment, TeamPolicy

S = ChangeRequest.Status


def request_data(**overrides):
    data = {
        "team": "web",
        "name": "storefront",
        "tier": "3",
        "region": "us-east-1",
        "instance_type": "t3.small",
        "db_engine": "postgres",
        "db_instance_class": "db.t4g.small",
        "db_allocated_storage": "20",
        "db_multi_az": "true",
        "hosted_zone_name": "",
        "record_name": "",
        "reason": "launch",
    }
    data.update(overrides)
    return data


def test_request_form_creates_the_environment_and_shows_its_plan(client, people):
    client.force_login(people["alice"])
    response = client.post(reverse("environment-request"), request_data())
    change = ChangeRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("change-detail", args=[change.pk])
    assert change.kind == "create" and change.to_tier == 3
    assert change.environment.team == people["web"] and change.environment.name == "storefront"
    assert change.to_parameters["db_instance_class"] == "db.t4g.small"
    # Parameters of other tiers are not sent on, even when the form carried them.
    assert "web_min_size" not in change.to_parameters or change.to_parameters["web_min_size"]
    page = client.get(response["Location"]).content.decode()
    assert "Create storefront at tier 3" in page
    assert "LoadBalancer" in page and "+ add" in page


def test_request_form_shows_errors_next_to_fields_and_creates_nothing(client, people):
    client.force_login(people["alice"])
    response = client.post(
        reverse("environment-request"),
        request_data(name="Bad Name", db_allocated_storage="5", hosted_zone_name="example.com."),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_name_error"' in html
    assert 'id="id_db_allocated_storage_error"' in html and "at least 20" in html
    assert 'id="id_hosted_zone_name_error"' in html and "trailing dot" in html
    assert 'value="Bad Name"' in html  # the input is kept
    assert Environment.objects.count() == 0 and ChangeRequest.objects.count() == 0


def test_request_form_refuses_another_team_and_a_bad_tier(client, people):
    client.force_login(people["alice"])
    response = client.post(reverse("environment-request"), request_data(team="data", tier="9"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert Environment.objects.count() == 0


def test_request_over_budget_is_refused_with_the_numbers(client, people):
    TeamPolicy.objects.update_or_create(
        team=people["web"], defaults={"monthly_budget_usd": Decimal("10.00")}
    )
    client.force_login(people["alice"])
    response = client.post(reverse("environment-request"), request_data())
    assert response.status_code == 400
    assert "over its budget of $10.00/month" in response.content.decode()
    assert Environment.objects.count() == 0 and ChangeRequest.objects.count() == 0


def test_request_with_a_taken_name_is_an_error_on_the_name(client, world):
    client.force_login(world["alice"])
    response = client.post(reverse("environment-request"), request_data(name="shop"))
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()


def test_estimate_fragment_prices_the_choices_and_names_bad_fields(client, people):
    client.force_login(people["alice"])
    url = reverse("environment-estimate")
    small = client.get(url, {"tier": "1", "region": "us-east-1", "instance_type": "t3.micro"})
    large = client.get(url, {"tier": "1", "region": "us-east-1", "instance_type": "m6i.xlarge"})
    assert small.status_code == large.status_code == 200
    assert "t3.micro" in small.content.decode() and "m6i.xlarge" in large.content.decode()
    bad = client.get(url, {"tier": "4", "web_min_size": "9", "web_max_size": "3"})
    assert "Web instances, minimum" in bad.content.decode()


def test_change_form_needs_confirmation_for_data_at_risk(client, world):
    client.force_login(world["alice"])
    ChangeRequest.objects.filter(pk=world["shop_change"].pk).update(status=S.CANCELLED)
    shop = world["shop"]
    url = reverse("environment-change", args=[shop.pk])
    data = {"tier": "1", "instance_type": "t3.small", "reason": "saving money"}
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert 'id="id_confirm_error"' in refused.content.decode()
    assert ChangeRequest.objects.filter(environment=shop).count() == 1
    accepted = client.post(url, {**data, "confirm": "shop"})
    change = ChangeRequest.objects.filter(environment=shop).latest("pk")
    assert accepted.status_code == 302 and change.kind == "downgrade" and change.confirmed


def test_change_form_refuses_a_second_active_change(client, world):
    client.force_login(world["alice"])
    shop = world["shop"]
    response = client.post(
        reverse("environment-change", args=[shop.pk]),
        {"tier": "3", "db_multi_az": "true", "confirm": "shop"},
    )
    assert response.status_code == 409, response.content.decode()
    assert "already has an active change" in response.content.decode()
    assert ChangeRequest.objects.filter(environment=shop).count() == 1


def test_decommission_needs_the_typed_name(client, world):
    client.force_login(world["alice"])
    ChangeRequest.objects.filter(pk=world["shop_change"].pk).update(status=S.CANCELLED)
    shop = world["shop"]
    url = reverse("environment-decommission", args=[shop.pk])
    wrong = client.post(url, {"confirm": "shp"})
    assert wrong.status_code == 400 and 'id="id_confirm_error"' not in wrong.content.decode()
    assert "type the environment" in wrong.content.decode()
    assert not ChangeRequest.objects.filter(environment=shop, kind="decommission").exists()
    right = client.post(url, {"confirm": "shop", "reason": "done"})
    assert right.status_code == 302
    assert ChangeRequest.objects.filter(environment=shop, kind="decommission").exists()
