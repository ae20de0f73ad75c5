"""Word-level diffs between a clean and a perturbed text, for ``xrobust perturb --show`` and HTML."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class DiffSpan:
    """A piece of the alignment; ``equal`` pieces include whitespace, the others cover whole words.

    Offsets are character offsets into the clean and perturbed strings; the spans tile both.
    """

    op: str  # equal | replace | delete | insert
    clean: str
    perturbed: str
    clean_start: int
    clean_end: int
    perturbed_start: int
    perturbed_end: int

    def to_dict(self) -> dict:
        return asdict(self)


def diff_spans(clean: str, perturbed: str) -> list[DiffSpan]:
    """Align two texts word by word (whitespace-separated) and return spans tiling both."""
    ca = [(m.start(), m.end()) for m in _TOKEN.finditer(clean)]
    pa = [(m.start(), m.end()) for m in _TOKEN.finditer(perturbed)]
    matcher = SequenceMatcher(None, [clean[s:e] for s, e in ca], [perturbed[s:e] for s, e in pa], autojunk=False)
    spans: list[DiffSpan] = []
    cpos = ppos = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        cs = ca[i1][0] if i1 < len(ca) else len(clean)
        ce = ca[i2 - 1][1] if i2 > i1 else cs
        ps = pa[j1][0] if j1 < len(pa) else len(perturbed)
        pe = pa[j2 - 1][1] if j2 > j1 else ps
        if cs > cpos or ps > ppos:
            spans.append(DiffSpan("equal", clean[cpos:cs], perturbed[ppos:ps], cpos, cs, ppos, ps))
        spans.append(DiffSpan(op, clean[cs:ce], perturbed[ps:pe], cs, ce, ps, pe))
        cpos, ppos = ce, pe
    if cpos < len(clean) or ppos < len(perturbed):
        spans.append(DiffSpan("equal", clean[cpos:], perturbed[ppos:], cpos, len(clean), ppos, len(perturbed)))
    return spans


def mark_edits(clean: str, perturbed: str) -> str:
    """The perturbed text with edits marked inline: ``[-old-]{+new+}``."""
    out = []
    for span in diff_spans(clean, perturbed):
        if span.op == "equal":
            out.append(span.perturbed)
            continue
        if span.clean:
            out.append(f"[-{span.clean}-]")
        if span.perturbed:
            out.append(f"{{+{span.perturbed}+}}")
    return "".join(out)
