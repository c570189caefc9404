"""What `capacity-lti show` reports, as data: the structure and the translation coverage."""

from __future__ import annotations

from dataclasses import dataclass

from capacity_lti.content.model import Event, Module, Programme
from capacity_lti.content.sections import BLOCKS


@dataclass(frozen=True)
class Coverage:
    """How much of the programme one language has in its own words (not by fallback)."""

    language: str
    full: int  # items with every text block written in this language
    partial: int  # items with some blocks in this language
    fallback: int  # items shown entirely in a fallback language
    blocks: int  # text blocks written in this language
    total_blocks: int

    @property
    def percent(self) -> int:
        return round(100 * self.blocks / self.total_blocks) if self.total_blocks else 100


def _item_blocks(item: Module | Event) -> list[dict[str, str]]:
    texts = [item.title]
    if isinstance(item, Module):
        texts += [item.blocks.get(key, {}) for key in BLOCKS]
        if item.check:
            texts += [q.prompt for q in item.check.questions]
    else:
        texts.append(item.description)
    return texts


def coverage(programme: Programme) -> list[Coverage]:
    """One row per language of the programme, in its declared order."""
    rows = []
    items = list(programme.items())
    for language in programme.languages:
        full = partial = fallback = blocks = total = 0
        for item in items:
            texts = _item_blocks(item)
            present = sum(1 for t in texts if language in t)
            blocks += present
            total += len(texts)
            if present == len(texts):
                full += 1
            elif present:
                partial += 1
            else:
                fallback += 1
        rows.append(Coverage(language, full, partial, fallback, blocks, total))
    return rows
