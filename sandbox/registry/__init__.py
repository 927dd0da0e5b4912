"""The registry database: access log now; experiments and audit build on it."""
