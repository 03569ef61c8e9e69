"""No cache keeps a copy of any answer of the application: every URL of the project, fetched as every role.

The URLs, the seeded ledger and the roles are the disclosure matrix's (tests/test_disclosure_matrix.py): every
pattern of the URLconf, every URL the matrix builds for it, each method, as each role. Whatever comes back (a
case's page, a list, an export, a job's file, the access log, the admin, a redirect, a refusal), it carries
`Cache-Control: no-store` and `Pragma: no-cache` (dropout_ledger.middleware). The one exception is plotly.js,
the same bytes for everyone, which its view declares public.
"""

import pytest

from tests import test_disclosure_matrix as matrix

# The matrix's seeded ledger, a module-scoped fixture: built once for this module too.
world = matrix.world

# The patterns whose answers may be kept: they hold nobody's data, and say so with Cache-Control: public.
PUBLIC = {"reports:plotly-js"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "role"), [pytest.param(key, role, id=f"{key}-{role}") for key in matrix.MATRIX for role in matrix.ROLES]
)
def test_no_answer_may_be_kept_by_a_cache(key, role, world, client):
    world.sign_in(client, role)
    entry = matrix.MATRIX[key]
    kept = []
    for url in entry.urls(world):
        for method in entry.methods:
            if method == "get":
                response = client.get(url, follow=entry.follow)
            else:
                response = client.post(url, entry.data(world, role), follow=entry.follow)
            matrix.body_of(response)
            answer = f"{method.upper()} {url} ({response.status_code})"
            if key in PUBLIC:
                assert response["Cache-Control"].startswith("public, "), answer
            elif response.get("Cache-Control") != "no-store" or response.get("Pragma") != "no-cache":
                headers = f"Cache-Control {response.get('Cache-Control')!r}, Pragma {response.get('Pragma')!r}"
                kept.append(f"{answer}: {headers}")
    assert kept == [], "answers a cache may keep:\n" + "\n".join(kept)
