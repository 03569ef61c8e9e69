"""The user's own API tokens: made and revoked on their Tokens page. A new key is shown once, on the page that
answers its making, and is never stored nor sent again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from students.forms import add_service_errors

from ..forms import TokenForm
from ..models import ApiToken
from ..tokens import token_create, token_revoke


@login_required
def token_list(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            made = token_create(user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            new_key = made.key
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")
    return render(request, "api/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    # Someone else's token does not exist for this user: only their own are listed and revoked here.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token_revoke(token=token, user=request.user)
    messages.success(request, _("The token “%(name)s” is revoked: it no longer signs in.") % {"name": token.name})
    return redirect("api:tokens")
