"""Client-side rendering of Elasticsearch search templates (mustache → query DSL JSON).

The local Elasticsearch assembled from Maven Central has no ``lang-mustache`` module, so
qrelay renders templates itself, with Elasticsearch's semantics for the parts search
templates use: ``{{var}}`` is JSON-string-escaped (the template is JSON), ``{{{var}}}`` and
``{{&var}}`` insert raw, ``{{#toJson}}var{{/toJson}}`` inserts the JSON of a value,
``{{#join}}var{{/join}}`` joins a list with commas, ``{{#var}}…{{/var}}`` renders when
``var`` is truthy (once per element for a list, with ``{{.}}`` the element) and
``{{^var}}…{{/var}}`` when it is falsy, ``{{var}}{{^var}}default{{/var}}`` gives defaults.
Dotted names (``{{a.b}}``) look into nested parameters.

>>> render('{"query": {"match": {"title": "{{query}}"}}, "size": {{size}}}', {"query": 'say "hi"', "size": 3})
'{"query": {"match": {"title": "say \\\\"hi\\\\""}}, "size": 3}'
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

_TAG = re.compile(r"\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{\s*([#^/&]?)\s*([\w.]+|\.)\s*\}\}")


class TemplateError(ValueError):
    """The template cannot be rendered (unbalanced sections, bad JSON after rendering)."""


def _lookup(stack: list[Any], name: str) -> Any:
    if name == ".":
        return stack[-1]
    for scope in reversed(stack):
        node: Any = scope
        ok = True
        for part in name.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                ok = False
                break
        if ok:
            return node
    return None


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _parse(template: str) -> list:
    """Into a tree: str | ("var", name, raw) | ("section", name, inverted, children)."""
    root: list = []
    stack: list[tuple[str, list]] = [("", root)]
    pos = 0
    for m in _TAG.finditer(template):
        stack[-1][1].append(template[pos:m.start()])
        pos = m.end()
        triple = m.group(1)
        sigil, name = ("", triple) if triple else (m.group(2), m.group(3))
        if sigil in ("#", "^"):
            node = ("section", name, sigil == "^", [])
            stack[-1][1].append(node)
            stack.append((name, node[3]))
        elif sigil == "/":
            if len(stack) == 1 or stack[-1][0] != name:
                raise TemplateError(f"unexpected {{{{/{name}}}}}: no open section {name!r}")
            stack.pop()
        else:
            stack[-1][1].append(("var", name, bool(triple) or sigil == "&"))
    stack[-1][1].append(template[pos:])
    if len(stack) > 1:
        raise TemplateError(f"section {stack[-1][0]!r} is never closed")
    return root


def _render(nodes: list, stack: list[Any]) -> str:
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "var":
            text = _scalar(_lookup(stack, node[1]))
            out.append(text if node[2] else json.dumps(text, ensure_ascii=False)[1:-1])
        else:
            _, name, inverted, children = node
            if name in ("toJson", "join") and not inverted:
                inner = "".join(c for c in children if isinstance(c, str)).strip()
                value = _lookup(stack, inner)
                out.append(json.dumps(value, ensure_ascii=False) if name == "toJson"
                           else ",".join(_scalar(v) for v in (value or [])))
                continue
            value = _lookup(stack, name)
            if inverted:
                if not value:
                    out.append(_render(children, stack))
            elif isinstance(value, list):
                out.extend(_render(children, [*stack, v]) for v in value)
            elif value:
                out.append(_render(children, [*stack, value] if isinstance(value, Mapping) else stack))
    return "".join(out)


def render(template: str, params: Mapping[str, Any]) -> str:
    """The rendered text (not parsed)."""
    return _render(_parse(template), [dict(params)])


def render_json(template: str, params: Mapping[str, Any]) -> dict:
    """The rendered search body, parsed; :class:`TemplateError` if it is not a JSON object."""
    text = render(template, params)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the rendered template is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(body, dict):
        raise TemplateError("the rendered template must be a JSON object (a search body)")
    return body
