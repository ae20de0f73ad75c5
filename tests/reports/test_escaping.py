"""The site's templates escape with a faster function that must give markupsafe's answer for every value."""

from __future__ import annotations

import math

import pytest
from markupsafe import Markup, escape

from reports.site import environment, fast_escape


class _Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


@pytest.mark.parametrize("value", ["<script>alert('x')</script>", 'a "b" & c', "", "plain", "ü &amp; 日本",
                                   Markup("<i>kept</i>"), 0, -17, 2 ** 70, 1.5, -0.0, 1e-300, math.inf, math.nan,
                                   True, None, _Html(), ["<", 1], b"<bytes>"])
def test_fast_escape_is_markupsafes(value: object) -> None:
    got = fast_escape(value)
    assert got == escape(value) and type(got) is Markup


def test_templates_render_with_it_and_still_escape_names() -> None:
    env = environment()
    template = env.from_string("<td>{{ name }}</td><td>{{ n }}</td>{{ safe }}")
    assert template.root_render_func.__globals__["escape"] is fast_escape
    html = template.render(name="<img src=x onerror=alert(1)>", n=3, safe=Markup("<br>"))
    assert html == "<td>&lt;img src=x onerror=alert(1)&gt;</td><td>3</td><br>"
