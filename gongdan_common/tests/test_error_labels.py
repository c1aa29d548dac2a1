"""Every declared error, rendered in zh and en with every code its parameters may carry, shows
labels and never the code itself (issue 17: "状态为“suspended”的工单不能执行“resolve”")."""
import importlib
import re
import string

import pytest

from gongdan_common.errors import ErrorSpec
from gongdan_common.labels import VOCABULARIES, label, localise

MODULES = ["gongdan_common.errors", "gateway.exceptions", "gateway.ratelimit",
           "services.intake.exceptions", "services.dispatch.exceptions",
           "services.worklog.exceptions", "services.sla.exceptions",
           "services.notify.exceptions", "services.kb.exceptions"]
for _m in MODULES:
    importlib.import_module(_m)
SPECS = list(ErrorSpec.SPECS)
ALL_CODES = {code for vocab in VOCABULARIES.values() for code in vocab}


def _params(template):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _raw(code, text):
    return re.search(r"(?<![\w])" + re.escape(code) + r"(?![\w])", text)


def test_every_service_declares_through_the_one_vocabulary():
    modules = {s.code for s in SPECS}
    assert {"illegal_transition", "reports_missing", "not_assignable", "offer_not_pending",
            "ticket_not_in_progress", "article_wrong_status", "not_pending"} <= modules


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_error_message_shows_a_code(lang):
    checked = 0
    for spec in SPECS:
        template = spec.zh if lang == "zh" else spec.en
        names = _params(spec.zh) | _params(spec.en)
        coded = {n: spec.labels[n] for n in names if spec.labels.get(n)}
        for name, vocabulary in coded.items():
            for code in VOCABULARIES[vocabulary]:
                params = {n: "x" for n in names}
                params[name] = code
                text = spec.text(lang, **params)
                shown = label(vocabulary, code, lang)
                assert shown in text, (spec.code, lang, text)
                if not _raw(code, template):   # the template's own words may be plain English
                    assert not _raw(code, text.replace(shown, "")), (spec.code, lang, text)
                checked += 1
        if not coded:  # still renders with nothing left unfilled
            assert "{" not in spec.text(lang, **{n: "x" for n in names})
    assert checked > 50


def test_a_code_parameter_is_never_left_unlabelled():
    """A parameter named like a vocabulary but with no label would let codes through."""
    for spec in SPECS:
        for name in _params(spec.zh) | _params(spec.en):
            if name in ("status", "action", "type", "missing", "role", "roles", "kind"):
                assert spec.labels.get(name) or name == "kind" and spec.code == \
                    "template_not_found", (spec.code, name)


def test_lists_of_codes_are_joined_per_language():
    assert localise("report", "onsite_report, inspection_report", "zh") == "现场服务报告、巡检报告"
    assert localise("report", ["onsite_report"], "en") == "On-site service report"
    assert localise("status", "no_such_status", "zh") == "no_such_status"


def test_the_messages_issue_17_quoted():
    from services.intake import exceptions as exc
    err = exc.TRANSITION_ERRORS["illegal_transition"](action="resolve", status="suspended")
    assert err.message("zh") == "“解决”不适用于状态为“已挂起”的工单。"
    err = exc.REPORTS_MISSING(type="inspection", missing="onsite_report, inspection_report")
    assert err.message("zh").startswith("巡检工单关闭前必须上传：现场服务报告、巡检报告。")
    assert err.message("en").startswith(
        "A ticket of type “Inspection” cannot be closed without: On-site service report, "
        "Inspection report.")
    assert all(not _raw(c, err.message(lang)) for c in ALL_CODES if "_" in c
               for lang in ("zh", "en"))


def test_every_field_a_refusal_can_name_has_a_label():
    """FIELDS_NOT_EDITABLE / FIELDS_ADMIN_ONLY list field names: each must have its words."""
    from services.dispatch.domain import PROVIDER_ADMIN_ONLY_FIELDS
    from services.intake.domain import DESK_EDITABLE
    for name in DESK_EDITABLE | PROVIDER_ADMIN_ONLY_FIELDS:
        for lang in ("zh", "en"):
            assert label("field", name, lang) != name, (name, lang)
    assert localise("field", "device_sn, priority", "zh") == "设备序列号、优先级"
