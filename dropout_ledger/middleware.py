"""No browser or proxy keeps a copy of anything the application answers, unless the view says it may.

Case pages, lists, exports, job files, the access log and the admin carry minors' identities; a copy left in a
shared county office computer's cache, or in a proxy, outlives the session that was allowed to see it. Rather
than list those pages (and miss the next one), every response the application makes gets `Cache-Control:
no-store` (and `Pragma: no-cache` for HTTP/1.0 caches), whoever asked: the rule does not depend on the session,
so a response to a request whose session ended half-way, or to a client signed in some other way, is covered
too. The pages that are not personal (the sign-in form, error pages) lose nothing by it: they are small and
made for each request anyway.

Two kinds of response keep their own caching: static files, which WhiteNoise answers before this middleware
runs, and a response whose view declared it `public` (plotly.js, reports.views.assets), which by saying so
states that it holds nobody's data.
"""


def declared_public(response) -> bool:
    directives = response.get("Cache-Control", "").split(",")
    return any(directive.strip().lower() == "public" for directive in directives)


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not declared_public(response):
            # Replaced, not added to: a max-age or no-cache beside no-store (the admin's) would only confuse a reader.
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
