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
# The language an applicant uses (Application.language, app/language.py).
LANGUAGE_LABELS: dict[str, str] = {"en": "English", "cy": "Welsh"}
CHANNEL_LABELS: dict[str, str] = {
    "online": "Online",
    "phone": "Phone",
    "post": "Post",
    "email": "Email",
}

# Letters in the print queue (app/applications/channels.py): what each kind of letter is.
LETTER_KINDS: dict[str, str] = {
    "confirmation": "Confirmation with a copy of the answers",
    "outcome": "Outcome letter",
    "reminder": "Reminder",
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
    "co_production_support": "Support for services new to co-production",
}

# The eligibility answer on co-production, for staff (the applicant's own words are Yes and "Not
# yet, but we want to"); staff entry does not ask it.
CO_PRODUCTION_LABELS: dict[str, str] = {
    "yes": "Willing to co-produce",
    "not-yet": "Not yet, wants support to start",
}

# The review criteria by their short names (the rubric, app/applications/rubric.py, holds their
# titles and descriptors for reviewers).
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
# The run's flags on an application's scores.
FLAG_LABELS: dict[str, str] = {
    "too_few_reviews": "Fewer reviews than the round asks for",
    "disagreement": "Reviewers disagree by 2 or more points",
    "moderated": "Moderated by staff",
}
FIRST_TIME_LABELS: dict[str, str] = {"yes": "First time", "no": "Taken part before"}
# The flags a run puts on an application's scores.
FLAG_LABELS: dict[str, str] = {
    "too_few_reviews": "Fewer reviews than required",
    "disagreement": "Reviewers disagree by 2 points or more",
    "moderated": "Score moderated by staff",
}
# A run's engine options, for the technical details of its rationale.
ENGINE_OPTION_LABELS: dict[str, str] = {
    "seed": "Seed for the random draw",
    "reserves": "Reserves wanted",
    "lottery_band": "Lottery band (points either side of the cut-off)",
    "one_per_organisation": "One site per organisation",
    "min_reviews": "Reviews required",
    "calibrate": "Reviewer calibration",
    "exact_window": "Applications near the cut-off given an exact figure",
    "score_decimals": "Decimal places scores are compared at",
    "price_bounds": "Cost of each quota worked out",
    "explain": "Reasons checked by re-solving",
}
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

# Outcome letters: one per decision, and a few words on each for the staff pages.
LETTER_LABELS: dict[str, str] = {
    "selected": "Selected",
    "reserve": "Reserve",
    "not_selected": "Not selected",
    "ineligible": "Not eligible",
    "withdrawn": "Withdrawn",
}
# The decision as a letter names it when a later letter says what changed ("we told you that
# your organisation ...").
LETTER_DECISION_PHRASES: dict[str, str] = {
    "selected": "had been selected as a partner site",
    "reserve": "was on our reserve list",
    "not_selected": "had not been selected",
    "ineligible": "was not eligible",
    "withdrawn": "had withdrawn",
}
# How an applicant asked to be contacted (the contact page's question), for the check page.
CONTACT_PREFERENCE_LABELS: dict[str, str] = {
    "email": "Email",
    "post": "Post",
    "phone": "Phone",
    "": "Not given (email)",
}

# A moderated score (1 to 5, a mean of reviews or staff's moderated score) in words for the
# applicant's letter: the lowest score of each band, highest band first. Defined once here so
# every letter, preview and test reads the same bands.
SCORE_BANDS: tuple[tuple[float, str], ...] = (
    (4.5, "excellent"),
    (3.75, "strong"),
    (3.0, "good"),
    (2.0, "developing"),
    (0.0, "at an early stage"),
)


def score_in_words(score: float | None) -> str:
    """A criterion's score as the applicant reads it ("strong"); "not scored" without one."""
    if score is None:
        return "not scored"
    return next(words for lowest, words in SCORE_BANDS if score >= lowest)


def score_scale() -> str:
    """The bands' words in a sentence, best first: "excellent, strong, ... or at an early stage"."""
    names = [words for _, words in SCORE_BANDS]
    return ", ".join(names[:-1]) + " or " + names[-1]


# Why an application was screened out, written to the applicant (the staff's reason codes are
# SCREENING_REASONS): what it means and, where there is one, what they could do.
APPLICANT_SCREENING_REASONS: dict[str, str] = {
    "not-uk": (
        "This call is for organisations based in England, Scotland, Wales or Northern Ireland, "
        "and from what you told us your organisation is based outside the UK."
    ),
    "not-adult-social-care": (
        "This call is for organisations that provide or support adult social care, and from "
        "what you told us your organisation's work is in another area."
    ),
    "duplicate": (
        "We received more than one expression of interest from your organisation, and we have "
        "considered the other one instead. You will hear about it separately."
    ),
    "incomplete": (
        "Your expression of interest did not have enough information for the panel to score "
        "it against the four questions."
    ),
    "other": "It did not meet the conditions of this call.",
}
