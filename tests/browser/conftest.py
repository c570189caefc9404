"""The browser suite's machinery: Debian's Chromium through Playwright, a local HTTP server, packages.

The server (http.server, 127.0.0.1, a thread) serves one folder holding the harness LMS page,
scorm-again from tests/browser/node_modules, and each package unzipped under pkg/<name>/, so the
package's pages and the LMS page share an origin as they do in Moodle. Every package is built by
capacity_lti.packaging from a programme folder (an example, or fixtures/reading).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, EXAMPLES, require
from tests.packaging.conftest import schemas_folder

HERE = Path(__file__).parent
SCORM_AGAIN = HERE / "node_modules" / "scorm-again" / "dist"
PROGRAMME = EXAMPLES / "climate-action"
READING = HERE / "fixtures" / "reading"  # one module without a knowledge check
MODULE = "ghg-inventory-beginner"  # has a knowledge check and Swedish and French translations
DATA_BLOCK = re.compile(
    r'<script type="application/json" id="capacity-data">(.*?)</script>', re.DOTALL
)


@dataclass(frozen=True)
class Package:
    """One package unzipped where the server serves it."""

    name: str
    folder: Path
    url: str  # the package folder's URL, ending in /

    def pages(self) -> dict[str, dict[str, Any]]:
        """Every module page of the package: file name -> its capacity-data JSON."""
        found: dict[str, dict[str, Any]] = {}
        for page in sorted(self.folder.glob("*.html")):
            match = DATA_BLOCK.search(page.read_text(encoding="utf-8"))
            if match:
                data = json.loads(match.group(1))
                if data.get("module"):
                    found[page.name] = data
        return found

    def page_url(self, module: str) -> str:
        return f"{self.url}{module}.html"

    def data(self, module: str) -> dict[str, Any]:
        return self.pages()[f"{module}.html"]


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not (SCORM_AGAIN / "scorm12.js").exists():
        require("scorm-again is not installed: run bash tests/browser/setup.sh (npm ci)")
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(folder, base URL) of the local web server the browser talks to."""
    root = tmp_path_factory.mktemp("site")
    shutil.copy(HERE / "harness.html", root / "harness.html")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "scorm-again").symlink_to(SCORM_AGAIN.parent)
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@functools.cache
def _programme(folder: Path) -> Any:
    from capacity_lti import content

    return content.load_programme(folder)


def _built_package(
    folder: Path, standard: str, language: str, target: Path, **options: Any
) -> None:
    from capacity_lti import packaging

    out = target.parent / f"{target.name}.zips"
    out.mkdir(parents=True)
    archive = packaging.build_package(
        _programme(folder), standard, language, out, schemas=schemas_folder(), **options
    )  # validated against the official XSDs whenever they are here
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)


@pytest.fixture(scope="session")
def package(site: tuple[Path, str]) -> Callable[..., Package]:
    """package(standard, language="en", module=MODULE, programme=PROGRAMME, path=None,
    single_sco=False): built once per session, then served.

    module=None: the whole programme (or the path), one SCO per module unless single_sco.
    """
    root, base = site
    made: dict[tuple[object, ...], Package] = {}

    def get(
        standard: str,
        language: str = "en",
        module: str | None = MODULE,
        programme: Path = PROGRAMME,
        path: str | None = None,
        single_sco: bool = False,
    ) -> Package:
        key = (standard, language, module, programme, path, single_sco)
        if key not in made:
            selection = module or path or "all"
            name = f"{programme.name}-{standard}-{language}-{selection}{'-single' * single_sco}"
            target = root / "pkg" / name
            _built_package(
                programme,
                standard,
                language,
                target,
                module_id=module,
                path_id=path,
                single_sco=single_sco,
            )
            made[key] = Package(name, target, f"{base}pkg/{name}/")
        return made[key]

    return get


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page; fails the test on any uncaught error in any page."""
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    tab = context.new_page()
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors in the page: {errors}"
