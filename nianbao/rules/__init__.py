"""The rules: the catalogue (``catalogue.toml``) and what every rule family shares (:mod:`.base`)."""
