"""Server time of whole responses: dashboards, the filtered case list, a case page, and their baselines.

Each page is requested in-process through Django's test client (the full middleware stack, signed in as
the demo user whose screen it is), after warm-up, and the median is kept. The same figures are taken on
both ledgers by separate worker processes; `results` pairs them.
"""

from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from counties.models import Role
from students.choices import OPEN_STATUSES
from students.models import DropoutCase

from . import personas
from .results import Result, at_most
from .timing import measure

PAGE_SIZE = 50  # the case list's page size
MAX_DEEP_PAGE = 200  # the case list counts at most 10,000 rows: 200 pages of 50


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _case_filter(county_id: int) -> dict:
    """The county's open cases for the reason most of them have (the list a county official works through)."""
    open_cases = DropoutCase.objects.filter(county_id=county_id, status__in=OPEN_STATUSES)
    top = open_cases.values("reason").annotate(n=Count("pk")).order_by("-n", "reason").first()
    reason = top["reason"] if top else "poverty"
    rows = top["n"] if top else 0
    last_page = max(1, min(MAX_DEEP_PAGE, -(-rows // PAGE_SIZE)))
    return {"reason": reason, "rows": rows, "deep_page": last_page}


def _detail_case(county_id: int) -> DropoutCase | None:
    """An open case of the county with the longest history of visits, so the page shows a full timeline."""
    cases = DropoutCase.objects.filter(county_id=county_id)
    return (
        cases.filter(status__in=OPEN_STATUSES).annotate(n=Count("visits")).order_by("-n", "pk").first()
        or cases.order_by("pk").first()
    )


def _check(client: Client, path: str) -> int:
    """Request once, insist on a 200, and count the queries the page makes."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}, not 200")
    return len(queries)


def collect(options: dict) -> dict:
    warmup = int(options.get("warmup", 2))
    repeat = int(options.get("repeat", 9))
    ministry = personas.persona(Role.MINISTRY)
    province_user = personas.persona(Role.PROVINCE)
    county_user = personas.persona(Role.COUNTY)
    admin_user = personas.administrator()
    county_id = county_user.division_id
    case_filter = _case_filter(county_id)
    detail = _detail_case(county_id)

    list_url = reverse("students:case-list")
    list_query = f"status=open&reason={case_filter['reason']}"
    admin_url = reverse("admin:students_dropoutcase_changelist")
    admin_query = (
        f"county__id__exact={county_id}&status__in={','.join(OPEN_STATUSES)}&reason__exact={case_filter['reason']}"
    )
    deep = case_filter["deep_page"]

    pages = {
        "minimal": (ministry, reverse("bench-minimal")),
        "national": (ministry, reverse("reports:national")),
        "province": (province_user, reverse("reports:division", args=[province_user.division.code])),
        "county": (county_user, reverse("reports:division", args=[county_user.division.code])),
        "case_list": (county_user, f"{list_url}?{list_query}"),
        "case_list_deep": (county_user, f"{list_url}?{list_query}&page={deep}"),
        "admin_list": (admin_user, f"{admin_url}?{admin_query}"),
        "admin_list_deep": (admin_user, f"{admin_url}?{admin_query}&p={deep}"),
    }
    if detail is not None:
        pages["case_detail"] = (county_user, reverse("students:case-detail", args=[detail.pk]))

    clients = {}
    figures = {
        "ms": {},
        "queries": {},
        "paths": {},
        "filter": case_filter,
        "county": county_user.division.name,
        "province": province_user.division.name,
    }
    for name, (user, path) in pages.items():
        client = clients.get(user.pk) or clients.setdefault(user.pk, _client(user))
        figures["queries"][name] = _check(client, path)
        timing = measure(lambda c=client, p=path: c.get(p), repeat=repeat, warmup=warmup)
        figures["ms"][name] = timing.median_ms
        figures["paths"][name] = path
        print(f"    {name:16} {timing.median_ms:8.1f} ms  ({figures['queries'][name]} queries)  {path}", flush=True)
    return figures


def results(large: dict, small: dict, *, large_label: str, small_label: str) -> list[Result]:
    big, little = large["ms"], small["ms"]

    def queries(name: str) -> str:
        return f"queries: {large['queries'][name]} at {large_label}, {small['queries'][name]} at {small_label}"

    def at_scale(name: str, metric: str, bound: float | None, note: str = "") -> Result:
        return Result(
            f"{metric} ({large_label})",
            big[name],
            "ms",
            f"same page at {small_label}",
            little[name],
            at_most(bound) if bound else None,
            note="; ".join(filter(None, [note, queries(name)])),
        )

    rows = [
        at_scale("national", "national dashboard", 1.3),
        at_scale("province", "province dashboard", 1.3, note=large["province"]),
        at_scale("county", "county dashboard", 1.3, note=large["county"]),
        Result(
            f"national dashboard ({large_label})",
            big["national"],
            "ms",
            "minimal signed-in page",
            big["minimal"],
            at_most(5),
        ),
    ]
    case_filter = (
        f"{large['county']}, open cases, reason {large['filter']['reason']}: "
        f"{large['filter']['rows']} rows at {large_label}, {small['filter']['rows']} at {small_label}"
    )
    deep_pages = (
        f"page {large['filter']['deep_page']} at {large_label}, {small['filter']['deep_page']} at {small_label}"
    )
    for name, admin, page, note in (
        ("case_list", "admin_list", "page 1", case_filter),
        ("case_list_deep", "admin_list_deep", "deep page", deep_pages),
    ):
        rows.append(at_scale(name, f"case list, {page}", 1.5, note=note))
        rows.append(
            Result(
                f"case list, {page} ({large_label})",
                big[name],
                "ms",
                "admin changelist, same filter",
                big[admin],
                at_most(1 / 3),
                note=f"at least 3 times faster; queries: {large['queries'][name]} vs {large['queries'][admin]}",
            )
        )
    if "case_detail" in big and "case_detail" in little:
        rows.append(at_scale("case_detail", "case page", None))
    return rows
