"""What every API view shares: the disclosure rule in the serializers' context, and the paginations."""

from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.views import APIView

from students.disclosure import disclosure_for


class LedgerView(APIView):
    """An API view whose serializers show a child's data as the request's user may see it."""

    def context(self, **extra) -> dict:
        return {"request": self.request, "disclosure": disclosure_for(self.request.user), **extra}

    def paginate(self, queryset, pagination_class):
        self.paginator = pagination_class()
        return self.paginator.paginate_queryset(queryset, self.request, view=self)


class CasesCursor(CursorPagination):
    """Cases newest dropout first, 100 a page (up to 500): a cursor, so a page costs the same at any depth."""

    ordering = ("-dropout_date", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class VisitsCursor(CasesCursor):
    ordering = ("-visit_date", "-id")


class ChildrenCursor(CasesCursor):
    ordering = ("-id",)


class Pages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
