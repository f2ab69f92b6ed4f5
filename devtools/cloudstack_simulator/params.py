"""Request parameters as CloudStack's ParamProcessWorker reads them: names are case-insensitive,
the first of repeated values wins, lists are comma-separated, maps come as
``name[i].key=value``, booleans are "true" or anything else, and a UUID parameter must name an
existing object of its kind."""
import re

from . import errors

_MAP_ITEM = re.compile(r"^([a-z0-9_]+)\[(\d+)\]\.(\w+)$", re.IGNORECASE)
_MAX_PAGE_SIZE = 500  # CloudStack's default.page.size
PAGESIZE_UNLIMITED = -1


class P:
    """A parameter's type: string, int, bool, list, map, uuid or uuids (with the kind of
    object it names), required or not."""

    def __init__(self, type_="string", required=False, kind=None):
        self.type = type_
        self.required = required
        self.kind = kind


def lowered(raw):
    """Parameter name (lower-cased) -> value; map items are gathered by parse()."""
    return {name.lower(): value for name, value in raw.items()}


def _map_param(raw, name):
    items = {}
    for key, value in raw.items():
        match = _MAP_ITEM.match(key)
        if match and match.group(1).lower() == name:
            items.setdefault(int(match.group(2)), {})[match.group(3)] = value
    return [items[i] for i in sorted(items)] or None


def parse(command, spec, raw, tx):
    """The values of ``spec``'s parameters in ``raw`` (as sent), converted and checked."""
    low = lowered(raw)
    values = {}
    for name, param in spec.items():
        if param.type == "map":
            value = _map_param(raw, name)
        else:
            value = low.get(name)
            if value is not None and value == "" and param.type not in ("string",):
                value = None
        if value is None:
            if param.required:
                raise errors.missing_parameter(command, name)
            values[name] = None
            continue
        values[name] = _convert(command, name, param, value, tx)
    return values


def _convert(command, name, param, value, tx):
    if param.type in ("string", "map"):
        return value
    if param.type == "int":
        try:
            return int(value)
        except ValueError:
            raise errors.invalid_value(command, name, value) from None
    if param.type == "bool":
        return value.strip().lower() == "true"
    if param.type == "list":
        return [item.strip() for item in value.split(",") if item.strip()]
    if param.type == "uuid":
        return _entity(command, name, param.kind, value.strip(), tx)
    if param.type == "uuids":
        return [_entity(command, name, param.kind, item.strip(), tx) for item in value.split(",") if item.strip()]
    raise AssertionError(f"unknown parameter type {param.type}")


def _entity(command, name, kind, value, tx):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if kind is not None and not any(tx.get(k, value) for k in kinds):
        raise errors.no_such_entity(command, name, value)
    return value


def paging(command, raw):
    """(start, size or None) for a list command, as BaseListCmd and ApiDispatcher check them."""
    low = lowered(raw)
    page, size = low.get("page"), low.get("pagesize")
    try:
        page = int(page) if page not in (None, "") else None
    except ValueError:
        raise errors.invalid_value(command, "page", page) from None
    try:
        size = int(size) if size not in (None, "") else None
    except ValueError:
        raise errors.invalid_value(command, "pagesize", size) from None
    if size is not None and size > _MAX_PAGE_SIZE:
        raise errors.param_error(f"Page size can't exceed max allowed page size value: {_MAX_PAGE_SIZE}")
    if size == PAGESIZE_UNLIMITED:
        if page is not None:
            raise errors.param_error("Can't specify page parameter when pagesize is -1 (Unlimited)")
        return 0, None
    if page is None and size is not None:
        raise errors.param_error('"page" parameter is required when "pagesize" is specified')
    if size is None and page is not None:
        raise errors.param_error('"pagesize" parameter is required when "page" is specified')
    if size is None:
        return 0, _MAX_PAGE_SIZE
    if page < 1 or size < 1:
        raise errors.param_error("page and pagesize must be positive")
    return (page - 1) * size, size
