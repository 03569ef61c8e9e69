"""The ledger's hash chains: every entry of its history is chained to the one before, and the chains are verified.

Each case event, persuasion visit and identity change is an entry of a chain: a case's events, a case's visits, or
a child's identity changes. The database writes each entry's position in its chain, the previous entry's hash and
the entry's own hash, SHA-256(previous hash || content), in the inserting transaction: a trigger, defined with the
content's canonical serialization in migration students 0013. The application never writes them, and the database
refuses to update or delete an entry.

A verification walks chains set-based in SQL, one statement per table, in two checks that need no chain order: it
recomputes each entry's hash with the trigger's own function (each entry alone, so parallel workers share the scan),
and compares each entry's previous hash with the hash of the entry one position before it in its chain (a join on
position - 1, no hash recomputed). It names each broken link with what is wrong (PROBLEMS):
- content changed: the entry no longer hashes to its stored hash (it was edited behind the application's back);
- entries missing: positions skip before the entry (entries deleted from the middle or the start of the chain);
- link broken: the entry's previous hash is not its predecessor's hash (the predecessor was rewritten with a
  recomputed hash, or replaced).
What a chain alone cannot show: its last entries deleted, or a whole chain rewritten, hashes and all, by someone
who can write as the database's owner.

Every verification is kept (LedgerVerification, with one CountyVerification per county it walked; a child's
identity changes count in the county holding the child). `manage.py verify_ledger` verifies on demand; the
nightly run (reports.tasks) verifies the chains that gained entries since the last verification.
"""

import datetime
import json
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counties.models import Division

from .choices import OPEN_STATUSES
from .models import (
    CaseEvent,
    CountyVerification,
    IdentityChange,
    LedgerVerification,
    PersuasionVisit,
    VerificationTrigger,
)

# A verification keeps this many broken links by name (the command prints them all); it counts them all.
BROKEN_LINKS_KEPT = 1000


@dataclass(frozen=True)
class Chain:
    """One table of chained entries: its model, the column naming each entry's chain, when an entry was recorded."""

    model: type
    key: str
    recorded: str

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def of_a_case(self) -> bool:
        return self.key == "case_id"


CHAINS = (
    Chain(CaseEvent, "case_id", "recorded_at"),
    Chain(PersuasionVisit, "case_id", "recorded_at"),
    Chain(IdentityChange, "student_id", "at"),
)
CHAIN_BY_TABLE = {chain.table: chain for chain in CHAINS}

PROBLEMS = {
    "content": gettext_lazy("content changed since it was recorded"),
    "missing": gettext_lazy("entries missing before it"),
    "link": gettext_lazy("its link to the entry before it is broken"),
}

# The county holding each chain: a case's county, or for a child's identity changes the county of the case holding
# the child (students.access.holding_case: their open case, else their latest).
_CASE_HOLDER = "JOIN students_dropoutcase holder ON holder.id = walked.chain"
_CHILD_HOLDER = """LEFT JOIN LATERAL (
        SELECT c.county_id FROM students_dropoutcase c WHERE c.student_id = walked.chain
        ORDER BY c.status = ANY(%(open)s) DESC, c.dropout_date DESC, c.id DESC LIMIT 1
    ) holder ON true"""

# One statement per table, so that one snapshot is walked. Neither check walks the entries in chain order (no sort,
# no window): the content check is a filter on a scan of the table, which parallel workers share, and the link check
# is a hash join of each entry with its predecessor, position - 1 in the same chain, which compares stored hashes
# only. Only the broken entries and a count per chain leave them; the chain's holder is found once per chain.
# Per county: the entries walked, and the broken links.
_WALK = """
WITH chains AS (
    SELECT e.{key} AS chain, count(*) AS entries FROM {table} e {where} GROUP BY e.{key}
), found AS (
    SELECT e.id, e.{key} AS chain, e.chain_position AS position, true AS changed, false AS missing, false AS link
    FROM {table} e
    WHERE e.entry_hash IS DISTINCT FROM ledger_entry_hash(e.previous_hash, {table}_content(e)) {and_where}
    UNION ALL
    SELECT id, chain, position, false, missing, NOT missing
    FROM (
        SELECT e.id, e.{key} AS chain, e.chain_position AS position, e.previous_hash,
               predecessor.entry_hash AS predecessor_hash,
               predecessor.id IS NULL AND e.chain_position <> 1 AS missing
        FROM {table} e
        LEFT JOIN {table} predecessor
            ON predecessor.{key} = e.{key} AND predecessor.chain_position = e.chain_position - 1 {and_predecessor}
        {where}
    ) linked
    WHERE missing OR previous_hash IS DISTINCT FROM predecessor_hash
), broken AS (
    SELECT id, chain, position, bool_or(changed) AS changed, bool_or(missing) AS missing, bool_or(link) AS link
    FROM found
    GROUP BY id, chain, position
)
SELECT holder.county_id, sum(walked.entries)::bigint,
       (json_agg(json_build_array(walked.id, walked.chain, walked.position, walked.changed, walked.missing,
                                  walked.link)) FILTER (WHERE walked.id IS NOT NULL))::text
FROM (
    SELECT chain, entries, NULL::bigint AS id, NULL::integer AS position, NULL::boolean AS changed,
           NULL::boolean AS missing, NULL::boolean AS link
    FROM chains
    UNION ALL
    SELECT chain, 0, id, position, changed, missing, link FROM broken
) walked
{holder}
{holder_where}
GROUP BY holder.county_id
"""


def parallel_scan(cursor) -> None:
    """Let the planner share a scan of a table with parallel workers, for the rest of the transaction (SET LOCAL).

    The planner underrates the content check: it costs a serialization and a SHA-256 like any cheap function, and
    expects most entries to pass the filter (it cannot know that a hash rarely differs), so that sending them to the
    leader would outweigh what the workers save. How many workers a statement may use stays the server's setting
    (max_parallel_workers_per_gather), and tables too small to share (min_parallel_table_scan_size) are not shared.
    """
    cursor.execute("SET LOCAL parallel_setup_cost = 0")
    cursor.execute("SET LOCAL parallel_tuple_cost = 0")


def _conditions(chain: Chain, entry: str, *, county: bool, since: bool) -> list[str]:
    """Which chains are walked, as conditions on the entry named `entry`."""
    conditions = []
    if county:
        # The chains of the county's cases, or of the children with a case there (the holder is checked after).
        owner = "id" if chain.of_a_case else "student_id"
        conditions.append(
            f"{entry}.{chain.key} IN (SELECT {owner} FROM students_dropoutcase WHERE county_id = %(county)s)"
        )
    if since:
        # Whole chains: an entry recorded since then is checked against the older entries before it.
        conditions.append(
            f"{entry}.{chain.key} IN (SELECT {chain.key} FROM {chain.table} WHERE {chain.recorded} >= %(since)s)"
        )
    return conditions


def walk_sql(chain: Chain, *, county: bool = False, since: bool = False) -> str:
    """The statement walking `chain`'s table; parameters %(county)s (a county's id), %(since)s, %(open)s."""
    conditions = _conditions(chain, "e", county=county, since=since)
    # The predecessor is in the entry's chain: the same conditions keep the join's hash table to the chains walked.
    predecessor = _conditions(chain, "predecessor", county=county, since=since)
    return _WALK.format(
        table=chain.table,
        key=chain.key,
        where=f"WHERE {' AND '.join(conditions)}" if conditions else "",
        and_where="".join(f" AND {condition}" for condition in conditions),
        and_predecessor="".join(f" AND {condition}" for condition in predecessor),
        holder=_CASE_HOLDER if chain.of_a_case else _CHILD_HOLDER,
        holder_where="WHERE holder.county_id = %(county)s" if county else "",
    )


@dataclass(frozen=True)
class BrokenLink:
    """An entry whose chain does not hold at it, and why (keys of PROBLEMS)."""

    table: str
    entry_id: int
    chain_id: int
    position: int
    county_id: int | None
    problems: tuple[str, ...]


@dataclass
class Walk:
    """What a walk found: entries walked per county (None: children held by no county), and the broken links."""

    entries_by_county: Counter = field(default_factory=Counter)
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(self.entries_by_county.values())


def chains_walk(*, county: Division | None = None, since: datetime.datetime | None = None) -> Walk:
    """Walk every chain, a county's, or those with an entry recorded since `since`; nothing is written."""
    walk = Walk()
    params = {"county": county.pk if county else None, "since": since, "open": list(OPEN_STATUSES)}
    with transaction.atomic(), connection.cursor() as cursor:
        parallel_scan(cursor)
        for chain in CHAINS:
            cursor.execute(walk_sql(chain, county=county is not None, since=since is not None), params)
            found = []
            for county_id, entries, links in cursor.fetchall():
                walk.entries_by_county[county_id] += entries
                for entry_id, chain_id, position, *flags in json.loads(links or "[]"):
                    problems = tuple(name for name, flag in zip(PROBLEMS, flags, strict=True) if flag)
                    found.append(BrokenLink(chain.table, entry_id, chain_id, position, county_id, problems))
            walk.broken += sorted(found, key=lambda link: (link.chain_id, link.position))
    return walk


def _link_record(link: BrokenLink, counties: dict[int, Division]) -> dict:
    county = counties.get(link.county_id)
    return {
        "table": link.table,
        "id": link.entry_id,
        "chain": link.chain_id,
        "position": link.position,
        "county": county.code if county else None,
        "county_name": county.name if county else None,
        "problems": list(link.problems),
    }


def broken_link_records(walk: Walk) -> list[dict]:
    """The broken links as kept in LedgerVerification.broken_links, with their county's code and name."""
    counties = Division.objects.in_bulk({link.county_id for link in walk.broken if link.county_id})
    return [_link_record(link, counties) for link in walk.broken]


def describe(record: dict) -> str:
    """One broken link in a sentence: "persuasion visit #12 (case #3, entry 2; 壤塘县 513230): content changed…"."""
    chain = CHAIN_BY_TABLE.get(record["table"])
    what = chain.model._meta.verbose_name if chain else record["table"]
    owner = _("case #%(id)s") if chain is None or chain.of_a_case else _("child #%(id)s")
    # County names repeat across provinces: the code tells them apart.
    where = f"{record['county_name']} {record['county']}" if record["county"] else _("no county")
    problems = "; ".join(str(PROBLEMS.get(problem, problem)) for problem in record["problems"])
    return _("%(what)s #%(id)s (%(owner)s, entry %(position)s; %(county)s): %(problems)s") % {
        "what": what,
        "id": record["id"],
        "owner": owner % {"id": record["chain"]},
        "position": record["position"],
        "county": where,
        "problems": problems,
    }


def ledger_verify(
    *,
    county: Division | None = None,
    since: datetime.datetime | None = None,
    trigger: str = VerificationTrigger.COMMAND,
) -> tuple[LedgerVerification, list[dict]]:
    """Walk the chains (every one, a county's, or those with an entry recorded since `since`) and keep the result.

    Returns the verification kept and every broken link found (the verification keeps the first
    BROKEN_LINKS_KEPT of them).
    """
    started_at = timezone.now()
    walk = chains_walk(county=county, since=since)
    records = broken_link_records(walk)
    broken_by_county = Counter(link.county_id for link in walk.broken)
    with transaction.atomic():
        verification = LedgerVerification.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            trigger=trigger,
            county=county,
            since=since,
            entries_checked=walk.entries,
            broken_count=len(records),
            broken_links=records[:BROKEN_LINKS_KEPT],
            ok=not records,
        )
        CountyVerification.objects.bulk_create(
            CountyVerification(
                verification=verification,
                county_id=county_id,
                entries_checked=entries,
                broken_count=broken_by_county[county_id],
            )
            for county_id, entries in walk.entries_by_county.items()
            if county_id is not None
        )
    return verification, records


def nightly_since() -> datetime.datetime:
    """Where the nightly verification starts: when the last verification of every chain since then began.

    That is the last nightly one or the last full one; with neither, the beginning of yesterday.
    """
    last = (
        LedgerVerification.objects.filter(county=None, finished_at__isnull=False)
        .filter(Q(trigger=VerificationTrigger.NIGHTLY) | Q(since=None))
        .order_by("-started_at")
        .first()
    )
    if last is not None:
        return last.started_at
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time.min))


def ledger_verify_nightly() -> LedgerVerification:
    """Verify the chains that gained an entry since the last verification (each chain whole) and keep the result."""
    verification, _records = ledger_verify(since=nightly_since(), trigger=VerificationTrigger.NIGHTLY)
    return verification


def latest_verification() -> tuple[LedgerVerification | None, list[str]]:
    """The latest verification, and its broken links in sentences (for the runs page)."""
    verification = LedgerVerification.objects.select_related("county").first()
    if verification is None:
        return None, []
    return verification, [describe(record) for record in verification.broken_links]
