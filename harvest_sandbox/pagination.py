"""THE one implementation of Harvest's list envelope, page numbers, keyset cursors and ``links``.

Every list route (entities, children, reports) goes through :func:`paginate`.

* Page mode (``/time_entries``, ``/invoices``, reports, ...): ``?page=N&per_page=M`` plus the request's filters,
  parameters sorted alphabetically, absolute URLs on the sandbox's own base URL.
* Cursor mode (``/clients``, ``/users``, ``/roles``, ... see ``store.SPECS``): ``links.next`` is
  ``?cursor=<urlsafe b64 of {"after":{"id":N}}>&per_page=M&ref=next_cursor`` with the filters kept; a cursor is a
  keyset on ``id``, so a walk sees every record exactly once even while records are created or deleted. On pages
  reached by cursor, ``page``/``next_page``/``previous_page`` are ``null`` except on the first and last page.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from .errors import Unprocessable

MAX_PER_PAGE = 2000
DEFAULT_PER_PAGE = 2000

Mode = Literal["page", "cursor"]

#: Query parameters that never appear in generated links (paging itself, and credentials).
NOT_CARRIED = frozenset({"page", "per_page", "cursor", "ref", "access_token", "account_id"})


@dataclass(frozen=True)
class Cursor:
    direction: Literal["after", "before"]
    id: int


def encode_cursor(direction: Literal["after", "before"], record_id: int) -> str:
    raw = json.dumps({direction: {"id": record_id}}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        ((direction, inner),) = data.items()
        if direction not in ("after", "before"):
            raise ValueError(direction)
        return Cursor(direction, int(inner["id"]))
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as exc:
        raise Unprocessable("Invalid cursor parameter") from exc


def _positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise Unprocessable(f"Invalid {name} parameter") from None
    if number < 1:
        raise Unprocessable(f"Invalid {name} parameter")
    return number


def per_page_of(query: Mapping[str, str]) -> int:
    per_page = _positive_int(query, "per_page", DEFAULT_PER_PAGE)
    if per_page > MAX_PER_PAGE:
        raise Unprocessable("Invalid per_page parameter: per_page must be between 1 and 2000")
    return per_page


def _url(base: str, params: Mapping[str, Any]) -> str:
    return base + "?" + urlencode(sorted((k, str(v)) for k, v in params.items()))


def _keyset_index(ids: Sequence[int], record_id: int, descending: bool) -> tuple[int, int]:
    """Return (first index strictly after ``record_id``, first index at-or-after it) in list order."""
    if descending:
        after = bisect.bisect_right(ids, -record_id, key=lambda v: -v)
        at = bisect.bisect_left(ids, -record_id, key=lambda v: -v)
    else:
        after = bisect.bisect_right(ids, record_id)
        at = bisect.bisect_left(ids, record_id)
    return after, at


def paginate(
    items: Sequence[Any],
    *,
    key: str,
    query: Mapping[str, str],
    link_base: str,
    mode: Mode = "page",
    ids: Sequence[int] | None = None,
    descending: bool = True,
) -> dict[str, Any]:
    """Build one page of Harvest's envelope over the complete, ordered result ``items``.

    ``link_base`` is the absolute URL of the list (``http://127.0.0.1:PORT/v2/clients``). In cursor mode ``ids``
    are the record ids in list order (monotonic: descending unless ``descending`` is False).
    """
    per_page = per_page_of(query)
    total = len(items)
    total_pages = max(1, math.ceil(total / per_page))
    carried = {k: v for k, v in query.items() if k not in NOT_CARRIED}
    cursor_token = query.get("cursor") if mode == "cursor" else None

    if cursor_token:
        assert ids is not None, "cursor pagination needs the id list"
        cursor = decode_cursor(cursor_token)
        after, at = _keyset_index(ids, cursor.id, descending)
        if cursor.direction == "after":
            start = after
        else:
            start = max(0, at - per_page)
            end_before = at
        end = min(total, start + per_page) if cursor.direction == "after" else end_before
        first, last = start == 0, end >= total
        if first:
            page: int | None = 1
        elif last:
            page = total_pages
        else:
            page = None
        next_page = (page + 1 if page < total_pages else None) if page is not None else None
        previous_page = (page - 1 if page > 1 else None) if page is not None else None
    else:
        page = _positive_int(query, "page", 1)
        start = (page - 1) * per_page
        end = min(total, start + per_page)
        next_page = page + 1 if page < total_pages else None
        previous_page = page - 1 if page > 1 else None

    records = list(items[start:end]) if start < total else []

    if mode == "cursor":
        assert ids is not None, "cursor pagination needs the id list"
        has_next = end < total and bool(records)
        has_previous = start > 0 and start <= total
        links = {
            "first": _url(link_base, {**carried, "page": 1, "per_page": per_page, "ref": "first"}),
            "next": _url(
                link_base,
                {**carried, "cursor": encode_cursor("after", ids[end - 1]), "per_page": per_page, "ref": "next_cursor"},
            )
            if has_next
            else None,
            "previous": _url(
                link_base,
                {
                    **carried,
                    "cursor": encode_cursor("before", ids[min(start, total - 1)]),
                    "per_page": per_page,
                    "ref": "previous_cursor",
                },
            )
            if has_previous
            else None,
            "last": _url(link_base, {**carried, "page": total_pages, "per_page": per_page, "ref": "last"}),
        }
    else:
        links = {
            "first": _url(link_base, {**carried, "page": 1, "per_page": per_page}),
            "next": _url(link_base, {**carried, "page": next_page, "per_page": per_page}) if next_page else None,
            "previous": _url(link_base, {**carried, "page": previous_page, "per_page": per_page})
            if previous_page
            else None,
            "last": _url(link_base, {**carried, "page": total_pages, "per_page": per_page}),
        }

    return {
        key: records,
        "per_page": per_page,
        "total_pages": total_pages,
        "total_entries": total,
        "next_page": next_page,
        "previous_page": previous_page,
        "page": page,
        "links": links,
    }
