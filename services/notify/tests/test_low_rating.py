"""The low-score alert: a shipped rule on intake.ticket_rated with a numeric condition."""
from services.notify import domain, templates


def rated(product, service):
    return {"source": "intake", "type": "ticket_rated", "ticket_id": "t1",
            "data": {"product_score": product, "service_score": service,
                     "lowest_score": min(product, service),
                     "ticket": {"id": "t1", "number": "TS1", "provider_id": "pv1"}}}


def test_low_rating_rule_matches_two_stars_or_fewer():
    rules = domain.effective_rules([])
    assert [r["id"] for r in domain.matching_rules(rated(5, 2), rules)] == ["low_rating"]
    assert [r["id"] for r in domain.matching_rules(rated(1, 5), rules)] == ["low_rating"]
    assert domain.matching_rules(rated(3, 4), rules) == []
    rule = next(r for r in rules if r["id"] == "low_rating")
    assert domain.selector_query("provider_admins", rated(1, 1)) == \
        ("role", "provider_admin", "pv1")
    assert set(rule["recipients"]) == {"agents", "provider_admins"}


def test_numeric_conditions():
    assert domain.condition_holds({"score_max": 2}, {"score": 2})
    assert not domain.condition_holds({"score_max": 2}, {"score": 3})
    assert domain.condition_holds({"score_min": 4}, {"score": 5})
    assert not domain.condition_holds({"score_min": 4}, {"score": 3})
    # missing, non-numeric or boolean values never match a bound
    assert not domain.condition_holds({"score_max": 2}, {})
    assert not domain.condition_holds({"score_max": 2}, {"score": "1"})
    assert not domain.condition_holds({"score_max": 2}, {"score": True})
    # a field really named *_max is still compared for equality
    assert domain.condition_holds({"size_max": 5}, {"size_max": 5})


def test_low_rating_templates_render_in_both_languages():
    ctx = dict(templates.SAMPLE_CONTEXT, data={"product_score": 5, "service_score": 1,
                                               "comment": "太慢"})
    for lang in ("zh", "en"):
        parts = templates.default_compiled("low_rating", lang)
        text = parts["text"].render(ctx)
        assert "TS20261122001" in text and "太慢" in text and ctx["link"] in text
