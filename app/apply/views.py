"""Views of the applicant journey. Each loads what it needs, calls one service, commits once and
redirects; on errors it re-renders with the error summary and every value kept.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from ..applications.answers import (
    AnswerRow,
    answer_rows,
    eligibility_complete,
    missing_pages,
    section_statuses,
)
from ..applications.channels import channel_for, postal_address
from ..applications.confirmed_email import TooManyEmails, is_confirmed
from ..applications.eligibility import ELIGIBILITY, ELIGIBILITY_BY_ID, NOT_YET
from ..applications.forms import page_form_class
from ..applications.questions import (
    FIRST_PAGE_ID,
    PAGES,
    Answers,
    Page,
    next_page,
    previous_page,
)
from ..applications.rubric import looks_for
from ..applications.services import (
    ROUND_CLOSED,
    NoLongerADraft,
    NotReady,
    RoundClosed,
    email_resume_link,
    find_by_token,
    save_page,
    start_application,
    submit_application,
)
from ..errors import commit_or_show
from ..extensions import db, limiter
from ..language import LANGUAGES, SESSION_KEY, session_language
from ..models import Application, Round, utcnow
from ..rounds import current_round, format_london, mix_in_words, text, word_limit
from ..security import handles_own_csrf
from ..urls import external_url
from . import bp
from .forms import DeclarationForm, EmailLinkForm, eligibility_form_class
from .resume_views import copy_expired, copy_expired_page, emailed_resume_link, per_address
from .spam import filled_too_fast, forget_journey, note_journey_started, started_at, started_stamp

CSRF_EXPIRED = (
    "This page was open for a long time, so for your security we could not save it. "
    "Your answers are still here: check them and select the button again."
)


def _round() -> Round:
    round_ = current_round(db.session, utcnow())
    if round_ is None:
        abort(404)
    return round_


def _application() -> Application | None:
    return find_by_token(db.session, session.get("token"))


def _detour(application: Application | None) -> str | Response | None:
    """Where an applicant goes instead of a page of the journey: the eligibility questions until
    they are answered, the confirmation once sent, or, for an application staff have withdrawn
    or merged into another, the page saying it can no longer be changed or sent (None: the page
    itself)."""
    if application is None:
        if eligibility_complete(_eligibility()):
            return None
        return redirect(url_for("apply.eligibility", question_id=ELIGIBILITY[0].id))
    if application.status == "submitted":
        return redirect(url_for("apply.confirmation"))
    if application.status != "draft":
        return render_template("apply/no_longer_open.html", application=application)
    return None


def _eligibility() -> dict[str, Any]:
    return dict(session.get("eligibility") or {})


def _creating_draft() -> bool:
    return not session.get("token")


def _resume_link(token: str) -> str:
    return external_url("apply.resume", token=token)


def _safe_return() -> str | None:
    # Only one known return target: never redirect to an address taken from the request.
    return "check" if request.args.get("return") == "check" else None


@bp.get("/")
def start() -> str:
    now = utcnow()
    round_ = current_round(db.session, now)
    return render_template(
        "apply/start.html",
        round=round_,
        is_open=bool(round_ and round_.is_open(now)),
        not_yet_open=bool(round_ and now < round_.opens_at),
        closes=format_london(round_.closes_at) if round_ else None,
        opens=format_london(round_.opens_at) if round_ else None,
        text=(lambda key: text(round_, key)) if round_ else None,
        topics=[label for value, label in _topic_options(round_) if value != "other"],
        mix=mix_in_words(round_) if round_ else [],
    )


def _topic_options(round_: Round | None) -> list[tuple[str, str]]:
    from ..rounds import options

    return options(round_, "topics") if round_ else []


@bp.get("/privacy")
def privacy() -> str:
    return render_template("apply/privacy.html")


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template("apply/accessibility.html")


@bp.route("/eligibility/<question_id>", methods=["GET", "POST"])
@handles_own_csrf
def eligibility(question_id: str) -> str | Response:
    question = ELIGIBILITY_BY_ID.get(question_id)
    if question is None:
        abort(404)
    round_ = _round()
    if not round_.is_open(utcnow()):
        return redirect(url_for("apply.start"))
    note_journey_started()
    answers = _eligibility()
    form = eligibility_form_class(question)(data={"answer": answers.get(question.id)})
    message = None
    if request.method == "POST":
        if form.validate():
            answers[question.id] = form.answer.data
            session["eligibility"] = answers
            if form.answer.data == "no":
                return redirect(url_for("apply.not_suitable", question_id=question.id))
            if form.answer.data == NOT_YET:
                return redirect(url_for("apply.eligibility_support", question_id=question.id))
            return redirect(_after_eligibility(question.id))
        if "csrf_token" in form.errors:
            message = CSRF_EXPIRED
    ids = [q.id for q in ELIGIBILITY]
    index = ids.index(question.id)
    back = (
        url_for("apply.eligibility", question_id=ids[index - 1])
        if index
        else url_for("apply.start")
    )
    return render_template(
        "apply/eligibility.html", form=form, question=question, back=back, message=message
    )


def _after_eligibility(question_id: str) -> str:
    ids = [q.id for q in ELIGIBILITY]
    later = ids[ids.index(question_id) + 1 :]
    if later:
        return url_for("apply.eligibility", question_id=later[0])
    return url_for("apply.task_list")


@bp.get("/eligibility/<question_id>/support")
def eligibility_support(question_id: str) -> str:
    """After "Not yet, but we want to": the support offered, then on to the next question."""
    question = ELIGIBILITY_BY_ID.get(question_id)
    if question is None or not question.support_text:
        abort(404)
    return render_template(
        "apply/eligibility_support.html",
        question=question,
        support=text(_round(), question.support_text),
        next_url=_after_eligibility(question.id),
    )


@bp.get("/eligibility/<question_id>/not-suitable")
def not_suitable(question_id: str) -> str:
    question = ELIGIBILITY_BY_ID.get(question_id)
    if question is None:
        abort(404)
    return render_template("apply/not_suitable.html", question=question)


@bp.get("/application")
def task_list() -> str | Response:
    round_ = _round()
    application = _application()
    detour = _detour(application)
    if detour is not None:
        return detour
    if application is not None:
        round_ = application.round
    return _render_task_list(round_, application, EmailLinkForm(), [])


def _render_task_list(
    round_: Round, application: Application | None, email_form: EmailLinkForm, messages: list[str]
) -> str:
    answers = application.answers if application else {}
    statuses = section_statuses(answers)
    token = session.get("token")
    return render_template(
        "apply/task_list.html",
        round=round_,
        application=application,
        statuses=statuses,
        completed=sum(1 for s in statuses if s.status == "completed"),
        resume_link=_resume_link(token) if application is not None and token else None,
        closes=format_london(round_.closes_at),
        closed=round_.has_closed(utcnow()),
        email_form=email_form,
        messages=messages,
    )


@bp.route("/application/<page_id>", methods=["GET", "POST"])
@handles_own_csrf
@limiter.limit(
    lambda: current_app.config["APPLY_DRAFT_RATE_LIMIT"],
    methods=["POST"],
    exempt_when=lambda: not _creating_draft(),
)
def question_page(page_id: str) -> str | Response:
    page = PAGES.get(page_id)
    if page is None:
        abort(404)
    application = _application()
    detour = _detour(application)
    if detour is not None:
        return detour
    round_ = application.round if application is not None else _round()
    answers = application.answers if application is not None else {}
    if not page.applies(answers):
        return redirect(url_for("apply.task_list"))
    now = utcnow()
    first_save = application is None
    if first_save and page.id != FIRST_PAGE_ID:
        return redirect(url_for("apply.question_page", page_id=FIRST_PAGE_ID))
    form_class = page_form_class(page, round_, first_save=first_save)
    closed = round_.has_closed(now)
    return_to = _safe_return()
    back = _back_url(page.id, answers, return_to)
    messages: list[str] = []
    check_again = False

    if request.method == "POST":
        form = form_class()
        # Back, Return to your application and Save and come back later are buttons of this
        # form: each keeps what was typed (without its checks) and goes where it says.
        leaving = {
            "back": back,
            "application": url_for("apply.task_list"),
            "later": url_for("apply.saved"),
        }.get(str(request.form.get("go")))
        # The language switch is a button of this form too: it keeps what was typed, then shows
        # this page again in the other language.
        switch_to = request.form.get("language")
        if switch_to in LANGUAGES:
            leaving = request.full_path.rstrip("?") if request.query_string else request.path
        valid = form.validate()
        csrf_ok = "csrf_token" not in form.errors
        if not csrf_ok:
            messages.append(CSRF_EXPIRED)
        elif switch_to in LANGUAGES:
            session[SESSION_KEY] = switch_to
        if leaving is not None and csrf_ok and (closed or _nothing_to_keep(form, page, answers)):
            return redirect(leaving)
        if closed:
            messages.append(ROUND_CLOSED)
        to_save: dict[str, Any] | None = None
        if csrf_ok and not closed:
            if valid:
                to_save = form.answers()
            elif leaving is not None:
                to_save = form.draft_answers()
        if to_save is not None and first_save:
            if form.website.data:
                messages.append(
                    "We could not save this page. If a form-filling tool filled in the field "
                    "'Leave this blank', clear it and select Save and continue again."
                )
                to_save = None
            elif filled_too_fast(form.form_started.data):
                # Most likely a person with answers ready to paste: no error, just a second try.
                check_again = True
                to_save = None
        if to_save is not None:
            try:
                token = None
                if application is None:
                    application, token = start_application(
                        db.session, round_, _eligibility(), now, session_language()
                    )
                save_page(db.session, application, page.id, to_save, now, session_language())
                # The link to come back goes to the contact's email address, if they gave one.
                email = str(form.answers().get("email") or "") if page.id == "contact" else ""
                if valid and email and application.link_emailed_at is None:
                    link = emailed_resume_link(token or session["token"], application, email)
                    # Over the address's limit: the link is on the page, and is emailed when
                    # this page is next saved.
                    with suppress(TooManyEmails):
                        email_resume_link(db.session, application, email, link, now, per_address())
                db.session.commit()
            except RoundClosed as error:
                db.session.rollback()
                messages.append(str(error))
            except NoLongerADraft as changed:
                # Sent from another tab, or withdrawn by staff, since this page was read.
                db.session.rollback()
                if changed.status == "submitted":
                    return redirect(url_for("apply.confirmation"))
                return redirect(url_for("apply.task_list"))
            else:
                if token is not None:
                    session["token"] = token
                    session.permanent = True
                    session.pop("eligibility", None)
                    forget_journey()
                    flash("saved-first", "link")
                if leaving is not None:
                    return redirect(leaving)
                # Where next follows from the answers as saved: those read before, with this
                # page's new ones (not read back: the commit expired them, two more SELECTs).
                saved = {**answers, page.id: to_save}
                return redirect(_after_save(page.id, saved, return_to))
    else:
        form = form_class(data=answers.get(page.id, {}))
    # Keep a genuine stamp across re-renders: the fill time runs from the start of the journey.
    if first_save and started_at(form.form_started.data) is None:
        form.form_started.data = started_stamp()
    return render_template(
        "apply/question_page.html",
        form=form,
        page=page,
        back=back,
        messages=messages,
        check_again=CHECK_AGAIN if check_again else None,
        closed=closed,
        word_limit=word_limit(round_),
        return_to=return_to,
        looks_for=lambda question_id: looks_for(round_, question_id),
    )


CHECK_AGAIN = "Please check your answers and send again: select Save and continue."


def _nothing_to_keep(form: Any, page: Page, answers: Answers) -> bool:
    """Leaving a page never saved, with nothing typed on it: no draft to make or change."""
    return page.id not in answers and form.is_blank()


def _back_url(page_id: str, answers: Answers, return_to: str | None) -> str:
    previous = previous_page(page_id, answers)
    if return_to:
        return url_for("apply.check_answers")
    if previous is not None:
        return url_for("apply.question_page", page_id=previous.id)
    return url_for("apply.task_list")


@bp.get("/application/saved")
def saved() -> str | Response:
    """After Save and come back later: how to come back (the private link, and emailing it)."""
    application = _application()
    detour = _detour(application)
    if detour is not None:
        return detour
    if application is None:
        return redirect(url_for("apply.task_list"))
    round_ = application.round
    return render_template(
        "apply/saved.html",
        round=round_,
        application=application,
        resume_link=_resume_link(session["token"]),
        closes=format_london(round_.closes_at),
        closed=round_.has_closed(utcnow()),
        email_form=EmailLinkForm(),
    )


def _after_save(page_id: str, answers: Answers, return_to: str | None) -> str:
    following = next_page(page_id, answers)
    # A changed answer can bring in a page that is not yet answered (a new English region).
    if following is not None and (return_to is None or following.id not in answers):
        return url_for(
            "apply.question_page",
            page_id=following.id,
            **({"return": return_to} if return_to else {}),
        )
    if return_to == "check":
        return url_for("apply.check_answers")
    return url_for("apply.task_list")


@bp.route("/application/check-answers", methods=["GET", "POST"])
@handles_own_csrf
@limiter.limit(lambda: current_app.config["APPLY_SUBMIT_RATE_LIMIT"], methods=["POST"])
def check_answers() -> str | Response:
    now = utcnow()
    form: DeclarationForm | None = None
    messages: list[str] = []
    missing: list[Page] | None = None
    if request.method == "POST":
        form = DeclarationForm()
        if form.validate():
            sent = _send(now, messages)
            if isinstance(sent, Response):
                return sent
            missing = sent
        elif "csrf_token" in form.errors:
            messages.append(CSRF_EXPIRED)
    application = _application()
    if application is None:
        return redirect(url_for("apply.task_list"))
    detour = _detour(application)
    if detour is not None:
        return detour
    round_ = application.round
    if missing is None:
        missing = missing_pages(application.answers)
    return render_template(
        "apply/check_answers.html",
        form=form or DeclarationForm(),
        rows=answer_rows(round_, application.answers),
        missing=missing if request.method == "POST" else [],
        incomplete=bool(missing),
        messages=messages,
        closed=round_.has_closed(now),
        closes=format_london(round_.closes_at),
        change_url=_change_url,
    )


def _send(now: datetime, messages: list[str]) -> Response | list[Page] | None:
    """The final submit, once the declaration is valid: where to go next, or the pages still to
    finish, or None when the page is shown again with `messages` saying why."""
    application = _application()
    if application is None:
        return redirect(url_for("apply.task_list"))
    try:
        status = submit_application(db.session, application, now).status
    except RoundClosed as error:
        db.session.rollback()
        messages.append(str(error))
        return None
    except NotReady as not_ready:
        db.session.rollback()
        return not_ready.pages
    db.session.commit()
    if status == "submitted":
        return redirect(url_for("apply.confirmation"))
    # Withdrawn or merged by staff meanwhile: the task list says which.
    return redirect(url_for("apply.task_list"))


def _change_url(row: AnswerRow) -> str:
    anchor = row.question.id + ("-0" if row.question.kind in ("radios", "checkboxes") else "")
    return url_for("apply.question_page", page_id=row.page_id, **{"return": "check"}) + f"#{anchor}"


@bp.get("/application/confirmation")
def confirmation() -> str | Response:
    application = _application()
    if application is None:
        return redirect(url_for("apply.start"))
    if application.status != "submitted":
        return redirect(url_for("apply.task_list"))
    if copy_expired(application):
        return copy_expired_page(application)
    round_ = application.round
    email = application.answers.get("contact", {}).get("email")
    by_post = channel_for(application) == "post"
    return render_template(
        "apply/confirmation.html",
        by_post=by_post,
        postal_address=postal_address(application) if by_post else [],
        application=application,
        round=round_,
        rows=answer_rows(round_, application.answers),
        next_steps=text(round_, "next_steps"),
        submitted=format_london(application.submitted_at or utcnow()),
        email=email,
        full_copy=is_confirmed(application, email),
        days=current_app.config["APPLY_SUBMITTED_COPY_DAYS"],
    )


@bp.post("/application/email-link")
@handles_own_csrf
@limiter.limit(lambda: current_app.config["APPLY_EMAIL_LINK_RATE_LIMIT"])
def email_link() -> str | Response:
    application = _application()
    if application is None or application.status != "draft":
        return redirect(url_for("apply.task_list"))
    form = EmailLinkForm()
    if application.round.has_closed(utcnow()):
        return _render_task_list(application.round, application, form, [ROUND_CLOSED])
    if form.validate():
        address = form.email.data
        link = emailed_resume_link(session["token"], application, address)
        if commit_or_show(
            form.email,
            email_resume_link,
            db.session,
            application,
            address,
            link,
            utcnow(),
            per_address(),
        ):
            flash("We have emailed your link. It can take a few minutes to arrive.", "success")
            return redirect(url_for("apply.task_list"))
    messages = [CSRF_EXPIRED] if "csrf_token" in form.errors else []
    return _render_task_list(application.round, application, form, messages)
