"""Archive members against the denylist, bombs, nesting, and long names keeping their
extension. Archives are made here with the standard library and py7zr."""
import io
import struct
import zipfile
import zlib

import py7zr
import pytest

from gongdan_common import filetypes


def make_zip(members, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    buf.seek(0)
    return buf


def make_7z(members):
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    buf.seek(0)
    return buf


def test_plain_zip_of_logs_is_accepted():
    filetypes.check_archive("zip", make_zip({"logs/app.log": b"hello\n" * 100,
                                             "截图.png": b"\x89PNG\r\n\x1a\n..."}))


@pytest.mark.parametrize("name", ["setup.exe", "tools/Run.BAT", "a\\b\\evil.ps1", "x.jar"])
def test_zip_with_a_program_is_refused(name):
    with pytest.raises(filetypes.Refused) as refused:
        filetypes.check_archive("zip", make_zip({"readme.txt": b"hi", name: b"MZ..."}))
    assert name in refused.value.en and "可执行" in refused.value.zh


def test_program_inside_a_nested_zip_is_found():
    inner = make_zip({"payload.exe": b"MZ"}).getvalue()
    with pytest.raises(filetypes.Refused):
        filetypes.check_archive("zip", make_zip({"docs.zip": inner}))
    clean = make_zip({"a.txt": b"fine"}).getvalue()
    filetypes.check_archive("zip", make_zip({"docs.zip": clean}))


def test_archives_nested_two_deep_are_refused():
    level2 = make_zip({"a.txt": b"x"}).getvalue()
    level1 = make_zip({"l2.zip": level2}).getvalue()
    with pytest.raises(filetypes.Refused) as refused:
        filetypes.check_archive("zip", make_zip({"l1.zip": level1}))
    assert "archive inside an archive" in refused.value.en


def test_zip_bomb_is_refused():
    bomb = make_zip({"zeros.txt": b"\0" * (50 * 1024 * 1024)})
    with pytest.raises(filetypes.Refused) as refused:
        filetypes.check_archive("zip", bomb)
    assert "bomb" in refused.value.en
    small = filetypes.ArchivePolicy(max_unpacked=1000)
    with pytest.raises(filetypes.Refused):
        filetypes.check_archive("zip", make_zip({"a.txt": b"x" * 2000}, zipfile.ZIP_STORED),
                                small)


def test_corrupt_zip_is_refused_not_crashed():
    with pytest.raises(filetypes.Refused) as refused:
        filetypes.check_archive("zip", io.BytesIO(b"PK\x03\x04" + b"\0" * 100))
    assert "cannot be listed" in refused.value.en


def test_7z_members_are_listed():
    filetypes.check_archive("7z", make_7z({"a.log": b"log line\n"}))
    with pytest.raises(filetypes.Refused):
        filetypes.check_archive("7z", make_7z({"a.log": b"x", "bin/tool.exe": b"MZ"}))
    with pytest.raises(filetypes.Refused):  # not extracted, so not waved through either
        filetypes.check_archive("7z", make_7z({"inner.zip": make_zip({"a": b"b"}).getvalue()}))


def make_rar4(members):
    """A RAR 4 archive of stored files, written by hand (no rar program is free to install):
    marker, archive header, one file header + data per member, end block."""
    def block(htype, flags, body):
        head = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head
    out = b"Rar!\x1a\x07\x00" + block(0x73, 0, b"\0" * 6)
    for name, data in members.items():
        raw = name.encode()
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 2, zlib.crc32(data), 0,
                           20, 0x30, len(raw), 0x20) + raw
        out += block(0x74, 0x8000, body) + data
    return io.BytesIO(out + block(0x7B, 0x4000, b""))


def test_rar_members_are_listed_without_unrar():
    filetypes.check_archive("rar", make_rar4({"a.log": b"hello"}))
    with pytest.raises(filetypes.Refused) as refused:
        filetypes.check_archive("rar", make_rar4({"a.log": b"hello", "bin/x.exe": b"MZ"}))
    assert "bin/x.exe" in refused.value.en


def test_rar_that_cannot_be_read_is_refused():
    with pytest.raises(filetypes.Refused):
        filetypes.check_archive("rar", io.BytesIO(b"Rar!\x1a\x07\x00" + b"\0" * 64))


def test_long_name_keeps_its_extension():
    name = "报" * 150 + "a" * 150 + ".log"
    safe = filetypes.safe_filename(name)
    assert len(safe) == filetypes.MAX_NAME and safe.endswith(".log")
    assert filetypes.extension(safe) == "log"
    assert filetypes.safe_filename("a" * 300).startswith("a") and \
        len(filetypes.safe_filename("a" * 300)) == filetypes.MAX_NAME
    assert filetypes.safe_filename("../../x.txt") == "x.txt"
