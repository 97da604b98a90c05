"""What the report form offers, as the organisation configured it: categories, optional
questions (or the built-in ones), and the caseworkers or teams a reporter may exclude, each
text in the reporter's language where an administrator gave it (cases.localized)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.localized import N_, choice_labels, in_language
from cases.models import Caseworker, Category, Question, public_accounts


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    label: str
    help_text: str = ""
    kind: str = "text"  # text | textarea | choice
    choices: tuple[tuple[str, str], ...] = ()
    builtin: bool = False  # label and choices are source strings to translate on display
    recorded_label: str = ""  # the label as the report records it (the default language's)


# Asked when the organisation has configured no question of its own. Stored with their
# untranslated labels, so the report does not reveal the language it was written in.
BUILTIN_QUESTIONS = (
    QuestionSpec("when", N_("When did it happen? Is it still happening?"), builtin=True),
    QuestionSpec("where", N_("Where did it happen?"), builtin=True),
    QuestionSpec(
        "who",
        N_("Who is involved?"),
        N_("Names, roles or departments, if you know them."),
        "textarea",
        builtin=True,
    ),
    QuestionSpec(
        "how_known",
        N_("How do you know about it?"),
        N_("For example: you saw it, someone told you, you found documents."),
        "textarea",
        builtin=True,
    ),
    QuestionSpec(
        "relationship",
        N_("What is your relationship to the organisation?"),
        N_("This helps us know which protections apply to you. You do not have to answer."),
        "choice",
        (
            ("employee", N_("Employee")),
            ("public_official", N_("Public official")),
            ("former_employee", N_("Former employee")),
            ("contractor", N_("Contractor, supplier or consultant")),
            ("applicant", N_("Job applicant, trainee or volunteer")),
            ("third_party", N_("Member of the public or other third party")),
            ("not_say", N_("I prefer not to say")),
        ),
        builtin=True,
    ),
)


TEAM_PREFIX = "team:"


@dataclass(frozen=True)
class CategoryChoice:
    id: int
    slug: str
    name: str  # in the reporter's language where given


@dataclass
class FormOptions:
    categories: list[CategoryChoice] = field(default_factory=list)
    questions: list[QuestionSpec] = field(default_factory=list)
    caseworkers: list[Caseworker] = field(default_factory=list)
    show_names: bool = True  # the policy: exclusion by display name, else by team

    def exclusion_choices(self) -> list[tuple[str, str]]:
        """What a reporter may exclude: caseworkers by display name (never a username), or
        teams when the administrator hides the names."""
        if self.show_names:
            return [(str(cw.id), cw.display_name) for cw in self.caseworkers if cw.display_name]
        teams = sorted({cw.team for cw in self.caseworkers if cw.team})
        return [(TEAM_PREFIX + team, team) for team in teams]

    def excluded_ids(self, values: list[str]) -> list[int]:
        ids: set[int] = set()
        for value in values:
            if value.startswith(TEAM_PREFIX):
                team = value.removeprefix(TEAM_PREFIX)
                ids |= {cw.id for cw in self.caseworkers if cw.team == team}
            elif value.isdigit():
                ids.add(int(value))
        return sorted(ids)


def load_options(session: Session, show_names: bool = True, language: str = "") -> FormOptions:
    """The form's options, the organisation's texts in ``language`` where an administrator
    gave them (cases.localized); what a report records stays in the default language."""
    categories = [
        CategoryChoice(c.id, c.slug, in_language(c.translations, language, "name", c.name))
        for c in session.scalars(
            select(Category).where(Category.active).order_by(Category.position, Category.id)
        )
    ]
    configured = list(
        session.scalars(
            select(Question).where(Question.active).order_by(Question.position, Question.id)
        )
    )
    questions = [_question(q, language) for q in configured] or list(BUILTIN_QUESTIONS)
    caseworkers = list(
        session.scalars(
            public_accounts()
            .where(Caseworker.active, Caseworker.is_caseworker)
            .order_by(Caseworker.display_name, Caseworker.id)
        )
    )
    return FormOptions(categories, questions, caseworkers, show_names)


def _question(q: Question, language: str) -> QuestionSpec:
    choices = [c.strip() for c in q.choices.splitlines() if c.strip()]
    return QuestionSpec(
        q.key,
        in_language(q.translations, language, "label", q.label),
        in_language(q.translations, language, "help_text", q.help_text),
        q.kind if q.kind in ("text", "textarea", "choice") else "text",
        tuple(zip(choices, choice_labels(q.translations, language, choices), strict=True)),
        recorded_label=q.label,
    )
