import pytest

from sqis.storage import ObjectNotFound, StorageError, content_type, open_storage, safe_key


def test_roundtrip_list_copy_delete(tmp_path):
    s = open_storage(tmp_path / "root")
    s.write_bytes("2015-16/a.csv", b"x,y\n")
    s.write_bytes("2015-16/sub/b.html", b"<p>")
    assert s.read_bytes("2015-16/a.csv") == b"x,y\n"
    assert s.list("2015-16") == ["2015-16/a.csv", "2015-16/sub/b.html"]
    s.copy("2015-16/a.csv", "2016-17/a.csv")
    assert s.exists("2016-17/a.csv")
    s.delete("2016-17/a.csv")
    assert not s.exists("2016-17/a.csv")
    assert s.child("2015-16").read_bytes("sub/b.html") == b"<p>"


def test_missing_object(tmp_path):
    with pytest.raises(ObjectNotFound):
        open_storage(tmp_path).read_bytes("nope.csv")


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a//b", "", "a\\b", "./a"])
def test_keys_that_escape_the_root_are_refused(tmp_path, key):
    with pytest.raises(StorageError, match="unsafe"):
        safe_key(key)
    with pytest.raises(StorageError):
        open_storage(tmp_path).write_bytes(key, b"")


def test_write_leaves_no_temporary_files(tmp_path):
    s = open_storage(tmp_path)
    s.write_bytes("a/b.csv", b"1")
    s.write_bytes("a/b.csv", b"2")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.csv"]


def test_content_types():
    assert content_type("x.html").startswith("text/html")
    assert content_type("x.csv").startswith("text/csv")
    assert content_type("x.pdf") == "application/pdf"
    assert content_type("manifest.json") == "application/json"
