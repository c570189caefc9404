"""Issued diplomas and certificates: issued once, signed on first use, revocable.

:func:`issue_due_awards` runs inside the learner's completion transaction. Exactly once:
the award table has UNIQUE (learner, programme, key) and rows are inserted with
``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, so when two requests complete the
last item at the same moment, PostgreSQL makes the second insert wait for the first
transaction and then skip the row, and SQLite serialises the two writers; each award
is returned (as new) by exactly one of them.

Signing is lazy: the credential is built and signed with the tool's key when it is
first downloaded or looked at (:func:`signed_credential`), then stored and served
unchanged. The completion transaction so needs no key and no public URL (it may run
outside a request), and every credential is signed by a key the JWKS publishes at the
time; after a key rotation has removed that key from the JWKS the next download
re-signs the same credential with the current key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from capacity_lti.awards.credentials import (
    CredentialFacts,
    Outcome,
    build_credential,
    document_of,
    sign,
    subject_id,
    unverified_kid,
    unverified_payload,
    verify_url,
)
from capacity_lti.awards.diploma_pdf import DiplomaView, diploma_view
from capacity_lti.awards.rules import AwardKind, DueAward, due_awards
from capacity_lti.awards.texts import award_description, award_title, criteria_narrative, phrases
from capacity_lti.content.model import Programme, pick
from capacity_lti.errors import StorageError
from capacity_lti.lti.keys import KeyRing
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import Award, Learner, Platform, utcnow


@dataclass(frozen=True)
class AwardRecord:
    id: int
    public_id: str
    learner_id: int | None  # None once the learner (or their platform) was removed
    learner_name: str
    programme_id: str
    key: str
    kind: AwardKind
    rule_id: str | None
    path_id: str | None
    module_id: str | None
    language: str
    points: int
    issued_at: datetime
    revoked_at: datetime | None
    revocation_reason: str
    signed: bool

    @property
    def due(self) -> DueAward:
        return DueAward(
            self.key, self.kind, self.rule_id, self.path_id, self.module_id, self.points
        )


def _record(row: Award) -> AwardRecord:
    return AwardRecord(
        id=row.id,
        public_id=row.public_id,
        learner_id=row.learner_id,
        learner_name=row.learner_name,
        programme_id=row.programme_id,
        key=row.award_key,
        kind=AwardKind(row.kind),
        rule_id=row.rule_id,
        path_id=row.path_id,
        module_id=row.module_id,
        language=row.language,
        points=row.points,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
        signed=row.credential_jwt is not None,
    )


def issue_due_awards(
    session: Session,
    *,
    learner_id: int,
    programme: Programme,
    completed_item_ids: set[str],
    language: str | None = None,
) -> list[AwardRecord]:
    """Issue every award `completed_item_ids` earns that the learner does not hold yet.

    Returns the awards this call issued (none when all were issued before). `language`
    (the learner's) is what the credential will be written in; default: the
    programme's default language, or the learner's language at the first download.
    """
    held = set(
        session.scalars(
            select(Award.award_key).where(
                Award.learner_id == learner_id, Award.programme_id == programme.id
            )
        )
    )
    missing = [a for a in due_awards(programme, completed_item_ids) if a.key not in held]
    if not missing:
        return []
    now = utcnow()
    name = session.scalar(select(Learner.name).where(Learner.id == learner_id)) or ""
    rows = [
        {
            "public_id": secrets.token_urlsafe(16),
            "learner_id": learner_id,
            "learner_name": name,
            "programme_id": programme.id,
            "award_key": a.key,
            "kind": a.kind.value,
            "rule_id": a.rule_id,
            "path_id": a.path_id,
            "module_id": a.module_id,
            "language": language or programme.default_language,
            "points": a.points,
            "issued_at": now,
            "revocation_reason": "",
        }
        for a in missing
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Award)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["learner_id", "programme_id", "award_key"])
        .returning(Award.id)
    )
    new_ids = list(session.scalars(statement))
    if not new_ids:
        return []
    issued = session.scalars(select(Award).where(Award.id.in_(new_ids)).order_by(Award.id))
    return [_record(row) for row in issued]


def learner_awards(session: Session, *, learner_id: int, programme_id: str) -> list[AwardRecord]:
    """The learner's awards in a programme, oldest first (revoked ones included)."""
    query = (
        select(Award)
        .where(Award.learner_id == learner_id, Award.programme_id == programme_id)
        .order_by(Award.id)
    )
    return [_record(row) for row in session.scalars(query)]


def find_award(session: Session, public_id: str) -> AwardRecord | None:
    row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
    return _record(row) if row is not None else None


def list_awards(db: Database, *, revoked: bool | None = None) -> list[AwardRecord]:
    """Every award, newest first (`revoked` filters when given)."""
    query = select(Award).order_by(Award.id.desc())
    if revoked is not None:
        query = query.where(
            Award.revoked_at.is_not(None) if revoked else Award.revoked_at.is_(None)
        )
    with db.session() as session:
        return [_record(row) for row in session.scalars(query)]


def _missing(public_id: str) -> StorageError:
    return StorageError(f"no award has the id {public_id!r}: see 'capacity-lti award list'")


def get_award(db: Database, public_id: str) -> AwardRecord:
    """One award; StorageError when there is none."""
    with db.session() as session:
        found = find_award(session, public_id)
    if found is None:
        raise _missing(public_id)
    return found


def revoke_award(db: Database, public_id: str, reason: str) -> AwardRecord:
    """Mark an award revoked (a second revoke keeps the first date and reason)."""
    with db.session() as session:
        row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
        if row is None:
            raise _missing(public_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            row.revocation_reason = reason
        session.flush()
        return _record(row)


def status_of(session: Session, public_id: str) -> Outcome:
    row = find_award(session, public_id)
    if row is None:
        return Outcome.UNKNOWN
    return Outcome.REVOKED if row.revoked_at is not None else Outcome.VALID


def stored_credential(session: Session, public_id: str) -> tuple[Outcome, dict[str, Any] | None]:
    """The award's status and the credential the tool signed for it (None: not yet signed)."""
    row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
    if row is None:
        return Outcome.UNKNOWN, None
    outcome = Outcome.REVOKED if row.revoked_at is not None else Outcome.VALID
    if row.credential_jwt is None:
        return outcome, None
    return outcome, document_of(unverified_payload(row.credential_jwt))


def revoked_indexes(session: Session) -> list[int]:
    """The status-list indexes (award row ids) of every revoked award."""
    return list(session.scalars(select(Award.id).where(Award.revoked_at.is_not(None))))


def _owner(session: Session, learner_id: int) -> tuple[Learner, Platform]:
    query = (
        select(Learner, Platform)
        .join(Platform, Platform.id == Learner.platform_id)
        .where(Learner.id == learner_id)
    )
    learner, platform = session.execute(query).one()
    return learner, platform


def _facts(
    programme: Programme, award: AwardRecord, learner: Learner, platform: Platform, base: str
) -> CredentialFacts:
    due, language = award.due, award.language
    return CredentialFacts(
        public_id=award.public_id,
        base_url=base,
        programme_id=award.programme_id,
        award_key=award.key,
        kind=award.kind,
        issuer_name=pick(programme.organisation, programme.chain(language))
        or pick(programme.title, programme.chain(language)),
        name=award_title(programme, due, language),
        description=award_description(programme, due, language),
        narrative=criteria_narrative(programme, due, language),
        language=language,
        points=award.points,
        points_label=phrases(language)["points"],
        subject_id=subject_id(award.public_id, platform.issuer, learner.subject),
        learner_name=learner.name,
        valid_from=award.issued_at,
        status_index=award.id,
    )


def signed_credential(
    db: Database,
    public_id: str,
    *,
    programme: Programme,
    keys: KeyRing,
    base_url: str,
    language: str | None = None,
) -> tuple[AwardRecord, str] | None:
    """The award and its signed credential, signing it now when it has none yet (or when its
    key has left the JWKS). `language` applies only to a credential signed for the first time.
    None when no award has `public_id`."""
    published = {k["kid"] for k in keys.jwks()["keys"]}
    with db.session() as session:
        row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
        if row is None:
            return None
        old = row.credential_jwt
        if old is not None and unverified_kid(old) in published:
            return _record(row), old
        if old is None and language:
            row.language = language
        if row.learner_id is None:
            raise StorageError(f"award {public_id} has no learner any more: it cannot be signed")
        learner, platform = _owner(session, row.learner_id)
        row.learner_name = learner.name  # the name the credential states, shown when verified
        record = _record(row)
        token = sign(
            build_credential(_facts(programme, record, learner, platform, base_url)), keys.signing
        )
        guard = Award.credential_jwt.is_(None) if old is None else Award.credential_jwt == old
        session.execute(
            update(Award)
            .where(Award.id == row.id, guard)
            .values(credential_jwt=token, language=record.language, learner_name=learner.name)
            .execution_options(synchronize_session=False)
        )
    with db.session() as session:
        fresh = session.scalars(select(Award).where(Award.public_id == public_id)).one()
        assert fresh.credential_jwt is not None
        return _record(fresh), fresh.credential_jwt


def award_view(
    db: Database, public_id: str, *, programme: Programme, base_url: str
) -> tuple[AwardRecord, DiplomaView] | None:
    """The award and what its diploma shows (for the PDF and the public verification page)."""
    with db.session() as session:
        row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
        if row is None:
            return None
        record = _record(row)
        view = diploma_view(
            programme,
            record.due,
            learner_name=record.learner_name,
            issued_at=record.issued_at,
            language=record.language,
            verify_url=verify_url(base_url, public_id),
        )
        return record, view
