"""Deterministic synthetic data for the demo organisation (Gemeente Voorbeeld).

``python -m sandbox.devtools.demo_data config/datasets`` rewrites the three CSV files
byte for byte; the data cards in ``config/datasets/`` carry their sha256.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 20240501
WIJKEN = [
    ("WK999901", "Centrum"),
    ("WK999902", "Oude Haven"),
    ("WK999903", "Molenwijk"),
    ("WK999904", "Parkzoom"),
    ("WK999905", "De Akkers"),
    ("WK999906", "Stationsbuurt"),
    ("WK999907", "Vogelbuurt"),
    ("WK999908", "Rivierenwijk"),
    ("WK999909", "Bloemenbuurt"),
    ("WK999910", "Heidepark"),
    ("WK999911", "Kanaalzone"),
    ("WK999912", "Buitengebied"),
]
CATEGORIEEN = ["afval", "verlichting", "groen", "bestrating", "verkeer", "overlast", "riolering"]
STATUSSEN = ["afgehandeld", "afgehandeld", "afgehandeld", "in behandeling", "gemeld"]


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def wijken() -> bytes:
    rng = random.Random(SEED)
    rows: list[list[object]] = []
    for code, naam in WIJKEN:
        inwoners = rng.randrange(1800, 14000)
        rows.append(
            [
                code,
                naam,
                inwoners,
                int(inwoners / rng.uniform(1.8, 2.6)),
                rng.randrange(190, 520) * 1000,
                round(rng.uniform(40, 900), 1),
            ]
        )
    header = [
        "wijk_code",
        "wijk_naam",
        "inwoners",
        "huishoudens",
        "gemiddelde_woz",
        "oppervlakte_ha",
    ]
    return _csv(header, rows)


def meldingen(count: int = 1200) -> bytes:
    rng = random.Random(SEED + 1)
    start = date(2024, 1, 1)
    rows: list[list[object]] = []
    for number in range(1, count + 1):
        status = rng.choice(STATUSSEN)
        doorlooptijd = rng.randrange(0, 45) if status == "afgehandeld" else ""
        rows.append(
            [
                f"MOR-2024-{number:05d}",
                (start + timedelta(days=rng.randrange(366))).isoformat(),
                rng.choice(CATEGORIEEN),
                rng.choice(WIJKEN)[0],
                status,
                doorlooptijd,
            ]
        )
    header = ["melding_id", "datum", "categorie", "wijk_code", "status", "doorlooptijd_dagen"]
    return _csv(header, rows)


def woz(count: int = 2000) -> bytes:
    rng = random.Random(SEED + 2)
    rows: list[list[object]] = []
    for number in range(1, count + 1):
        owner = hashlib.sha256(f"demo-salt:{rng.randrange(10**9)}".encode()).hexdigest()[:16]
        oppervlakte = rng.randrange(35, 260)
        bouwjaar = rng.randrange(1900, 2024)
        waarde = int(oppervlakte * rng.uniform(2600, 5200) / 1000) * 1000
        rows.append([100000 + number, owner, rng.choice(WIJKEN)[0], bouwjaar, oppervlakte, waarde])
    header = [
        "object_id",
        "eigenaar_pseudoniem",
        "wijk_code",
        "bouwjaar",
        "oppervlakte_m2",
        "woz_waarde",
    ]
    return _csv(header, rows)


FILES = {
    "cbs-wijken-2024/wijken-2024.csv": wijken,
    "meldingen-openbare-ruimte-2024/meldingen-2024.csv": meldingen,
    "woz-2024/woz-2024.csv": woz,
}


def write(datasets_dir: Path) -> dict[str, str]:
    """Write every demo file; return relative path -> sha256."""
    checksums = {}
    for relative, make in FILES.items():
        content = make()
        target = datasets_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        checksums[relative] = hashlib.sha256(content).hexdigest()
    return checksums


if __name__ == "__main__":
    for path, digest in write(
        Path(sys.argv[1] if len(sys.argv) > 1 else "config/datasets")
    ).items():
        print(f"{digest}  {path}")
