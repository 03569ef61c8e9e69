from .candidates import candidate_dismiss, candidate_set_flag, candidates_open
from .comparisons import comparison_detail, comparison_list, comparison_new, comparison_status

__all__ = [
    "candidate_dismiss",
    "candidate_set_flag",
    "candidates_open",
    "comparison_detail",
    "comparison_list",
    "comparison_new",
    "comparison_status",
]
