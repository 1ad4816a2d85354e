"""The local automation API (issue 20): FastAPI over the domain services, on 127.0.0.1.

`token.py` (the bearer token in the vault) loads without FastAPI, for `piper api token`;
the rest is imported only when an engine serves the API.
"""
