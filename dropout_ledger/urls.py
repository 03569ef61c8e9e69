"""The project's URLs: each app's own, the admin, sign-in, the language switch and the icon."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from counties.models import Role
from counties.roles import admin_site_requires_role

from .views import FaviconView

urlpatterns = [
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The administrators' site, whatever the staff flag says (counties.roles).
    path("admin/", admin_site_requires_role(admin.site, Role.ADMIN).urls),
    path("api/", include("api.urls")),
    path("cases/", include("students.urls")),
    path("spot-checks/", include("verification.urls")),
    # Roster comparisons (四查三比对) of a county (rosters.views).
    path("rosters/", include("rosters.urls")),
    path("", include("reports.urls")),
]

# A failure outside a view answers 500, unless the database stopped answering: then 503, "try again in a moment".
handler500 = "dropout_ledger.errors.server_error"
