"""Putting a file into object storage on a real local S3 server (scripts/s3local): a file of
one part is hashed once (the reader's SHA-256 signs the request), the server still checks
that hash, and larger or short bodies keep their old paths."""
import hashlib
import io
import os

import pytest
from minio import api as minio_api

from gongdan_common.storage import HashingReader, MinioObjectStore, make_client
from scripts import s3local
from scripts._proc import free_port

BUCKET = "storage-put-test"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    proc = s3local.start(str(tmp_path_factory.mktemp("s3")), address=f"127.0.0.1:{free_port()}")
    try:
        s3local.ensure_bucket(proc.endpoint, s3local.DEFAULT_USER, s3local.DEFAULT_PASSWORD,
                              BUCKET)
        client = make_client(proc.endpoint, {"access_key": s3local.DEFAULT_USER,
                                             "secret_key": s3local.DEFAULT_PASSWORD})
        yield MinioObjectStore(client, BUCKET)
    finally:
        s3local.stop(proc)


@pytest.fixture
def body_hashes(monkeypatch):
    """Sizes of the bodies the SDK hashed itself."""
    seen = []
    real = minio_api.sha256_hash

    def counting(data):
        seen.append(len(data or b""))
        return real(data)
    monkeypatch.setattr(minio_api, "sha256_hash", counting)
    return seen


def test_one_part_file_is_hashed_once_and_stored_whole(store, body_hashes):
    data = os.urandom(1024 * 1024)
    reader = HashingReader(io.BytesIO(data[100:]), head=data[:100], limit=len(data))
    store.put_stream("t/1/a.bin", reader, len(data), "application/octet-stream")
    assert store.get_bytes("t/1/a.bin") == data
    assert reader.size == len(data)
    assert reader.sha256.hexdigest() == hashlib.sha256(data).hexdigest()
    assert max(body_hashes, default=0) < 1024  # only empty or tiny bodies, never the file


def test_server_refuses_a_hash_that_does_not_match(store):
    """The hash the reader hands over is checked by the server: a wrong one is refused
    (storage unavailable), nothing is stored."""
    data = b"x" * 5000
    reader = HashingReader(io.BytesIO(data), limit=len(data))
    reader.sha256.update(b"not the body")
    with pytest.raises(Exception) as err:
        store.put_stream("t/1/wrong.bin", reader, len(data), "text/plain")
    assert getattr(err.value, "code", None) == "storage_unavailable"
    with pytest.raises(Exception):
        store.get_bytes("t/1/wrong.bin")


def test_short_body_is_not_sent(store):
    reader = HashingReader(io.BytesIO(b"abc"), limit=100)
    store.put_stream("t/1/short.bin", reader, 10, "text/plain")
    assert reader.size == 3  # the caller answers upload_incomplete
    with pytest.raises(Exception):
        store.get_bytes("t/1/short.bin")


def test_larger_file_goes_in_parts(store):
    data = os.urandom(6 * 1024 * 1024)
    reader = HashingReader(io.BytesIO(data), limit=len(data))
    store.put_stream("t/1/big.bin", reader, len(data), "application/octet-stream")
    assert store.get_bytes("t/1/big.bin") == data
    assert reader.sha256.hexdigest() == hashlib.sha256(data).hexdigest()


def test_too_large_is_refused_while_read(store):
    reader = HashingReader(io.BytesIO(b"y" * 200), limit=100)
    with pytest.raises(ValueError):
        store.put_stream("t/1/large.bin", reader, 200, "text/plain")
