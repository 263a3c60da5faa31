"""Policy reload in a running Envoy: a new good policy takes effect, a bad one is refused and the
last good one keeps guarding traffic.

Envoy gets the shipped listener (envoy/parapet.yaml) through file-based LDS, so replacing the
file is a live listener update carrying a new plugin configuration, as a control plane would
push it.
"""
import copy
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from harness import WASM, envoy_binary, free_port, http, load_envoy_config, wait_for, wasm_filters


def policy(term):
    return {"version": 1, "decision_header": "x-parapet-decision",
            "guards": [{"id": "terms", "detector": {"type": "wordlist", "terms": [term]}, "action": "block"}]}


BAD = {"version": 1, "guards": [{"id": "bad", "detector": {"type": "regex", "patterns": [{"kind": "k", "pattern": "(("}]},
                                 "action": "block"}]}


class LdsEnvoy:
    def __init__(self, upstream_port, first_policy):
        base = load_envoy_config("parapet.yaml")
        self.port, self.admin = free_port(), free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="parapet-lds-"))
        self.listener = copy.deepcopy(base["static_resources"]["listeners"][0])
        self.listener["address"]["socket_address"]["port_value"] = self.port
        cluster = copy.deepcopy(base["static_resources"]["clusters"][0])
        cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"][
            "port_value"] = upstream_port
        self.lds = self.dir / "lds.yaml"
        self.version = 0
        self.push(first_policy)
        bootstrap = {
            "node": {"id": "parapet-test", "cluster": "parapet-test"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": self.admin}}},
            "dynamic_resources": {"lds_config": {"resource_api_version": "V3", "path_config_source": {"path": str(self.lds)}}},
            "static_resources": {"clusters": [cluster]},
        }
        cfg = self.dir / "bootstrap.yaml"
        cfg.write_text(yaml.safe_dump(bootstrap))
        self.log = self.dir / "envoy.log"
        self.proc = subprocess.Popen([envoy_binary(), "-c", str(cfg), "--disable-hot-restart", "--concurrency", "1",
                                      "-l", "info", "--log-path", str(self.log), "--file-flush-interval-msec", "50"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: http("GET", f"http://127.0.0.1:{self.admin}/ready", timeout=1)[0] == 200, what="envoy ready")

    def push(self, pol):
        listener = copy.deepcopy(self.listener)
        for wf in wasm_filters({"static_resources": {"listeners": [listener]}}):
            wf["vm_config"]["code"]["local"]["filename"] = str(WASM)
            wf["configuration"]["value"] = json.dumps(pol)
        self.version += 1
        doc = {"version_info": str(self.version), "resources": [
            {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", **listener}]}
        tmp = self.dir / f"lds.{self.version}.yaml"
        tmp.write_text(yaml.safe_dump(doc))
        os.replace(tmp, self.lds)  # Envoy watches for the file being moved into place

    def stat(self, name):
        _, _, body = http("GET", f"http://127.0.0.1:{self.admin}/stats?filter=^{name}$")
        for line in body.decode().splitlines():
            k, _, v = line.partition(": ")
            if k == name:
                return int(v)
        return 0

    def post(self, text):
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]}).encode()
        return http("POST", f"http://127.0.0.1:{self.port}/v1/chat/completions", body=body,
                    headers={"content-type": "application/json"})[0]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def test_good_reload_applies_and_bad_reload_keeps_last_good(standin):
    e = LdsEnvoy(standin.port, policy("alpha"))
    try:
        wait_for(lambda: e.post("hello") == 200, what="listener serving")
        assert e.post("say alpha") == 400

        # A good new policy takes effect.
        before = e.stat("listener_manager.lds.update_success")
        e.push(policy("beta"))
        wait_for(lambda: e.stat("listener_manager.lds.update_success") > before, what="good update applied")
        wait_for(lambda: e.post("say beta") == 400 and e.post("say alpha") == 200, what="new policy in force")

        # A policy that does not compile is refused; the last good one keeps guarding.
        rejected = e.stat("listener_manager.lds.update_rejected")
        e.push(BAD)
        wait_for(lambda: e.stat("listener_manager.lds.update_rejected") > rejected, what="bad update rejected")
        time.sleep(0.3)
        assert e.post("say beta") == 400
        assert e.post("hello") == 200
        wait_for(lambda: "guards[0].detector.patterns[0].pattern: invalid regex" in e.log.read_text(errors="replace"),
                 what="error logged with field path")
    finally:
        e.stop()
