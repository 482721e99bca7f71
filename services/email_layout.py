"""One layout for every FlyO e-mail, rendered twice from the same blocks: HTML and plain text.

The HTML is built the way mail clients need it: nested tables with widths (a 600 px column that shrinks on a
phone, an Outlook-only fixed table around it), every style inline (Gmail drops <style> and classes), no images
or web fonts, and an explicit background and text colour on every cell, so a client's dark mode never leaves
light text on a background it made transparent. Every value is HTML-escaped here, once; callers pass plain text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

FONT = "Arial,Helvetica,sans-serif"
PAGE_BG, CARD_BG, INK, MUTED, RULE = "#eef1f5", "#ffffff", "#1a1f2b", "#4d5566", "#d9dee7"
BRAND_BG, BRAND_INK = "#0b3d91", "#ffffff"
SOFT_BG = "#f5f7fa"
DEMO_BG, DEMO_INK, DEMO_RULE = "#fff3c4", "#4a3600", "#e0b400"


@dataclass(frozen=True)
class Banner:
    """A warning across the top (the DEMO label)."""

    text: str


@dataclass(frozen=True)
class Reference:
    label: str
    value: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    link: tuple[str, str] | None = None  # (label, url) after the text
    small: bool = False
    html_only: bool = False  # says what the plain text already says another way (a button's fallback link)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Flight:
    """One flight as a card: number and cabin, then departure and arrival side by side."""

    title: str  # "FO101 · Economy"
    depart_label: str
    depart_time: str
    depart_day: str
    depart_place: str  # "London (LHR)"
    arrive_label: str
    arrive_time: str
    arrive_day: str
    arrive_place: str
    note: str = ""  # a connection after it ("Change in Dubai (DXB): 2h 15m")


@dataclass(frozen=True)
class Rows:
    """Label/value lines; `total` is written last, in bold, under a rule."""

    rows: list[tuple[str, str]]
    total: tuple[str, str] | None = None
    note: str = ""
    wrap: bool = False  # values may wrap (long seat lists); money never does


@dataclass(frozen=True)
class Bullets:
    items: list[Paragraph] = field(default_factory=list)


@dataclass(frozen=True)
class Button:
    label: str
    url: str


Block = Banner | Reference | Paragraph | Heading | Flight | Rows | Bullets | Button


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cell(content: str, *, bg: str = CARD_BG, color: str = INK, size: int = 15, pad: str = "0 24px 12px 24px",
          extra: str = "", align: str = "left") -> str:
    return (f'<tr><td align="{align}" bgcolor="{bg}" style="background-color:{bg};color:{color};font-family:{FONT};'
            f'font-size:{size}px;line-height:1.45;padding:{pad};{extra}">{content}</td></tr>')


def _link(label: str, url: str) -> str:
    return f'<a href="{_e(url)}" style="color:{BRAND_BG};text-decoration:underline;">{_e(label)}</a>'


def _paragraph(p: Paragraph) -> str:
    text = _e(p.text) + ((" " + _link(*p.link)) if p.link else "")
    return _cell(text, size=13 if p.small else 15, color=MUTED if p.small else INK)


def _flight(f: Flight) -> str:
    def side(label: str, clock: str, day: str, place: str, align: str) -> str:
        return (f'<td width="50%" valign="top" align="{align}" bgcolor="{SOFT_BG}" style="background-color:{SOFT_BG};'
                f'color:{INK};font-family:{FONT};padding:0 12px 12px 12px;width:50%;">'
                f'<div style="color:{MUTED};font-size:12px;text-transform:uppercase;letter-spacing:1px;">{_e(label)}'
                f'</div><div style="color:{INK};font-size:24px;font-weight:bold;line-height:1.2;">{_e(clock)}</div>'
                f'<div style="color:{INK};font-size:14px;">{_e(place)}</div>'
                f'<div style="color:{MUTED};font-size:13px;">{_e(day)}</div></td>')

    card = (f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="width:100%;border:1px solid {RULE};border-collapse:separate;">'
            f'<tr><td colspan="2" bgcolor="{SOFT_BG}" style="background-color:{SOFT_BG};color:{INK};font-family:{FONT};'
            f'font-size:15px;font-weight:bold;padding:10px 12px 8px 12px;">{_e(f.title)}</td></tr><tr>'
            + side(f.depart_label, f.depart_time, f.depart_day, f.depart_place, "left")
            + side(f.arrive_label, f.arrive_time, f.arrive_day, f.arrive_place, "right") + "</tr></table>")
    out = _cell(card, pad="0 24px 8px 24px")
    if f.note:
        out += _cell("↳ " + _e(f.note), size=13, color=MUTED, pad="0 24px 10px 36px")
    return out


def _rows(r: Rows) -> str:
    nowrap = "" if r.wrap else "white-space:nowrap;"

    def line(label: str, value: str, strong: bool) -> str:
        weight = "bold" if strong else "normal"
        top = f"border-top:2px solid {INK};" if strong else f"border-top:1px solid {RULE};"
        style = (f"color:{INK};font-family:{FONT};font-size:{16 if strong else 14}px;font-weight:{weight};"
                 f"padding:8px 0;{top}")
        return (f'<tr><td valign="top" bgcolor="{CARD_BG}" style="background-color:{CARD_BG};{style}">{_e(label)}</td>'
                f'<td valign="top" align="right" bgcolor="{CARD_BG}" style="background-color:{CARD_BG};{style}'
                f'padding-left:12px;{nowrap}">{_e(value)}</td></tr>')

    body = "".join(line(label, value, False) for label, value in r.rows)
    if r.total:
        body += line(*r.total, True)
    table = (f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
             f'style="width:100%;border-collapse:collapse;">{body}</table>')
    out = _cell(table)
    if r.note:
        out += _cell(_e(r.note), size=13, color=MUTED)
    return out


def _bullets(b: Bullets) -> str:
    rows = "".join(
        f'<tr><td width="18" valign="top" bgcolor="{CARD_BG}" style="background-color:{CARD_BG};color:{BRAND_BG};'
        f'font-family:{FONT};font-size:15px;line-height:1.45;padding:0 0 8px 0;width:18px;">•</td>'
        f'<td valign="top" bgcolor="{CARD_BG}" style="background-color:{CARD_BG};color:{INK};font-family:{FONT};'
        f'font-size:15px;line-height:1.45;padding:0 0 8px 0;">{_e(item.text)}'
        f'{(" " + _link(*item.link)) if item.link else ""}</td></tr>' for item in b.items)
    return _cell(f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
                 f'style="width:100%;">{rows}</table>')


def _button(b: Button) -> str:
    inner = (f'<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>'
             f'<td align="center" bgcolor="{BRAND_BG}" style="background-color:{BRAND_BG};border-radius:6px;">'
             f'<a href="{_e(b.url)}" style="display:inline-block;padding:12px 28px;color:{BRAND_INK};'
             f'background-color:{BRAND_BG};font-family:{FONT};font-size:16px;font-weight:bold;text-decoration:none;'
             f'border-radius:6px;">{_e(b.label)}</a></td></tr></table>')
    return _cell(inner, pad="4px 24px 16px 24px")


def _block_html(block: Block) -> str:
    if isinstance(block, Banner):
        return (f'<tr><td bgcolor="{DEMO_BG}" style="background-color:{DEMO_BG};color:{DEMO_INK};font-family:{FONT};'
                f'font-size:14px;font-weight:bold;line-height:1.4;padding:12px 24px;border-top:3px solid {DEMO_RULE};'
                f'border-bottom:3px solid {DEMO_RULE};">{_e(block.text)}</td></tr>')
    if isinstance(block, Reference):
        return _cell(f'<div style="color:{MUTED};font-size:12px;text-transform:uppercase;letter-spacing:1px;">'
                     f'{_e(block.label)}</div><div style="color:{INK};font-size:30px;font-weight:bold;'
                     f'letter-spacing:4px;font-family:Consolas,Menlo,monospace;">{_e(block.value)}</div>',
                     pad="20px 24px 12px 24px")
    if isinstance(block, Paragraph):
        return _paragraph(block)
    if isinstance(block, Heading):
        return _cell(_e(block.text), size=17, pad="16px 24px 8px 24px", extra="font-weight:bold;")
    if isinstance(block, Flight):
        return _flight(block)
    if isinstance(block, Rows):
        return _rows(block)
    if isinstance(block, Bullets):
        return _bullets(block)
    return _button(block)


def render_html(subject: str, title: str, preheader: str, blocks: list[Block], footer: str, lang: str = "en") -> str:
    """The whole document: a hidden preheader (the inbox preview), a coloured title bar, the blocks, a footer."""
    body = "".join(_block_html(b) for b in blocks)
    hidden = (f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;color:{PAGE_BG};'
              f'font-size:1px;line-height:1px;">{_e(preheader)}</div>')
    return (
        f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light"><meta name="supported-color-schemes" content="light">'
        f'<title>{_e(subject)}</title></head>'
        f'<body bgcolor="{PAGE_BG}" style="margin:0;padding:0;background-color:{PAGE_BG};color:{INK};">{hidden}'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="{PAGE_BG}" '
        f'style="width:100%;background-color:{PAGE_BG};"><tr><td align="center" bgcolor="{PAGE_BG}" '
        f'style="background-color:{PAGE_BG};color:{INK};padding:16px 8px;">'
        '<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr>'
        f'<td bgcolor="{CARD_BG}" style="background-color:{CARD_BG};color:{INK};"><![endif]-->'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="{CARD_BG}" '
        f'style="width:100%;max-width:600px;background-color:{CARD_BG};border-collapse:collapse;">'
        f'<tr><td bgcolor="{BRAND_BG}" style="background-color:{BRAND_BG};color:{BRAND_INK};font-family:{FONT};'
        f'padding:18px 24px;"><div style="color:{BRAND_INK};font-size:14px;font-weight:bold;letter-spacing:2px;">'
        f'FLYO</div><div style="color:{BRAND_INK};font-size:22px;font-weight:bold;line-height:1.3;">{_e(title)}'
        f'</div></td></tr>{body}'
        + _cell(_e(footer), bg=SOFT_BG, color=MUTED, size=12, pad="14px 24px",
                extra=f"border-top:1px solid {RULE};")
        + '</table><!--[if mso]></td></tr></table><![endif]--></td></tr></table></body></html>')


def _text_link(link: tuple[str, str] | None) -> str:
    """" https://t.me/FlyOBot" (a label that is the address itself is not written twice), " Label: url"."""
    if not link:
        return ""
    label, url = link
    return f" {url}" if url.endswith(label) else f" {label}: {url}"


def render_text(title: str, blocks: list[Block], footer: str) -> str:
    """The plain-text alternative: the same blocks, in the same order, nothing left out."""
    out = [title, "=" * len(title), ""]
    for block in blocks:
        if isinstance(block, Banner):
            out += ["*** " + block.text + " ***", ""]
        elif isinstance(block, Reference):
            out += [f"{block.label}: {block.value}", ""]
        elif isinstance(block, Paragraph):
            out += [] if block.html_only else [block.text + _text_link(block.link), ""]
        elif isinstance(block, Heading):
            out += [block.text, "-" * len(block.text)]
        elif isinstance(block, Flight):
            out += [block.title,
                    f"  {block.depart_label}: {block.depart_time}, {block.depart_day} — {block.depart_place}",
                    f"  {block.arrive_label}: {block.arrive_time}, {block.arrive_day} — {block.arrive_place}"]
            out += [f"  ↳ {block.note}"] if block.note else []
            out.append("")
        elif isinstance(block, Rows):
            out += [f"  {label}: {value}" for label, value in block.rows]
            out += [f"  {block.total[0]}: {block.total[1]}"] if block.total else []
            out += [block.note] if block.note else []
            out.append("")
        elif isinstance(block, Bullets):
            out += ["• " + i.text + _text_link(i.link) for i in block.items]
            out.append("")
        else:
            out += [f"{block.label}: {block.url}", ""]
    return "\n".join([*out, "—", footer])
