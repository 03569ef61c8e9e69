"""Case work screens: the case list, a case's page and its actions, and the new-case form."""

from .actions import (
    case_close,
    case_mark_returned,
    case_relapse,
    case_responsible,
    case_retention_check,
    case_status,
    case_visit,
)
from .cases import case_detail, case_list
from .duplicates import duplicate_detail, duplicate_merge, duplicate_not_same, duplicates, merge_undo
from .handover import (
    case_handover,
    handover_accept,
    handover_cancel,
    handover_claim,
    handover_decline,
    handover_detail,
    handover_list,
    handover_stuck,
)
from .log import disclosure_log
from .monthly import monthly_report, monthly_report_group, monthly_report_national
from .new import case_new
from .schools import school_suggestions
from .sheet import case_sheet
from .worklist import work_list, work_list_count

__all__ = [
    "case_close",
    "case_detail",
    "case_list",
    "case_mark_returned",
    "case_new",
    "case_relapse",
    "case_responsible",
    "case_retention_check",
    "case_sheet",
    "case_status",
    "case_visit",
    "disclosure_log",
    "duplicate_detail",
    "duplicate_merge",
    "duplicate_not_same",
    "duplicates",
    "merge_undo",
    "monthly_report",
    "monthly_report_group",
    "monthly_report_national",
    "case_handover",
    "handover_accept",
    "handover_cancel",
    "handover_claim",
    "handover_decline",
    "handover_detail",
    "handover_list",
    "handover_stuck",
    "school_suggestions",
    "work_list",
    "work_list_count",
]
