# Rendered by data-sandbox; do not edit. All settings live in hub.json beside
# this file, secrets in the 0600 files it names.
# mypy: ignore-errors
import os

from sandbox.hub.runtime import configure

configure(get_config(), os.path.join(os.path.dirname(os.path.abspath(__file__)), "hub.json"))  # noqa: F821
