"""Newspapers and magazines on the shelf: by serial title, then by year, then a calendar of the issues
of that year (a month grid whose days with an issue link to the item). Only the issues the reader may
see are listed or counted (``platform.collections`` asks :mod:`library.access`); a title or a year with
no issue the reader may see answers 404, as if it did not exist."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from library.catalogue.collections import calendar_of
from web.i18n import current_lang, words
from web.viewer import current_actor

bp = Blueprint("serials", __name__)

MAX_YEAR = 9999  # the calendar's last year; a larger number names nothing


def _platform():
    return current_app.extensions["heritage"]


def _serial(ref: str):
    s = _platform().collections.serial(current_actor(), ref)
    if s is None:
        abort(404)
    return s, s.ref


@bp.get("/serials")
def serials():
    after = request.args.get("after", "")[:200]
    shelf = _platform().collections.serials(current_actor(), after=after)
    return render_template("serials.html", t=words(), lang=current_lang(), serials=shelf.serials,
                           next_after=shelf.next)


@bp.get("/serials/<ref>")
def serial(ref: str):
    s, url_ref = _serial(ref)
    years = _platform().collections.serial_years(current_actor(), s.title)
    return render_template("serial.html", t=words(), lang=current_lang(), s=s, ref=url_ref, years=years)


@bp.get("/serials/<ref>/<int:year>")
def serial_year(ref: str, year: int):
    if not 0 < year <= MAX_YEAR:
        abort(404)
    s, url_ref = _serial(ref)
    issues = _platform().collections.serial_issues(current_actor(), s.title, year)
    if not issues:
        abort(404)
    t = words()
    months = [m for m in calendar_of(year, issues) if m.issues]
    undated = [i for i in issues if i.issue_date is None]
    return render_template("serial_year.html", t=t, lang=current_lang(), s=s, ref=url_ref, year=year,
                           months=months, undated=undated, month_names=t["months"].split("|"),
                           weekdays=t["weekdays"].split("|"))
