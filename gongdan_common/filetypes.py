"""Attachment whitelist, checked by content: the extension must be allowed AND the first
bytes must be what that extension's format starts with. A renamed .exe fails.

Archives (.zip, .7z, .rar) are also opened and their member names listed (nothing is
extracted to disk): a member whose extension is on the executable denylist refuses the whole
upload, and so does an archive that unpacks to far more than it weighs (a zip bomb) or that
cannot be listed (encrypted names, corrupt). Archives inside a .zip are listed one level
down; deeper nesting, or an archive inside a .7z/.rar (which would need extracting), is
refused rather than waved through."""
import os
import tempfile
import zipfile

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


MAX_NAME = 200


def safe_filename(filename):
    """Keep the name readable (Chinese included) but free of paths and control characters;
    a long name is shortened in its stem so that the extension (which decides the type)
    survives."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    if len(name) > MAX_NAME:
        stem, ext = os.path.splitext(name)
        name = stem[:MAX_NAME - len(ext)] + ext if 1 < len(ext) <= 16 else name[:MAX_NAME]
    return name or "file"


# ---- archive members ---------------------------------------------------------------------

ARCHIVES = ("zip", "7z", "rar")
# programs and scripts Windows, macOS, Linux or Android run on a double click (or nearly)
DENYLIST = frozenset("""
    exe dll com bat cmd msi msp mst scr pif cpl sys drv ocx vbs vbe js jse wsf wsh wsc hta
    ps1 psm1 psd1 ps1xml psc1 lnk inf reg scf jar apk app dmg pkg deb rpm sh bash csh ksh run
    bin elf so dylib command workflow action gadget msc application appref-ms xbap url iso img
    vhd vhdx chm hlp py pyw pl rb php asp aspx jsp cgi
""".split())


class ArchivePolicy:
    def __init__(self, denylist=None, max_unpacked=2 * 1024 ** 3, max_ratio=200,
                 max_members=10000):
        self.denylist = frozenset(denylist) if denylist else DENYLIST
        self.max_unpacked, self.max_ratio = int(max_unpacked), float(max_ratio)
        self.max_members = int(max_members)

    @classmethod
    def from_config(cls, cfg):
        cfg = cfg or {}
        deny = [e.strip().lower().lstrip(".")
                for e in str(cfg.get("archive_denylist") or "").split(",") if e.strip()]
        return cls(deny or None, cfg.get("archive_max_unpacked_bytes") or 2 * 1024 ** 3,
                   cfg.get("archive_max_ratio") or 200, cfg.get("archive_max_members") or 10000)


def _refuse_member(name):
    return Refused(f"the archive contains '{name}', a program or script that is not accepted.",
                   f"压缩包中包含“{name}”，不接受可执行程序或脚本。")


def _unlistable(ext, why):
    return Refused(f"the .{ext} archive cannot be listed ({why}); send it unencrypted.",
                   f"无法列出该 .{ext} 压缩包的内容（{why}），请上传未加密的压缩包。")


_BOMB = Refused("the archive unpacks to far more than its size (a compression bomb?).",
                "压缩包解压后的大小远超其本身（疑似压缩炸弹）。")
_TOO_DEEP = Refused("the archive holds an archive inside an archive; send it flattened.",
                    "压缩包中嵌套了多层压缩包，请解开后再上传。")


def check_archive(ext, fileobj, policy=None, depth=0):
    """List the members of a .zip/.7z/.rar held in a seekable `fileobj`; raise Refused when
    one is a program, when the archive is a bomb, or when it cannot be listed."""
    policy = policy or ArchivePolicy()
    fileobj.seek(0, 2)
    packed = max(fileobj.tell(), 1)
    fileobj.seek(0)
    members = {"zip": _zip_members, "7z": _7z_members, "rar": _rar_members}[ext](fileobj)
    if len(members) > policy.max_members:
        raise Refused(f"the archive has more than {policy.max_members} files.",
                      f"压缩包内文件超过 {policy.max_members} 个。")
    unpacked = sum(size for _, size, _ in members)
    if unpacked > policy.max_unpacked or (unpacked > 1024 * 1024 and
                                          unpacked / packed > policy.max_ratio):
        raise _BOMB
    for name, size, opener in members:
        base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        member_ext = extension(base)
        if member_ext in policy.denylist:
            raise _refuse_member(name)
        if member_ext in ARCHIVES:
            if depth >= 1 or opener is None:
                raise _TOO_DEEP
            with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as inner:
                with opener() as src:
                    _copy_bounded(src, inner, policy.max_unpacked)
                check_archive(member_ext, inner, policy, depth + 1)
        fileobj.seek(0)
    fileobj.seek(0)


def _copy_bounded(src, dst, limit):
    total = 0
    while True:
        chunk = src.read(1024 * 1024)
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            raise _BOMB
        dst.write(chunk)


def _zip_members(fileobj):
    try:
        zf = zipfile.ZipFile(fileobj)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as err:
        raise _unlistable("zip", str(err)[:80]) from None
    out = []
    for info in infos:
        if info.file_size > 1024 * 1024 and info.compress_size and \
                info.file_size / info.compress_size > 1000:
            raise _BOMB  # one member alone compressed beyond any real file
        opener = None if info.flag_bits & 0x1 else (lambda i=info: zf.open(i))
        out.append((info.filename, info.file_size, opener))
    return out


def _7z_members(fileobj):
    try:
        import py7zr
        with py7zr.SevenZipFile(fileobj, mode="r") as archive:
            infos = archive.list()
    except Exception as err:  # noqa: BLE001 - py7zr raises many kinds; all mean "not listable"
        raise _unlistable("7z", type(err).__name__) from None
    # members are not extracted (that would run the decompressor): nested archives refused
    return [(i.filename, i.uncompressed or 0, None) for i in infos]


def _rar_members(fileobj):
    try:
        import rarfile
        archive = rarfile.RarFile(fileobj)
        infos = archive.infolist()
    except Exception as err:  # noqa: BLE001 - rarfile raises many kinds; all mean "not listable"
        raise _unlistable("rar", type(err).__name__) from None
    if not infos:  # encrypted headers, or not a rar at all: nothing could be read
        raise _unlistable("rar", "encrypted" if archive.needs_password() else "no members")
    # rarfile lists headers in pure Python but extracting needs the unrar program
    return [(i.filename, i.file_size or 0, None) for i in infos]
