"""Line numbers of keys in a TOML text, for error messages (``tomllib`` gives none).

The text has already been parsed by ``tomllib``, so it is valid TOML and this scanner
can be forgiving: it walks the text once, tracks the current ``[table]`` header
(dotted headers such as ``[gates.data.iris]`` included), and records the line where
every key path starts: ``key = ...`` lines, dotted keys, keys inside inline tables and
the elements of arrays (by index). :func:`locate` then answers the line of a path, or
of its nearest recorded parent (usually the table header), or None.
"""

from __future__ import annotations

PathKey = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def locate(index: dict[PathKey, int], path: PathKey) -> int | None:
    """The line of ``path``, else of its nearest recorded parent, else None."""
    for end in range(len(path), 0, -1):
        line = index.get(path[:end])
        if line is not None:
            return line
    return None


def key_lines(text: str) -> dict[PathKey, int]:
    """Every key path of ``text`` with the (1-based) line where it is written first."""
    scanner = _Scanner(text)
    scanner.document()
    return scanner.lines


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[PathKey, int] = {}

    # -- low level -------------------------------------------------------------------

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.pos < len(self.text):
                if self.text[self.pos] == "\n":
                    self.line += 1
                self.pos += 1

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces, comments and (when ``newlines``) line breaks."""
        while self.pos < len(self.text):
            ch = self.peek()
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.advance()
            elif ch == "#":
                while self.pos < len(self.text) and self.peek() != "\n":
                    self.advance()
            else:
                return

    def record(self, path: PathKey, line: int) -> None:
        self.lines.setdefault(path, line)

    # -- grammar ---------------------------------------------------------------------

    def document(self) -> None:
        table: PathKey = ()
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                return
            if self.peek() == "[":
                table = self.header()
            else:
                self.keyval(table)
            # anything left on the line (a comment) is skipped by skip_blank

    def header(self) -> PathKey:
        line = self.line
        double = self.peek(1) == "["
        self.advance(2 if double else 1)
        path = self.key()
        self.skip_blank(newlines=False)
        self.advance(2 if double else 1)
        self.record(path, line)
        return path

    def keyval(self, table: PathKey) -> None:
        line = self.line
        path = table + self.key()
        self.skip_blank(newlines=False)
        if self.peek() != "=":  # not valid TOML; give up on this line
            self.skip_line()
            return
        self.advance()
        self.record(path, line)
        for end in range(len(table) + 1, len(path)):
            self.record(path[:end], line)
        self.value(path)

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            ch = self.peek()
            if ch in "\"'":
                parts.append(self.string())
            else:
                start = self.pos
                while self.peek() and self.peek() in _BARE:
                    self.advance()
                parts.append(self.text[start : self.pos])
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return tuple(parts)
            self.advance()

    def value(self, path: PathKey) -> None:
        self.skip_blank(newlines=False)
        ch = self.peek()
        if ch in "\"'":
            self.string()
        elif ch == "[":
            self.array(path)
        elif ch == "{":
            self.inline_table(path)
        else:
            while self.peek() and self.peek() not in ",]}\n#":
                self.advance()

    def array(self, path: PathKey) -> None:
        self.advance()  # [
        index = 0
        while True:
            self.skip_blank(newlines=True)
            ch = self.peek()
            if ch in ("]", ""):
                self.advance()
                return
            if ch == ",":
                self.advance()
                continue
            self.record((*path, index), self.line)
            self.value((*path, index))
            index += 1

    def inline_table(self, path: PathKey) -> None:
        self.advance()  # {
        while True:
            self.skip_blank(newlines=True)
            ch = self.peek()
            if ch in ("}", ""):
                self.advance()
                return
            if ch == ",":
                self.advance()
                continue
            line = self.line
            sub = path + self.key()
            self.skip_blank(newlines=False)
            if self.peek() != "=":
                self.skip_line()
                return
            self.advance()
            self.record(sub, line)
            self.value(sub)

    def string(self) -> str:
        quote = self.peek()
        if self.peek(1) == quote and self.peek(2) == quote:
            self.advance(3)
            start = self.pos
            while self.pos < len(self.text):
                if quote == '"' and self.peek() == "\\":
                    self.advance(2)
                    continue
                if self.text.startswith(quote * 3, self.pos):
                    end = self.pos
                    self.advance(3)
                    while self.peek() == quote:  # up to two quotes may close the content
                        self.advance()
                    return self.text[start:end]
                self.advance()
            return self.text[start:]
        self.advance()
        out: list[str] = []
        while self.pos < len(self.text) and self.peek() not in (quote, "\n"):
            if quote == '"' and self.peek() == "\\":
                out.append(self.peek(1))
                self.advance(2)
                continue
            out.append(self.peek())
            self.advance()
        self.advance()
        return "".join(out)

    def skip_line(self) -> None:
        while self.pos < len(self.text) and self.peek() != "\n":
            self.advance()
