"""`sandbox export z2jh`: the structure of the Helm values written."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from sandbox.cli import cli


def export(config: Path, tmp_path: Path) -> dict:
    out = tmp_path / "values.yaml"
    result = CliRunner().invoke(
        cli,
        ["-c", str(config), "export", "z2jh", "demo", "-o", str(out)],
        env={"SANDBOX_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text())


def test_profiles_mount_exactly_each_groups_grants_read_only(demo_copy: Path, tmp_path: Path):
    values = export(demo_copy, tmp_path)
    profiles = {p["slug"]: p for p in values["singleuser"]["profileList"]}
    assert set(profiles) == {"belastingen", "leefomgeving", "management", "data-office"}
    mounts = profiles["belastingen"]["kubespawner_override"]["volume_mounts"]
    assert [m["mountPath"] for m in mounts] == ["/data/cbs-wijken-2024", "/data/woz-2024"]
    assert all(m["readOnly"] for m in mounts)
    volumes = profiles["belastingen"]["kubespawner_override"]["volumes"]
    assert all(v["persistentVolumeClaim"]["readOnly"] for v in volumes)
    assert volumes[1]["persistentVolumeClaim"]["claimName"].startswith("dataset-woz-2024-2024-1-")
    assert profiles["management"]["kubespawner_override"]["volumes"] == []


def test_tier_2_gets_no_egress_hardening_and_culling(demo_copy: Path, tmp_path: Path):
    values = export(demo_copy, tmp_path)
    single = values["singleuser"]
    egress = single["networkPolicy"]["egressAllowRules"]
    assert single["networkPolicy"]["enabled"] is True
    assert not any(egress.values())
    # where KubeSpawner merges it into the container's securityContext
    security = values["hub"]["config"]["KubeSpawner"]["container_security_context"]
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["allowPrivilegeEscalation"] is False and security["runAsUser"] == 1000
    assert security["runAsNonRoot"] is True
    assert single["uid"] == 1000 and single["allowPrivilegeEscalation"] is False
    # a pod-level securityContext would drop fsGroup (extraPodConfig replaces it
    # whole) or, with runAsNonRoot, stop the chart's root init container
    assert "extraPodConfig" not in single
    assert "pod_security_context" not in values["hub"]["config"]["KubeSpawner"]
    assert single["memory"]["limit"] == 2 * 1024**3 and single["cpu"]["limit"] == 1.0
    assert values["cull"] == {"enabled": True, "timeout": 3600, "every": 600}
    assert "registry" in values["hub"]["services"]
    assert values["hub"]["config"]["Authenticator"]["admin_users"] == ["admin"]


def test_policy_violations_stop_the_export(demo_copy: Path, tmp_path: Path):
    demo_copy.write_text(demo_copy.read_text().replace("max_tier: 2", "max_tier: 1"))
    result = CliRunner().invoke(
        cli,
        ["-c", str(demo_copy), "export", "z2jh", "demo"],
        env={"SANDBOX_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.exit_code == 2 and "rule 1" in result.stderr
