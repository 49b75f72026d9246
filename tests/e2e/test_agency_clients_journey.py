"""Journey: an agency with three clients. The owner creates the agency and its clients in the
browser, reads the clients overview, plans on the all-clients calendar (filter, drag a post of
one client to another day), opens one client and comes back through the agency navigation; a
teammate given one client sees that client only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AccountStatus, AccountType, Agency, TikTokAccount, User, Workspace
from calendar_app.models import Post, PostStatus
from tests.e2e.helpers import seed_client
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENTS = (
    ("Acme Coffee", "acme.coffee"),
    ("Bolt Bikes", "bolt.bikes"),
    ("Cedar Dental", "cedar.dental"),
)


def _seed(workspace: Workspace, handle: str) -> dict[str, Any]:
    account = TikTokAccount.objects.create(
        workspace=workspace,
        open_id=f"open-{handle}",
        username=handle,
        display_name=workspace.name,
        account_type=AccountType.BUSINESS,
        scopes=["user.info.basic", "video.list", "comment.list"],
    )
    return seed_client(workspace, account, label=workspace.name.split()[0])


def test_agency_with_three_clients(live_server: Any, open_page: Any, media_root: str) -> None:
    boss = UserFactory.create(email="boss@northwind.test")
    page = open_page(boss)

    # 1. Create the agency and its three clients from the switcher's list page.
    page.goto(live_server.url + reverse("accounts:workspace_list"))
    page.get_by_role("link", name="+ New agency").click()
    page.get_by_label("Agency name").fill("Northwind Social")
    page.get_by_role("button", name="Create agency").click()
    page.wait_for_url("**/manage/")
    for name, _handle in CLIENTS:
        form = page.get_by_test_id("client-create")
        form.get_by_label("Name").fill(name)
        form.get_by_label("Time zone").select_option("Europe/Paris")
        form.get_by_role("button", name="Add client").click()
        page.get_by_text(f"Client “{name}” added.").wait_for()
    agency = Agency.objects.get(name="Northwind Social")
    clients = {ws.name: ws for ws in Workspace.objects.filter(agency=agency)}
    assert sorted(clients) == [name for name, _ in CLIENTS]
    seeded = {name: _seed(clients[name], handle) for name, handle in CLIENTS}
    acme, bolt = clients["Acme Coffee"], clients["Bolt Bikes"]
    failed_at = timezone.now() - dt.timedelta(hours=3)
    Post.objects.create(
        workspace=bolt,
        account=TikTokAccount.objects.get(workspace=bolt),
        caption="Bolt failed post",
        privacy_level="PUBLIC_TO_EVERYONE",
        status=PostStatus.FAILED,
        scheduled_at=failed_at,
        scheduled_local=failed_at.astimezone(bolt.tz).strftime("%Y-%m-%dT%H:%M"),
        scheduled_tz=bolt.time_zone,
    )
    TikTokAccount.objects.filter(workspace=bolt).update(status=AccountStatus.NEEDS_RECONNECT)

    # 2. The clients overview: one row per client; Bolt needs attention.
    page.get_by_test_id("nav-agency-home").click()
    table = page.get_by_test_id("agency-home")
    for name, _handle in CLIENTS:
        assert table.get_by_role("row", name=name).count() == 1
    bolt_row = page.get_by_test_id(f"client-row-{bolt.id}")
    assert "needs-attention" in (bolt_row.get_attribute("class") or "")
    bolt_row.get_by_role("link", name="failed posts in Bolt Bikes").click()
    page.wait_for_url(f"**/w/{bolt.id}/calendar/**")
    assert "Bolt failed post" in page.locator("main").inner_text()
    assert page.locator(".switcher-name").inner_text() == "Bolt Bikes"
    page.go_back()

    # 3. The all-clients calendar: every client's post, each card naming its client.
    page.get_by_test_id("agency-calendar-link").click()
    page.wait_for_url(f"**/agencies/{agency.id}/calendar/")
    day = seeded["Acme Coffee"]["scheduled"].scheduled_at.astimezone(acme.tz).date()
    calendar_url = reverse("calendar_app:agency_calendar", args=[agency.id])
    page.goto(live_server.url + calendar_url + f"?date={day}")
    for name, _handle in CLIENTS:
        card = page.get_by_test_id(f"post-{seeded[name]['scheduled'].id}")
        assert card.get_by_test_id("post-client").inner_text() == name
    page.get_by_test_id("filter-client").select_option(label="Acme Coffee")
    page.wait_for_url("**client=*")
    main = page.locator("main").inner_text()
    assert "Acme upcoming post" in main and "Bolt upcoming post" not in main

    # 4. Drag Acme's post to the next day: moved through Acme's own endpoint, time kept.
    acme_post = seeded["Acme Coffee"]["scheduled"]
    target = day + dt.timedelta(days=1)
    if page.get_by_test_id(f"day-{target.isoformat()}").count() == 0:
        page.goto(live_server.url + calendar_url + f"?date={target}&client={acme.id}")
    cell = page.get_by_test_id(f"day-{target.isoformat()}")
    page.get_by_test_id(f"post-{acme_post.id}").drag_to(cell)
    page.get_by_test_id("toast").filter(has_text="Moved to").wait_for()
    acme_post.refresh_from_db()
    assert acme_post.scheduled_at.astimezone(acme.tz).date() == target
    assert acme_post.scheduled_local[11:] == seeded["Acme Coffee"]["scheduled"].scheduled_local[11:]

    # 5. Open one client, then back to the agency through the sidebar.
    page.get_by_test_id("nav-agency-home").click()
    page.get_by_test_id(f"client-row-{acme.id}").get_by_test_id("client-link").click()
    page.wait_for_url(f"**/w/{acme.id}/calendar/**")
    assert page.locator(".switcher-name").inner_text() == "Acme Coffee"
    page.goto(live_server.url + reverse("conversations:inbox", args=[acme.id]))
    assert seeded["Acme Coffee"]["comment"].text in page.content()
    assert seeded["Bolt Bikes"]["comment"].text not in page.content()
    page.get_by_test_id("nav-agency-calendar").click()
    page.wait_for_url(f"**/agencies/{agency.id}/calendar/")

    # 6. The switcher finds a client by name and lists the recent ones first.
    page.get_by_test_id("workspace-switcher").locator("summary").click()
    page.get_by_test_id("switcher-search").fill("cedar")
    results = page.locator("#switcher-results")
    expect(results).not_to_contain_text("Acme Coffee")  # htmx swapped in the matches
    results.get_by_role("link", name="Cedar Dental").click()
    page.wait_for_url(f"**/w/{clients['Cedar Dental'].id}/calendar/**")

    # 7. A teammate given Bolt only sees Bolt: on the overview, the calendar and by URL.
    page.goto(live_server.url + reverse("accounts:agency_manage", args=[agency.id]))
    UserFactory.create(email="mia@northwind.test")
    form = page.get_by_test_id("member-add")
    form.get_by_label("E-mail of their account").fill("mia@northwind.test")
    form.get_by_label("Only the clients chosen below").check()
    form.locator("summary").click()
    form.get_by_label("Bolt Bikes").check()
    form.get_by_role("button", name="Add to the agency").click()
    page.get_by_text("mia@northwind.test added").wait_for()
    mia = open_page(User.objects.get(email="mia@northwind.test"))
    mia.goto(live_server.url + reverse("accounts:agency_home", args=[agency.id]))
    overview = mia.get_by_test_id("agency-home").inner_text()
    assert "Bolt Bikes" in overview and "Acme Coffee" not in overview
    mia.goto(
        live_server.url + reverse("calendar_app:agency_calendar", args=[agency.id]) + "?view=list"
    )
    assert "Acme" not in mia.locator("main").inner_text()
    response = mia.goto(live_server.url + reverse("calendar_app:calendar", args=[acme.id]))
    assert response is not None and response.status == 404
