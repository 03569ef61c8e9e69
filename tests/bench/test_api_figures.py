"""The cases endpoint's figures among the pages': at 600k at most 1.3 times the same at 6k, and at most twice the
HTML case list's time for the same rows, in the same run."""

from bench import pages

from .test_figures import by_metric_and_baseline, page_figures


def api_figures(open_api: float, open_list_100: float, rows: int) -> dict:
    figures = page_figures(open_api=open_api, open_list_100=open_list_100)
    figures["ms"].update(open_api=open_api, open_list_100=open_list_100)
    figures["queries"].update(open_api=4, open_list_100=6)
    figures["lists"]["county_open"] = {"county": "壤塘县", "rows": rows}
    return figures


def test_the_cases_endpoint_is_judged_against_the_small_ledger_and_the_html_list():
    large = api_figures(open_api=26.0, open_list_100=12.0, rows=4000)
    small = api_figures(open_api=20.0, open_list_100=10.0, rows=40)
    results = by_metric_and_baseline(pages.results(large, small, large_label="600k", small_label="6k"))

    metric = "cases API, a county's open cases, page of 100 (600k)"
    at_small = results[(metric, "same page at 6k")]
    assert (at_small.ratio, at_small.meets, str(at_small.target)) == (1.3, True, "at most 1.3")
    assert "4000 rows at 600k, 40 at 6k" in at_small.note
    versus_list = results[
        ("cases API, a county's open cases, page of 100 (600k)", "case list, same rows (per_page=100)")
    ]
    assert (versus_list.ratio, versus_list.meets) == (26.0 / 12.0, False)


def test_a_run_without_the_endpoint_has_no_such_rows():
    results = pages.results(page_figures(), page_figures(), large_label="600k", small_label="6k")
    assert not [result for result in results if result.metric.startswith("cases API")]
