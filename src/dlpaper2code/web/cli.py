"""Command line for the web app: ``serve`` and ``import-papers``.

Hooked into ``dlpaper2code`` by ``cli.py`` (``web.cli.add_parser(sub)``) and also
runnable alone: ``python -m dlpaper2code.web serve --port 8000``.
"""
from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("serve", help="run the catalog website and graph editor (FastAPI under uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", "-p", type=int, default=8000)
    p.add_argument("--db", default=None, help="SQLite file or SQLAlchemy URL (default results/web/catalog.sqlite, "
                                              "or $DLPAPER2CODE_DB)")
    p.add_argument("--data-dir", default=None, help="where uploads and their pipeline output go (default: beside the SQLite file)")
    p.add_argument("--import", dest="import_dirs", action="append", default=[], metavar="DIR",
                   help="import paper output folders from DIR before serving (repeatable)")
    p.add_argument("--max-upload-mb", type=int, default=20)
    p.add_argument("--workers", type=int, default=1, help="server processes (SQLite in WAL mode is shared safely)")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser("import-papers", help="import paper route output folders (results/papers/<paper>/) into the catalog")
    p.add_argument("dirs", nargs="*", default=["results/papers"], help="folders of paper outputs (default results/papers)")
    p.add_argument("--db", default=None, help="SQLite file or SQLAlchemy URL (default results/web/catalog.sqlite)")
    p.set_defaults(func=cmd_import)


def _import(db, dirs) -> int:
    from .importer import ImportError_, import_papers

    status = 0
    for d in dirs:
        try:
            done, problems = import_papers(db, d)
        except ImportError_ as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{d}: imported {len(done)} paper(s)")
        for p in problems:
            print(f"  skipped: {p}", file=sys.stderr)
    return status


def cmd_import(args) -> int:
    from . import default_db_url
    from .db import Database

    url = default_db_url(args.db)
    return _import(Database(url), args.dirs)


def cmd_serve(args) -> int:
    import uvicorn

    from . import default_db_url
    from .app import create_app
    from .db import Database

    url = default_db_url(args.db)
    if args.import_dirs:
        status = _import(Database(url), args.import_dirs)
        if status:
            return status
    print(f"dlpaper2code web: http://{args.host}:{args.port}/  (database {url})", flush=True)
    if args.workers > 1:
        import os

        Database(url)      # migrate once, before the workers start
        os.environ["DLPAPER2CODE_DB"] = url
        if args.data_dir:
            os.environ["DLPAPER2CODE_DATA_DIR"] = str(args.data_dir)
        os.environ["DLPAPER2CODE_MAX_UPLOAD"] = str(args.max_upload_mb << 20)
        uvicorn.run("dlpaper2code.web.app:app_from_env", factory=True, workers=args.workers, host=args.host,
                    port=args.port, log_level=args.log_level, access_log=False)
        return 0
    app = create_app(url, args.data_dir, max_upload_bytes=args.max_upload_mb << 20)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlpaper2code.web")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
