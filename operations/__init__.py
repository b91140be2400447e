"""Operator tools over the reference deployment's stores: data-protection requests and
retention (services' database and stored conversations)."""
