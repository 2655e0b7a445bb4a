"""The app's HTTP endpoints, one ``APIRouter`` per concern: ``pages`` (the HTML pages and the
upload form's POST), ``api`` (JSON: generate, papers, versions, merge, ratings, jobs) and
``files`` (downloads: paper assets, generated code, graph JSON). ``ROUTERS`` is the order in
which ``create_app`` includes them, which is the order the routes are matched in.
"""
from __future__ import annotations

from . import api, files, pages

ROUTERS = (pages.router, api.router, files.router)
