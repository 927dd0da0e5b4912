"""data-sandbox: governed JupyterHub data-experimentation sandboxes from YAML."""

__version__ = "0.1.0"
