"""Translations (gettext catalogs managed with Babel) and locale-aware formatting."""
