"""Read and write JSON through the interpreter's C accelerator (``_json``) without importing ``json``.

The ``json`` package imports ``re``, which took about 10 ms of start-up on CPython 3.11 without site
packages (``python -S -X importtime``), a large part of the runtime's fixed cost per container. The C scanner and string encoder behave as
``json.loads`` and ``json.dumps`` do for the values the runtime reads and writes. Where ``_json`` is
missing (other interpreters), or a text is invalid, the ``json`` package is used, so errors are the
standard ``json.JSONDecodeError`` with its line and column.
"""

_WHITESPACE = " \t\n\r"

try:
    from _json import encode_basestring_ascii as _quote
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - CPython always has _json
    _scan = None
    _quote = None
else:

    class _ScannerContext:
        # The attributes that the C scanner reads, with the values json.loads uses by default.
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = float
        memo = None

    _scan = _make_scanner(_ScannerContext())


def loads(text):
    """Parse a JSON text. Raises ValueError (json.JSONDecodeError) when the text is not valid JSON."""
    if _scan is not None:
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _scan(text, start)
        except Exception:
            # Invalid JSON: StopIteration, or an error that the scanner could not build because it
            # needs json.decoder loaded (a SystemError on CPython 3.11). json.loads reports it properly.
            end = None
        if end is not None and not text[end:].strip(_WHITESPACE):
            return value

    import json

    return json.loads(text)


def dumps(value):
    """Format a value of dicts with string keys, lists, strings, numbers, booleans and None as JSON."""
    if _quote is None:  # pragma: no cover
        import json

        return json.dumps(value, allow_nan=False)

    parts = []
    _encode(value, parts)
    return "".join(parts)


def show(value):
    """Render a rejected value for a message: its JSON (repr() when it has none), cut to 60 characters."""
    try:
        text = dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _encode(value, parts):
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_quote(value))
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} cannot be written as JSON")
        parts.append(float.__repr__(value))
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(", ")
            _encode(item, parts)
        parts.append("]")
    elif isinstance(value, dict):
        parts.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if index:
                parts.append(", ")
            parts.append(_quote(key))
            parts.append(": ")
            _encode(item, parts)
        parts.append("}")
    else:
        raise TypeError(f"{type(value).__name__} cannot be written as JSON")
