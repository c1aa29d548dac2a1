"""The documents outside users rely on stay true to the code."""
import os
import re
import subprocess
import sys
import time

import pytest
import requests
from openapi_spec_validator import validate

from gateway.http import ROUTES
from tests.support.system import ROOT

pytestmark = pytest.mark.integration


def test_event_docs_are_generated_from_the_code():
    out = subprocess.run([sys.executable, "-m", "scripts.gen_event_docs", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_openapi_is_served_valid_and_covers_every_route(system):
    doc = requests.get(system.base_url + "/api/v1/openapi.json", timeout=10).json()
    validate(doc)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    for method, url, meta in ROUTES:
        path = re.sub(r"<(?:[^:<>]+:)?([a-z_]+)>", r"{\1}", url)
        for variant in (meta.get("expand") or {}).get("action", {None: None}):
            p = path.replace("{action}", variant) if variant else path
            for m in method.split(","):
                assert (m, p) in documented, (m, p)
    assert ("POST", "/api/v1/tickets") in documented
    create = doc["paths"]["/api/v1/tickets"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert "$ref" in schema  # the real request schema, by reference
    name = schema["$ref"].rsplit("/", 1)[1]
    required = set(doc["components"]["schemas"][name]["required"])
    assert {"title", "type", "product", "category", "description", "contact_phone"} <= required


def test_openapi_names_tags_and_errors_every_operation(system):
    """What client generators and callers need: a unique operationId per operation, every
    tag declared with a description, and the errors any call can meet (429 with its
    rate-limit headers, 503 with Retry-After, 500) in the one error shape."""
    doc = requests.get(system.base_url + "/api/v1/openapi.json", timeout=10).json()
    ops = [op for ops in doc["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in ops]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", i) for i in ids), ids
    declared = {t["name"]: t.get("description") for t in doc["tags"]}
    assert {tag for op in ops for tag in op["tags"]} <= set(declared)
    assert all(declared.values()), declared
    responses = doc["components"]["responses"]
    for op in ops:
        for status in ("429", "500", "503"):
            assert status in op["responses"], (op["operationId"], status)
    for status, code in (("429", "rate_limited"), ("503", "service_unavailable"),
                         ("500", "internal_error"), ("423", "account_locked")):
        name = doc["paths"]["/api/v1/auth/login"]["post"]["responses"][status]["$ref"]
        body = responses[name.rsplit("/", 1)[1]]
        assert body["content"]["application/json"]["example"]["error"]["code"] == code
        assert body["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}
    too_many = responses["TooManyRequests"]["headers"]
    assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} \
        <= set(too_many)
    assert "Retry-After" in responses["ServiceUnavailable"]["headers"]
    # a nullable answer is documented as such (it was "type: string" while null came back)
    user = doc["components"]["schemas"]["UserOut"]["properties"]
    assert user["locked_until"].get("nullable") is True
    assert user["name"].get("nullable") is not True


def test_docs_page_works_offline(system):
    page = requests.get(system.base_url + "/api/docs", timeout=10)
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        r = requests.get(system.base_url + "/api/docs/assets/" + asset, timeout=10)
        assert r.status_code == 200 and len(r.content) > 10_000
    assert requests.get(system.base_url + "/api/docs/assets/../../service.py",
                        timeout=10).status_code == 404


def test_example_subscriber_runs(system, tmp_path, make_user, new_ticket):
    amqp = system.amqp_uri.replace("pyamqp://", "amqp://")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "examples", "subscriber.py"), "--amqp", amqp,
         "--db", str(tmp_path / "sub.db"), "--queue", "example-" + os.urandom(3).hex()],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening" in line, line
        ticket = new_ticket(make_user())
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline and ticket["number"] not in seen:
            seen += proc.stdout.readline()
        assert ticket["number"] in seen
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_local_link_in_the_documents_resolves_inside_the_repository():
    """Issue 17: architecture.md pointed at a design file outside the repository."""
    pages = [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "requirements.txt"),
             os.path.join(ROOT, "requirements-dev.txt")] + \
        [os.path.join(ROOT, "docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
         if f.endswith(".md")]
    broken = []
    for page in pages:
        text = open(page, encoding="utf-8").read()
        targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text) + \
            re.findall(r"`((?:\.\./|docs/)[\w./-]+)`", text) + \
            re.findall(r"(?:See|see) (docs/[\w./-]+\.md)", text)
        for target in targets:
            if "://" in target or target.startswith(("mailto:", "/")):
                continue  # web addresses and API paths
            base = ROOT if target.startswith("docs/") else os.path.dirname(page)
            path = os.path.normpath(os.path.join(base, target))
            if not path.startswith(ROOT + os.sep) or not os.path.exists(path):
                broken.append((os.path.relpath(page, ROOT), target))
    assert not broken
