"""Canvas's LTI 1.3 developer-key configuration: the JSON an admin pastes or links to.

Canvas installs an LTI 1.3 tool through a Developer Key (Developer Keys > + LTI Key), by
"Paste JSON" or "Enter URL". The document is Canvas's own format, not 1EdTech's: it is
built here from the same :class:`ToolDescription`, scopes and message types the Dynamic
Registration request uses, so both ways of installing declare the same tool.
"""

from __future__ import annotations

from typing import Any

from capacity_lti.lti.registration import DEEP_LINKING, RESOURCE_LINK, SCOPES, ToolDescription

PLATFORM = "canvas.instructure.com"  # Canvas reads only the extension for this platform
# Names and emails arrive only at "public"; the tool shows them to teachers and prints
# them on diplomas, as the Dynamic Registration request asks Canvas for too.
PRIVACY_LEVEL = "public"
# Deep linking from a module ("External Tool" item) and from an assignment (graded).
SELECTION_PLACEMENTS = ("link_selection", "assignment_selection")


def developer_key_configuration(tool: ToolDescription) -> dict[str, Any]:
    """The tool's Canvas JSON configuration (every URL taken from `tool`)."""
    placements: list[dict[str, Any]] = [
        {"placement": name, "message_type": DEEP_LINKING, "target_link_uri": tool.launch_url}
        for name in SELECTION_PLACEMENTS
    ]
    # The programme home as a course tab, off until a teacher turns it on in the course's
    # Settings > Navigation (an account-wide install would otherwise add it everywhere).
    placements.append(
        {
            "placement": "course_navigation",
            "message_type": RESOURCE_LINK,
            "target_link_uri": tool.launch_url,
            "default": "disabled",
        }
    )
    settings: dict[str, Any] = {"text": tool.name, "placements": placements}
    if tool.logo_url:
        settings["icon_url"] = tool.logo_url
    return {
        "title": tool.name,
        "description": tool.description or tool.name,  # Canvas requires one
        "oidc_initiation_url": tool.login_url,
        "target_link_uri": tool.launch_url,
        "public_jwk_url": tool.jwks_url,
        "scopes": list(SCOPES),
        "extensions": [
            {
                "platform": PLATFORM,
                "domain": tool.domain,
                "privacy_level": PRIVACY_LEVEL,
                "settings": settings,
            }
        ],
    }
