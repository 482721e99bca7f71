"""Telegram's message formatting: HTML, MarkdownV2 and Markdown parsed into displayed text plus entities, with
UTF-16 offsets, refusing bad markup with Telegram's own errors ("can't parse entities")."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.console.telegram_errors import JSON, bad


def u16len(text: str) -> int:
    """Telegram counts offsets/lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# ---- text formatting (HTML / MarkdownV2 / Markdown) ------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_HTML_ATTR = re.compile(r"\s*([A-Za-z_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_HTML_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}
_MDV2_TYPES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


class _TextBuilder:
    """Accumulates displayed text and entities with UTF-16 offsets, like Telegram computes them."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[JSON] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += u16len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start, **extra})

    def result(self) -> tuple[str, list[JSON]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Telegram's HTML subset: unknown tags, bad nesting and bare ``<`` are rejected like the real API."""
    out = _TextBuilder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    attrs: dict[str, str]
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "<" and i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i + 2)
            if end == -1:
                raise bad(f"can't parse entities: Unclosed end tag at byte offset {byte_offset(text, i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise bad(f"can't parse entities: Unexpected end tag at byte offset {byte_offset(text, i)}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise bad(
                    f"can't parse entities: Unmatched end tag at byte offset {byte_offset(text, i)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            _close_html_entity(out, tag, start, attrs, stack)
            i = end + 1
        elif char == "<":
            match = _HTML_TAG_NAME.match(text, i + 1)
            name = match.group().lower() if match else ""
            if name not in _HTML_ENTITY_TYPES:
                raise bad(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset '
                    f"{byte_offset(text, i)}"
                )
            j = match.end() if match else i + 1
            attrs = {}
            while True:
                while j < n and text[j].isspace():
                    j += 1
                if j < n and text[j] == ">":
                    break
                attr = _HTML_ATTR.match(text, j)
                if j >= n or attr is None or attr.end() == j:
                    raise bad(
                        f"can't parse entities: Unclosed start tag at byte offset {byte_offset(text, i)}"
                    )
                value = attr.group(2) or ""
                if value[:1] in {'"', "'"}:
                    value = value[1:-1]
                attrs[attr.group(1).lower()] = html.unescape(value)
                j = attr.end()
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise bad(
                    f'can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{byte_offset(text, i)}"
                )
            stack.append((name, out.offset, attrs))
            i = j + 1
        elif char == "&":
            entity = _HTML_ENTITY.match(text, i)
            if entity:
                out.add(html.unescape(entity.group()))
                i = entity.end()
            else:
                out.add("&")
                i += 1
        else:
            out.add(char)
            i += 1
    if stack:
        raise bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    return out.result()


def _close_html_entity(
    out: _TextBuilder,
    tag: str,
    start: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str]]],
) -> None:
    kind = _HTML_ENTITY_TYPES[tag]
    if tag == "a":
        href = attrs.get("href")
        if href:
            out.entity("text_link", start, url=href)
    elif tag == "code" and stack and stack[-1][0] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
        else:
            out.entity("code", start)
    elif tag == "pre":
        extra = {"language": attrs["language"]} if attrs.get("language") else {}
        out.entity("pre", start, **extra)
    elif tag == "blockquote":
        out.entity("expandable_blockquote" if "expandable" in attrs else "blockquote", start)
    elif tag == "tg-emoji":
        out.entity("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id", ""))
    else:
        out.entity(kind, start)


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _unescape_md(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    """MarkdownV2 with its reserved characters -- the classic "Character '.' is reserved" failure."""
    out = _TextBuilder()
    stack: list[tuple[str, int, int]] = []  # marker, start offset (utf-16), source index
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) < 127:
                out.add(text[i + 1])
                i += 2
            else:
                out.add("\\")
                i += 1
        elif text.startswith("```", i):
            end = _find_unescaped(text, "```", i + 3)
            if end == -1:
                offset = byte_offset(text, i)
                raise bad(f"can't parse entities: Can't find end of Pre entity at byte offset {offset}")
            body = text[i + 3 : end]
            language = ""
            first_line, newline, rest = body.partition("\n")
            if newline and first_line and not any(c.isspace() for c in first_line):
                language, body = first_line, rest
            start = out.offset
            out.add(_unescape_md(body))
            out.entity("pre", start, **({"language": language} if language else {}))
            i = end + 3
        elif char == "`":
            end = _find_unescaped(text, "`", i + 1)
            if end == -1:
                offset = byte_offset(text, i)
                raise bad(f"can't parse entities: Can't find end of Code entity at byte offset {offset}")
            start = out.offset
            out.add(_unescape_md(text[i + 1 : end]))
            out.entity("code", start)
            i = end + 1
        elif char in "*_~|":
            marker = text[i : i + 2] if text.startswith(("__", "||"), i) else char
            if marker == "|":
                raise bad(
                    "can't parse entities: Character '|' is reserved and must be escaped with the "
                    "preceding '\\'"
                )
            if stack and stack[-1][0] == marker:
                _, start, _src = stack.pop()
                out.entity(_MDV2_TYPES[marker], start)
            else:
                stack.append((marker, out.offset, i))
            i += len(marker)
        elif char == "[":
            stack.append(("[", out.offset, i))
            i += 1
        elif char == "]" and stack and stack[-1][0] == "[":
            _, start, _src = stack.pop()
            i += 1
            if i < n and text[i] == "(":
                end = _find_unescaped(text, ")", i + 1)
                if end == -1:
                    offset = byte_offset(text, i)
                    raise bad(f"can't parse entities: Can't find end of a URL at byte offset {offset}")
                out.entity("text_link", start, url=_unescape_md(text[i + 1 : end]))
                i = end + 1
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            end = text.find("\n", i)
            end = n if end == -1 else end
            start = out.offset
            inner, entities = parse_markdown_v2(text[i + 1 : end])
            for entity in entities:
                out.entities.append({**entity, "offset": entity["offset"] + start})
            out.add(inner)
            out.entity("blockquote", start)
            i = end
        elif char in _MDV2_RESERVED:
            raise bad(
                f"can't parse entities: Character '{char}' is reserved and must be escaped with the "
                "preceding '\\'"
            )
        else:
            out.add(char)
            i += 1
    if stack:
        marker, _, src = stack[-1]
        raise bad(
            f"can't parse entities: Can't find end of {_MDV2_NAMES[marker]} entity at byte offset "
            f"{byte_offset(text, src)}"
        )
    return out.result()


def parse_markdown_legacy(text: str) -> tuple[str, list[JSON]]:
    """Legacy Markdown: lenient, but an unclosed ``*``/``_``/`` ` ``/``[`` still fails."""
    out = _TextBuilder()
    i, n = 0, len(text)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.add(text[i + 1])
            i += 2
        elif text.startswith("```", i) or char in kinds or char == "[":
            closer = "```" if text.startswith("```", i) else ("]" if char == "[" else char)
            end = text.find(closer, i + len(closer) if closer == "```" else i + 1)
            if end == -1:
                raise bad(
                    "can't parse entities: Can't find end of the entity starting at byte offset "
                    f"{byte_offset(text, i)}"
                )
            inner = text[i + (3 if closer == "```" else 1) : end]
            start = out.offset
            out.add(inner)
            i = end + len(closer)
            if closer == "```":
                out.entity("pre", start)
            elif closer == "]":
                if i < n and text[i] == "(" and text.find(")", i) != -1:
                    close = text.find(")", i)
                    out.entity("text_link", start, url=text[i + 1 : close])
                    i = close + 1
            else:
                out.entity(kinds[char], start)
        else:
            out.add(char)
            i += 1
    return out.result()


def normalise_parse_mode(parse_mode: Any) -> str | None:
    if parse_mode is None or parse_mode == "":
        return None
    lowered = str(parse_mode).lower()
    if lowered == "html":
        return "HTML"
    if lowered == "markdownv2":
        return "MarkdownV2"
    if lowered == "markdown":
        return "Markdown"
    raise bad(f"unsupported parse_mode {parse_mode}")


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Displayed text and entities for a text sent with ``parse_mode``; raises like Telegram on bad markup."""
    mode = normalise_parse_mode(parse_mode)
    if mode == "HTML":
        return parse_html(text)
    if mode == "MarkdownV2":
        return parse_markdown_v2(text)
    if mode == "Markdown":
        return parse_markdown_legacy(text)
    return text, []


def strip_text(plain: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims surrounding whitespace from messages; entities are shifted/clamped to match."""
    stripped = plain.strip()
    if stripped == plain:
        return plain, entities
    shift = u16len(plain[: len(plain) - len(plain.lstrip())])
    limit = u16len(stripped)
    fixed: list[JSON] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(limit, entity["offset"] + entity["length"] - shift)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return stripped, fixed
