"""Assignment and Grade Services 2.0: post scores, find or create a link's line item.

One :class:`AgsClient` per worker thread: it holds one keep-alive ``requests.Session`` and
shares the thread-safe :class:`~capacity_lti.lti.service_token.ServiceTokens` cache. Every
call makes one HTTP attempt (plus one more after a 401 with a fresh token) and raises
:class:`~capacity_lti.errors.ServiceError` saying whether trying later can help; the caller
(storage.delivery) owns the retry schedule, so no thread sleeps while holding a score.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from capacity_lti.errors import ServiceError
from capacity_lti.lti.service_http import ServiceClient
from capacity_lti.lti.service_token import ServiceTokens, TokenEndpoint

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
AGS_SCOPES = frozenset({SCORE_SCOPE, LINEITEM_SCOPE, LINEITEM_READ_SCOPE})

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
TAG = "capacity-lti"
MAX_PAGES = 100


@dataclass(frozen=True)
class GradeTarget:
    """Where a resource link's grades go, as its launch's AGS claim said."""

    endpoint: TokenEndpoint
    scopes: frozenset[str]
    resource_link_id: str
    lineitem: str | None
    lineitems: str | None
    label: str

    @cached_property
    def token_scopes(self) -> tuple[str, ...]:
        """The AGS scopes to ask for: all the platform granted for this link that we use."""
        return tuple(sorted(self.scopes & AGS_SCOPES))


@dataclass(frozen=True)
class Score:
    """One AGS score; `timestamp` is fixed when the score is made, so resends are identical."""

    user_id: str
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    timestamp: datetime
    comment: str = ""

    def body(self) -> bytes:
        document: dict[str, Any] = {
            "userId": self.user_id,
            "scoreGiven": self.score_given,
            "scoreMaximum": self.score_maximum,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": self.timestamp.isoformat(timespec="microseconds"),
        }
        if self.comment:
            document["comment"] = self.comment
        return json.dumps(document, separators=(",", ":")).encode()


def scores_url(lineitem: str) -> str:
    """The scores endpoint of a line item: ``/scores`` added to the path, the query kept.

    Moodle's line items carry a query (``.../lineitem?type_id=1``), so text appended to the
    whole URL would land in the query string.
    """
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores", fragment=""))


class AgsClient(ServiceClient):
    """AGS calls over one keep-alive session (not shared between threads)."""

    def __init__(
        self, tokens: ServiceTokens, *, timeout: float, http: requests.Session | None = None
    ) -> None:
        super().__init__(tokens, timeout=timeout, http=http)
        self._lineitems: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def post_score(self, target: GradeTarget, lineitem: str, score: Score) -> None:
        """Send one score; returns when the LMS accepted it (any 2xx)."""
        if SCORE_SCOPE not in target.scopes:
            raise ServiceError(
                f"the platform did not grant the score scope for link {target.resource_link_id}",
                retryable=False,
            )
        url = scores_url(lineitem)
        self._call(
            target.endpoint,
            target.token_scopes,
            "POST",
            url,
            f"score for {score.user_id} to {url}",
            headers={"Content-Type": SCORE_TYPE, "Accept": "application/json"},
            data=score.body(),
        )

    def lineitem_for(self, target: GradeTarget, score_maximum: float) -> str:
        """The link's line item: the one from the launch, else found or made in `lineitems`."""
        if target.lineitem:
            return target.lineitem
        if not target.lineitems:
            raise ServiceError(
                f"link {target.resource_link_id} has no AGS line item or line items URL "
                "(the launch did not offer grades)",
                retryable=False,
            )
        key = (target.lineitems, target.resource_link_id)
        with self._lock:
            known = self._lineitems.get(key)
        if known is None:
            known = self._find(target) or self._create(target, score_maximum)
            with self._lock:
                self._lineitems[key] = known
        return known

    def _find(self, target: GradeTarget) -> str | None:
        assert target.lineitems is not None
        if not target.scopes & {LINEITEM_SCOPE, LINEITEM_READ_SCOPE}:
            return None
        url: str | None = target.lineitems
        params: dict[str, str] | None = {"resource_link_id": target.resource_link_id}
        seen: set[str] = set()
        while url and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            response = self._call(
                target.endpoint,
                target.token_scopes,
                "GET",
                url,
                f"line items at {url}",
                headers={"Accept": CONTAINER_TYPE},
                params=params,
            )
            try:
                items = response.json()
            except ValueError:
                items = None
            if not isinstance(items, list):
                raise ServiceError(f"line items at {url}: not a JSON array", retryable=True)
            for item in items:
                if isinstance(item, dict) and item.get("resourceLinkId") == target.resource_link_id:
                    return str(item["id"])
            following = response.links.get("next", {}).get("url")
            url = urljoin(url, following) if following else None
            params = None  # the next-page URL carries its own query
        return None

    def _create(self, target: GradeTarget, score_maximum: float) -> str:
        assert target.lineitems is not None
        if LINEITEM_SCOPE not in target.scopes:
            raise ServiceError(
                f"link {target.resource_link_id} has no line item and the platform did not grant "
                "the lineitem scope to create one",
                retryable=False,
            )
        document = {
            "scoreMaximum": score_maximum,
            "label": target.label,
            "resourceLinkId": target.resource_link_id,
            "tag": TAG,
        }
        response = self._call(
            target.endpoint,
            target.token_scopes,
            "POST",
            target.lineitems,
            f"new line item at {target.lineitems}",
            headers={"Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE},
            data=json.dumps(document).encode(),
        )
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise ServiceError(
                f"new line item at {target.lineitems}: the answer has no id", retryable=True
            ) from None
