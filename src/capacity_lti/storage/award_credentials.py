"""Awards as credentials: their status, signing on first use, and what their diploma shows.

Signing is lazy: the credential is built and signed with the tool's key when it is first
downloaded (:func:`signed_credential`), then stored and served unchanged. The completion
transaction so needs no key and no public URL (it may run outside a request), and every
credential is signed by a key the JWKS publishes at the time; after a key rotation has
removed that key from the JWKS the next download re-signs the same credential with the
current key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
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
from capacity_lti.awards.texts import award_description, award_title, criteria_narrative, phrases
from capacity_lti.content.model import Programme, pick
from capacity_lti.errors import StorageError
from capacity_lti.lti.keys import SigningKey
from capacity_lti.storage.awards import AwardRecord, find_award, record_of
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import Award, Learner, Platform


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
    signing: SigningKey,
    jwks: Mapping[str, Any],
    base_url: str,
    language: str | None = None,
) -> tuple[AwardRecord, str] | None:
    """The award and its signed credential, signing it now with `signing` when it has none
    yet or when its key has left `jwks` (what the tool publishes). `language` applies only
    to a credential signed for the first time. None when no award has `public_id`."""
    published = {k.get("kid") for k in jwks.get("keys", ())}
    with db.session() as session:
        row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
        if row is None:
            return None
        old = row.credential_jwt
        if old is not None and unverified_kid(old) in published:
            return record_of(row), old
        if old is None and language:
            row.language = language
        if row.learner_id is None:
            raise StorageError(f"award {public_id} has no learner any more: it cannot be signed")
        learner, platform = _owner(session, row.learner_id)
        row.learner_name = learner.name  # the name the credential states, shown when verified
        record = record_of(row)
        token = sign(
            build_credential(_facts(programme, record, learner, platform, base_url)), signing
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
        return record_of(fresh), fresh.credential_jwt


def award_view(
    db: Database, public_id: str, *, programme: Programme, base_url: str
) -> tuple[AwardRecord, DiplomaView] | None:
    """The award and what its diploma shows (for the PDF and the public verification page)."""
    with db.session() as session:
        row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
        if row is None:
            return None
        record = record_of(row)
        view = diploma_view(
            programme,
            record.due,
            learner_name=record.learner_name,
            issued_at=record.issued_at,
            language=record.language,
            verify_url=verify_url(base_url, public_id),
        )
        return record, view
