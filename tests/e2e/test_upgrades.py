"""Upgraded connections (WebSocket: OpenAI's Realtime API, Gemini Live) through a real Envoy
with upgrades enabled, as Istio enables them by default.

The guard does not read WebSocket frames. Before, the filter held the client's frames waiting
for the end of a "body" that never comes, and the session hung. Now an upgrade follows
`limits.on_unrecognized` at its headers: refused in the API's shape (the default), or let
through with its frames never held, counted `skipped`.
"""
import asyncio
import json
import threading

import pytest
import websockets
from websockets.sync.client import connect

from harness import Envoy, ExtProc, free_port

SECRETS = {"id": "secrets", "detector": {"type": "secrets"}, "action": "block"}


@pytest.fixture(scope="module")
def echo_server():
    """A WebSocket server that echoes every message, on its own thread's event loop."""
    port, ready, loop = free_port(), threading.Event(), asyncio.new_event_loop()
    stop = loop.create_future()

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async def main():
        async with websockets.serve(echo, "127.0.0.1", port):
            ready.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield port
    loop.call_soon_threadsafe(stop.set_result, None)
    thread.join(10)
    loop.close()


def with_upgrades(cfg):
    for listener in cfg["static_resources"]["listeners"]:
        for chain in listener["filter_chains"]:
            for f in chain["filters"]:
                if f["name"].endswith("http_connection_manager"):
                    f["typed_config"]["upgrade_configs"] = [{"upgrade_type": "websocket"}]


@pytest.mark.parametrize("mode", ["wasm", "ext_proc"])
@pytest.mark.parametrize("on_unrecognized", ["block", "pass"])
def test_websocket_upgrade_follows_on_unrecognized(echo_server, mode, on_unrecognized):
    policy = {"version": 1, "limits": {"on_unrecognized": on_unrecognized}, "guards": [SECRETS]}
    ext = None
    e = None
    try:
        if mode == "wasm":
            e = Envoy(echo_server, policy=policy, mutate=with_upgrades)
        else:
            ext = ExtProc(policy=policy, heavy=False)
            e = Envoy(echo_server, config_name="ext_proc.yaml", heavy_port=ext.port, mutate=with_upgrades)
        url = f"ws://127.0.0.1:{e.port}/v1/realtime?model=m"
        event = json.dumps({"type": "conversation.item.create",
                            "item": {"type": "message", "role": "user",
                                     "content": [{"type": "input_text", "text": "hello"}]}})
        if on_unrecognized == "block":
            with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
                connect(url, open_timeout=10)
            assert refused.value.response.status_code == 400
            assert json.loads(refused.value.response.body)["error"]["code"] == "unsupported_upgrade"
        else:
            with connect(url, open_timeout=10) as ws:
                for _ in range(3):
                    ws.send(event)
                    assert ws.recv(timeout=5) == event
        decision = "block" if on_unrecognized == "block" else "skipped"
        if mode == "wasm":
            assert e.stats()[f"wasmcustom.parapet.decision.{decision}"] == 1
        else:
            key = f'parapet_ext_proc_decisions_total{{direction="request",decision="{decision}"}}'
            assert ext.metrics()[key] == 1
    finally:
        if e:
            e.stop()
        if ext:
            ext.stop()
