"""Paging through up to 600,000 cases without the count or the sort becoming the slow part.

- The count stops at `cap` + 1 matching cases: counting costs no more than reading the first pages.
- A page is read in one statement of two steps: a subquery picks the ids of its 50 cases from the
  case table alone (joined only where a filter or the sort needs it), and the outer query reads those
  50 cases with their child, school and county: as the plain values a list prints when `fields` are
  given, which spares building 200 model instances for one page.
- A page read as model instances comes from the model's plain manager, or from `rows`: a queryset of the
  same model with the annotations and related rows the page prints (the school and county pages' work
  lists), evaluated for the page's ids only.
- Lists that share a page take their page numbers from parameters of their own (`page_from`, `pager`).
- When few cases match (not more than the cap), they are sorted as a set: the sort keys are wrapped
  so that PostgreSQL fetches the matching rows through the selective index (county, school) and
  sorts them, instead of walking the whole dropout-date index backwards looking for the few that
  match, which its row estimates sometimes make it prefer. When many match, the plain keys let it
  walk that index and stop after one page.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce

CAPPED_COUNT = 10_000


def sorted_as_a_set(queryset: QuerySet) -> QuerySet:
    """The same order, with keys no index can provide: the planner filters first, then sorts."""
    keys = []
    for key in queryset.query.order_by:
        if not isinstance(key, str):  # an expression (nulls first, say): already no index's order
            keys.append(key)
            continue
        descending = key.startswith("-")
        name = key.lstrip("-")
        name = "id" if name == "pk" else name
        keys.append(OrderBy(Coalesce(F(name), F(name)), descending=descending))
    return queryset.order_by(*keys)


class CappedCountPaginator(Paginator):
    """Pages of a filtered, ordered case queryset: model instances (read from `rows` when given), or with
    `fields`, dicts of those fields (related ones spelled as in values(), e.g. "student__name") and "pk"."""

    cap = CAPPED_COUNT

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        *,
        fields: tuple[str, ...] = (),
        rows: QuerySet | None = None,
        count: int | None = None,
    ):
        super().__init__(object_list, per_page)
        self.fields = fields
        self.rows = rows
        if count is not None:  # counted already, with other figures of the page
            self.__dict__["count"] = count

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ordered = self.object_list if self.capped else sorted_as_a_set(self.object_list)
        window = ordered.values("pk")[bottom : bottom + self.per_page]
        # The filters are in the window already; the outer query only reads and orders its rows.
        source = self.rows if self.rows is not None else self.object_list.model._default_manager
        rows = source.filter(pk__in=window).order_by(*self.object_list.query.order_by)
        rows = rows.values("pk", *self.fields) if self.fields else rows
        return self._get_page(list(rows), number, self)


def page_from(
    request,
    queryset: QuerySet,
    *,
    per_page: int,
    param: str = "page",
    rows: QuerySet | None = None,
    count: int | None = None,
) -> Page:
    """The page of `queryset` that the request's `param` asks for (the first for anything but a page number, the
    last past the end)."""
    return CappedCountPaginator(queryset, per_page, rows=rows, count=count).get_page(request.GET.get(param))


@dataclass(frozen=True)
class Pager:
    """Links to the neighbouring pages of one list, keeping the rest of the query (other lists' pages, filters)."""

    page: Page
    first_url: str
    previous_url: str
    next_url: str

    @property
    def capped(self) -> bool:
        return self.page.paginator.capped


def pager(request, page: Page, *, param: str = "page", anchor: str = "") -> Pager:
    def url(number: int | None) -> str:
        if number is None:
            return ""
        query = request.GET.copy()
        query[param] = str(number)
        return f"?{query.urlencode()}" + (f"#{anchor}" if anchor else "")

    return Pager(
        page,
        first_url=url(1) if page.number > 1 else "",
        previous_url=url(page.previous_page_number() if page.has_previous() else None),
        next_url=url(page.next_page_number() if page.has_next() else None),
    )
