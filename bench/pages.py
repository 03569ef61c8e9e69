"""Server time of whole responses: dashboards, the filtered case list, a case page, and their baselines.

Each page is requested in-process through Django's test client (the full middleware stack, signed in as
the demo user whose screen it is), after warm-up, and the median is kept. The pages take turns, one request
each per turn, so a page and its baseline (the minimal page, the admin, the reduced list) are timed side by
side: a busy moment on the machine weighs on both alike instead of on whichever was being timed. The busiest county's
dashboard and the landing page of the principal of its busiest school are taken too, as its official and
that principal see them: their lists grow with the ledger, and paging keeps them the small ledger's size.
The same figures are taken on both ledgers by separate worker processes; `results` pairs them.
"""

import statistics

from django.contrib import admin
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from counties.models import Role
from students.choices import OPEN_STATUSES, Reason
from students.models import DropoutCase

from . import personas
from .results import Result, at_most
from .timing import measure_interleaved

PAGE_SIZE = 50  # the case list's page size
API_PAGE = 100  # a page of the cases endpoint, and the case list's largest page
MAX_DEEP_PAGE = 200  # the case list counts at most 10,000 rows: 200 pages of 50


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _top_reason(cases) -> tuple[str, int]:
    """The reason most of these cases have, and how many have it."""
    top = cases.values("reason").annotate(n=Count("pk")).order_by("-n", "reason").first()
    return (top["reason"], top["n"]) if top else (Reason.POVERTY.value, 0)


def _last_page(rows: int, per_page: int = PAGE_SIZE) -> int:
    return max(1, min(MAX_DEEP_PAGE, -(-rows // per_page)))


def _busiest_county() -> int:
    return DropoutCase.objects.values("county_id").annotate(n=Count("pk")).order_by("-n", "county_id")[0]["county_id"]


def _busiest_school(county_id: int) -> int | None:
    """The county's school with the most cases: the principal's landing page with the longest lists (the busiest
    county may have few cases open; its schools' past cases are what a landing page must not list whole)."""
    top = (
        DropoutCase.objects.filter(county_id=county_id)
        .values("school_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "school_id")
        .first()
    )
    return top["school_id"] if top else None


def busiest_pages() -> dict:
    """The busiest county's dashboard, as its official sees it, and the landing page of the principal of its
    busiest school: the pages whose lists grow with the ledger (paged, they should not)."""
    busiest = _busiest_county()
    official = personas.official_of(busiest)
    pages = {"busy_county": (official, reverse("reports:division", args=[official.division.code]))}
    school_id = _busiest_school(busiest)
    if school_id is not None:
        principal = personas.principal_of(school_id)
        pages["busy_school"] = (principal, reverse("reports:school", args=[principal.school.code]))
    return pages


def _detail_case(county_id: int) -> DropoutCase | None:
    """The county's case with the longest history of visits, so the page shows a full timeline."""
    return DropoutCase.objects.filter(county_id=county_id).annotate(n=Count("visits")).order_by("-n", "pk").first()


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
    list_url = reverse("students:case-list")
    admin_url = reverse("admin:students_dropoutcase_changelist")

    # The demo county's open cases by reason: what its official works through.
    county_id = county_user.division_id
    open_reason, open_rows = _top_reason(DropoutCase.objects.filter(county_id=county_id, status__in=OPEN_STATUSES))
    open_query = f"status=open&reason={open_reason}"
    county_open_rows = DropoutCase.objects.filter(county_id=county_id, status__in=OPEN_STATUSES).count()
    open_admin = f"county__id__exact={county_id}&status__in={','.join(OPEN_STATUSES)}&reason__exact={open_reason}"
    # The busiest county's whole ledger by reason: long enough to have deep pages.
    busiest = _busiest_county()
    busy_user = personas.official_of(busiest)
    all_reason, all_rows = _top_reason(DropoutCase.objects.filter(county_id=busiest))
    all_query = f"reason={all_reason}"
    all_admin = f"county__id__exact={busiest}&reason__exact={all_reason}"
    deep = _last_page(all_rows)
    # The admin shows its own number of rows a page: its deep page is its own last page.
    admin_deep = _last_page(all_rows, admin.site._registry[DropoutCase].list_per_page)
    detail = _detail_case(county_id)

    pages = {
        "minimal": (ministry, reverse("bench-minimal")),
        "national": (ministry, reverse("reports:national")),
        "province": (province_user, reverse("reports:division", args=[province_user.division.code])),
        "county": (county_user, reverse("reports:division", args=[county_user.division.code])),
        "open_list": (county_user, f"{list_url}?{open_query}"),
        "open_floor": (county_user, f"{reverse('bench-list')}?{open_query}"),
        "open_admin": (admin_user, f"{admin_url}?{open_admin}"),
        # The county's open cases, a page of 100: through the API (signed in, as a browser is) and the list.
        "open_api": (county_user, f"{reverse('api:case-list')}?status=open&page_size={API_PAGE}"),
        "open_list_100": (county_user, f"{list_url}?status=open&per_page={API_PAGE}"),
        "all_list": (busy_user, f"{list_url}?{all_query}"),
        "all_admin": (admin_user, f"{admin_url}?{all_admin}"),
        "all_list_deep": (busy_user, f"{list_url}?{all_query}&page={deep}"),
        "all_admin_deep": (admin_user, f"{admin_url}?{all_admin}&p={admin_deep}"),
    }
    if detail is not None:
        pages["case_detail"] = (county_user, reverse("students:case-detail", args=[detail.pk]))
    pages.update(busiest_pages())

    clients = {}
    figures = {
        "ms": {},
        "runs": {},
        "queries": {},
        "paths": {},
        "lists": {
            "open": {"county": county_user.division.name, "reason": open_reason, "rows": open_rows},
            "county_open": {"county": county_user.division.name, "rows": county_open_rows},
            "all": {
                "county": busy_user.division.name,
                "reason": all_reason,
                "rows": all_rows,
                "deep_page": deep,
                "admin_deep_page": admin_deep,
            },
        },
        "county": county_user.division.name,
        "province": province_user.division.name,
    }
    requests = {}
    for name, (user, path) in pages.items():
        client = clients.get(user.pk) or clients.setdefault(user.pk, _client(user))
        figures["queries"][name] = _check(client, path)
        figures["paths"][name] = path
        requests[name] = lambda c=client, p=path: c.get(p)
    timings = measure_interleaved(requests, repeat=repeat, warmup=warmup)
    for name, timing in timings.items():
        figures["ms"][name] = timing.median_ms
        figures["runs"][name] = [run * 1000.0 for run in timing.runs]
        print(
            f"    {name:16} {timing.median_ms:8.1f} ms  ({figures['queries'][name]} queries)  {figures['paths'][name]}",
            flush=True,
        )
    return figures


def merge(rounds: list[dict]) -> dict:
    """One ledger's figures from several rounds: every timed run pooled, the median taken over them all."""
    merged = {**rounds[-1], "runs": {}, "ms": {}}
    for name in rounds[-1]["runs"]:
        pooled = [run for figures in rounds for run in figures["runs"][name]]
        merged["runs"][name] = pooled
        merged["ms"][name] = statistics.median(pooled)
    return merged


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
            at_most(3),
        ),
    ]
    lists = large["lists"], small["lists"]
    open_note = (
        f"{lists[0]['open']['county']}, open cases, reason {lists[0]['open']['reason']}: "
        f"{lists[0]['open']['rows']} rows at {large_label}, {lists[1]['open']['rows']} at {small_label}"
    )
    all_note = (
        f"busiest county ({lists[0]['all']['county']} at {large_label}, {lists[1]['all']['county']} at "
        f"{small_label}), every status, reason {lists[0]['all']['reason']}: {lists[0]['all']['rows']} rows at "
        f"{large_label}, {lists[1]['all']['rows']} at {small_label}"
    )
    deep_note = f"page {lists[0]['all']['deep_page']} at {large_label}, {lists[1]['all']['deep_page']} at {small_label}"
    admin_deep = lists[0]["all"].get("admin_deep_page")
    for name, admin_page, label, note in (
        ("open_list", "open_admin", "case list, open by reason, page 1", open_note),
        ("all_list", "all_admin", "case list, all by reason, page 1", all_note),
        ("all_list_deep", "all_admin_deep", "case list, all by reason, deep page", deep_note),
    ):
        rows.append(at_scale(name, label, 1.5, note=note))
        rows.append(
            Result(
                f"{label} ({large_label})",
                big[name],
                "ms",
                "admin changelist, same filter",
                big[admin_page],
                at_most(0.5),
                note=(
                    f"at most half the admin's time; queries: {large['queries'][name]} vs "
                    f"{large['queries'][admin_page]}"
                    + (f"; the admin's last page, p={admin_deep}" if name == "all_list_deep" and admin_deep else "")
                ),
            )
        )
    if "open_floor" in big:
        rows.append(
            Result(
                f"case list reduced to its reads, open by reason, page 1 ({large_label})",
                big["open_floor"],
                "ms",
                "admin changelist, same filter",
                big["open_admin"],
                note=(
                    "this stack's own floor for the page: the same count and page queries through the scoping "
                    "rule and the same rows in the base template, without the filter form, sort headers and "
                    f"pager; queries: {large['queries']['open_floor']} vs {large['queries']['open_admin']}"
                ),
            )
        )
        rows.append(
            Result(
                f"case list, open by reason, page 1 ({large_label})",
                big["open_list"],
                "ms",
                "the same list reduced to its reads",
                big["open_floor"],
                at_most(1.5),
                note="the filter form, sort headers and pager cost at most half again what the reads cost",
            )
        )
    if "open_api" in big and "open_api" in little:
        county_open = large["lists"]["county_open"], small["lists"]["county_open"]
        api_note = (
            f"{county_open[0]['county']}, every open case, {API_PAGE} a page by a cursor: "
            f"{county_open[0]['rows']} rows at {large_label}, {county_open[1]['rows']} at {small_label}"
        )
        rows.append(at_scale("open_api", "cases API, a county's open cases, page of 100", 1.3, note=api_note))
        rows.append(
            Result(
                f"cases API, a county's open cases, page of 100 ({large_label})",
                big["open_api"],
                "ms",
                "case list, same rows (per_page=100)",
                big["open_list_100"],
                at_most(2),
                note=(
                    f"at most twice the HTML list's time; queries: {large['queries']['open_api']} vs "
                    f"{large['queries']['open_list_100']}"
                ),
            )
        )
    if "case_detail" in big and "case_detail" in little:
        rows.append(at_scale("case_detail", "case page", None))
    for name, label in (
        ("busy_county", "county dashboard, busiest county"),
        ("busy_school", "principal's landing page, busiest school of the busiest county"),
    ):
        if name in big and name in little:
            rows.append(at_scale(name, label, 1.3, note=f"{large.get('paths', {}).get(name, '')} at {large_label}"))
    return rows
