"""Thin translators between a platform and the core: platform event -> core call -> reply."""
