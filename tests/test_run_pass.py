"""The pass as plain Python: `run_pass` runs without Prefect (no flow, no API server)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT
from newsroom import SPORT, serve, visit_article, write_config

SCRIPT = """
import json, sys
from newswatch.config import load_config
from newswatch.pass_ import run_pass
stats = run_pass(load_config(sys.argv[1]), alerts_jsonl=sys.argv[2])
print(json.dumps({"stats": stats.as_dict(), "prefect": "prefect" in sys.modules}))
"""


def _run(cfg, alerts) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(cfg), str(alerts)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_run_pass_alerts_without_prefect(site, tmp_path):
    feed = serve(site, [visit_article(), SPORT])
    cfg = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Loopback Wire", "url": feed, "kind": "feed"}],
        token_env="NEWSWATCH_TEST_NO_TOKEN",  # unset: alerts go to stdout and the JSONL file
    )
    alerts = tmp_path / "alerts.jsonl"

    first = _run(cfg, alerts)
    assert first["prefect"] is False  # the core pass never imported Prefect
    assert first["stats"]["new_articles"] == 2 and first["stats"]["alerts_sent"] == 1
    (line,) = alerts.read_text().splitlines()
    alert = json.loads(line)
    assert alert["topic"] == "leader-foreign-visit" and "Kim" in json.dumps(alert)
