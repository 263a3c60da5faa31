"""The deployment layout (deploy/), validated offline: no cluster, no Istio, no Envoy.

- deploy/kubernetes/*.yaml: every document against Kubernetes' own OpenAPI schemas (PyPI
  `kubernetes-validate`, which bundles them: no network), strict (unknown fields rejected), at
  the oldest and newest Kubernetes versions we state support for (K8S_VERSIONS);
- deploy/istio/*.yaml: WasmPlugin, DestinationRule, EnvoyFilter against the JSON schemas in
  deploy/schema/ (themselves checked with `check_schema`), and the EnvoyFilter's ext_proc filter
  against deploy/schema/ext-proc-filter.schema.json;
- how the pieces fit: probes ask ext-proc's health service names on its gRPC port; the grace
  period outlasts drain_seconds; the config's keys are fields ext-proc knows; the pod template's
  config hash matches the ConfigMap; the policies equal envoy/policies/cascade.yaml; the Istio
  cluster names match the Service; the EnvoyFilter's ext_proc config is envoy/ext_proc.yaml's;
- the filter's OCI image (scripts/wasm-image.py): the WasmPlugin's pins equal the digest
  recomputed from deploy/istio/filter-image.lock.json; a build from the built .wasm is a valid,
  deterministic OCI image layout in Istio's Wasm image format.

Every validator also gets a mutated document it must reject.
"""
import copy
import hashlib
import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
ISTIO = DEPLOY / "istio"
SCHEMA = DEPLOY / "schema"
WASM = ROOT / "target/wasm32-wasip1/release/parapet_filter.wasm"
LOCK = ISTIO / "filter-image.lock.json"
CASCADE = ROOT / "envoy/policies/cascade.yaml"

# The Kubernetes versions the manifests are checked against: 1.29 (gRPC probes GA since 1.27,
# native sidecars on by default since 1.29) and the newest kubernetes-validate bundles.
K8S_VERSIONS = ("1.29.0", "1.37.0")

ISTIO_SCHEMAS = {
    "WasmPlugin": "wasmplugin.schema.json",
    "DestinationRule": "destinationrule.schema.json",
    "EnvoyFilter": "envoyfilter.schema.json",
}


def load_docs(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def k8s_docs():
    return {p.name: load_docs(p) for p in sorted(K8S.glob("*.yaml")) if p.name != "kustomization.yaml"}


def istio_docs():
    return {p.name: load_docs(p) for p in sorted(ISTIO.glob("*.yaml"))}


def one(docs, kind):
    found = [d for ds in docs.values() for d in ds if d["kind"] == kind]
    assert len(found) == 1, f"want one {kind}, found {len(found)}"
    return found[0]


def wasm_image():
    spec = importlib.util.spec_from_file_location("wasm_image", ROOT / "scripts/wasm-image.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def istio_cluster(service):
    """Istio's name for a Service port's outbound cluster."""
    port = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
    m = service["metadata"]
    return f"outbound|{port['port']}||{m['name']}.{m['namespace']}.svc.cluster.local"


def config_sha256(configmap):
    return hashlib.sha256(json.dumps(configmap["data"], sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def struct_fields(path, struct):
    """The field names of a Rust struct (ext-proc's config: serde deny_unknown_fields)."""
    src = path.read_text()
    body = re.search(r"pub struct " + struct + r" \{(.*?)\n\}", src, re.S)
    assert body, f"{path}: no struct {struct}"
    return set(re.findall(r"^\s*pub (\w+):", body.group(1), re.M))


def service_config(configmap):
    return yaml.safe_load(configmap["data"]["parapet-ext-proc.yaml"])


# --- Kubernetes' own schemas ----------------------------------------------------------------

def k8s_validate(doc, version):
    kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_manifests_match_the_api_schemas(version):
    kinds = []
    for name, docs in k8s_docs().items():
        for d in docs:
            try:
                k8s_validate(d, version)
            except kubernetes_validate.ValidationError as e:
                pytest.fail(f"{name}: {d['kind']}/{d['metadata']['name']}: {e.message} at {list(e.path)}")
            kinds.append(d["kind"])
    assert sorted(kinds) == sorted(["Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service",
                                    "HorizontalPodAutoscaler", "PodDisruptionBudget"])


def test_kubernetes_validate_works_offline_and_rejects_bad_documents():
    # The schemas ship inside the wheel (kubernetes_validate/kubernetes-json-schema/).
    assert "1.37.0" in kubernetes_validate.utils.all_versions()
    dep = one(k8s_docs(), "Deployment")
    misspelt = copy.deepcopy(dep)
    c = misspelt["spec"]["template"]["spec"]["containers"][0]
    c["securityContext"]["readonlyRootFilesystem"] = c["securityContext"].pop("readOnlyRootFilesystem")
    wrong_type = copy.deepcopy(dep)
    wrong_type["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["port"] = "grpc"
    missing = copy.deepcopy(dep)
    del missing["spec"]["template"]["spec"]["containers"][0]["name"]
    bad_pdb = copy.deepcopy(one(k8s_docs(), "PodDisruptionBudget"))
    bad_pdb["apiVersion"] = "policy/v1"
    bad_pdb["spec"]["maxUnavailable"] = [1]
    for bad in (misspelt, wrong_type, missing, bad_pdb):
        with pytest.raises(kubernetes_validate.ValidationError):
            k8s_validate(bad, K8S_VERSIONS[-1])


def test_kustomization_lists_every_manifest():
    k = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(k["resources"]) == sorted(k8s_docs())
    dep = one(k8s_docs(), "Deployment")
    image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    assert any(image.split("@")[0].rsplit(":", 1)[0] == i["name"] for i in k["images"])
    assert {d["metadata"].get("namespace", k["namespace"]) for ds in k8s_docs().values() for d in ds
            if d["kind"] != "Namespace"} == {k["namespace"]}


# --- How the Kubernetes pieces fit -------------------------------------------------------------

def check_ext_proc_workload(docs):
    dep, cm, svc = one(docs, "Deployment"), one(docs, "ConfigMap"), one(docs, "Service")
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    cfg = service_config(cm)

    # The config's keys are fields ext-proc's config knows (it denies unknown fields).
    known = struct_fields(ROOT / "ext-proc/src/config.rs", "ServiceConfig")
    assert set(cfg) <= known, f"unknown config keys {set(cfg) - known}"
    heavy_known = struct_fields(ROOT / "ext-proc/src/heavy/mod.rs", "HeavyConfig")
    assert set(cfg["heavy"]) <= heavy_known, f"unknown heavy keys {set(cfg['heavy']) - heavy_known}"

    # gRPC on all interfaces, on the container's `grpc` port; the HTTP API on localhost.
    host, port = cfg["listen"].rsplit(":", 1)
    assert host == "0.0.0.0"
    (grpc_port,) = [p["containerPort"] for p in c["ports"] if p["name"] == "grpc"]
    assert int(port) == grpc_port
    assert cfg["http_listen"].startswith("127.0.0.1:")

    # Probes: ext-proc's grpc.health.v1 service names, on the gRPC port.
    for probe, service in (("readinessProbe", "readiness"), ("livenessProbe", "liveness"), ("startupProbe", "liveness")):
        assert c[probe]["grpc"] == {"port": grpc_port, "service": service}, probe

    # Shutdown: the grace period outlasts ext-proc's whole drain (lame duck included).
    assert pod["terminationGracePeriodSeconds"] > cfg["drain_seconds"]
    assert cfg.get("lame_duck_seconds", 0) < cfg["drain_seconds"]

    # The config mount: --config and the policy are files of the mounted ConfigMap.
    args = c["args"]
    config_path = Path(args[args.index("--config") + 1])
    (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == str(config_path.parent)]
    assert mount["readOnly"] is True
    (vol,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert vol["configMap"]["name"] == cm["metadata"]["name"]
    assert config_path.name in cm["data"]
    assert Path(cfg["policy"]).parent == config_path.parent and Path(cfg["policy"]).name in cm["data"]
    # Models and ONNX Runtime come from the image (deploy/Containerfile), not from a volume.
    assert cfg["heavy"]["models_dir"].startswith("/opt/parapet/")
    assert cfg["heavy"]["ort_dylib"].startswith("/opt/parapet/")
    assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"])

    # A config change rolls the pods.
    assert dep["spec"]["template"]["metadata"]["annotations"]["parapet.dev/config-sha256"] == config_sha256(cm), \
        f"set parapet.dev/config-sha256 to {config_sha256(cm)}"

    # Hardening and sizing.
    for ctx in (pod["securityContext"], c["securityContext"]):
        assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == 65532
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind])
    assert cfg["heavy"]["intra_threads"] <= int(c["resources"]["limits"]["cpu"])

    # Service, HPA and PDB all point at these pods.
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    (sp,) = svc["spec"]["ports"]
    assert sp["name"] == "grpc" and sp["appProtocol"] == "grpc" and sp["port"] == grpc_port
    assert sp["targetPort"] in ("grpc", grpc_port)
    hpa, pdb = one(docs, "HorizontalPodAutoscaler"), one(docs, "PodDisruptionBudget")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": dep["metadata"]["name"]}
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert hpa["spec"]["minReplicas"] >= 2 and pdb["spec"].get("maxUnavailable", 1) == 1


def test_ext_proc_workload_fits_together():
    check_ext_proc_workload(k8s_docs())


def _mutate(docs, kind, fn):
    docs = copy.deepcopy(docs)
    fn(next(d for ds in docs.values() for d in ds if d["kind"] == kind))
    return docs


def _set_config(key, value):
    def fn(cm):
        cfg = yaml.safe_load(cm["data"]["parapet-ext-proc.yaml"])
        cfg[key] = value
        cm["data"]["parapet-ext-proc.yaml"] = yaml.safe_dump(cfg)
    return fn


@pytest.mark.parametrize("kind,mutation", [
    ("Deployment", lambda d: d["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=20)),
    ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"].update(service="ready")),
    ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["grpc"].update(port=50052)),
    ("Deployment", lambda d: d["spec"]["template"]["metadata"]["annotations"].update({"parapet.dev/config-sha256": "0" * 64})),
    ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False)),
    ("ConfigMap", _set_config("drain_seconds", 45)),
    ("ConfigMap", _set_config("listen", "127.0.0.1:50051")),
    ("ConfigMap", _set_config("drain_secs", 10)),
    ("Service", lambda s: s["spec"]["ports"][0].update(port=50052)),
    ("HorizontalPodAutoscaler", lambda h: h["spec"]["scaleTargetRef"].update(name="other")),
])
def test_ext_proc_workload_check_rejects(kind, mutation):
    with pytest.raises(AssertionError):
        check_ext_proc_workload(_mutate(k8s_docs(), kind, mutation))


def test_configmap_policy_is_the_cascade_policy():
    cm = one(k8s_docs(), "ConfigMap")
    policy = yaml.safe_load(cm["data"]["policy.yaml"])
    assert policy == yaml.safe_load(CASCADE.read_text()), "deploy/kubernetes/configmap.yaml: copy envoy/policies/cascade.yaml"


# --- Istio ------------------------------------------------------------------------------------

@pytest.mark.parametrize("schema", sorted(p.name for p in SCHEMA.glob("*.schema.json")))
def test_deploy_schemas_are_valid_json_schemas(schema):
    s = json.loads((SCHEMA / schema).read_text())
    jsonschema.Draft202012Validator.check_schema(s)


def istio_validate(doc):
    schema = json.loads((SCHEMA / ISTIO_SCHEMAS[doc["kind"]]).read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_istio_manifests_match_their_schemas():
    kinds = []
    for name, docs in istio_docs().items():
        for d in docs:
            assert d["kind"] in ISTIO_SCHEMAS, f"{name}: no schema for {d['kind']}"
            istio_validate(d)
            kinds.append(d["kind"])
    assert sorted(kinds) == ["DestinationRule", "EnvoyFilter", "WasmPlugin"]


@pytest.mark.parametrize("kind,mutation", [
    ("WasmPlugin", lambda d: d["spec"].update(failStrategy="FAIL_SOMETIMES")),
    ("WasmPlugin", lambda d: d["spec"].update(sha256=d["spec"]["sha256"].upper())),
    ("WasmPlugin", lambda d: d["spec"].update(pluginconfig=d["spec"].pop("pluginConfig"))),
    ("DestinationRule", lambda d: d["spec"]["trafficPolicy"]["connectionPool"]["http"].update(http2MaxRequest=1)),
    ("DestinationRule", lambda d: d["spec"]["trafficPolicy"]["outlierDetection"].update(interval="5 seconds")),
    ("EnvoyFilter", lambda d: d["spec"]["configPatches"][0].update(applyTo="HTTP_FILTERS")),
    ("EnvoyFilter", lambda d: d["spec"]["configPatches"][0]["match"].update(context="SIDECAR")),
])
def test_istio_schemas_reject(kind, mutation):
    docs = _mutate(istio_docs(), kind, mutation)
    with pytest.raises(jsonschema.ValidationError):
        istio_validate(one(docs, kind))


def check_envoyfilter(istio, k8s):
    ef, svc = one(istio, "EnvoyFilter"), one(k8s, "Service")
    (patch,) = ef["spec"]["configPatches"]
    assert patch["applyTo"] == "HTTP_FILTER" and patch["patch"]["operation"] == "INSERT_BEFORE"
    assert patch["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"] == "envoy.filters.http.router"
    value = patch["patch"]["value"]
    jsonschema.Draft202012Validator(json.loads((SCHEMA / "ext-proc-filter.schema.json").read_text())).validate(value)
    tc = value["typed_config"]
    assert tc["grpc_service"]["envoy_grpc"]["cluster_name"] == istio_cluster(svc)
    assert tc["failure_mode_allow"] is False
    # The rest is envoy/ext_proc.yaml's ext_proc filter, field for field.
    envoy = yaml.safe_load((ROOT / "envoy/ext_proc.yaml").read_text())
    hcm = envoy["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    (reference,) = [f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.ext_proc"]
    ours = copy.deepcopy(value)
    ours["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"] = \
        reference["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"]
    assert ours == reference


def test_envoyfilter_runs_ext_proc_against_the_service():
    check_envoyfilter(istio_docs(), k8s_docs())


@pytest.mark.parametrize("docs,kind,mutation", [
    ("istio", "EnvoyFilter", lambda d: d["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["grpc_service"]
     ["envoy_grpc"].update(cluster_name="outbound|50051||parapet-ext-proc.default.svc.cluster.local")),
    ("istio", "EnvoyFilter", lambda d: d["spec"]["configPatches"][0]["patch"]["value"]["typed_config"].update(failure_mode_allow=True)),
    ("istio", "EnvoyFilter", lambda d: d["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["processing_mode"]
     .update(request_body_mode="STREAMED")),
    ("istio", "EnvoyFilter", lambda d: d["spec"]["configPatches"][0]["patch"]["value"]["typed_config"].update(failure_mode_alow=False)),
    ("k8s", "Service", lambda s: s["metadata"].update(name="ext-proc")),
])
def test_envoyfilter_check_rejects(docs, kind, mutation):
    istio, k8s = istio_docs(), k8s_docs()
    if docs == "istio":
        istio = _mutate(istio, kind, mutation)
    else:
        k8s = _mutate(k8s, kind, mutation)
    with pytest.raises((AssertionError, jsonschema.ValidationError)):
        check_envoyfilter(istio, k8s)


def check_destinationrule(istio, k8s):
    dr, svc = one(istio, "DestinationRule"), one(k8s, "Service")
    m = svc["metadata"]
    assert dr["spec"]["host"] == f"{m['name']}.{m['namespace']}.svc.cluster.local"
    tp = dr["spec"]["trafficPolicy"]
    assert {"tcp", "http"} <= set(tp["connectionPool"]) and tp["outlierDetection"]
    assert tp["connectionPool"]["http"].get("h2UpgradePolicy") != "DO_NOT_UPGRADE"


def test_destinationrule_is_for_the_service():
    check_destinationrule(istio_docs(), k8s_docs())
    with pytest.raises(AssertionError):
        check_destinationrule(istio_docs(), _mutate(k8s_docs(), "Service", lambda s: s["metadata"].update(namespace="x")))


def check_wasmplugin(istio, k8s, lock):
    wp, svc = one(istio, "WasmPlugin"), one(k8s, "Service")
    # The policy: cascade.yaml, escalating to Istio's cluster of the ext-proc Service.
    config = copy.deepcopy(wp["spec"]["pluginConfig"])
    assert config["escalation"]["cluster"] == istio_cluster(svc)
    cascade = yaml.safe_load(CASCADE.read_text())
    config["escalation"]["cluster"] = cascade["escalation"]["cluster"]
    assert config == cascade, "deploy/istio/wasmplugin.yaml: pluginConfig must be envoy/policies/cascade.yaml"
    # The image: both pins are the digest recomputed from the lock's wasm sha256 and size.
    digest = wasm_image().check_lock(lock)
    m = re.fullmatch(r"oci://[^@\s]+@(sha256:[0-9a-f]{64})", wp["spec"]["url"])
    assert m, f"url is not pinned by digest: {wp['spec']['url']}"
    assert m.group(1) == digest and wp["spec"]["sha256"] == digest.removeprefix("sha256:")
    assert wp["spec"]["failStrategy"] == "FAIL_CLOSE"


def test_wasmplugin_policy_and_pin():
    check_wasmplugin(istio_docs(), k8s_docs(), json.loads(LOCK.read_text()))


def test_wasmplugin_check_rejects():
    istio, k8s, lock = istio_docs(), k8s_docs(), json.loads(LOCK.read_text())
    other_size = copy.deepcopy(lock)
    other_size["wasm"]["size"] += 1
    with pytest.raises(ValueError):  # the lock's digest no longer follows from its wasm
        check_wasmplugin(istio, k8s, other_size)
    relocked = copy.deepcopy(other_size)
    relocked["manifest"]["digest"] = wasm_image().manifest_digest(relocked["wasm"]["sha256"], relocked["wasm"]["size"])
    mutations = [
        (istio, k8s, relocked),  # a consistent lock for another module: the pins no longer match
        (_mutate(istio, "WasmPlugin", lambda d: d["spec"].update(sha256="0" * 64)), k8s, lock),
        (_mutate(istio, "WasmPlugin", lambda d: d["spec"].update(url="oci://registry.example.com/parapet/filter:0.1.0")), k8s, lock),
        (_mutate(istio, "WasmPlugin", lambda d: d["spec"]["pluginConfig"]["escalation"].update(cluster="parapet_heavy")), k8s, lock),
        (_mutate(istio, "WasmPlugin", lambda d: d["spec"]["pluginConfig"]["guards"].pop()), k8s, lock),
    ]
    for i, k, lk in mutations:
        with pytest.raises(AssertionError):
            check_wasmplugin(i, k, lk)


# --- The filter's OCI image (scripts/wasm-image.py) --------------------------------------------

def check_oci_layout(out, wasm):
    """An OCI image layout holding one manifest in Istio's Wasm image format (oci variant)."""
    assert json.loads((out / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    blobs = out / "blobs" / "sha256"
    for b in blobs.iterdir():
        assert hashlib.sha256(b.read_bytes()).hexdigest() == b.name, f"blob {b.name} does not match its name"

    def blob(desc):
        algo, hexd = desc["digest"].split(":")
        data = (blobs / hexd).read_bytes()
        assert algo == "sha256" and len(data) == desc["size"]
        return data

    index = json.loads((out / "index.json").read_text())
    assert index["schemaVersion"] == 2
    (mdesc,) = index["manifests"]
    assert mdesc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    manifest = json.loads(blob(mdesc))
    assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == mdesc["mediaType"]
    assert manifest["config"]["mediaType"] == "application/vnd.module.wasm.config.v1+json"
    runtime = json.loads(blob(manifest["config"]))
    assert runtime["type"] == "envoy_proxy" and runtime["config"]["root_ids"]
    # Istio's fetcher (pkg/wasm/imagefetcher.go, extractOCIArtifactImage) wants exactly two
    # layers, one of them the raw module.
    assert [layer["mediaType"] for layer in manifest["layers"]] == [
        "application/vnd.module.wasm.config.v1+json", "application/vnd.module.wasm.content.layer.v1+wasm"]
    assert blob(manifest["layers"][0]) == blob(manifest["config"])
    assert blob(manifest["layers"][1]) == wasm
    assert sorted(b.name for b in blobs.iterdir()) == sorted(
        {d["digest"].split(":")[1] for d in [mdesc, manifest["config"], *manifest["layers"]]})
    return mdesc["digest"]


@pytest.mark.skipif(not WASM.exists(), reason="the filter is not built (scripts/setup.sh builds it)")
def test_wasm_oci_image_is_deterministic_and_well_formed(tmp_path):
    mod = wasm_image()
    wasm = WASM.read_bytes()
    a, b = tmp_path / "a", tmp_path / "b"
    lock_a, lock_b = mod.build(wasm, a, "0.1.0"), mod.build(wasm, b, "0.1.0")
    assert lock_a == lock_b
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}  # noqa: E731
    assert files(a) == files(b)
    digest = check_oci_layout(a, wasm)
    assert digest == lock_a["manifest"]["digest"] == mod.manifest_digest(hashlib.sha256(wasm).hexdigest(), len(wasm))
    assert mod.check_lock(lock_a) == digest
    # Rebuilding over an earlier layout replaces it (no stale blobs).
    mod.build(wasm + b"\0", a, "0.1.0")
    check_oci_layout(a, wasm + b"\0")


def test_wasm_oci_layout_check_rejects(tmp_path):
    mod = wasm_image()
    wasm = b"\0asm\x01\0\0\0" + bytes(range(256)) * 8
    out = tmp_path / "img"
    mod.build(wasm, out, "t")
    check_oci_layout(out, wasm)
    with pytest.raises(AssertionError):
        check_oci_layout(out, wasm + b"x")
    blob = next(p for p in (out / "blobs/sha256").iterdir() if p.stat().st_size == len(wasm))
    blob.write_bytes(wasm[:-1] + b"x")
    with pytest.raises(AssertionError):
        check_oci_layout(out, wasm)
    with pytest.raises(ValueError):
        mod.build(b"not wasm", tmp_path / "x", "t")
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep/file").write_text("mine")
    with pytest.raises(ValueError):  # never replaces a directory that is not an OCI layout
        mod.build(wasm, tmp_path / "keep", "t")
