"""The hub process: its settings (hub.json), runtime, spawners, login, pages and templates."""
