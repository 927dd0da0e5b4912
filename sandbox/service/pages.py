"""Server-rendered HTML pages of the registry service (no scripts, no CDN)."""

from __future__ import annotations

from html import escape
from typing import Any

from ..registry.store import ExperimentView
from .access import Caller

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}
header{background:#154273;color:#fff;padding:.8rem 1.2rem}
header a{color:#fff;margin-right:1rem}
main{padding:1rem 1.2rem;max-width:70rem}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
.state{font-weight:600}
"""


def layout(config: dict[str, Any], who: Caller, body: str, root: str) -> str:
    roles = ", ".join(sorted(who.roles))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Registry - {escape(config['sandbox'])}</title><style>{STYLE}</style></head>"
        f"<body><header><strong>{escape(config['organisation'])}</strong> · sandbox "
        f"{escape(config['sandbox'])} · {escape(who.name)} ({escape(roles)})<br>"
        f"<a href='{root}'>Experiments</a><a href='{root}catalog'>Dataset catalog</a>"
        f"<a href='{root}dashboard'>Dashboard</a>"
        f"<a href='{root}api/openapi.json'>API</a></header><main>{body}</main></body></html>"
    )


def experiment_list(views: list[ExperimentView], root: str) -> str:
    rows = "".join(
        f"<tr><td><a href='{root}experiments/{escape(v.experiment.id)}'>"
        f"{escape(v.experiment.id)}</a></td><td>{escape(v.experiment.title)}</td>"
        f"<td>{escape(v.experiment.team)}</td><td>{escape(v.experiment.sandbox)}</td>"
        f"<td>{escape(v.experiment.owner)}</td><td class='state'>{escape(v.state)}</td></tr>"
        for v in views
    )
    return (
        "<h1>Experiments</h1><table id='experiments'><tr><th>id</th><th>title</th><th>team</th>"
        f"<th>sandbox</th><th>owner</th><th>state</th></tr>{rows}</table>"
        + ("" if views else "<p>No experiments yet.</p>")
    )


def experiment(view: ExperimentView, root: str) -> str:
    e = view.experiment
    facts = [
        ("Title", e.title),
        ("Team", e.team),
        ("Sandbox", e.sandbox),
        ("Owner", e.owner),
        ("Purpose", e.purpose),
        ("Datasets", ", ".join(e.datasets)),
        ("Personal data", "yes" if e.personal_data else "no"),
        ("Human intervention", e.human_intervention),
        ("Risks", e.risks),
        ("Proportionality", e.proportionality),
        ("DPIA", e.dpia_reference),
        ("State", view.state),
    ]
    rows = "".join(f"<tr><th>{k}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
    events = "".join(
        f"<tr><td>{ev.seq}</td><td>{escape(ev.at.isoformat())}</td>"
        f"<td>{escape(ev.from_state or '')}</td><td>{escape(ev.to_state)}</td>"
        f"<td>{escape(ev.actor)}</td><td>{escape(ev.reason)}</td></tr>"
        for ev in view.events
    )
    versions = "".join(
        f"<li>{escape(k)}: {escape(str(v))}</li>" for k, v in sorted(e.dataset_versions.items())
    )
    return (
        f"<h1>{escape(e.id)}: {escape(e.title)}</h1><table>{rows}</table>"
        f"<h2>Dataset versions at registration</h2><ul>{versions or '<li>none recorded</li>'}</ul>"
        "<h2>Lifecycle</h2><table id='events'><tr><th>#</th><th>at</th><th>from</th><th>to</th>"
        f"<th>actor</th><th>reason</th></tr>{events}</table>"
        f"<p><a href='{root}'>All experiments</a></p>"
    )


def catalog(config: dict[str, Any], who: Caller) -> str:
    granted = set(config["catalog"]["granted"].get(who.name, []))
    rows = []
    for card in config["catalog"]["datasets"]:
        use = f"mounted at /data/{escape(card['id'])}" if card["id"] in granted else "not granted"
        rows.append(
            f"<tr><td>{escape(card['id'])}</td><td>{escape(card['title'])}</td>"
            f"<td>{card['tier']}</td><td>{escape(card['owner'])}</td>"
            f"<td>{escape(', '.join(card['purposes']))}</td>"
            f"<td>{use}</td></tr>"
        )
    return (
        "<h1>Dataset catalog</h1><table id='catalog'><tr><th>id</th><th>title</th><th>tier</th>"
        f"<th>owner</th><th>purposes</th><th>for you</th></tr>{''.join(rows)}</table>"
    )


def filter_form(
    arguments: dict[str, str], teams: list[str], sandboxes: list[str], action: str
) -> str:
    def select(name: str, values: list[str]) -> str:
        chosen = arguments.get(name, "")
        options = "".join(
            f"<option value='{escape(v)}'{' selected' if v == chosen else ''}>{escape(v)}</option>"
            for v in values
        )
        everything = "<option value=''>all</option>"
        return f"<label>{name} <select name='{name}'>{everything}{options}</select></label>"

    def day(name: str) -> str:
        value = escape(arguments.get(name, ""))
        return f"<label>{name} <input type='date' name='{name}' value='{value}'></label>"

    return (
        f"<form id='filters' method='get' action='{escape(action)}'>"
        f"{day('since')} {day('until')} {select('team', teams)} {select('sandbox', sandboxes)} "
        "<button type='submit'>Apply</button></form>"
    )
