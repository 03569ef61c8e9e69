"""Parts of a page rendered once and served from the cache until what they show changes.

A part's key names everything its HTML depends on: the caller's own parts (the area, the viewer, a stamp of the
rows it counts) and the language, added here. A stamp is read from the database on every request (a cheap
aggregate, such as the newest row's id), so a write shows at once in every process, whichever cache backs it.
The time limit bounds what no stamp covers (a county moved to another prefecture, say).
"""

import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

FRAGMENT_SECONDS = 10 * 60


def cached_fragment(key: str, render: Callable[[], str], *, seconds: int = FRAGMENT_SECONDS) -> SafeString:
    """The HTML `render` makes, from the cache when a request made it under the same key and language."""
    key = "fragment:" + hashlib.sha256(f"{get_language()}:{key}".encode()).hexdigest()
    html = cache.get_or_set(key, lambda: str(render()), seconds)
    return mark_safe(html)  # rendered by a template, escaped there
