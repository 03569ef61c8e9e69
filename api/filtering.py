"""The case list's filters (students.filters.CaseFilter), shared by the API's list of cases.

The API pages cases by a cursor over their fixed order, newest dropout first: the list's `sort` has no place
there and is removed. Everything else is the list's own: the same scope, the same search privacy for masked roles,
the same area choices and messages.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension

from students.filters import CaseFilter

LIST_ONLY = ("sort",)


class ApiCaseFilter(CaseFilter):
    def __init__(self, data=None, queryset=None, *, request, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        for name in LIST_ONLY:
            self.filters.pop(name, None)


class CaseFilterBackend(DjangoFilterBackend):
    """The case list's filters; a filter that cannot be read is a 400 with its message and field."""


class CaseFilterExtension(DjangoFilterExtension):
    target_class = "api.filtering.CaseFilterBackend"
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        return [p for p in parameters if p["name"] not in LIST_ONLY]
