"""Register and move experiments from a notebook in a data sandbox.

    from sandbox_client import registry
    exp = registry.register(title="WOZ-model", purpose="policy-research")
    exp.amend(risks="...", proportionality="...", reason="...")
    exp.transition("approved", reason="...")   # approved, stopped, in_production: reason required

Authenticates with the server's JUPYTERHUB_API_TOKEN; records the versions and
checksums of the datasets mounted under /data at registration.
"""

from . import outputs
from .client import Experiment, Registry, RegistryError, registry

__all__ = ["Experiment", "Registry", "RegistryError", "outputs", "registry"]
