"""The mixed load of `make bench --only load`, for Locust: each simulated user signs in as one of the plan's
people (bench/soak.py writes the plan: session cookies, their pages, their cases) and works as that role does.

Roles in national proportions: about 200,000 principals and 2,850 counties with a few officials each, the
ministry and the provinces a handful. Principals open their school's page and their cases and record visits;
county officials open their county's page and case list and record visits; ministry and province staff read
dashboards and lists.
"""

import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads(Path(os.environ["LEDGER_LOAD_PLAN"]).read_text(encoding="utf-8"))
VISIT = {
    "method": "phone",
    "outcome": "refused",
    "visitor_role_0": "class_teacher",
    "visitor_name_0": "Class teacher",
    "notes": PLAN["note"],
}


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self):
        self.me = random.choice(PLAN["people"][self.role])
        self.client.cookies.set(PLAN["session_cookie"], self.me["session"])
        self.client.cookies.set(PLAN["csrf_cookie"], self.me["csrf"])

    def page(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")

    def record_visit(self, name: str) -> None:
        case = random.choice(self.me["cases"])
        data = {
            **VISIT,
            "version": case["version"],
            "visit_date": PLAN["today"],
            "csrfmiddlewaretoken": self.me["csrf"],
        }
        with self.client.post(
            f"/cases/{case['id']}/visit/", data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or "/accounts/login/" in response.headers.get("Location", ""):
                response.failure(f"{response.status_code}: the visit was not recorded")


class Principal(Person):
    role = "principal"
    weight = 70

    @task(5)
    def school_page(self):
        self.page(self.me["landing"], "principal: school page")

    @task(3)
    def case_page(self):
        self.page(f"/cases/{random.choice(self.me['cases'])['id']}/", "principal: case page")

    @task(2)
    def visit(self):
        self.record_visit("principal: record a visit")


class CountyOfficial(Person):
    role = "county"
    weight = 25

    @task(3)
    def county_page(self):
        self.page(self.me["landing"], "county: county page")

    @task(3)
    def case_list(self):
        self.page(self.me["list"], "county: case list")

    @task(1)
    def case_page(self):
        self.page(f"/cases/{random.choice(self.me['cases'])['id']}/", "county: case page")

    @task(3)
    def visit(self):
        self.record_visit("county: record a visit")


class MinistryOrProvince(Person):
    role = "reader"
    weight = 5

    @task(3)
    def dashboard(self):
        self.page(self.me["landing"], "ministry/province: dashboard")

    @task(2)
    def area(self):
        self.page(random.choice(self.me["areas"]), "ministry/province: area page")

    @task(1)
    def case_list(self):
        self.page(self.me["list"], "ministry/province: case list")
