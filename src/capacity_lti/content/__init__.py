"""The programme model and the loader of an authored programme folder."""

from capacity_lti.content.languages import fallback_chain, negotiate
from capacity_lti.content.loader import load_programme
from capacity_lti.content.model import (
    Assessment,
    Event,
    KnowledgeCheck,
    LearningPath,
    Module,
    Programme,
    Question,
    pick,
)
from capacity_lti.content.sections import BLOCKS, SECTIONS, block_label

__all__ = [
    "BLOCKS",
    "SECTIONS",
    "Assessment",
    "Event",
    "KnowledgeCheck",
    "LearningPath",
    "Module",
    "Programme",
    "Question",
    "block_label",
    "fallback_chain",
    "load_programme",
    "negotiate",
    "pick",
]
