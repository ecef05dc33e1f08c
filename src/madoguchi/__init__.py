"""Madoguchi: a self-hosted shared inbox for teams."""

__version__ = "0.1.0"
