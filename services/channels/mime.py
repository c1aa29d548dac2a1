"""Reading a mail as it really arrives: MIME parts, charsets, encoded headers and file names.

Pure functions over bytes (no nameko, no database). Chinese mail is the common case:
GB2312/GBK labels are read as GB18030 (its superset: Outlook and Foxmail label GBK text as
gb2312 all the time), Big5 as Big5-HKSCS, and a body whose label is wrong or missing is tried
as UTF-8, then GB18030, then Big5 before falling back to a lossless Latin-1 reading.
"""
import dataclasses
import email
import email.header
import email.utils
import re
from email.message import Message

from . import htmltext

# labels mail programs use for encodings that are subsets of what they really send
CHARSET_ALIASES = {
    "gb2312": "gb18030", "gb_2312-80": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "cp936": "gb18030", "euc-cn": "gb18030", "csgb2312": "gb18030", "hz-gb-2312": "hz",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949", "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8", "x-unknown": "utf-8", "unknown-8bit": "utf-8", "us-ascii": "utf-8",
    "ascii": "utf-8",
}
_FALLBACKS = ("utf-8", "gb18030", "big5hkscs")


def charset_name(label):
    """A declared charset label -> the Python codec to read it with (None when unusable)."""
    name = (label or "").strip().strip('"').lower()
    if not name:
        return None
    name = CHARSET_ALIASES.get(name, name)
    try:
        import codecs
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data, label=None):
    """Bytes of a text part -> str: the declared charset first, then the usual suspects; never
    raises and never drops a byte silently (Latin-1 keeps every byte as a character)."""
    declared = charset_name(label)
    for codec in ([declared] if declared else []) + [c for c in _FALLBACKS if c != declared]:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(declared or "latin-1", errors="replace")


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decode_header(value):
    """An RFC 2047 header (possibly several encoded words, possibly mislabelled) -> str."""
    if value is None:
        return ""
    value = str(value)
    if "=?" not in value:
        return " ".join(value.split())
    try:
        chunks = email.header.decode_header(value)
    except (email.errors.HeaderParseError, ValueError, LookupError):
        return " ".join(value.split())
    out = []
    for chunk, label in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, label or "utf-8"))
        else:
            out.append(chunk)
    return " ".join("".join(out).split())


def decode_param(value):
    """A parameter value (file name) as `Message.get_param`/`get_filename` return it: an RFC
    2231 triple or a plain string, which may itself hold RFC 2047 words (Outlook, Foxmail)."""
    if value is None:
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded latin-1)
        label, _, text = value
        return decode_bytes(text.encode("latin-1", errors="replace"), label or "utf-8")
    if _ENCODED_WORD.search(value):
        return decode_header(value)
    if any(ord(ch) > 127 for ch in value):  # raw 8-bit name: the surrogates hold the bytes
        return decode_bytes(value.encode("utf-8", errors="surrogateescape"))
    return value


def addresses(value):
    """A From/To header -> [(name, lower-cased address)], names decoded."""
    if not value:
        return []
    out = []
    for name, addr in email.utils.getaddresses([str(value)]):
        addr = addr.strip().lower()
        if "@" in addr:
            out.append((decode_header(name), addr))
    return out


_MSGID = re.compile(r"<([^<>\s]{1,250})>")


def message_ids(value):
    """`References`/`In-Reply-To` -> the ids inside angle brackets, in order."""
    return _MSGID.findall(str(value or ""))


@dataclasses.dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclasses.dataclass
class Mail:
    message_id: str | None
    sender: str | None          # the From address, lower case
    sender_name: str
    to: list
    subject: str
    text: str                   # the body as text (the plain part, else the HTML as text)
    in_reply_to: list
    references: list
    attachments: list
    headers: Message            # the parsed message, for the loop and bounce checks
    problems: list              # what could not be read (malformed parts), for the record


def _payload(part):
    try:
        return part.get_payload(decode=True) or b""
    except Exception:  # a broken transfer encoding: keep what is there, undecoded
        raw = part.get_payload()
        return raw.encode("latin-1", errors="replace") if isinstance(raw, str) else b""


def _filename(part, index):
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        raw = part.get_param("name")
        name = email.utils.collapse_rfc2231_value(raw) if isinstance(raw, tuple) else raw
    name = decode_param(name) if name is not None else None
    if name and "\ufffd" in name:  # raw 8-bit bytes in the header: read them undecoded
        name = _raw_8bit_filename(part) or name
    if not name:
        ext = {"message/rfc822": "eml", "text/plain": "txt", "image/png": "png",
               "image/jpeg": "jpg", "application/pdf": "pdf"}.get(part.get_content_type(), "bin")
        name = f"attachment-{index}.{ext}"
    return name


_RAW_NAME = re.compile(r'(?:file)?name\s*=\s*"([^"]+)"|(?:file)?name\s*=\s*([^;\s]+)', re.I)


def _raw_8bit_filename(part):
    for key, value in part.raw_items():
        if key.lower() in ("content-disposition", "content-type"):
            found = _RAW_NAME.search(str(value))
            if found:
                raw = found.group(1) or found.group(2)
                return decode_bytes(raw.encode("ascii", errors="surrogateescape"))
    return None


def parse(raw):
    """Raw RFC 5322 bytes -> Mail. Never raises on malformed input: what cannot be read is
    listed in `problems` and the rest is kept."""
    msg = email.message_from_bytes(raw)
    problems = [type(d).__name__ for d in (msg.defects or [])]
    senders = addresses(msg.get("From"))
    plain, html, attachments = [], [], []
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            problems.extend(type(d).__name__ for d in (part.defects or []))
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition() or ""
        named = part.get_filename() is not None or part.get_param("name") is not None
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not named:
            text = decode_bytes(_payload(part), part.get_content_charset())
            (plain if ctype == "text/plain" else html).append(text)
        elif ctype in ("message/delivery-status", "text/rfc822-headers") or (
                ctype == "message/rfc822" and msg.get_content_type() == "multipart/report"):
            continue  # the report parts of a bounce: read by domain.bounce, not attachments
        elif part is not msg or disposition == "attachment" or named:
            attachments.append(Attachment(_filename(part, len(attachments) + 1), ctype,
                                          _payload(part)))
    if plain:
        text = "\n".join(plain)
    elif html:
        text = "\n".join(htmltext.to_text(h) for h in html)
    else:
        text = ""
    ids = message_ids(msg.get("Message-ID"))
    return Mail(
        message_id=ids[0] if ids else None,
        sender=senders[0][1] if senders else None,
        sender_name=senders[0][0] if senders else "",
        to=[a for _, a in addresses(msg.get("To")) + addresses(msg.get("Cc"))],
        subject=decode_header(msg.get("Subject")),
        text=text.replace("\r\n", "\n"),
        in_reply_to=message_ids(msg.get("In-Reply-To")),
        references=message_ids(msg.get("References")),
        attachments=attachments, headers=msg, problems=problems)
