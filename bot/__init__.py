"""Buurtbot: a multilingual chatbot for resident participation in neighbourhoods."""

__version__ = "0.1.0"
