import pytest

from services.evaluation.mustache import TemplateError, render, render_json


def test_escapes_values_for_json_strings():
    body = render_json('{"query": {"match": {"title": "{{query}}"}}}', {"query": 'a "quoted" \\ query\n'})
    assert body["query"]["match"]["title"] == 'a "quoted" \\ query\n'


def test_sections_defaults_tojson_join():
    tpl = '{"size": {{size}}{{^size}}10{{/size}}, "terms": {{#toJson}}ids{{/toJson}}, "j": "{{#join}}ids{{/join}}"' \
          '{{#locale}}, "locale": "{{locale}}"{{/locale}}}'
    assert render_json(tpl, {"ids": ["a", "b"], "locale": "es-MX", "size": 3}) == \
        {"size": 3, "terms": ["a", "b"], "j": "a,b", "locale": "es-MX"}
    assert render_json(tpl, {"ids": []})["size"] == 10


@pytest.mark.parametrize("tpl, msg", [
    ('{"a": 1{{#x}}}', "never closed"),
    ('{"a": 1{{/x}}}', "no open section"),
    ('{"a": {{query}}}', "not valid JSON"),
    ('[1, 2]', "JSON object"),
])
def test_errors(tpl, msg):
    with pytest.raises(TemplateError, match=msg):
        render_json(tpl, {"query": "two words"})


def test_triple_mustache_is_raw():
    assert render("{{{x}}}", {"x": '"q"'}) == '"q"'
