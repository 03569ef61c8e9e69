"""Text on buttons can be read: the colours the stylesheets give a link button, worked out by the cascade, reach
WCAG's 4.5:1 against its background, on every page and on the dashboards (whose links are red).

The stylesheets are read as the browser reads them, in the order the pages link them (app.css, then
dashboard.css), for the few kinds of selector they use (tags, classes, descendants); a rule with a state
(:hover), an attribute or a child combinator does not apply to a button at rest.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

CSS = Path(settings.BASE_DIR) / "static" / "css"
COMPOUND = re.compile(r"^([a-z][a-z0-9]*)?((?:\.[\w-]+)*)$")


@dataclass(frozen=True)
class Element:
    tag: str
    classes: frozenset = frozenset()


def rules(*names: str) -> list[tuple[str, str]]:
    """(selector list, declarations) of every top-level rule, in order; @media and other at-rules left out."""
    found = []
    for name in names:
        text = re.sub(r"/\*.*?\*/", "", (CSS / name).read_text(encoding="utf-8"), flags=re.S)
        depth, start, head = 0, 0, ""
        for index, char in enumerate(text):
            if char == "{":
                if depth == 0:
                    head, start = text[start:index].strip(), index + 1
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    if not head.startswith("@"):
                        found.append((head, text[start:index]))
                    start = index + 1
    return found


def _matches(compound: str, element: Element) -> bool:
    match = COMPOUND.match(compound)
    if match is None:
        return False
    tag, classes = match.group(1), {c for c in match.group(2).split(".") if c}
    return (tag is None or tag == element.tag) and classes <= element.classes


def specificity(selector: str, chain: list[Element]) -> tuple[int, int] | None:
    """The selector's (classes, tags) when it matches the last element of `chain` at rest, else None."""
    if re.search(r"[:\[>+~#*]", selector):
        return None
    compounds = selector.split()
    if not _matches(compounds[-1], chain[-1]):
        return None
    ancestors = chain[:-1]
    for compound in reversed(compounds[:-1]):
        while ancestors and not _matches(compound, ancestors[-1]):
            ancestors = ancestors[:-1]
        if not ancestors:
            return None
        ancestors = ancestors[:-1]
    classes = sum(part.count(".") for part in compounds)
    tags = sum(1 for part in compounds if COMPOUND.match(part).group(1))
    return classes, tags


def computed(chain: list[Element], prop: str, *names: str) -> str:
    """The value the cascade gives `prop` on the chain's last element, its custom properties resolved."""
    variables, best = {}, None
    for order, (selectors, body) in enumerate(rules(*names)):
        declarations = {
            key.strip(): value.strip()
            for key, _sep, value in (item.partition(":") for item in body.split(";"))
            if key.strip()
        }
        if selectors == ":root":
            variables.update({key: value for key, value in declarations.items() if key.startswith("--")})
        value = declarations.get(prop) or (declarations.get("background") if prop == "background-color" else None)
        if value is None:
            continue
        for selector in selectors.split(","):
            weight = specificity(selector.strip(), chain)
            if weight is not None and (best is None or (weight, order) >= best[0]):
                best = ((weight, order), value)
    assert best is not None, f"no rule gives {prop}"
    value = best[1]
    while (var := re.fullmatch(r"var\((--[\w-]+)\)", value)) is not None:
        value = variables[var.group(1)]
    return value


def luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(digit * 2 for digit in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, two: str) -> float:
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


PAGE = [Element("html"), Element("body"), Element("main")]
# The county dashboard's ledger actions: "Import a ledger" (导入台账) beside the secondary downloads.
DASHBOARD = [*PAGE, Element("div", frozenset({"dash"})), Element("section", frozenset({"ledger"}))]
ACTIONS = Element("div", frozenset({"ledger-actions"}))


@pytest.mark.parametrize(
    ("where", "button"),
    [
        ("page", [*PAGE, Element("a", frozenset({"button"}))]),
        ("page", [*PAGE, Element("a", frozenset({"button", "secondary"}))]),
        ("dashboard", [*DASHBOARD, ACTIONS, Element("a", frozenset({"button"}))]),
        ("dashboard", [*DASHBOARD, ACTIONS, Element("a", frozenset({"button", "secondary"}))]),
    ],
)
def test_a_link_buttons_text_reaches_4_5_to_1(where, button):
    sheets = ("app.css", "dashboard.css") if where == "dashboard" else ("app.css",)
    text = computed(button, "color", *sheets)
    background = computed(button, "background-color", *sheets)
    assert contrast(text, background) >= 4.5, f"{text} on {background}: {contrast(text, background):.2f}:1"


def test_the_dashboards_red_links_on_a_red_button_would_fail():
    """The check itself: the link colour of the dashboards on the button's red is the 1.3:1 that was reported."""
    assert contrast("#a61d1d", "#c62828") < 1.5
