"""Every label shown to people, in one place: the code stored, and the words people read.

Views, forms, exports and templates take their words from here, so a status or a criterion reads
the same on every page and in every file. (The round's own option lists, such as nations and
staff bands, are settings stored with the round: `app/rounds.py` reads them.)
"""

from __future__ import annotations

# An application's status and how it came in.
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "submitted": "Sent",
    "withdrawn": "Withdrawn",
    "merged": "Merged",
}
CHANNEL_LABELS: dict[str, str] = {
    "online": "Online",
    "phone": "Phone",
    "post": "Post",
    "email": "Email",
}

# Screening: the outcome, and why staff screened an application out (the screening form offers
# these; a run's reasons quote them).
SCREENING_LABELS: dict[str, str] = {
    "unscreened": "Not screened",
    "eligible": "Eligible",
    "ineligible": "Not eligible",
}
SCREENING_REASONS: dict[str, str] = {
    "not-uk": "Not based in the UK",
    "not-adult-social-care": "Not adult social care",
    "duplicate": "Duplicate of another application",
    "incomplete": "Incomplete application",
    "other": "Other reason",
}

# How staff can sort the list of applications.
SORT_LABELS: dict[str, str] = {
    "submitted-desc": "Sent, newest first",
    "submitted": "Sent, oldest first",
    "organisation": "Organisation name, A to Z",
    "reference": "Reference",
}

# The round's texts shown on the call's start page.
TEXT_LABELS: dict[str, str] = {
    "who_for": "Who can apply",
    "offer": "What we offer",
    "ask": "What we ask of you",
    "time_needed": "Time needed to apply",
    "next_steps": "What happens next",
    "how_chosen": "How sites are chosen",
    "decisions": "When decisions are made",
    "site_time": "Time a site gives",
    "funding_paid": "When funding is paid",
    "match_funding": "Match funding",
    "network_route": "What the network route offers",
    "technology": "The right to say no to technology",
}

# The review criteria by their short names (the rubric, app/applications/rubric.py, holds their titles
# and descriptors for reviewers).
CRITERION_LABELS: dict[str, str] = {
    "difference": "Difference",
    "inequalities": "Inequalities",
    "resources": "Resources",
    "evidence": "Evidence",
}

# A reviewer's review of one application.
REVIEW_STATUS_LABELS: dict[str, str] = {
    "not-started": "Not started",
    "draft": "Draft",
    "submitted": "Submitted",
}

# Selection runs: the run's state, each application's decision, the mix's dimensions.
RUN_STATUS_LABELS: dict[str, str] = {
    "running": "Running",
    "done": "Finished",
    "infeasible": "Quotas cannot be met",
    "failed": "Failed",
}
DECISION_LABELS: dict[str, str] = {
    "selected": "Selected",
    "reserve": "Reserve",
    "not_selected": "Not selected",
    "ineligible": "Not eligible",
}
MIX_LABELS: dict[str, str] = {
    "nation": "Nation",
    "region": "Region",
    "area_type": "Rurality",
    "size_band": "Size (staff)",
    "led_by": "Led by",
    "first_time": "First time",
    "pressures": "Pressures",
    "local_deprivation": "Local population",
}
FIRST_TIME_LABELS: dict[str, str] = {"yes": "First time", "no": "Taken part before"}
QUOTA_COLUMN_LABELS: dict[str, str] = {
    "dimension": "Dimension",
    "category": "Category",
    "min": "Minimum",
    "max": "Maximum",
}
# What a reviewer with a conflict in the run reads as each row's reason. The run's own reasons
# compare applications with each other (a rank out of how many, the lowest selected score, the
# sites a reserve can replace, a staff override), so any of them may describe the hidden one.
WITHHELD_REASONS: dict[str, str] = {
    "selected": "Selected.",
    "reserve": "Reserve: can take the place of a selected site that withdraws.",
    "not_selected": "Not selected.",
}

# People: their role, and the nation a reviewer works in.
ROLE_LABELS: dict[str, str] = {"admin": "Admin", "staff": "Staff", "reviewer": "Panel reviewer"}
NATION_LABELS: dict[str, str] = {
    "": "Not given",
    "england": "England",
    "scotland": "Scotland",
    "wales": "Wales",
    "northern-ireland": "Northern Ireland",
}

# Why personal data is erased: the code is kept in the audit log, the label in the history.
ERASURE_REASONS: dict[str, str] = {
    "subject-request": "The organisation asked for its data to be erased",
    "retention": "The retention period has ended",
    "entered-in-error": "The application was entered in error or is a test",
}
