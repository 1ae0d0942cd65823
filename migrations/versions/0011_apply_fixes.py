"""the organisation type becomes "select all that apply": answers stored as one choice become a
list of one; "user-led" and "carer-led" are asked once (led by), so they leave the organisation
type's options of each round where nobody has chosen them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PAGES = sa.table(
    "answer_pages",
    sa.column("id", sa.Integer),
    sa.column("application_id", sa.Integer),
    sa.column("page_id", sa.String),
    sa.column("answers", sa.JSON),
)
APPLICATIONS = sa.table(
    "applications", sa.column("id", sa.Integer), sa.column("round_id", sa.Integer)
)
ROUNDS = sa.table("rounds", sa.column("id", sa.Integer), sa.column("settings", sa.JSON))
ASKED_IN_LED_BY = ("user-led", "carer-led")


def _organisation_pages(connection):
    return connection.execute(
        sa.select(PAGES.c.id, APPLICATIONS.c.round_id, PAGES.c.answers)
        .join(APPLICATIONS, APPLICATIONS.c.id == PAGES.c.application_id)
        .where(PAGES.c.page_id == "organisation")
    ).all()


def _rewrite(connection, change):
    for page_id, _round_id, answers in _organisation_pages(connection):
        answers = dict(answers or {})
        changed = change(answers.get("organisation_type"))
        if changed is not None:
            answers["organisation_type"] = changed
            connection.execute(PAGES.update().where(PAGES.c.id == page_id).values(answers=answers))


def upgrade():
    connection = op.get_bind()
    _rewrite(connection, lambda value: [value] if isinstance(value, str) and value else None)
    chosen: dict[int, set[str]] = {}
    for _page_id, round_id, answers in _organisation_pages(connection):
        chosen.setdefault(round_id, set()).update((answers or {}).get("organisation_type") or [])
    for round_id, settings in connection.execute(sa.select(ROUNDS.c.id, ROUNDS.c.settings)).all():
        settings = dict(settings or {})
        offered = (settings.get("options") or {}).get("organisation_type")
        if not offered:
            continue
        kept = [
            option
            for option in offered
            if option[0] not in ASKED_IN_LED_BY or option[0] in chosen.get(round_id, set())
        ]
        if len(kept) != len(offered):
            settings["options"] = {**settings["options"], "organisation_type": kept}
            connection.execute(
                ROUNDS.update().where(ROUNDS.c.id == round_id).values(settings=settings)
            )


def downgrade():
    # Back to one choice: the first of those chosen. (The options removed are not put back:
    # the round's settings say what it offers.)
    _rewrite(
        op.get_bind(),
        lambda value: (value[0] if value else None) if isinstance(value, list) else None,
    )
