"""The page for a form refused by the CSRF check (CSRF_FAILURE_VIEW).

Django's own page for it names the check's reason and, with DEBUG on, how the settings should change; it is
drawn outside the product's layout, in English. This one is templates/403_csrf.html in the layout, in the
user's language, and says nothing of why the check failed. The other error pages (400, 403, 404, 500) are
Django's views with the project's templates of the same names.
"""

from django.shortcuts import render


def csrf_failure(request, reason: str = ""):
    # The reason stays in the log (django.security.csrf), where Django writes it anyway.
    return render(request, "403_csrf.html", status=403)
