"""Attachment whitelist, checked by content: the extension must be allowed AND the first
bytes must be what that extension's format starts with. A renamed .exe fails."""
import os

# extension -> (canonical content type, check(head) -> bool)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _starts(*sigs):
    return lambda head: any(head.startswith(s) for s in sigs)


def _mp4(head):
    return len(head) >= 12 and head[4:8] == b"ftyp"


def _text(head):
    if b"\x00" in head:
        return False
    for codec in ("utf-8", "gb18030"):
        try:
            head.decode(codec)
            return True
        except UnicodeDecodeError as err:
            if err.start >= len(head) - 4:  # a character cut by the head's end is fine
                return True
    return False


TYPES = {
    "png": ("image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", _starts(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", _starts(b"\xff\xd8\xff")),
    "gif": ("image/gif", _starts(b"GIF87a", b"GIF89a")),
    "rar": ("application/vnd.rar", _starts(b"Rar!\x1a\x07")),
    "zip": ("application/zip", _starts(*_ZIP)),
    "7z": ("application/x-7z-compressed", _starts(b"7z\xbc\xaf\x27\x1c")),
    "doc": ("application/msword", _starts(_OLE)),
    "xls": ("application/vnd.ms-excel", _starts(_OLE)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             _starts(*_ZIP)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             _starts(*_ZIP)),
    "mp4": ("video/mp4", _mp4),
    "pdf": ("application/pdf", _starts(b"%PDF-")),
    "txt": ("text/plain; charset=utf-8", _text),
    "log": ("text/plain; charset=utf-8", _text),
}
ALLOWED = ", ".join(sorted(TYPES))
HEAD_BYTES = 8192


class Refused(Exception):
    def __init__(self, en, zh):
        super().__init__(en)
        self.en, self.zh = en, zh


def extension(filename):
    return os.path.splitext(filename or "")[1].lower().lstrip(".")


def check(filename, head):
    """Return the canonical content type, or raise Refused saying why."""
    ext = extension(filename)
    if ext not in TYPES:
        raise Refused(f"files of type '.{ext}' are not accepted." if ext else
                      "the file name has no extension.",
                      f"不接受“.{ext}”类型的文件。" if ext else "文件名缺少扩展名。")
    content_type, matches = TYPES[ext]
    if not matches(head):
        raise Refused(f"the content is not a real .{ext} file (checked by its bytes, not "
                      "its name).", f"文件内容与 .{ext} 格式不符（按内容而非文件名检查）。")
    return content_type


def safe_filename(filename):
    """Keep the name readable (Chinese included) but free of paths and control characters."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name[:200] or "file"
