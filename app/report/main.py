"""``cityops report``: the health check report (城市体检报告) of a period, from the server's store,
as FILE.pdf and FILE.html beside it. Runs beside the server (it only reads)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from app.domain.evaluation import parse_period
from app.report.from_store import report_data
from app.server.config import ServerConfig, StoreNotOpened, open_existing_store
from app.storage.catalog_file import read_catalog


def _progress(what: str, fraction: float) -> None:
    print(f"[{round(100 * fraction):3d}%] {what}", flush=True)


def main(args: argparse.Namespace) -> int:
    """Write the report; 0 when written, 2 for a bad period, 1 when the store cannot be read."""
    now = time.time()
    try:
        period = parse_period(args.period, now)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if period.start > now:
        print(f"error: the period {period.label} has not begun yet", file=sys.stderr)
        return 2
    language = str(getattr(args, "language", "zh") or "zh")
    out = Path(args.out)
    pdf_path = out if out.suffix.lower() == ".pdf" else out.with_name(out.name + ".pdf")
    html_path = pdf_path.with_suffix(".html")
    config = ServerConfig(data_dir=Path(args.data_dir), db_url=args.db)
    _progress(f"reading the store at {config.store_url.split('@')[-1]}…", 0.0)
    try:
        store = open_existing_store(config)
    except StoreNotOpened as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Qt is loaded only once the arguments and the store are good.
    from app.report.render import render_html, render_pdf

    try:
        data = report_data(store, read_catalog(), period, _gathering, now=now)
    except SQLAlchemyError as exc:
        print(f"error: reading the store failed: {exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}",
              file=sys.stderr)  # fmt: skip
        return 1
    finally:
        store.close()
    _progress("writing the HTML…", 0.62)
    try:
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(data, language), encoding="utf-8")
        pages = render_pdf(data, pdf_path, language, _writing)
    except OSError as exc:
        print(f"error: cannot write the report: {exc}", file=sys.stderr)
        return 1
    if not pdf_path.is_file():  # QPdfWriter says nothing when it cannot open its file
        print(f"error: cannot write {pdf_path}", file=sys.stderr)
        return 1
    _progress("done", 1.0)
    print(f"PDF:  {pdf_path} ({pages} pages)")
    print(f"HTML: {html_path}")
    return 0


def _gathering(what: str, fraction: float) -> None:
    _progress(what, 0.6 * fraction)


def _writing(what: str, fraction: float) -> None:
    _progress(f"PDF: {what}", 0.65 + 0.35 * fraction)
