"""The registry service: a hub-managed JupyterHub service at /services/registry/."""
