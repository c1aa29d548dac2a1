"""Object storage behind a Protocol; MinIO/S3 through the `minio` SDK is the implementation.

The provider owns one `Minio` client per process; workers get domain verbs only. Shared by
the gateway (web uploads) and channels (mail attachments): one store, one bucket layout.
"""
import datetime as dt
import hashlib
import logging
from typing import Protocol
from urllib.parse import quote

import urllib3
from minio import Minio
from minio.error import MinioException
from nameko.extensions import DependencyProvider

from .errors import ErrorSpec

log = logging.getLogger(__name__)

STORAGE_UNAVAILABLE = ErrorSpec(
    "storage_unavailable", 503,
    "File storage is unavailable right now; try the upload again later. "
    "Your ticket itself is safe.",
    "文件存储暂时不可用，请稍后重新上传附件。工单本身不受影响。")


class ObjectStore(Protocol):
    def put_stream(self, key: str, reader, length: int, content_type: str) -> None: ...
    def presigned_get(self, key: str, filename: str, ttl_seconds: int) -> str: ...
    def delete(self, key: str) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def ping(self) -> bool: ...


class HashingReader:
    """Wraps a stream: counts and sha256-hashes what passes, refuses past `limit` bytes,
    and replays an already-read `head` first (the bytes used to sniff the type)."""

    def __init__(self, stream, head=b"", limit=None):
        self.stream, self.head, self.limit = stream, head, limit
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.too_large = False

    def read(self, n=-1):
        if self.head:
            chunk = self.head if n is None or n < 0 else self.head[:n]
            self.head = self.head[len(chunk):]
            if n is not None and 0 <= n and len(chunk) < n:
                chunk += self.stream.read(n - len(chunk))
        else:
            chunk = self.stream.read(n)
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            self.too_large = True
            raise ValueError("upload exceeds the size limit")
        self.sha256.update(chunk)
        return chunk


PART_SIZE = 5 * 1024 * 1024
_PAYLOAD_SHA256 = "x-amz-content-sha256"


class _Minio(Minio):
    """The SDK signs a plain-HTTP request with the SHA-256 of its body, a second pass over
    bytes a HashingReader has just hashed (8 % of the gateway's samples per 1 MB upload).
    A request whose headers already carry that hash is signed with it instead."""

    def _build_headers(self, host, headers, body, creds):
        given = (headers or {}).get(_PAYLOAD_SHA256)
        if not given or not body:
            return super()._build_headers(host, headers, body, creds)
        headers, date = super()._build_headers(host, headers, None, creds)
        headers["Content-Length"] = str(len(body))
        if headers.get(_PAYLOAD_SHA256) != "UNSIGNED-PAYLOAD":  # https signs no payload
            headers[_PAYLOAD_SHA256] = given
        return headers, date


class MinioObjectStore:
    def __init__(self, client, bucket, presign_client=None):
        self.client, self.bucket = client, bucket
        self.presign_client = presign_client or client

    def put_stream(self, key, reader, length, content_type):
        try:
            if isinstance(reader, HashingReader) and reader.size == 0 and \
                    0 < length <= PART_SIZE and isinstance(self.client, _Minio):
                self._put_one_part(key, reader, length, content_type)
            else:
                # length known: the SDK reads and sends 5 MiB parts, never the whole file
                self.client.put_object(self.bucket, key, reader, length=length,
                                       content_type=content_type, part_size=PART_SIZE)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as err:
            log.warning("object store put failed: %s", err)
            raise STORAGE_UNAVAILABLE() from None

    def _put_one_part(self, key, reader, length, content_type):
        """A file of one part (what put_object would send as one PutObject), signed with
        the hash the reader computed while it was read: the bytes are hashed once. A body
        shorter than announced is not sent (the caller sees reader.size != length)."""
        chunks, got = [], 0
        while got < length:
            chunk = reader.read(length - got)
            if not chunk:
                return
            chunks.append(chunk)
            got += len(chunk)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.client._put_object(self.bucket, key, data, {
            "Content-Type": content_type or "application/octet-stream",
            _PAYLOAD_SHA256: reader.sha256.hexdigest()})

    def presigned_get(self, key, filename, ttl_seconds):
        disposition = "attachment; filename*=UTF-8''" + quote(filename)
        try:
            return self.presign_client.presigned_get_object(
                self.bucket, key, expires=dt.timedelta(seconds=ttl_seconds),
                response_headers={"response-content-disposition": disposition})
        except (MinioException, urllib3.exceptions.HTTPError, OSError):
            raise STORAGE_UNAVAILABLE() from None

    def delete(self, key):
        try:
            self.client.remove_object(self.bucket, key)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as err:
            log.warning("could not remove orphan object %s: %s", key, err)

    def get_bytes(self, key):
        """A small object whole (a held-aside mail, to process it again)."""
        try:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        except (MinioException, urllib3.exceptions.HTTPError, OSError):
            raise STORAGE_UNAVAILABLE() from None

    def ping(self):
        try:
            return self.client.bucket_exists(self.bucket)
        except (MinioException, urllib3.exceptions.HTTPError, OSError):
            return False


def make_client(endpoint, cfg):
    secure = str(cfg.get("secure", False)).lower() in ("1", "true", "yes")
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=3, read=60), maxsize=20,
        retries=urllib3.Retry(total=1, backoff_factor=0.2, status_forcelist=[502, 503, 504]))
    return _Minio(endpoint, access_key=str(cfg["access_key"]), secret_key=str(cfg["secret_key"]),
                 secure=secure, region=cfg.get("region") or "us-east-1", http_client=http)


def presign_client(cfg, client):
    """The client that signs links handed to browsers: for OBJECT_STORE.public_endpoint
    ([https://]host[:port], the address clients see, e.g. an Ingress in front of MinIO) when
    set, else the one the gateway uses itself. Signing needs no request to that address."""
    public = str(cfg.get("public_endpoint") or "").strip().rstrip("/")
    if not public:
        return client
    scheme, _, host = public.rpartition("://")
    secure = scheme == "https" if scheme else cfg.get("secure", False)
    return make_client(host, {**cfg, "secure": secure})


class ObjectStoreProvider(DependencyProvider):
    def setup(self):
        cfg = self.container.config["OBJECT_STORE"]
        client = make_client(cfg["endpoint"], cfg)
        presign = presign_client(cfg, client)
        self.store = MinioObjectStore(client, cfg["bucket"], presign)
        self.link_ttl = int(cfg.get("link_ttl_seconds", 300))

    def get_dependency(self, worker_ctx):
        return self.store

    def stop(self):
        for client in {id(c): c for c in (self.store.client, self.store.presign_client)}.values():
            client._http.clear()  # close pooled connections before the hub goes away
