"""Renderers of saved results: terminal tables (terminal.py) and HTML (html.py)."""
