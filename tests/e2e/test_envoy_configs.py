"""Every Envoy config shipped in envoy/ passes `envoy --mode validate` (which also loads the .wasm
and compiles its plugin configuration), and the shipped default policy is the one embedded."""
import json
from pathlib import Path

import pytest

from harness import ROOT, WASM, load_envoy_config, validate_config, wasm_filters

CONFIGS = sorted(p.name for p in (ROOT / "envoy").glob("*.yaml"))


def test_there_are_configs():
    assert "parapet.yaml" in CONFIGS


@pytest.mark.parametrize("name", CONFIGS)
def test_config_validates(name):
    r = validate_config(ROOT / "envoy" / name)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", CONFIGS)
def test_embedded_policy_compiles_in_the_filter(name):
    # `--mode validate` runs the filter's on_configure; the log says what it loaded.
    r = validate_config(ROOT / "envoy" / name)
    assert "configuration rejected" not in r.stdout + r.stderr


@pytest.mark.parametrize("name", ["parapet.yaml", "bench.yaml"])
def test_shipped_configs_embed_the_default_policy(name):
    [wf] = list(wasm_filters(load_envoy_config(name)))
    embedded = json.loads(wf["configuration"]["value"])
    shipped = json.loads((ROOT / "core" / "data" / "default_policy.json").read_text())
    assert embedded == shipped
    assert wf["vm_config"]["code"]["local"]["filename"] == str(WASM.relative_to(ROOT))


def test_cascade_config_embeds_the_cascade_policy():
    import yaml
    [wf] = list(wasm_filters(load_envoy_config("cascade.yaml")))
    embedded = json.loads(wf["configuration"]["value"])
    assert embedded == yaml.safe_load((ROOT / "envoy" / "policies" / "cascade.yaml").read_text())
    clusters = {c["name"] for c in load_envoy_config("cascade.yaml")["static_resources"]["clusters"]}
    assert embedded["escalation"]["cluster"] in clusters


def test_policy_files_compile(tmp_path):
    """Every policy in envoy/policies/ compiles with the CLI (`parapet validate`)."""
    import subprocess
    from harness import PARAPET
    for p in sorted((ROOT / "envoy" / "policies").glob("*.yaml")):
        r = subprocess.run([str(PARAPET), "validate", str(p)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_ext_proc_config_loads_its_policy_and_models():
    """ext-proc/parapet-ext-proc.yaml (what scripts/up.sh runs) loads: policy, heavy models."""
    import subprocess
    from harness import EXT_PROC
    r = subprocess.run([str(EXT_PROC), "--config", "ext-proc/parapet-ext-proc.yaml", "--check"],
                       capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "heavy tier loaded" in r.stdout
