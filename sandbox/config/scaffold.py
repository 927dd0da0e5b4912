"""``sandbox init DIR``: a small config that validates and provisions as is."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import InvalidInput

SANDBOX_YAML = """\
# A data sandbox. Reference: the data-sandbox README and docs/configuration.md.
organisation:
  name: My Organisation
  kind: government            # government | other
  language: nl                # nl | en | fy | de: of the data unless a data card says
  # for `sandbox export algoritmeregister` and `sandbox datasets export`:
  contact_email: algorithms@example.org
  website: https://www.example.org
  catalog_url: https://data.example.org/datasets
  # the publisher of the data cards (DCAT-AP-DONL): your TOOI id from
  # identifier.overheid.nl (gm0000 is a placeholder); without one, give each card a publisher
  tooi: https://identifier.overheid.nl/tooi/id/gemeente/gm0000

sandboxes:
  - name: first
    description: A first experiment environment
    max_tier: 1               # highest dataset tier this sandbox may hold
    expires: {expires}
    spawner: docker           # docker | swarm | local
    lang: en                  # en | nl: language of the hub pages and dashboard
    image: notebook
    network: {{egress: true}}
    resources: {{memory: 2G, cpus: 1.0}}
    idle_timeout: 1h
    hub: {{ip: 127.0.0.1, port: {port}}}
    auth: {{type: shared-password}}
    admins: [admin]
    groups:
      - name: analysts
        role: analyst
        members: [analyst1]
        grants:
          - dataset: example-public
            purpose: exploration

datasets: datasets/
"""

CARD_YAML = """\
id: example-public
title: Example public dataset
description: A tiny public table to try the sandbox with.
version: "1"
owner: Data team
steward: steward@example.org
contact_point: data@example.org
license: CC0-1.0
access_rights: publiek
themes: [bestuur]             # TaxonomieBeleidsagenda themes (docs/dcat-ap-donl.md)
classification:
  rubricering: ongerubriceerd
  biv: {{beschikbaarheid: laag, integriteit: laag, vertrouwelijkheid: laag}}
personal_data:
  kind: none
purposes: [exploration]
retention: {{period: P1Y, action: destroy, basis: "example data"}}
language: [en]
issued: 2024-01-01
modified: 2024-01-01
files:
  - path: example.csv
    sha256: {sha256}
    schema:
      fields:
        - {{name: year, type: integer}}
        - {{name: value, type: number}}
"""

EXAMPLE_CSV = "year,value\n2022,1.5\n2023,2.25\n2024,3.0\n"


def scaffold(directory: Path, port: int = 8000, expires: str = "2027-12-31") -> list[Path]:
    """Write the example; refuse (changing nothing) if a sandbox.yaml is there."""
    target = directory / "sandbox.yaml"
    if target.exists():
        raise InvalidInput(f"{target}: already exists; not overwriting it")
    data = EXAMPLE_CSV.encode()
    files = {
        target: SANDBOX_YAML.format(port=port, expires=expires).encode(),
        directory / "datasets" / "example-public.yaml": CARD_YAML.format(
            sha256=hashlib.sha256(data).hexdigest()
        ).encode(),
        directory / "datasets" / "example-public" / "example.csv": data,
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return list(files)
