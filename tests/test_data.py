"""swin_edu.data: safe reading of CIFAR-10, the download path (offline), and the device pipeline."""
import hashlib
import io
import os
import pickle
import shutil
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from swin_edu import data
from swin_edu.augment import random_crop_flip
from swin_edu.data import (CIFAR10_URL, DeviceLoader, SafeUnpickler, data_dir, download_cifar10, load_cifar10,
                           normalize)

FILES = data.TRAIN_FILES + data.TEST_FILES


def fake_batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"batch_label": f"fake {seed}", "labels": rng.integers(0, 10, n).tolist(),
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "filenames": [f"img_{seed}_{i}.png" for i in range(n)]}


def write_fake(root: Path, n: int = 4) -> dict:
    """A tiny cifar-10-batches-py folder: every file holds n images. Returns the batches written."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for seed, name in enumerate(FILES):
        batches[name] = fake_batch(n, seed)
        with open(folder / name, "wb") as f:
            pickle.dump(batches[name], f, protocol=4)
    return batches


def real_root() -> Path | None:
    root = data_dir()
    return root if (root / "cifar-10-batches-py" / "data_batch_5").is_file() else None


# ---------------------------------------------------------------- reading

def test_reads_fake_folder(tmp_path):
    batches = write_fake(tmp_path)
    x, y = load_cifar10("train", tmp_path, download=False)
    assert x.shape == (20, 3, 32, 32) and x.dtype == torch.uint8 and y.dtype == torch.int64
    # the layout: 1024 red values row-major, then green, then blue
    row = batches["data_batch_2"]["data"][1]
    assert torch.equal(x[5, 1], torch.from_numpy(row[1024:2048].reshape(32, 32)))
    assert y.tolist() == sum((batches[n]["labels"] for n in data.TRAIN_FILES), [])
    xt, yt = load_cifar10("test", tmp_path, download=False)
    assert xt.shape == (4, 3, 32, 32) and yt.tolist() == batches["test_batch"]["labels"]


def test_reads_bytes_keys_and_protocol_2(tmp_path):
    """The official files are Python 2 pickles by numpy 1 (bytes keys, numpy.core); a Python 3 re-pickle
    at protocol 2 writes bytes with _codecs.encode."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batch = fake_batch(3, 0)
    payload = pickle.dumps({b"data": batch["data"], b"labels": batch["labels"]}, protocol=2)
    # the official files were written by numpy 1, whose array rebuilder lives in numpy.core
    payload = payload.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"numpy.core.multiarray" in payload
    (folder / "test_batch").write_bytes(payload)
    x, y = load_cifar10("test", tmp_path, download=False)
    assert torch.equal(x.flatten(1), torch.from_numpy(batch["data"])) and y.tolist() == batch["labels"]


def test_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("SWIN_EDU_DATA", str(tmp_path / "env"))
    assert data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("SWIN_EDU_DATA")
    assert data_dir() == Path(data.__file__).resolve().parent.parent / "data"


@pytest.mark.skipif(real_root() is None, reason="no local CIFAR-10 (build it with shared/data/cifar10/build.py)")
def test_real_local_copy():
    x, y = load_cifar10("train", download=False)
    assert x.shape == (50000, 3, 32, 32) and x.dtype == torch.uint8
    assert y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]  # as in the original data_batch_1
    assert torch.equal(torch.bincount(y), torch.full((10,), 5000))
    xt, yt = load_cifar10("test", download=False)
    assert xt.shape[1:] == (3, 32, 32) and len(xt) in (1000, 10000) and 0 <= int(yt.min()) <= int(yt.max()) <= 9
    mean = x[:10000].float().mean((0, 2, 3)) / 255
    torch.testing.assert_close(mean, torch.tensor(data.CIFAR10_MEAN), atol=3e-3, rtol=0)


# ---------------------------------------------------------------- broken files

def test_truncated_file_is_value_error(tmp_path):
    write_fake(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="data_batch_3"):
        load_cifar10("train", tmp_path, download=False)


def test_corrupt_file_is_value_error(tmp_path):
    write_fake(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(os.urandom(3000))
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10("test", tmp_path, download=False)


@pytest.mark.parametrize("change, message", [
    (lambda b: b.update(data=b["data"].astype(np.int16)), "uint8"),
    (lambda b: b.update(data=b["data"][:, :1000]), "3072"),
    (lambda b: b.update(labels=b["labels"][:-1]), "labels"),
    (lambda b: b.update(labels=[10] * len(b["labels"])), "0..9"),
    (lambda b: b.pop("data"), "data"),
])
def test_wrong_content_is_value_error(tmp_path, change, message):
    write_fake(tmp_path)
    batch = fake_batch(4, 0)
    change(batch)
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump(batch, f)
    with pytest.raises(ValueError, match=message):
        load_cifar10("test", tmp_path, download=False)


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_unpickler_refuses_code(tmp_path):
    payload = pickle.dumps({"data": Exploit(), "labels": []})
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        SafeUnpickler(io.BytesIO(payload)).load()
    write_fake(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(payload)
    with pytest.raises(ValueError, match="not allowed"):
        load_cifar10("test", tmp_path, download=False)


# ---------------------------------------------------------------- missing files and download

def test_missing_offline_names_url(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz") as info:
        load_cifar10("train", tmp_path, download=False)
    assert CIFAR10_URL in str(info.value) and "data_batch_1" in str(info.value)

    def offline(url, dst, **kwargs):
        raise urllib.error.URLError("Name or service not known")
    monkeypatch.setattr(data, "download_url_to_file", offline)
    with pytest.raises(RuntimeError, match="download failed") as info:
        load_cifar10("test", tmp_path)
    assert CIFAR10_URL in str(info.value) and str(tmp_path) in str(info.value)


def make_archive(tmp_path: Path) -> tuple[Path, str, dict]:
    """A tar.gz laid out like the official one (plus a hostile member), and its md5."""
    batches = write_fake(tmp_path / "src")
    archive = tmp_path / "fake.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        evil = tarfile.TarInfo("../escaped")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil"))
    return archive, hashlib.md5(archive.read_bytes()).hexdigest(), batches


def test_download_extracts_and_loads(tmp_path, monkeypatch):
    archive, md5, batches = make_archive(tmp_path)
    calls = []

    def fake_download(url, dst, **kwargs):
        calls.append(url)
        shutil.copyfile(archive, dst)
    monkeypatch.setattr(data, "download_url_to_file", fake_download)
    monkeypatch.setattr(data, "CIFAR10_MD5", md5)  # what load_cifar10 checks the download against
    root = tmp_path / "root"
    x, y = load_cifar10("test", root)
    assert calls == [CIFAR10_URL]
    assert y.tolist() == batches["test_batch"]["labels"] and x.shape == (4, 3, 32, 32)
    assert not (tmp_path / "escaped").exists() and not (root.parent / "escaped").exists()
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py"]  # archive removed after extraction
    load_cifar10("train", root, download=False)  # everything was extracted


def test_download_wrong_checksum(tmp_path, monkeypatch):
    archive, md5, _ = make_archive(tmp_path)
    monkeypatch.setattr(data, "download_url_to_file", lambda url, dst, **kw: shutil.copyfile(archive, dst))
    root = tmp_path / "root"
    with pytest.raises(ValueError, match="checksum"):
        download_cifar10(root)  # the official md5 does not match the fake archive
    assert list(root.iterdir()) == []  # nothing left behind
    assert (download_cifar10(root, md5=md5) / "data_batch_1").is_file()


# ---------------------------------------------------------------- device pipeline

def test_random_crop_flip_is_crop_of_padded_image_or_its_flip():
    x = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    out = random_crop_flip(x, torch.Generator().manual_seed(0), padding=2)
    assert out.shape == x.shape and out.dtype == torch.uint8
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    n_flipped = 0
    for b in range(16):
        crops = [padded[b, :, i:i + 8, j:j + 8] for i in range(5) for j in range(5)]
        plain = any(torch.equal(out[b], c) for c in crops)
        flipped = any(torch.equal(out[b], c.flip(-1)) for c in crops)
        assert plain or flipped
        n_flipped += flipped and not plain
    assert 0 < n_flipped < 16
    assert torch.equal(random_crop_flip(x, torch.Generator(), padding=0, flip=False), x)


def test_random_crop_flip_deterministic_per_generator():
    x = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8)
    a = random_crop_flip(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, random_crop_flip(x, torch.Generator().manual_seed(3)))
    assert not torch.equal(a, random_crop_flip(x, torch.Generator().manual_seed(4)))


def test_normalize():
    x = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    out = normalize(x)
    assert out.dtype == torch.float32
    expected = (1 - torch.tensor(data.CIFAR10_MEAN)) / torch.tensor(data.CIFAR10_STD)
    torch.testing.assert_close(out[0, :, 0, 0], expected)


def test_device_loader():
    x = torch.randint(0, 256, (50, 3, 32, 32), dtype=torch.uint8)
    y = torch.arange(50)
    train = DeviceLoader(x, y, batch_size=16, train=True, seed=1)
    assert len(train) == 3  # the incomplete batch is dropped
    batches = list(train)
    assert all(xb.shape == (16, 3, 32, 32) and xb.dtype == torch.float32 for xb, _ in batches)
    seen = torch.cat([yb for _, yb in batches])
    assert len(seen.unique()) == 48  # each image at most once per epoch
    again = list(DeviceLoader(x, y, batch_size=16, train=True, seed=1))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(batches, again))
    second_epoch = next(iter(train))[1]
    assert not torch.equal(second_epoch, batches[0][1])  # a new order every epoch
    plain = torch.cat([b[0] for b in DeviceLoader(x, y, batch_size=16, train=True, augment=None, seed=1)])
    order = torch.cat([b[1] for b in DeviceLoader(x, y, batch_size=16, train=True, augment=None, seed=1)])
    assert torch.equal(plain, normalize(x[order]))  # shuffled, not augmented
    test = DeviceLoader(x, y, batch_size=16, train=False)
    assert len(test) == 4
    xb, yb = torch.cat([b[0] for b in test]), torch.cat([b[1] for b in test])
    assert torch.equal(yb, y) and torch.equal(xb, normalize(x))  # fixed order, no augmentation


def test_device_loader_checks_input():
    with pytest.raises(ValueError, match="uint8"):
        DeviceLoader(torch.zeros(4, 3, 32, 32), torch.zeros(4, dtype=torch.long), 2, train=True)
    x, y = torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match="batch_size"):  # would yield no batch at all
        DeviceLoader(x, y, 8, train=True)
    assert len(DeviceLoader(x, y, 8, train=False)) == 1  # evaluation takes what there is
