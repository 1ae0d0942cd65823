"""The expression of interest as data: sections, pages and questions with their messages.

Option lists and word limits come from the round's configuration (`app.rounds`); this module says
which questions exist, how they are worded, in what order they are asked, and what each error
message says. Forms, the task list, check answers and the emailed copy are all built from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# In a page's saved answers: saved without its checks (Back, Return to your application, or Save
# and come back later, with something not yet right), so the page is not complete until it is
# saved with Save and continue.
UNCHECKED = "_unchecked"

Kind = Literal["text", "textarea", "radios", "checkboxes", "email", "phone", "postcode"]
Answers = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    kind: Kind
    # The short name used in messages and on check answers ("organisation name").
    short: str
    hint: str = ""
    required: bool = True
    options: str | None = None  # key of the option list in the round's configuration
    max_length: int = 200
    word_limit: bool = False  # limited to the round's word limit (textarea)
    other: str | None = None  # id of the free-text question shown with the "other" option
    other_for: str | None = None  # on an "other" text question: the choice question it belongs to
    autocomplete: str | None = None
    input_class: str = ""
    required_message: str = ""
    # Required only when this holds of the page's answers (e.g. a phone number when phone is the
    # preferred way to be contacted); the hint says when, in words, for the form and paper form.
    required_if: Callable[[Mapping[str, Any]], bool] | None = None
    # The message for an answer in the wrong form, where the kind's own message is not enough.
    invalid_message: str = ""

    @property
    def missing_message(self) -> str:
        if self.required_message:
            return self.required_message
        if self.kind in ("radios",):
            return f"Select {self.short}"
        if self.kind == "checkboxes":
            return f"Select at least one {self.short}"
        return f"Enter {self.short}"

    def needed(self, page_answers: Mapping[str, Any]) -> bool:
        """Whether an answer is needed, given the other answers on its page."""
        return self.required or (self.required_if is not None and self.required_if(page_answers))


def _always(answers: Answers) -> bool:
    return True


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    questions: tuple[Question, ...]
    intro: str = ""
    # Whether the page is asked, given the answers so far (e.g. English region only in England).
    applies: Callable[[Answers], bool] = field(default=_always)
    # The same rule in words, for the paper form ("Only if your organisation is in England.").
    applies_when: str = ""

    # A page with a single question uses the question as the page heading.
    @property
    def heading_is_question(self) -> bool:
        return len(self.questions) == 1


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    pages: tuple[Page, ...]


def _in_england(answers: Answers) -> bool:
    return answers.get("location", {}).get("nation") == "england"


# The contact page's rules: each way of being contacted needs its details. Letters (a copy of
# the answers, the decision) go by post to anyone who prefers post or gives no email address,
# so they must give a postal address (app/applications/channels.py routes them).
def _prefers_email(contact: Mapping[str, Any]) -> bool:
    return contact.get("preferred_contact") == "email"


def _prefers_phone(contact: Mapping[str, Any]) -> bool:
    return contact.get("preferred_contact") == "phone"


def needs_postal_address(contact: Mapping[str, Any]) -> bool:
    preferred = contact.get("preferred_contact")
    return preferred == "post" or (preferred == "phone" and not contact.get("email"))


POSTAL_ADDRESS_HINT = (
    "Needed if you prefer us to contact you by post, or have no email address: we post you "
    "a copy of your answers and our decision."
)


SECTIONS: tuple[Section, ...] = (
    Section(
        "organisation",
        "Your organisation",
        (
            Page(
                "organisation",
                "About your organisation",
                (
                    Question(
                        "organisation_name",
                        "Name of your organisation",
                        "text",
                        short="the name of your organisation",
                        autocomplete="organization",
                    ),
                    Question(
                        "organisation_type",
                        "What type of organisation is it?",
                        "checkboxes",
                        short="type of organisation",
                        hint="Select all that apply.",
                        options="organisation_type",
                        other="organisation_type_other",
                    ),
                    Question(
                        "organisation_type_other",
                        "If you chose Other, tell us what type of organisation it is",
                        "text",
                        short="the type of organisation",
                        required=False,
                        other_for="organisation_type",
                        required_message="Enter what type of organisation it is",
                    ),
                    Question(
                        "registered_number",
                        "Registered number (optional)",
                        "text",
                        short="the registered number",
                        hint="For example a charity, company, CQC or Care Inspectorate number.",
                        required=False,
                        max_length=50,
                        input_class="input--20",
                    ),
                ),
            ),
            Page(
                "leadership",
                "Who leads your organisation and its size",
                (
                    Question(
                        "led_by",
                        "Is your organisation user-led, carer-led, both or neither?",
                        "radios",
                        short="whether your organisation is user-led or carer-led",
                        hint=(
                            "User-led means most of your board or committee are people who draw "
                            "on care and support. Carer-led means most are unpaid carers."
                        ),
                        options="led_by",
                    ),
                    Question(
                        "staff_band",
                        "How many paid staff does it have?",
                        "radios",
                        short="how many paid staff it has",
                        hint="Count people, not full-time equivalents.",
                        options="staff_band",
                    ),
                    Question(
                        "income_band",
                        "What is its annual income?",
                        "radios",
                        short="its annual income",
                        hint="Use the total income in your most recent annual accounts.",
                        options="income_band",
                    ),
                ),
            ),
        ),
    ),
    Section(
        "where",
        "Where you work",
        (
            Page(
                "location",
                "Where you work",
                (
                    Question(
                        "nation",
                        "Which nation is your organisation based in?",
                        "radios",
                        short="the nation your organisation is based in",
                        options="nation",
                    ),
                    Question(
                        "postcode",
                        "Postcode (optional)",
                        "postcode",
                        short="a postcode",
                        hint="The postcode of your main office or base.",
                        required=False,
                        max_length=10,
                        autocomplete="postal-code",
                        input_class="input--10",
                    ),
                    Question(
                        "area_type",
                        "What kind of area does it mainly serve?",
                        "radios",
                        short="the kind of area it mainly serves",
                        options="area_type",
                    ),
                    Question(
                        "local_deprivation",
                        "Do most of the people your organisation supports live in the most "
                        "deprived areas? (optional)",
                        "radios",
                        short="whether most of the people you support live in the most deprived "
                        "areas",
                        hint=(
                            "Use your nation's own index of deprivation: the Index of Multiple "
                            "Deprivation (IMD) in England, WIMD in Wales, SIMD in Scotland or "
                            "NIMDM in Northern Ireland. The most deprived areas are deciles 1 to "
                            "3, the 30% most deprived. You can look up a postcode on your "
                            "nation's index website."
                        ),
                        options="local_deprivation",
                        required=False,
                    ),
                ),
            ),
            Page(
                "region",
                "Which region of England?",
                (
                    Question(
                        "region",
                        "Which region of England is your organisation based in?",
                        "radios",
                        short="the region of England",
                        options="region",
                    ),
                ),
                applies=_in_england,
                applies_when="Answer only if your organisation is based in England.",
            ),
        ),
    ),
    Section(
        "interest",
        "Your interest",
        (
            Page(
                "topics",
                "Your interest",
                (
                    Question(
                        "topics",
                        "Which topics would you like to work on?",
                        "checkboxes",
                        short="topic",
                        hint=(
                            "Select all that apply. Assets-based care starts from what people and "
                            "communities already have, such as their skills, relationships and "
                            "local groups, rather than only from what they lack."
                        ),
                        options="topics",
                        other="topics_other",
                    ),
                    Question(
                        "topics_other",
                        "If you chose Other, tell us the topic",
                        "text",
                        short="the other topic",
                        required=False,
                        other_for="topics",
                        required_message="Enter the other topic",
                    ),
                    Question(
                        "work_mode",
                        "How would you like to work with us?",
                        "radios",
                        short="how you would like to work with us",
                        options="work_mode",
                    ),
                ),
            ),
            Page(
                "experience",
                "Your experience and pressures",
                (
                    Question(
                        "prior_participation",
                        "Has your organisation taken part in a research or improvement "
                        "project before?",
                        "radios",
                        short="whether you have taken part in a project before",
                        options="prior_participation",
                    ),
                    Question(
                        "pressures",
                        "How would you describe the pressures on your organisation now? (optional)",
                        "radios",
                        short="the pressures on your organisation",
                        hint=(
                            "This helps us plan support. It never counts against you: services "
                            "under pressure are welcome."
                        ),
                        options="pressures",
                        required=False,
                    ),
                ),
            ),
        ),
    ),
    Section(
        "questions",
        "The four questions",
        (
            Page(
                "difference",
                "Making a real difference",
                (
                    Question(
                        "difference",
                        "What real difference would this work make, and for whom?",
                        "textarea",
                        short="what difference it would make",
                        word_limit=True,
                        max_length=6000,
                    ),
                ),
            ),
            Page(
                "inequalities",
                "Tackling inequalities",
                (
                    Question(
                        "inequalities",
                        "Which inequalities would it help to tackle?",
                        "textarea",
                        short="which inequalities it would help to tackle",
                        word_limit=True,
                        max_length=6000,
                    ),
                ),
            ),
            Page(
                "resources",
                "Making good use of scarce resources",
                (
                    Question(
                        "resources",
                        "How would you make good use of scarce resources?",
                        "textarea",
                        short="how you would use scarce resources",
                        hint="Tell us the people, time and money your organisation could commit.",
                        word_limit=True,
                        max_length=6000,
                    ),
                ),
            ),
            Page(
                "evidence",
                "Your evidence and experience",
                (
                    Question(
                        "evidence",
                        "What evidence or experience do you already have?",
                        "textarea",
                        short="the evidence or experience you have",
                        word_limit=True,
                        max_length=6000,
                    ),
                ),
            ),
        ),
    ),
    Section(
        "contact",
        "Contact and access",
        (
            Page(
                "contact",
                "Contact and access",
                (
                    Question(
                        "contact_name",
                        "Contact name",
                        "text",
                        short="the contact's name",
                        autocomplete="name",
                        max_length=100,
                    ),
                    Question(
                        "contact_role",
                        "Their role in the organisation",
                        "text",
                        short="the contact's role",
                        autocomplete="organization-title",
                        max_length=100,
                    ),
                    Question(
                        "preferred_contact",
                        "How would you prefer us to contact you?",
                        "radios",
                        short="how you would prefer us to contact you",
                        hint="You do not need an email address to apply.",
                        options="preferred_contact",
                    ),
                    Question(
                        "email",
                        "Email address",
                        "email",
                        short="an email address",
                        hint="Needed if you prefer us to contact you by email. We will send a "
                        "copy of your answers to this address.",
                        required=False,
                        required_if=_prefers_email,
                        required_message="Enter an email address, or choose phone or post as "
                        "the way to contact you",
                        autocomplete="email",
                        max_length=254,
                    ),
                    Question(
                        "phone",
                        "Telephone number",
                        "phone",
                        short="a telephone number",
                        hint="Needed if you prefer us to contact you by phone. For international "
                        "numbers include the country code.",
                        required=False,
                        required_if=_prefers_phone,
                        required_message="Enter a phone number, like 01632 960 001, so we can "
                        "call you",
                        autocomplete="tel",
                        max_length=30,
                        input_class="input--20",
                    ),
                    Question(
                        "address_line_1",
                        "Postal address: line 1",
                        "text",
                        short="the first line of the postal address",
                        hint=POSTAL_ADDRESS_HINT,
                        required=False,
                        required_if=needs_postal_address,
                        required_message="Enter the first line of the postal address, so we can "
                        "post letters to you",
                        autocomplete="address-line1",
                        max_length=100,
                    ),
                    Question(
                        "address_line_2",
                        "Postal address: line 2 (optional)",
                        "text",
                        short="the second line of the postal address",
                        required=False,
                        autocomplete="address-line2",
                        max_length=100,
                    ),
                    Question(
                        "address_town",
                        "Postal address: town or city",
                        "text",
                        short="the town or city",
                        required=False,
                        required_if=needs_postal_address,
                        required_message="Enter the town or city of the postal address",
                        autocomplete="address-level2",
                        max_length=60,
                        input_class="input--20",
                    ),
                    Question(
                        "address_postcode",
                        "Postal address: postcode",
                        "postcode",
                        short="the postcode",
                        required=False,
                        required_if=needs_postal_address,
                        required_message="Enter a UK postcode, like LS1 1AA",
                        invalid_message="Enter a UK postcode, like LS1 1AA",
                        autocomplete="postal-code",
                        max_length=10,
                        input_class="input--10",
                    ),
                    Question(
                        "adjustments",
                        "Do you need any adjustments to take part? (optional)",
                        "textarea",
                        short="the adjustments you need",
                        hint="For example large print, British Sign Language, or meetings at "
                        "certain times.",
                        required=False,
                        max_length=2000,
                    ),
                ),
            ),
        ),
    ),
)

PAGES: dict[str, Page] = {page.id: page for section in SECTIONS for page in section.pages}
SECTION_OF_PAGE: dict[str, Section] = {
    page.id: section for section in SECTIONS for page in section.pages
}
FIRST_PAGE_ID = SECTIONS[0].pages[0].id


def applicable_pages(section: Section, answers: Answers) -> list[Page]:
    return [page for page in section.pages if page.applies(answers)]


def next_page(page_id: str, answers: Answers) -> Page | None:
    """The next page in the same section that applies, or None at the section's end."""
    section = SECTION_OF_PAGE[page_id]
    ids = [page.id for page in section.pages]
    for page in section.pages[ids.index(page_id) + 1 :]:
        if page.applies(answers):
            return page
    return None


def previous_page(page_id: str, answers: Answers) -> Page | None:
    section = SECTION_OF_PAGE[page_id]
    ids = [page.id for page in section.pages]
    for page in reversed(section.pages[: ids.index(page_id)]):
        if page.applies(answers):
            return page
    return None
