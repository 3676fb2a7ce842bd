"""Installed as ``dac.schemas``: the JSON schemas and catalogs dac reads (see dac/resources.py).

A regular package rather than a bare folder so that every install form, editable
ones included, imports it the same way and ``importlib.resources`` can open its files.
"""
