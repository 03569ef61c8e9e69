"""School suggestions for the case list's school filter: schools whose name or code matches what the user typed.

Only schools of the user's area (students.access), narrowed to the province, prefecture or county chosen in the
filter; only a school's name, code and county, never anything of a child. At most SUGGESTIONS of them.
"""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from ..access import schools_visible_to
from ..filters import school_label

SUGGESTIONS = 20


@login_required
@require_safe
def school_suggestions(request):
    text = request.GET.get("q", "").strip()
    if not text:
        return JsonResponse({"schools": []})
    schools = schools_visible_to(request.user)
    for param, lookup in (
        ("county", "county__code"),
        ("prefecture", "county__prefecture__code"),
        ("province", "county__province__code"),
    ):
        if code := request.GET.get(param):
            schools = schools.filter(**{lookup: code})
            break
    matches = schools.filter(code__startswith=text) if text.isdigit() else schools.filter(name__icontains=text)
    rows = matches.order_by("name", "code").values_list("name", "code", "county__name")[:SUGGESTIONS]
    return JsonResponse(
        {
            "schools": [
                {"value": school_label(name, code), "name": name, "code": code, "county": county}
                for name, code, county in rows
            ]
        }
    )
