"""Scores per second to a local AGS endpoint: the outbox worker beside a floor and PyLTI1p3.

    python bench/ags.py [--learners 1000] [--pylti-learners 1000]

The LMS is a small HTTP/1.1 server in its own process (token, line items, scores). Measured
in the same run, one score per learner, each sent one after the other:

* floor: one token, one keep-alive ``requests.Session``, the same JSON POSTed per learner;
* capacity-lti: the rows in an SQLite outbox drained by ``storage.delivery.Worker`` (claim
  with a lease, send, record the outcome in the database), the work `capacity-lti worker` does;
* PyLTI1p3 2.0.0 per learner (fewer learners: it is slow) as its example game does: a registration from the tool
  config, ``MessageLaunch.get_ags()``'s service connector, ``put_grade`` with a tagged line
  item (its token, line-item lookup and score, on a new session each time).

Prints figures and ratios; nothing is asserted. Client CPU is this process's CPU time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config import ToolConfDict
from sqlalchemy import update

from capacity_lti.settings import Settings
from capacity_lti.storage import open_database
from capacity_lti.storage.delivery import DeliveryPolicy, Worker
from capacity_lti.storage.keys import ensure_key, list_keys
from capacity_lti.storage.outbox import enqueue_score
from capacity_lti.storage.platforms import add_platform
from capacity_lti.storage.tables import Learner, ResourceLink, ScoreOutbox

SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
TOKEN = "bench-token"


def serve(port: Any) -> None:
    """The LMS: answers tokens, one line item, and scores (bearer checked)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def reply(self, code: int, body: object) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            item = {
                "id": f"{base}/lineitems/1/lineitem?type_id=1",
                "tag": "score",
                "label": "Score",
                "scoreMaximum": 100,
                "resourceLinkId": "rl-1",
            }
            self.reply(200, [item])

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/token"):
                self.reply(200, {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600})
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.reply(401, {"message": "bad token"})
            else:
                json.loads(body)
                self.reply(200, None)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    server.serve_forever()


def score_json(user: str) -> bytes:
    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
    return json.dumps(
        {
            "userId": user,
            "scoreGiven": 7.0,
            "scoreMaximum": 10.0,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": stamp,
        },
        separators=(",", ":"),
    ).encode()


def floor(base: str, learners: int) -> None:
    with requests.Session() as http:
        token = http.post(f"{base}/token", data={"grant_type": "client_credentials"}, timeout=10)
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Content-Type": "application/vnd.ims.lis.v1.score+json",
        }
        url = f"{base}/lineitems/1/lineitem/scores?type_id=1"
        for n in range(learners):
            http.post(url, data=score_json(f"u{n}"), headers=headers, timeout=10).raise_for_status()


def prepare_outbox(base: str, learners: int, folder: Path) -> Worker:
    db = open_database(Settings(database_url=f"sqlite:///{folder / 'bench.sqlite3'}"))
    ensure_key(db)
    platform = add_platform(
        db,
        issuer=base,
        client_id="bench",
        auth_login_url=f"{base}/auth",
        auth_token_url=f"{base}/token",
        key_set_url=f"{base}/jwks",
    )
    with db.session() as session:
        link = ResourceLink(
            platform_id=platform.id,
            deployment_id="1",
            link_id="rl-1",
            ags_lineitem=f"{base}/lineitems/1/lineitem?type_id=1",
            ags_scopes=f"{SCORE} {LINEITEM}",
        )
        people = [Learner(platform_id=platform.id, subject=f"u{n}") for n in range(learners)]
        session.add_all([link, *people])
        session.flush()
        for person in people:
            enqueue_score(
                session,
                resource_link_id=link.id,
                learner_id=person.id,
                score_given=7,
                score_maximum=10,
                activity_progress="Completed",
                grading_progress="FullyGraded",
            )
    return Worker(db, policy=DeliveryPolicy(timeout=10, lease=600))


def drain(worker: Worker, learners: int) -> None:
    handled = 0
    while count := worker.run_once():
        handled += count
    assert handled == learners, handled


def pylti_per_learner(base: str, learners: int, private_pem: str) -> None:
    settings = {
        base: [
            {
                "default": True,
                "client_id": "bench",
                "auth_login_url": f"{base}/auth",
                "auth_token_url": f"{base}/token",
                "key_set_url": f"{base}/jwks",
                "key_set": None,
                "deployment_ids": ["1"],
            }
        ]
    }
    endpoint = {"scope": [SCORE, LINEITEM], "lineitems": f"{base}/lineitems?type_id=1"}
    for n in range(learners):
        tool_conf = ToolConfDict(settings)  # the example builds its tool config per request
        tool_conf.set_private_key(base, private_pem, client_id="bench")
        registration = tool_conf.find_registration_by_params(base, "bench")
        ags = AssignmentsGradesService(ServiceConnector(registration), endpoint)
        grade = (
            Grade()
            .set_score_given(7)
            .set_score_maximum(10)
            .set_timestamp(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"))
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_user_id(f"u{n}")
        )
        lineitem = LineItem().set_tag("score").set_score_maximum(100).set_label("Score")
        ags.put_grade(grade, lineitem)


def measure(work: Callable[[], None], learners: int) -> tuple[float, float]:
    """Scores per second (wall) and client CPU milliseconds per score."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return learners / wall, cpu * 1000 / learners


def requeue(worker: Worker) -> None:
    """Put every delivered score back in the queue for the next round."""
    with worker.db.session() as session:
        session.execute(
            update(ScoreOutbox).values(
                state="pending", next_attempt_at=datetime.now(UTC), delivered_at=None
            )
        )


def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians shown")
    parser.add_argument("--pylti-learners", type=int, default=200)
    args = parser.parse_args()
    port = multiprocessing.Value("i", 0)
    lms = multiprocessing.Process(target=serve, args=(port,), daemon=True)
    lms.start()
    while not port.value:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{port.value}"
    floors, ours = [], []
    try:
        with tempfile.TemporaryDirectory() as folder:
            worker = prepare_outbox(base, args.learners, Path(folder))
            private_pem = list_keys(worker.db)[0].private_pem
            floor(base, 50)  # warm up the server and the client
            for _ in range(args.rounds):
                floors.append(measure(lambda: floor(base, args.learners), args.learners))
                ours.append(measure(lambda: drain(worker, args.learners), args.learners))
                requeue(worker)
            pylti = measure(
                lambda: pylti_per_learner(base, args.pylti_learners, private_pem),
                args.pylti_learners,
            )
            worker.close()
    finally:
        lms.terminate()
        lms.join(5)
    results = {
        "floor": median(floors),
        "capacity-lti worker": median(ours),
        f"PyLTI1p3 2.0.0 ({args.pylti_learners})": pylti,
    }
    print(
        f"AGS scores to a local endpoint: {args.learners} learners, one after the other, "
        f"median of {args.rounds} alternating rounds"
    )
    for name, (rate, cpu) in results.items():
        print(f"  {name:<26} {rate:8.0f} scores/s  {cpu:6.2f} ms client CPU per score")
    rate = results["capacity-lti worker"][0]
    print(f"  capacity-lti / floor:     {rate / results['floor'][0]:.2f}x (target >= 0.9x)")
    print(f"  capacity-lti / PyLTI1p3:  {rate / pylti[0]:.1f}x")


if __name__ == "__main__":
    main()
