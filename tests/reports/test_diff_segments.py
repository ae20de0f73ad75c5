"""The example browser's word-level segments: a text left as it was is one ``same`` segment (what the
alignment gives, without aligning), an edited one its kept, removed and inserted words."""

from __future__ import annotations

import pytest

from perturbations.diffing import diff_spans
from reports.pages import diff_segments


def _aligned(clean: str, perturbed: str) -> list[dict]:
    out = []
    for span in diff_spans(clean, perturbed):
        before, after = " ".join(span.clean.split()), " ".join(span.perturbed.split())
        if span.op == "equal":
            out += [{"kind": "same", "text": before}] if before else []
            continue
        out += [{"kind": "del", "text": before}] if before else []
        out += [{"kind": "ins", "text": after}] if after else []
    return out


@pytest.mark.parametrize("text", ["", " ", "a b  c", "  x\ty\n", "ünïcode  tëxt ", "one", "Das ist\u00a0gut."])
def test_an_unchanged_text_is_what_the_alignment_gives(text: str) -> None:
    assert diff_segments(text, text) == _aligned(text, text)


def test_an_edited_text_keeps_removes_and_inserts_words() -> None:
    got = diff_segments("the cat sat on the mat", "the cta sat on teh mat")
    assert got == _aligned("the cat sat on the mat", "the cta sat on teh mat")
    assert got == [{"kind": "same", "text": "the"}, {"kind": "del", "text": "cat"}, {"kind": "ins", "text": "cta"},
                   {"kind": "same", "text": "sat on"}, {"kind": "del", "text": "the"}, {"kind": "ins", "text": "teh"},
                   {"kind": "same", "text": "mat"}]
