"""Tokens: their claims and records (``model``), the keys that sign them and their
rotation, and introspection for the services that check them."""
