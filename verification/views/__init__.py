"""The screens of spot checks: rounds for those who draw them (rounds), checks for verifiers (checks)."""

from .checks import check_detail, check_evidence, my_checks
from .rounds import round_assign, round_detail, round_draw, round_list

__all__ = ["check_detail", "check_evidence", "my_checks", "round_assign", "round_detail", "round_draw", "round_list"]
