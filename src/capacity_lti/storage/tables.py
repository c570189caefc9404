"""The database schema (SQLAlchemy 2 declarative). Changes go through an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Platform(Base):
    """One LMS registration: an issuer and a client id (Canvas shares an issuer across tenants)."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    auth_login_url: Mapped[str] = mapped_column(Text)
    auth_token_url: Mapped[str] = mapped_column(Text)
    key_set_url: Mapped[str] = mapped_column(Text)
    auth_audience: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    """A deployment id of a platform; Moodle makes a new one for every tool registration."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    added_by: Mapped[str] = mapped_column(String(16), default="admin")  # admin | first-launch
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """An RSA key of the tool. The newest unretired key signs; retired keys stay published a while."""

    __tablename__ = "tool_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Learner(Base):
    """A person as one platform knows them: the LTI `sub`, scoped to the platform."""

    __tablename__ = "learner"
    __table_args__ = (UniqueConstraint("platform_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResourceLink(Base):
    """A placement of the tool in a course: what it opens and where its grades go (AGS)."""

    __tablename__ = "resource_link"
    __table_args__ = (UniqueConstraint("platform_id", "link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text, default="")
    context_id: Mapped[str] = mapped_column(String(255), default="")
    context_title: Mapped[str] = mapped_column(Text, default="")
    module_id: Mapped[str | None] = mapped_column(String(64), default=None)  # None: programme home
    ags_lineitem: Mapped[str | None] = mapped_column(Text, default=None)
    ags_lineitems: Mapped[str | None] = mapped_column(Text, default=None)
    ags_scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated
    nrps_url: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PendingLogin(Base):
    """An OIDC login in flight: `state` and `nonce` kept server-side, single-use, short-lived."""

    __tablename__ = "pending_login"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    browser_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    storage_target: Mapped[str | None] = mapped_column(String(255), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ToolSecret(Base):
    """A secret the tool generates on first start (e.g. the key that signs learner sessions)."""

    __tablename__ = "tool_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModuleProgress(Base):
    """One learner's way through one module: blocks seen, where they were, the check's last try."""

    __tablename__ = "module_progress"
    __table_args__ = (UniqueConstraint("learner_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"))
    module_id: Mapped[str] = mapped_column(String(64))
    seen: Mapped[str] = mapped_column(Text, default="")  # block keys, space-separated
    last_block: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_answers: Mapped[str | None] = mapped_column(Text, default=None)  # JSON
    check_passed: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Completion(Base):
    """An item a learner completed; the unique key is what awards its points exactly once."""

    __tablename__ = "completion"
    __table_args__ = (UniqueConstraint("learner_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column()
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_link.id", ondelete="SET NULL"), default=None
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SelfAssessment(Base):
    """A learner's latest answers to the needs self-assessment and the path they recommend."""

    __tablename__ = "self_assessment"

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True
    )
    answers: Mapped[str] = mapped_column(Text)  # JSON {question id: answer id}
    path_id: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScoreOutbox(Base):
    """A score for the LMS gradebook, written with the award it follows; sent by storage.delivery.

    `scored_at` is the AGS timestamp, fixed at enqueue: every resend of a row is byte-identical.
    state: pending -> delivered | failed (the LMS refused it for good) | superseded (a newer
    score for the same learner and link was enqueued before this one was sent).
    """

    __tablename__ = "score_outbox"
    __table_args__ = (
        Index("ix_score_outbox_due", "state", "next_attempt_at"),
        Index("ix_score_outbox_pair", "resource_link_id", "learner_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("resource_link.id", ondelete="CASCADE")
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"))
    score_given: Mapped[float] = mapped_column()
    score_maximum: Mapped[float] = mapped_column()
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Award(Base):
    """A diploma or certificate issued to a learner; `key` is unique per learner and programme."""

    __tablename__ = "award"
    __table_args__ = (UniqueConstraint("learner_id", "programme_id", "award_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)  # also its index in the status list
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # SET NULL: removing a platform or learner must not erase what was awarded (it stays
    # verifiable under the name it was issued to).
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learner.id", ondelete="SET NULL"))
    learner_name: Mapped[str] = mapped_column(String(255), default="")
    programme_id: Mapped[str] = mapped_column(String(64))
    award_key: Mapped[str] = mapped_column(String(80))  # rule:<id> | module:<id>
    kind: Mapped[str] = mapped_column(String(24))  # diploma | path-certificate | module-certificate
    rule_id: Mapped[str | None] = mapped_column(String(64), default=None)
    path_id: Mapped[str | None] = mapped_column(String(64), default=None)
    module_id: Mapped[str | None] = mapped_column(String(64), default=None)
    language: Mapped[str] = mapped_column(String(35))
    points: Mapped[int] = mapped_column(default=0)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revocation_reason: Mapped[str] = mapped_column(Text, default="")
    credential_jwt: Mapped[str | None] = mapped_column(Text, default=None)  # signed on first use


class CourseMember(Base):
    """A learner's place in one course (platform + LTI context): seen at a launch or in NRPS.

    It is what scopes the instructor pages: only members of the instructor's own course
    are listed, and attendance is recorded only for them.
    """

    __tablename__ = "course_member"
    __table_args__ = (
        UniqueConstraint("learner_id", "context_id"),
        Index("ix_course_member_course", "platform_id", "context_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    teaching: Mapped[bool] = mapped_column(default=False)  # launched with a teaching role
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    in_roster: Mapped[bool] = mapped_column(default=False)  # in the latest NRPS roster read
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
