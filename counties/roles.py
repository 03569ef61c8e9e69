"""Which screens need a role: declared in the URLconfs, where each screen is routed, and checked before it runs.

Case work needs only a signed-in user: students.access scopes what each one reads and changes there. The
management screens (the totals runs, the administration site) belong to roles, whatever else an account
carries: the staff flag opens nothing by itself, since a county official may have it. A URLconf declares the
roles beside the route:

    path("totals/runs/", requires_role(Role.ADMIN)(views_runs.run_list), name="runs")
    path("admin/", admin_site_requires_role(admin.site, Role.ADMIN).urls)

A superuser has every role. Someone signed out is sent to sign in. Someone signed in without the role gets a
404 from the project's screens, as for a page that does not exist, and the administration site's own sign-in
page, which says the account may not open it. `roles_required_by` reads a declaration back from a resolved
view: links ask it (`may_open`) whether to show a screen, and tests/test_url_roles.py lists every URL with its
roles.
"""

import functools
from collections.abc import Callable

from django.contrib.admin import AdminSite
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import resolve, reverse


def has_role(user, roles: frozenset[str]) -> bool:
    """Whether a signed-in, active user has one of `roles` (a superuser has them all)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.role in roles


def requires_role(*roles: str) -> Callable[[Callable], Callable]:
    """Wraps a view for a URLconf: only users with one of `roles` reach it."""
    needed = frozenset(roles)

    def declare(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            if not has_role(request.user, needed):
                # Other users are not told the screen exists.
                raise Http404
            return view(request, *args, **kwargs)

        guarded = login_required(checked)
        guarded.required_roles = needed
        return guarded

    return declare


def admin_site_requires_role(site: AdminSite, *roles: str) -> AdminSite:
    """Puts the whole administration site under `roles`, in place of Django's staff flag; returns the site.

    Every admin page but its sign-in form asks the site's `has_permission`; the models' own permissions still
    decide, within the site, what each administrator may see and change.
    """
    needed = frozenset(roles)

    def has_permission(request) -> bool:
        return has_role(request.user, needed)

    site.has_permission = has_permission
    site.required_roles = needed
    return site


def roles_required_by(view: Callable) -> frozenset[str] | None:
    """The roles declared for a view as the URL resolver returns it, or None where no role is declared.

    An admin page is declared through the site that guards it: the admin marks its views with their site or
    their model's admin, and a model admin's extra view (a user's password form) is a method of that admin.
    """
    roles = getattr(view, "required_roles", None)
    if roles is not None:
        return roles
    owner = getattr(getattr(view, "__wrapped__", None), "__self__", None)
    site = (
        getattr(view, "admin_site", None)
        or getattr(getattr(view, "model_admin", None), "admin_site", None)
        or getattr(owner, "admin_site", None)
    )
    return getattr(site, "required_roles", None)


def may_open(user, url_name: str, *args) -> bool:
    """Whether the user may open the screen named `url_name` as far as roles go (for showing links to it)."""
    roles = roles_required_by(resolve(reverse(url_name, args=args)).func)
    return getattr(user, "is_authenticated", False) and (roles is None or has_role(user, roles))
