"""Named policies chosen per route, tenant and request, through a real Envoy in both deployments
(the wasm filter: envoy/routes.yaml; ext_proc mode: envoy/ext_proc.yaml with the same routes),
and the config's JSON Schema (schema/parapet-policy.schema.json).

The config is envoy/policies/routes.yaml: `standard` (PII masked) by default, `strict` (PII
blocked, 403) on the /support/ route and for tenant `acme`, `audit-only` for requests that ask
for it on a `standard` route. A tenant arrives as a header or as a JWT claim that Envoy's
jwt_authn filter verified and wrote to dynamic metadata.
"""
import base64
import copy
import hashlib
import hmac
import json
import re
import subprocess
import time

import jsonschema
import pytest
import yaml

from harness import PARAPET, ROOT, Envoy, ExtProc, load_envoy_config, validate_config, wasm_filters

POLICY = yaml.safe_load((ROOT / "envoy" / "policies" / "routes.yaml").read_text())
SCHEMA = json.loads((ROOT / "schema" / "parapet-policy.schema.json").read_text())
PII = json.dumps({"model": "m", "messages": [{"role": "user", "content": "write to jane.doe@example.com"}]}).encode()
CLEAN = json.dumps({"model": "m", "messages": [{"role": "user", "content": "What is the capital of France?"}]}).encode()

# An HS256 key for jwt_authn (JWKS "oct"), and tokens signed with it.
JWT_KEY = b"parapet-test-key-0123456789abcdef"


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(claims: dict, key: bytes = JWT_KEY) -> str:
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"iss": "parapet-test", "exp": int(time.time()) + 600, **claims}).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


JWT_FILTER = {
    "name": "envoy.filters.http.jwt_authn",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
        "providers": {"test": {
            "issuer": "parapet-test",
            "local_jwks": {"inline_string": json.dumps({"keys": [{"kty": "oct", "alg": "HS256", "kid": "k",
                                                                  "k": b64url(JWT_KEY)}]})},
            "payload_in_metadata": "jwt_payload",
        }},
        # A token is optional here (anonymous requests get the route's policy) but must verify.
        "rules": [{"match": {"prefix": "/"},
                   "requires": {"requires_any": {"requirements": [{"provider_name": "test"}, {"allow_missing": {}}]}}}],
    },
}


def hcm(cfg):
    return cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]


def add_jwt(cfg):
    hcm(cfg)["http_filters"].insert(0, copy.deepcopy(JWT_FILTER))


def support_route(cfg, policy="strict", prefix="/support/"):
    routes = hcm(cfg)["route_config"]["virtual_hosts"][0]["routes"]
    routes.insert(0, {"match": {"prefix": prefix},
                      "route": {"cluster": "llm_upstream", "timeout": "300s", "prefix_rewrite": "/"},
                      "metadata": {"filter_metadata": {"parapet": {"policy": policy}}}})


@pytest.fixture(scope="module", params=["wasm", "ext_proc"])
def deployment(request, standin):
    """Envoy (and ext-proc in ext_proc mode) guarding with envoy/policies/routes.yaml."""
    if request.param == "wasm":
        envoy = Envoy(standin.port, config_name="routes.yaml", mutate=add_jwt)
        yield request.param, envoy, None
        envoy.stop()
    else:
        ext = ExtProc(policy=POLICY, heavy=False)

        def mutate(cfg):
            add_jwt(cfg)
            support_route(cfg)
        envoy = Envoy(standin.port, config_name="ext_proc.yaml", heavy_port=ext.port, mutate=mutate)
        yield request.param, envoy, ext
        envoy.stop()
        ext.stop()


def decision_log(deployment):
    kind, envoy, ext = deployment
    return envoy.logs() if kind == "wasm" else ext.logs()


def wait_for_log(deployment, needle):
    """Wait for a decision line holding each space-separated part of `needle`, in order (the
    filter's lines carry scan_us between them)."""
    pattern = re.compile(".*".join(re.escape(part) for part in needle.split(" ")))
    deadline = time.time() + 5
    while time.time() < deadline:
        if pattern.search(decision_log(deployment)):
            return
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not in the decision log:\n{decision_log(deployment)[-3000:]}")


def test_default_route_masks_with_the_standard_policy(deployment, upstream):
    _, envoy, _ = deployment
    status, headers, _ = envoy.post(PII)
    assert (status, headers["x-parapet-decision"]) == (200, "mask")
    assert b"jane.doe@example.com" not in upstream.received()[-1]["body"]
    wait_for_log(deployment, "decision=mask findings=[pii:email] policy=standard")


def test_support_route_blocks_with_the_strict_policy(deployment, upstream):
    _, envoy, _ = deployment
    status, headers, body = envoy.post(PII, path="/support/v1/chat/completions")
    assert (status, headers["x-parapet-decision"]) == (403, "block")
    assert "strict policy" in json.loads(body)["error"]["message"]
    # (Envoy may have opened the upstream request with the headers; no body byte follows.)
    assert not any(r["body"] for r in upstream.received()), "a blocked body reached the upstream"
    wait_for_log(deployment, "decision=block findings=[pii:email] policy=strict")
    # Clean text passes the strict route byte for byte.
    status, _, _ = envoy.post(CLEAN, path="/support/v1/chat/completions")
    assert status == 200 and upstream.received()[-1]["body"] == CLEAN


def test_tenant_header_selects_the_stricter_policy(deployment):
    _, envoy, _ = deployment
    status, headers, _ = envoy.post(PII, headers={"x-tenant-id": "acme"})
    assert (status, headers["x-parapet-decision"]) == (403, "block")
    # An unmapped tenant keeps the route's policy.
    status, headers, _ = envoy.post(PII, headers={"x-tenant-id": "globex"})
    assert (status, headers["x-parapet-decision"]) == (200, "mask")


def test_tenant_from_a_verified_jwt_claim(deployment):
    _, envoy, _ = deployment
    status, headers, _ = envoy.post(PII, headers={"authorization": f"Bearer {jwt({'tenant': 'acme'})}"})
    assert (status, headers["x-parapet-decision"]) == (403, "block")
    status, headers, _ = envoy.post(PII, headers={"authorization": f"Bearer {jwt({'tenant': 'globex'})}"})
    assert (status, headers["x-parapet-decision"]) == (200, "mask")
    # A forged token never reaches the guard's tenant map: jwt_authn refuses it.
    status, _, _ = envoy.post(PII, headers={"authorization": f"Bearer {jwt({'tenant': 'acme'}, key=b'x' * 32)}"})
    assert status == 401


def test_allow_listed_request_choice_is_honoured(deployment, upstream):
    _, envoy, _ = deployment
    status, headers, _ = envoy.post(PII, headers={"x-parapet-policy": "audit-only"})
    assert (status, headers["x-parapet-decision"]) == (200, "audit")
    assert upstream.received()[-1]["body"] == PII
    wait_for_log(deployment, "decision=audit findings=[pii:email] policy=audit-only")


def test_refused_request_choice_is_ignored_and_counted(deployment):
    kind, envoy, ext = deployment
    # `strict` is not on standard's allow-list; `audit-only` is not on strict's (the route's).
    status, headers, _ = envoy.post(PII, headers={"x-parapet-policy": "strict"})
    assert (status, headers["x-parapet-decision"]) == (200, "mask")
    wait_for_log(deployment, 'policy=standard policy_refused="strict"')
    status, headers, _ = envoy.post(PII, path="/support/v1/chat/completions", headers={"x-parapet-policy": "audit-only"})
    assert (status, headers["x-parapet-decision"]) == (403, "block")
    wait_for_log(deployment, 'policy=strict policy_refused="audit-only"')
    if kind == "wasm":
        assert envoy.stats()["wasmcustom.parapet.policy_refused"] >= 2
        assert envoy.stats()["wasmcustom.parapet.policy.strict.decision.block"] >= 1
    else:
        assert ext.metrics()["parapet_policy_refused_total"] >= 2


def test_a_route_naming_an_unknown_policy_is_refused(standin):
    """Route metadata that names no policy of the config fails closed, never the default."""
    for kind in ("wasm", "ext_proc"):
        ext = None
        if kind == "wasm":
            envoy = Envoy(standin.port, config_name="routes.yaml", mutate=lambda c: support_route(c, "stirct", "/typo/"))
        else:
            ext = ExtProc(policy=POLICY, heavy=False)
            envoy = Envoy(standin.port, config_name="ext_proc.yaml", heavy_port=ext.port,
                          mutate=lambda c: support_route(c, "stirct", "/typo/"))
        try:
            standin.clear()
            status, _, body = envoy.post(CLEAN, path="/typo/v1/chat/completions")
            assert status == 500, (kind, status, body)
            assert json.loads(body)["error"]["code"] == "guardrail_error"
            assert not any(r["body"] for r in standin.received())
            time.sleep(0.2)
            log = envoy.logs() if ext is None else ext.logs()
            assert "names unknown policy `stirct`" in log
        finally:
            envoy.stop()
            if ext:
                ext.stop()


def test_routes_config_embeds_the_routes_policy():
    [wf] = list(wasm_filters(load_envoy_config("routes.yaml")))
    assert json.loads(wf["configuration"]["value"]) == POLICY


def test_unknown_names_are_refused_with_the_field(tmp_path):
    bad = copy.deepcopy(POLICY)
    bad["selection"]["tenant"]["policies"]["acme"] = "strikt"
    cfg = load_envoy_config("routes.yaml")
    for wf in wasm_filters(cfg):
        wf["configuration"]["value"] = json.dumps(bad)
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    r = validate_config(path)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "selection.tenant.policies.acme: unknown policy `strikt`" in out, out
    (tmp_path / "p.json").write_text(json.dumps(bad))
    r = subprocess.run([str(PARAPET), "validate", str(tmp_path / "p.json")], capture_output=True, text=True)
    assert r.returncode == 1 and "selection.tenant.policies.acme: unknown policy `strikt`" in r.stdout


# The JSON Schema.

def schema_validator():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


def test_schema_file_is_what_the_config_types_generate():
    out = subprocess.run([str(PARAPET), "schema"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == SCHEMA, "schema/parapet-policy.schema.json is stale: run `parapet schema > schema/parapet-policy.schema.json`"


def shipped_policies():
    docs = {"core/data/default_policy.json": json.loads((ROOT / "core/data/default_policy.json").read_text())}
    for p in sorted((ROOT / "envoy" / "policies").glob("*.yaml")):
        docs[str(p.relative_to(ROOT))] = yaml.safe_load(p.read_text())
    for p in sorted((ROOT / "envoy").glob("*.yaml")):
        for i, wf in enumerate(wasm_filters(load_envoy_config(p.name))):
            value = wf["configuration"]["value"]
            if value.strip():
                docs[f"{p.name} filter {i}"] = json.loads(value)
    for p in sorted((ROOT / "envoy" / "istio").glob("*.yaml")):
        for doc in yaml.safe_load_all(p.read_text()):
            if doc and doc.get("kind") == "WasmPlugin":
                docs[f"{p.name} {doc['metadata']['name']}"] = doc["spec"]["pluginConfig"]
    return docs


def test_every_shipped_policy_validates_against_the_schema():
    v = schema_validator()
    docs = shipped_policies()
    assert len(docs) >= 8, docs.keys()
    for name, doc in docs.items():
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in v.iter_errors(doc)]
        assert not errors, (name, errors)


@pytest.mark.parametrize("bad", [
    {"version": 1, "guards": [{"id": "a", "detector": {"type": "pii", "entities": ["emial"]}, "action": "mask"}]},
    {"version": 1, "guards": [{"id": "a", "detector": {"type": "nope"}, "action": "block"}]},
    {"version": 1, "guards": [{"id": "a", "detector": {"type": "secrets", "kinds": ["aws_acces_key"]}, "action": "block"}]},
    {"version": 1, "guards": [], "gaurds": []},
    {"version": 1, "policies": {"a": {"guards": [{"id": "x", "detector": {"type": "pii"}, "action": "explode"}]}}},
    {"version": 1, "policies": {"a": {"guards": []}}, "selection": {"tenant": {"haeder": "x", "policies": {}}}},
    {"version": 1, "policies": {"a b": {"guards": []}}},
])
def test_schema_and_validate_both_refuse_bad_configs(bad, tmp_path):
    # (a misspelt secret kind: the schema lists every kind the secrets detector knows)
    assert list(schema_validator().iter_errors(bad)), bad
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    r = subprocess.run([str(PARAPET), "validate", str(tmp_path / "bad.json")], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout
