"""Billed cost from CUR 2.0: SQL rendering, views, engines' shared contract, reports."""
