"""Every text the pages show, in English and Dutch: the hub's pages (``hub/pages.py``),
the registry service's pages (``registry/service/pages.py``) and the manager report
(``reporting/html.py``, also the dashboard).

``TEXTS`` holds one mapping per language, both with the same keys; ``text`` looks one
up. A text several pages show is stated once, under one key (``catalog`` is the hub's
link and the service's heading). A word that is a column head in one place and a label
in another is stored once, in lower case as in running text, and ``capital`` makes the
label ("owner" heads a column, "Owner" labels a fact). Texts are plain: the templates
escape them.
"""

from __future__ import annotations

LANGUAGES = ("en", "nl")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        # shown by more than one package
        "sandbox": "sandbox", "catalog": "Dataset catalog", "dashboard": "Dashboard",
        "experiments": "Experiments", "team": "team", "state": "state",
        # lifecycle states (registry/lifecycle.py)
        "proposed": "Proposed", "approved": "Approved", "exploring": "Exploring",
        "validated": "Validated", "in_production": "In production", "retired": "Retired",
        # the hub's pages
        "tier_0": "tier 0: open data",
        "tier_1": "tier 1: internal data, keep it inside the organisation",
        "tier_2": "tier 2: no internet, data stays here",
        "tier_3": "tier 3: personal data, no internet, data stays here",
        "expires": "expires on", "no_expiry": "no expiry date",
        "experiment_registry": "Experiment registry",
        "sign_in": "Sign in", "username": "Username", "password": "Password",
        "http_warning": "This hub is served over HTTP without TLS; "
        "ask IT to put it behind HTTPS before real data is used.",
        "start_server": "Start My Server", "my_server": "My Server",
        "stop_server": "Stop My Server", "starting": "Your server is starting up.",
        "redirect": "You will be redirected automatically when it's ready for you.",
        # the registry service's pages: header, experiments
        "registry": "Registry", "api": "API",
        "id": "id", "title": "title", "owner": "owner",
        "no_experiments": "No experiments yet.",
        "purpose": "purpose", "datasets": "datasets", "personal_data": "personal data",
        "human_intervention": "human intervention", "risks": "risks",
        "proportionality": "proportionality", "dpia": "DPIA",
        "yes": "yes", "no": "no",
        "versions": "Dataset versions at registration", "none_recorded": "none recorded",
        "lifecycle": "Lifecycle", "seq": "#", "at": "at", "from": "from", "to": "to",
        "actor": "actor", "reason": "reason", "all_experiments": "All experiments",
        "changes": "amended (from → to)",
        # the dataset catalog
        "version": "version", "tier": "tier", "steward": "steward",
        "classification": "classification", "legal_basis": "legal basis",
        "purposes": "purposes", "retention": "retention", "agreement": "agreement",
        "for_you": "for you", "valid_until": "valid until {date}", "expired": "expired",
        "mounted": "mounted at /data/{id}", "not_granted": "not granted",
        "lapsed": "granted, but not mounted: the agreement ended on {date}",
        "team_folders": "Team folders (derived data)",
        "team_folders_intro": "Each group's shared folder, read-write for its members only. "
        "What is in it is derived from the group's datasets and kept at their highest tier.",
        "folder": "folder", "group": "group", "derived_from": "derived from",
        "members": "members",
        "partners": "Members from other organisations", "member": "member",
        "organisation": "organisation",
        # the access log
        "access_log": "Access log",
        "access_log_intro": "Every grant and refusal of a dataset to a person at server start "
        "in this sandbox, newest first (at most the newest {n}).",
        "no_access": "Nothing logged yet.",
        "time": "time", "user": "user", "dataset": "dataset", "decision": "decision",
        "trace": "trace id", "granted": "granted", "refused": "refused",
        # the dashboard's filters
        "since": "since", "until": "until", "all": "all", "apply": "Apply",
        # the manager report
        "report_title": "Experiments to production", "generated": "Generated",
        "period": "Period", "period_all": "all time",
        "period_both": "{since} up to (not including) {until}",
        "period_since": "from {since}", "period_until": "before {until}",
        "registered": "Registered", "open": "Open", "promoted": "Promoted",
        "stopped": "Stopped", "conversion_rate": "Conversion rate",
        "median_lead_time_days": "Median lead time (days)",
        "funnel": "Funnel: experiments that ever entered each state",
        "conv_quarter": "Conversion rate per quarter (closed experiments)",
        "lead_dist": "Lead time to production (days), {n} promoted experiments",
        "per_team": "Promoted and stopped per team, with conversion rate",
        "by_team": "By team", "by_sandbox": "By sandbox", "by_quarter": "By quarter",
        "quarter": "quarter", "no_data": "No data for this period.",
        "figures": "Headline figures", "charts": "Charts", "tables": "Tables",
        # the output airlock (registry/service/outputs.py)
        "outputs": "Outputs", "output_requests": "Output requests", "request": "request",
        "requester": "requester", "checks": "checks", "approvals": "approvals",
        "files": "Files", "findings": "What the checks found", "reviews": "Reviews",
        "justification": "Justification", "approve": "Approve", "reject": "Reject",
        "override": "Override the failed checks (say why)",
        "download": "download", "preview": "Preview", "no_requests": "No output requests.",
        # an output request's state (registry/outputs.py STATES; the API keeps these names)
        "output_requested": "requested", "output_checked": "checked",
        "output_approved": "approved, not released", "output_rejected": "rejected",
        "output_released": "released", "output_refused": "refused at release",
        # the DCAT-AP-DONL catalog's own title and description (governance/dcat.py)
        "dcat_catalog_title": "Data catalog {name}",
        "dcat_catalog_description": "Curated datasets for the data sandboxes of {name}.",
    },
    "nl": {
        # shown by more than one package
        "sandbox": "sandbox", "catalog": "Datacatalogus", "dashboard": "Dashboard",
        "experiments": "Experimenten", "team": "team", "state": "fase",
        # lifecycle states (registry/lifecycle.py)
        "proposed": "Voorgesteld", "approved": "Goedgekeurd", "exploring": "Verkennend",
        "validated": "Gevalideerd", "in_production": "In productie", "retired": "Buiten gebruik",
        # the hub's pages
        "tier_0": "niveau 0: open data",
        "tier_1": "niveau 1: interne data, blijft binnen de organisatie",
        "tier_2": "niveau 2: geen internet, data blijft hier",
        "tier_3": "niveau 3: persoonsgegevens, geen internet, data blijft hier",
        "expires": "verloopt op", "no_expiry": "geen einddatum",
        "experiment_registry": "Experimentenregister",
        "sign_in": "Inloggen", "username": "Gebruikersnaam", "password": "Wachtwoord",
        "http_warning": "Deze hub draait over HTTP zonder TLS; "
        "vraag IT om HTTPS voordat echte data wordt gebruikt.",
        "start_server": "Mijn server starten", "my_server": "Mijn server",
        "stop_server": "Mijn server stoppen", "starting": "Je server wordt gestart.",
        "redirect": "Je wordt automatisch doorgestuurd zodra hij klaar is.",
        # the registry service's pages: header, experiments
        "registry": "Register", "api": "API",
        "id": "id", "title": "titel", "owner": "eigenaar",
        "no_experiments": "Nog geen experimenten.",
        "purpose": "doel", "datasets": "datasets", "personal_data": "persoonsgegevens",
        "human_intervention": "menselijke tussenkomst", "risks": "risico's",
        "proportionality": "proportionaliteit", "dpia": "DPIA",
        "yes": "ja", "no": "nee",
        "versions": "Datasetversies bij registratie", "none_recorded": "geen vastgelegd",
        "lifecycle": "Levensloop", "seq": "#", "at": "tijdstip", "from": "van", "to": "naar",
        "actor": "door", "reason": "reden", "all_experiments": "Alle experimenten",
        "changes": "gewijzigd (van → naar)",
        # the dataset catalog
        "version": "versie", "tier": "niveau", "steward": "datasteward",
        "classification": "classificatie", "legal_basis": "grondslag",
        "purposes": "doelen", "retention": "bewaartermijn", "agreement": "overeenkomst",
        "for_you": "voor jou", "valid_until": "geldig tot {date}", "expired": "verlopen",
        "mounted": "beschikbaar onder /data/{id}", "not_granted": "niet toegekend",
        "lapsed": "toegekend, maar niet beschikbaar: de overeenkomst liep af op {date}",
        "team_folders": "Teammappen (afgeleide gegevens)",
        "team_folders_intro": "De gedeelde map van elke groep, alleen voor haar leden te lezen "
        "en te schrijven. Wat erin staat is afgeleid van de datasets van de groep en valt onder "
        "hun hoogste niveau.",
        "folder": "map", "group": "groep", "derived_from": "afgeleid van",
        "members": "leden",
        "partners": "Leden van andere organisaties", "member": "lid",
        "organisation": "organisatie",
        # the access log
        "access_log": "Toegangslogboek",
        "access_log_intro": "Elke toekenning en weigering van een dataset aan een persoon bij "
        "het starten van een server in deze sandbox, nieuwste eerst (hoogstens de {n} "
        "nieuwste).",
        "no_access": "Nog niets gelogd.",
        "time": "tijdstip", "user": "gebruiker", "dataset": "dataset", "decision": "besluit",
        "trace": "trace-id", "granted": "toegekend", "refused": "geweigerd",
        # the dashboard's filters
        "since": "vanaf", "until": "tot", "all": "alle", "apply": "Toepassen",
        # the manager report
        "report_title": "Experimenten naar productie", "generated": "Gegenereerd",
        "period": "Periode", "period_all": "alle tijd",
        "period_both": "{since} tot (niet t/m) {until}",
        "period_since": "vanaf {since}", "period_until": "vóór {until}",
        "registered": "Geregistreerd", "open": "Lopend", "promoted": "In productie genomen",
        "stopped": "Gestopt", "conversion_rate": "Conversiegraad",
        "median_lead_time_days": "Mediane doorlooptijd (dagen)",
        "funnel": "Trechter: experimenten die elke fase ooit bereikten",
        "conv_quarter": "Conversiegraad per kwartaal (afgesloten experimenten)",
        "lead_dist": "Doorlooptijd tot productie (dagen), {n} experimenten in productie",
        "per_team": "In productie en gestopt per team, met conversiegraad",
        "by_team": "Per team", "by_sandbox": "Per sandbox", "by_quarter": "Per kwartaal",
        "quarter": "kwartaal", "no_data": "Geen gegevens voor deze periode.",
        "figures": "Kerncijfers", "charts": "Grafieken", "tables": "Tabellen",
        # the output airlock (registry/service/outputs.py)
        "outputs": "Uitvoer", "output_requests": "Uitvoeraanvragen", "request": "aanvraag",
        "requester": "aanvrager", "checks": "controles", "approvals": "goedkeuringen",
        "files": "Bestanden", "findings": "Wat de controles vonden", "reviews": "Beoordelingen",
        "justification": "Onderbouwing", "approve": "Goedkeuren", "reject": "Afwijzen",
        "override": "Negeer de gefaalde controles (zeg waarom)",
        "download": "downloaden", "preview": "Voorbeeld", "no_requests": "Geen uitvoeraanvragen.",
        # an output request's state (registry/outputs.py STATES; the API keeps these names)
        "output_requested": "aangevraagd", "output_checked": "gecontroleerd",
        "output_approved": "goedgekeurd, niet vrijgegeven", "output_rejected": "afgewezen",
        "output_released": "vrijgegeven", "output_refused": "geweigerd bij vrijgave",
        "dcat_catalog_title": "Datacatalogus {name}",
        "dcat_catalog_description": "Gecureerde datasets voor de data-sandboxes van {name}.",
    },
}  # fmt: skip


def text(lang: str, key: str, /, default: str | None = None, **values: object) -> str:
    """The text ``key`` in ``lang`` (one of ``LANGUAGES``), its ``{placeholders}`` filled
    from ``values``. A key without a text is an error, unless a ``default`` is given
    (a state or a report column the texts do not know is shown as it is)."""
    words = TEXTS[lang]
    found = words[key] if default is None else words.get(key, default)
    return found.format(**values) if values else found


def capital(words: str) -> str:
    """``words`` as a label shows them: the first letter a capital, the rest as it is
    ("DPIA" stays "DPIA")."""
    return words[:1].upper() + words[1:]
