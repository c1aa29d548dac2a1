"""Streaming an upload from the HTTP request to object storage.

The body is never held whole in memory: multipart bodies are parsed by werkzeug into a
spooled temporary file (memory up to 512 KB, then disk); raw bodies are piped straight
through. Either way the first 8 KB decide the type, then the bytes flow to S3 while being
counted and hashed.
"""
import re
import tempfile
import uuid

from werkzeug.formparser import parse_form_data

from gongdan_common import filetypes
from gongdan_common.storage import HashingReader

from . import exceptions as exc


# A ticket attachment is authorised by the one RPC that records it (intake's
# add_attachment, after the file is stored; the object is deleted when it refuses), not by
# a second RPC before streaming (authorize_attachment: ~4.5 of 37 core-ms per 1 MB upload,
# docs/performance.md issue 16). A refused upload costs its transfer, bounded by the actor's
# upload rate limit, and keeps nothing. A ticket id of another shape is still asked first:
# it names no ticket and must not become part of an object key.
PLAIN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def open_upload(request, max_bytes):
    """-> (filename, stream, declared_length or None)"""
    if request.mimetype == "multipart/form-data":
        # max_form_memory_size=None: Werkzeug 2.3 checks that limit against the multipart
        # parser's raw read buffer (file bytes included), so a small value refused ordinary
        # files at random; the whole body is already capped by max_content_length
        try:
            _, form, files = parse_form_data(request.environ, stream_factory=_spool,
                                             max_content_length=max_bytes + 65536,
                                             max_form_memory_size=None, silent=False)
        except ValueError as err:  # a truncated or garbled body is the client's error
            raise exc.BAD_MULTIPART(problem=str(err)[:120]) from None
        f = files.get("file")
        if f is None:
            raise exc.FILE_MISSING()
        f.stream.seek(0, 2)
        length = f.stream.tell()
        f.stream.seek(0)
        return f.filename, f.stream, length
    filename = request.args.get("filename")
    if not filename:
        raise exc.FILE_MISSING()
    return filename, request.stream, request.content_length


# A file part up to this size stays in memory while it is parsed (werkzeug's default,
# 500 KB, wrote a 1 MB screenshot to a temporary file and read it back).
SPOOL_IN_MEMORY = 4 * 1024 * 1024


def _spool(total_content_length, content_type, filename, content_length=None):
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="rb+")


def store_upload(request, ticket_id, store, bucket, max_bytes, prefix="tickets", policy=None):
    """Check and stream one file; returns the attachment record for intake (or, with
    prefix="kb", for a knowledge-base article whose id is passed as `ticket_id`)."""
    filename, stream, length = open_upload(request, max_bytes)
    filename = filetypes.safe_filename(filename)
    if length is not None and length > max_bytes:
        raise exc.FILE_TOO_LARGE(limit=f"{max_bytes // (1024 * 1024)} MB")
    head = stream.read(filetypes.HEAD_BYTES)
    if not head:
        raise exc.EMPTY_FILE()
    try:
        content_type = filetypes.check(filename, head)
    except filetypes.Refused as refused:
        raise exc.FILE_TYPE_REFUSED(filename=filename, reason=refused.en, reason_zh=refused.zh,
                                    allowed=filetypes.ALLOWED) from None
    if length is None:
        raise exc.FILE_MISSING()  # chunked raw uploads need a length for a bounded stream
    if filetypes.extension(filename) in filetypes.ARCHIVES:
        stream = _inspect_archive(filename, head, stream, max_bytes, policy)
    key = f"{prefix}/{ticket_id}/{uuid.uuid4().hex}/{filename}"
    if stream.seekable():
        # read again from the start rather than replaying `head`: the SDK then gets each
        # part in one read, not head + rest glued into a copy of the part
        stream.seek(stream.tell() - len(head))
        head = b""
    reader = HashingReader(stream, head=head, limit=max_bytes)
    try:
        store.put_stream(key, reader, length, content_type)
    except ValueError:
        store.delete(key)
        raise exc.FILE_TOO_LARGE(limit=f"{max_bytes // (1024 * 1024)} MB") from None
    if reader.size != length:  # the client sent less than it announced
        store.delete(key)
        raise exc.UPLOAD_INCOMPLETE(got=reader.size, expected=length)
    return {"filename": filename, "content_type": content_type, "size": reader.size,
            "sha256": reader.sha256.hexdigest(), "bucket": bucket, "object_key": key}


def _inspect_archive(filename, head, stream, max_bytes, policy):
    """An archive's member list sits at its end (zip) or needs random access, so the whole
    file is spooled first (memory up to 4 MB, then a temporary file; bounded by max_bytes)
    and listed; the returned stream continues after `head`, as the caller expects."""
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    spool.write(head)
    total = len(head)
    while True:
        chunk = stream.read(1024 * 1024)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            spool.close()
            raise exc.FILE_TOO_LARGE(limit=f"{max_bytes // (1024 * 1024)} MB")
        spool.write(chunk)
    try:
        filetypes.check_archive(filetypes.extension(filename), spool, policy)
    except filetypes.Refused as refused:
        spool.close()
        raise exc.FILE_TYPE_REFUSED(filename=filename, reason=refused.en, reason_zh=refused.zh,
                                    allowed=filetypes.ALLOWED) from None
    spool.seek(len(head))
    return spool
