"""The identifier-access log: who saw children's full identifiers, when, in what, and how many children.

County officials and principals read their own entries; supervisors read those of their area's users too
(students.access.disclosures_visible_to). Entries name a case or a filter, never an identifier.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.shortcuts import render

from ..access import disclosures_visible_to, scope_for

PAGE_SIZE = 50


@login_required
def disclosure_log(request):
    scope = scope_for(request.user)
    entries = disclosures_visible_to(request.user).select_related("user", "user__division", "user__school")
    page = Paginator(entries.order_by("-at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    totals = entries.aggregate(children=Sum("children"))
    return render(
        request,
        "students/disclosure_log.html",
        {
            "page": page,
            "children": totals["children"] or 0,
            "supervises": scope.everything or not scope.can_write,
        },
    )
