"""Pure rules of the list tools (issue 14): tag spelling, column choices per role."""
import pytest
from marshmallow import ValidationError

from services.intake import desk_schemas as ds


@pytest.mark.parametrize("raw,tag", [
    ("VIP", "vip"), (" ＶＩＰ ", "vip"), ("客户  升级", "客户 升级"), ("p1-escalated", "p1-escalated"),
    ("紧急", "紧急"), ("v1.2·补丁", "v1.2·补丁"), ("x" * 32, "x" * 32)])
def test_tags_have_one_spelling(raw, tag):
    assert ds.normalise_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "   ", "a,b", "x" * 33, "-lead", "a/b", "#tag", None, 7])
def test_what_is_not_a_tag_is_refused(raw):
    with pytest.raises(ValidationError):
        ds.normalise_tag(raw)


def test_columns_per_role():
    agent, customer = {"role": "agent"}, {"role": "customer"}
    assert "tags" in ds.columns_for(agent) and "tags" not in ds.columns_for(customer)
    assert "company" in ds.default_columns(agent)
    assert "company" not in ds.default_columns(customer)
    assert "device_sn" in ds.default_columns({"role": "engineer"})
    assert all(set(ds.default_columns({"role": r})) <= set(ds.columns_for({"role": r}))
               for r in ("agent", "admin", "engineer", "provider_admin", "customer",
                         "customer_admin"))
    ds.check_columns(agent, ["title", "tags"])
    for bad in (["title", "title"], ["number"], ["title", "x"]):
        with pytest.raises(ValidationError):
            ds.check_columns(agent, bad)
    with pytest.raises(ValidationError):
        ds.check_columns(customer, ["title", "tags"])
