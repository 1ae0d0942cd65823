"""The eligibility questions ("check a service is suitable"), asked before the form: one yes/no
question per page, some with a third answer that goes on with a note of the support offered.
The online journey, the paper form and the check that eligibility is complete all read them
from here."""

from __future__ import annotations

from dataclasses import dataclass

NOT_YET = "not-yet"


@dataclass(frozen=True)
class EligibilityQuestion:
    id: str
    question: str
    hint: str
    short: str
    no_title: str
    no_reason: str
    # A third answer that goes on, with a note of the support offered (the round's text
    # `support_text`): for those who cannot say yes yet but want to.
    not_yet: str = ""
    support_text: str = ""

    def choices(self) -> list[tuple[str, str]]:
        third = [(NOT_YET, self.not_yet)] if self.not_yet else []
        return [("yes", "Yes"), *third, ("no", "No")]

    def accepts(self, answer: object) -> bool:
        """Whether this answer lets the organisation go on."""
        return answer == "yes" or bool(self.not_yet and answer == NOT_YET)


ELIGIBILITY: tuple[EligibilityQuestion, ...] = (
    EligibilityQuestion(
        "uk_based",
        "Is your organisation based in the UK?",
        "England, Scotland, Wales or Northern Ireland.",
        "whether your organisation is based in the UK",
        "You cannot apply to this call",
        "This call is for organisations based in England, Scotland, Wales or Northern Ireland, "
        "because the projects are set up with local care systems in the UK.",
    ),
    EligibilityQuestion(
        "adult_social_care",
        "Does your organisation work in or support adult social care?",
        "For example providing care or support, supporting unpaid carers, or campaigning with "
        "people who draw on care.",
        "whether your organisation works in or supports adult social care",
        "This call may not be right for you",
        "This call is for organisations that work in or support adult social care. Children's "
        "services or health services on their own are not covered.",
    ),
    EligibilityQuestion(
        "co_production",
        "Are you willing to co-produce the work with people who draw on care and support, "
        "and with unpaid carers?",
        "Co-production means working as equals to design and run the work. If you have not "
        "done it before but want to, we can help you start.",
        "whether you are willing to co-produce the work",
        "Co-production is part of this call",
        "Every project in this call is designed and run with people who draw on care and "
        "support and with unpaid carers. We cannot support projects that do not work this way.",
        not_yet="Not yet, but we want to",
        support_text="co_production_support",
    ),
    EligibilityQuestion(
        "share_learning",
        "Are you willing to share what you learn with other organisations?",
        "For example at network events, in short case studies or in a conversation.",
        "whether you are willing to share what you learn",
        "Sharing learning is part of this call",
        "The centre's funding comes with a commitment to share learning, so that other "
        "organisations can benefit from what works.",
    ),
)
ELIGIBILITY_BY_ID = {question.id: question for question in ELIGIBILITY}
