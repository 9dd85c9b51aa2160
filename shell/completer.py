"""Completion that knows where the cursor is: tables after FROM/JOIN, the FROM tables' columns
(by alias too) after SELECT, WHERE, ON, BY..., keywords and functions elsewhere, and the
backslash commands with their arguments.

Names come from a :class:`~piot.shell.metadata.Metadata` snapshot, never from a database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from piot.shell.metadata import Metadata
from piot.shell.output import FORMATS
from piot.shell.vocabulary import COLUMN_CONTEXT, FUNCTIONS, KEYWORD_WORDS, KEYWORDS, TABLE_CONTEXT

_NAME = r'(?:[A-Za-z_][\w$]*|"[^"]*")'
_TOKEN = re.compile(
    rf"""(?P<string>'(?:[^']|'')*'?)
       |(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
       |(?P<name>{_NAME}(?:\.{_NAME})*)
       |(?P<number>\d+(?:\.\d*)?)
       |(?P<comma>,)
       |(?P<other>[^\s\w,'"]+)
       |\s+""",
    re.VERBOSE | re.DOTALL,
)
_WORD_BEFORE_CURSOR = re.compile(r'(?:[\w$]|"[^"]*"?|\.)*$')
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


@dataclass(frozen=True)
class Token:
    """A token of a statement: ``name`` (dotted names are one token), ``comma``, ``number``, ``other``."""

    kind: str
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def is_keyword(self) -> bool:
        return self.kind == "name" and self.lower in KEYWORD_WORDS


def tokenize(sql: str) -> list[Token]:
    """The tokens of ``sql``, without strings and comments.

    >>> [t.text for t in tokenize("select t.a, 'x,y' -- c\\nfrom m.t t")]
    ['select', 't.a', ',', 'from', 'm.t', 't']
    """
    tokens = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind in ("name", "number", "comma", "other"):
            tokens.append(Token(kind, match.group()))
    return tokens


def unquote(name: str) -> str:
    """``"Trade Date"`` → ``Trade Date``; other names unchanged.

    >>> unquote('"A b"'), unquote("ab")
    ('A b', 'ab')
    """
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


def table_references(sql: str) -> dict[str, str]:
    """The tables a statement reads, by every name that may qualify a column (alias, table, full name).

    >>> refs = table_references("select * from m.trades t, m.days join ref.symbols as s on t.x = s.x")
    >>> refs["t"], refs["trades"], refs["m.days"], refs["days"], refs["s"], refs["ref.symbols"]
    ('m.trades', 'm.trades', 'm.days', 'm.days', 'ref.symbols', 'ref.symbols')
    """
    tokens = tokenize(sql)
    refs: dict[str, str] = {}
    in_from = False
    for index, token in enumerate(tokens):
        if token.is_keyword:
            in_from = token.lower in TABLE_CONTEXT
            continue
        if not in_from or token.kind != "name" or "." not in token.text:
            if token.kind == "other" and token.text.startswith("("):
                in_from = False
            continue
        previous = tokens[index - 1] if index else None
        if previous is None or not (previous.lower in TABLE_CONTEXT or previous.kind == "comma"):
            continue
        table = ".".join(unquote(part) for part in token.text.split(".")).lower()
        following = tokens[index + 1 : index + 3]
        if following and following[0].lower == "as":
            following = following[1:]
        if following and following[0].kind == "name" and not following[0].is_keyword and "." not in following[0].text:
            refs[unquote(following[0].text).lower()] = table
        refs[table] = table
        refs.setdefault(table.rsplit(".", 1)[1], table)
    return refs


def _statement_around(document: Document) -> tuple[str, str]:
    """The current statement: text from the last ``;`` before the cursor, and up to the next after it."""
    before = document.text_before_cursor.rsplit(";", 1)[-1]
    after = document.text_after_cursor.split(";", 1)[0]
    return before, after


def context(before: str) -> str:
    """What the cursor expects, from the statement text before the word being typed:
    ``table``, ``column``, ``keyword`` or ``none``.

    >>> [context(s) for s in ("select ", "select a from ", "select a from m.t ", "select a from m.t x where ", "select a as ")]
    ['column', 'table', 'keyword', 'column', 'none']
    >>> context("select a from m.t, "), context("")
    ('table', 'keyword')
    """
    tokens = tokenize(before)
    if not tokens:
        return "keyword"
    last = tokens[-1]
    if last.lower == "as":
        return "none"
    keyword = next((t.lower for t in reversed(tokens) if t.is_keyword), None)
    if keyword in TABLE_CONTEXT:
        return "table" if last.lower in TABLE_CONTEXT or last.kind == "comma" else "keyword"
    if keyword in COLUMN_CONTEXT:
        return "column"
    return "keyword"


def quote_if_needed(name: str) -> str:
    """Names that are not plain lower-case identifiers are double-quoted.

    >>> quote_if_needed("price"), quote_if_needed("Trade Date")
    ('price', '"Trade Date"')
    """
    return name if _PLAIN.fullmatch(name) else '"' + name.replace('"', '""') + '"'


class SqlCompleter(Completer):
    """Completes SQL and backslash commands from the latest metadata snapshot.

    Args:
        metadata: returns the current snapshot (cheap, never blocks).
        request: asks for the columns of a ``source.table`` to be loaded in the background.
        commands: the backslash commands with a one-line help each.
    """

    def __init__(
        self,
        metadata: Callable[[], Metadata],
        request: Callable[[str], None] = lambda name: None,
        commands: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.metadata = metadata
        self.request = request
        self.commands = list(commands)
        self._paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        if text.lstrip().startswith("\\"):
            yield from self._command(document, text.lstrip(), complete_event)
            return
        before, after = _statement_around(document)
        word = _WORD_BEFORE_CURSOR.search(before).group()  # type: ignore[union-attr]
        head = before[: len(before) - len(word)]
        meta = self.metadata()
        where = context(head)
        if where == "table":
            yield from self._tables(meta, word)
        elif where == "column":
            refs = table_references(head + word + after)
            yield from self._columns(meta, refs, word)
            if "." not in word:
                yield from _matching(word, FUNCTIONS, "function", suffix="(")
                yield from self._keywords(word)
        elif where == "keyword" and "." not in word:
            yield from self._keywords(word)

    # -- SQL ----------------------------------------------------------------------------
    def _keywords(self, word: str) -> Iterator[Completion]:
        lower = bool(word) and word == word.lower()
        words = [k.lower() for k in KEYWORDS] if lower else list(KEYWORDS)
        yield from _matching(word, words, "keyword")

    def _tables(self, meta: Metadata, word: str) -> Iterator[Completion]:
        source, dot, rest = word.partition(".")
        if dot and source in meta.sources:
            yield from _matching(rest, meta.tables.get(source, ()), f"table in {source}")
            return
        yield from _matching(word, meta.sources, "source", suffix=".")
        for name in meta.qualified_tables():
            bare = name.split(".", 1)[1]
            if name.lower().startswith(word.lower()) or bare.lower().startswith(word.lower()):
                yield Completion(name, -len(word), display_meta="table")

    def _columns(self, meta: Metadata, refs: dict[str, str], word: str) -> Iterator[Completion]:
        for table in dict.fromkeys(refs.values()):
            if table not in meta.columns:
                self.request(table)
        qualifier, dot, typed = word.rpartition(".")
        if dot:
            table = refs.get(".".join(unquote(p) for p in qualifier.split(".")).lower())
            if table is not None:
                names = [quote_if_needed(c) for c in meta.columns.get(table, ())]
                yield from _matching(typed, names, f"column of {table}")
            return
        seen: set[str] = set()
        for table in dict.fromkeys(refs.values()):
            for column in meta.columns.get(table, ()):
                if column.lower() not in seen:
                    seen.add(column.lower())
                    yield from _matching(word, [quote_if_needed(column)], f"column of {table}")
        aliases = [name for name in refs if "." not in name]
        yield from _matching(word, aliases, "table alias", suffix=".")

    # -- backslash commands -------------------------------------------------------------
    def _command(self, document: Document, text: str, event: CompleteEvent) -> Iterator[Completion]:
        name, space, argument = text.partition(" ")
        if not space:
            for command, help_text in self.commands:
                if command.startswith(name):
                    yield Completion(command, -len(name), display_meta=help_text)
            return
        argument = argument.lstrip()
        if name == "\\T":
            yield from _matching(argument, FORMATS, "format")
        elif name in ("\\timing", "\\x", "\\explain"):
            yield from _matching(argument, ("on", "off"), "")
        elif name in ("\\d", "\\dt"):
            meta = self.metadata()
            if name == "\\dt":
                yield from _matching(argument, meta.sources, "source")
            else:
                yield from self._tables(meta, argument)
        elif name in ("\\o", "\\i"):
            yield from self._paths.get_completions(Document(argument, len(argument)), event)


def _matching(word: str, names: Iterable[str], meta: str, *, suffix: str = "") -> Iterator[Completion]:
    """Completions of ``names`` that start with ``word`` (any case)."""
    typed = unquote(word).lower()
    for name in names:
        if unquote(name).lower().startswith(typed):
            yield Completion(name + suffix, -len(word), display=name, display_meta=meta)
