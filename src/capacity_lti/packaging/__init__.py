"""SCORM 1.2 and SCORM 2004 4th Edition packages of a programme (docs/packaging.md).

build_package(programme, "scorm12", "sv", Path("dist"))          # the whole programme
build_package(programme, "scorm2004", "en", out, path_id="officers")
for spec in plan_all(programme): ...                             # what --all builds
"""

from capacity_lti.packaging.build import build_package, build_spec
from capacity_lti.packaging.selection import FORMATS, PackageSpec, plan_all

__all__ = ["FORMATS", "PackageSpec", "build_package", "build_spec", "plan_all"]
