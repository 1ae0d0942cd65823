"""Flask commands: seed-demo, create-round, send-mail, send-reminders; backup and restore
(app/backup.py)."""

from __future__ import annotations

import time
from datetime import datetime

import click
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from . import backup, demo
from .audit import record
from .auth.passwords import password_problem
from .auth.services import AccountError, create_user
from .extensions import db
from .models import ROLES, Round, utcnow
from .outbox import FileTransport, SMTPTransport, Transport, remove_file_copies, send_due
from .rounds import LONDON, create_round, format_london


def mail_transport() -> Transport:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SMTPTransport(
            config["MAIL_SERVER"],
            config["MAIL_PORT"],
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            use_tls=config["MAIL_USE_TLS"],
            use_ssl=config["MAIL_USE_SSL"],
            timeout=config["MAIL_TIMEOUT"],
        )
    return FileTransport(config["MAIL_OUTBOX_DIR"])


def _parse_london(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter("use the form 2027-03-24T12:00 (UK time)") from error
    return parsed.replace(tzinfo=LONDON) if parsed.tzinfo is None else parsed


def init_app(app: Flask) -> None:
    backup.init_app(app)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no round yet.")
    @click.option(
        "--applications",
        default=demo.DEFAULT_APPLICATIONS,
        show_default=True,
        type=click.IntRange(min=demo.MIN_APPLICATIONS),
        help="Sent applications in the round under review.",
    )
    @click.option("--seed", default=demo.DEFAULT_SEED, show_default=True, help="Random seed.")
    def seed_demo(if_empty: bool, applications: int, seed: int) -> None:
        """Demo accounts, a round under review (applications, reviews, quotas) and an open round
        closing at noon 60 days from now. Never in production: the passwords are published."""
        try:
            demo.refuse_in_production(current_app.config)
        except demo.DemoRefused as error:
            raise click.ClickException(str(error)) from None
        if if_empty and db.session.scalar(select(func.count(Round.id))):
            click.echo("A round exists already: no demo data added.")
            return
        try:
            summary = demo.seed_demo(db.session, utcnow(), applications=applications, seed=seed)
        except demo.DemoRefused as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(
            f"Demo round under review '{summary.review_round.title}': {summary.sent} applications "
            f"sent ({summary.eligible} eligible), {summary.reviews} reviews submitted."
        )
        click.echo(
            f"Demo round '{summary.open_round.title}' open until "
            f"{format_london(summary.open_round.closes_at)}."
        )
        click.echo(f"{summary.accounts} demo accounts: see 'Demo accounts' in README.md.")

    @app.cli.command("create-round")
    @click.option("--slug", required=True)
    @click.option("--title", required=True)
    @click.option("--opens", "opens", required=True, help="UK time, e.g. 2027-01-10T09:00")
    @click.option("--closes", "closes", required=True, help="UK time, e.g. 2027-03-24T12:00")
    @click.option("--sites", default=12, show_default=True, type=click.IntRange(min=1))
    def create_round_command(slug: str, title: str, opens: str, closes: str, sites: int) -> None:
        """Create a round with the default questions and options."""
        opens_at, closes_at = _parse_london(opens), _parse_london(closes)
        if closes_at <= opens_at:
            raise click.BadParameter("the round must close after it opens", param_hint="--closes")
        if db.session.scalar(select(Round.id).where(Round.slug == slug)):
            raise click.BadParameter(f"a round called {slug} exists already", param_hint="--slug")
        round_ = create_round(
            db.session,
            slug=slug,
            title=title,
            opens_at=opens_at,
            closes_at=closes_at,
            sites_wanted=sites,
        )
        record(db.session, None, "round.created", "round", round_.id, round_.id)
        db.session.commit()
        click.echo(f"Round {round_.slug} created, closing at {format_london(round_.closes_at)}.")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
    @click.password_option(help="At least 12 characters; asked for if not given.")
    def create_user_command(email: str, name: str, role: str, password: str) -> None:
        """Create a user with a password (the first admin; later users are invited)."""
        problem = password_problem(password, email=email, name=name)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
        try:
            user = create_user(db.session, email=email, name=name, role=role, password=password)
        except AccountError as error:
            raise click.BadParameter(str(error), param_hint="--email") from error
        record(db.session, None, "user.created", "user", user.id, role=role)
        db.session.commit()
        click.echo(f"Created {user.role} account {user.id}.")

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the tables (the same as `flask db upgrade`)."""
        from flask_migrate import upgrade

        upgrade()
        click.echo("Database is up to date.")

    @app.cli.command("send-mail")
    @click.option("--loop", is_flag=True, help="Keep running, sending new mail as it arrives.")
    @click.option("--interval", default=10.0, show_default=True, help="Seconds between runs.")
    @click.option("--batch", default=100, show_default=True, help="Messages per run at most.")
    def send_mail(loop: bool, interval: float, batch: int) -> None:
        """Send the emails waiting in the outbox (SMTP, or .eml files without MAIL_SERVER)."""
        transport = mail_transport()
        sender = current_app.config["MAIL_FROM"]
        while True:
            try:
                sent, failed = send_due(db.session, transport, sender, limit=batch)
            except OperationalError:
                if not loop:
                    raise
                # The database is down or restarting: the worker waits for it, as it waits for
                # new mail, instead of ending. Each message sent so far was recorded as sent in
                # its own transaction (send_due), so none is sent twice for this.
                db.session.remove()
                click.echo(f"The database could not be reached; trying again in {interval:g} s.")
                time.sleep(interval)
                continue
            db.session.remove()
            if sent or failed or not loop:  # a loop with nothing to send says nothing
                click.echo(f"Sent {sent}, failed {failed}.")
            if not loop:
                return
            time.sleep(interval)

    @app.cli.command("send-reminders")
    def send_reminders_command() -> None:
        """Queue the reminders due now to drafts not yet sent (run it from cron, with send-mail
        to send them): one per draft per point of each open round's schedule, never twice."""
        from .applications.reminders import send_reminders

        run = send_reminders(db.session, utcnow())
        db.session.commit()
        click.echo(
            f"Queued {run.sent} reminder(s); {run.skipped_no_contact} draft(s) have no "
            "confirmed email address or postal address to remind."
        )

    @app.cli.command("retention")
    @click.option("--apply", "apply_", is_flag=True, help="Act; without it, only report.")
    def retention(apply_: bool) -> None:
        """Delete drafts never sent after their round closed, and erase personal data after the
        round's decision (RETENTION_DRAFT_DAYS, RETENTION_PERSONAL_DATA_DAYS). Dry run unless
        --apply."""
        from .data_protection import apply_retention, retention_plan

        config = current_app.config
        draft_days = config["RETENTION_DRAFT_DAYS"]
        personal_days = config["RETENTION_PERSONAL_DATA_DAYS"]
        now = utcnow()
        plan = retention_plan(
            db.session, now, draft_days=draft_days, personal_data_days=personal_days
        )
        verb = ("Deleted", "Erased") if apply_ else ("Would delete", "Would erase")
        click.echo(
            f"{verb[0]} {len(plan.drafts)} draft(s) never sent, in rounds closed more than "
            f"{draft_days} days ago."
        )
        click.echo(
            f"{verb[1]} the personal data of {len(plan.to_erase)} application(s), in rounds "
            f"decided more than {personal_days} days ago."
        )
        if not apply_:
            click.echo("Dry run: nothing was changed. Run `flask retention --apply` to act.")
            return
        emails = apply_retention(db.session, plan, now)
        db.session.commit()
        remove_file_copies(config["MAIL_OUTBOX_DIR"], emails)
