"""``--prune`` never deletes another file's documents (issue 24, data loss).

- Files of the same name in two folders are two sources: pruning ``other/part_a.csv``
  keeps every document of ``v1/part_a.csv``.
- The same file reloaded from another working directory (another relative path) is the
  same source.
- A key held by two files loaded separately: the user is told (key and both files), and
  pruning either file keeps the document while the other still holds it.
- Stores written before paths were recorded (``_file`` holds only a name, manifest
  ``sources`` keyed by name) keep working: a file alone under its name is pruned as
  before; documents of two same-named files that cannot be told apart are kept, and the
  summary says so.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from click.testing import CliRunner

from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.store import StoreSettings, open_store

from .fakes import FakeEmbedder

# The command line loads with the fake embedder (click's obj: ingest.cli.Seams).
FAKE = Seams(embedder=FakeEmbedder())


def part(path: Path, ids, tag: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract"])
        for i in ids:
            w.writerow([i, f"abstract {i} {tag} about a cooling loop for battery cells"])
    return path


def run(*args: str, cwd: Path | None = None):
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(ingest_cli, list(args), obj=FAKE)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result


def loaded(*args: str, cwd: Path | None = None) -> dict:
    return json.loads(run("load", "-q", "--format", "json", "--id", "id", *args, cwd=cwd).stdout)


def stored(collection: str = "k") -> dict[str, dict]:
    store = open_store(StoreSettings.resolve())
    try:
        return {p.payload["_key"]: p.payload for p in store.open(collection).scroll()}
    finally:
        store.close()


def manifest(collection: str = "k") -> dict:
    store = open_store(StoreSettings.resolve())
    try:
        return store.open(collection).read_manifest().to_dict()
    finally:
        store.close()


def test_same_named_files_in_two_folders_are_two_sources(tmp_path):
    part(tmp_path / "v1" / "part_a.csv", range(0, 100), "v1")
    part(tmp_path / "v1" / "part_b.csv", range(100, 150), "v1b")
    other = part(tmp_path / "other" / "part_a.csv", range(500, 510), "other")
    first = loaded(str(tmp_path / "v1"), "-c", "k")
    assert first["points"] == 150

    again = loaded(str(other), "-c", "k", "--prune")
    assert again["pruned"] == 0, "pruning other/part_a.csv deleted v1/part_a.csv's documents"
    docs = stored()
    assert len(docs) == 160
    assert {docs[str(i)]["_path"] for i in range(100)} == {
        str((tmp_path / "v1" / "part_a.csv").resolve())
    }
    assert docs["500"]["_path"] == str(other.resolve())
    assert docs["0"]["_file"] == docs["500"]["_file"] == "part_a.csv"  # names stay for --where
    sources = manifest()["sources"]
    assert set(sources) == {
        str((tmp_path / d / n).resolve())
        for d, n in (("v1", "part_a.csv"), ("v1", "part_b.csv"), ("other", "part_a.csv"))
    }

    # other/part_a.csv loses a row: only that one goes.
    part(other, range(500, 509), "other")
    again = loaded(str(other), "-c", "k", "--prune")
    assert again["pruned"] == 1
    assert set(stored()) == {str(i) for i in [*range(150), *range(500, 509)]}


def test_the_same_file_from_another_working_directory_is_the_same_source(tmp_path):
    data = part(tmp_path / "data" / "p.csv", range(0, 20))
    loaded("p.csv", "-c", "k", cwd=tmp_path / "data")
    part(data, range(0, 18))
    (tmp_path / "elsewhere").mkdir()
    relative = os.path.join("..", "data", "p.csv")
    again = loaded(relative, "-c", "k", "--prune", cwd=tmp_path / "elsewhere")
    assert again["pruned"] == 2 and again["unchanged"] == 18 and again["shared_count"] == 0
    assert list(manifest()["sources"]) == [str(data.resolve())]


def test_a_key_in_two_files_loaded_separately_is_named_and_never_pruned_by_the_other(tmp_path):
    a = part(tmp_path / "a.csv", range(1, 6), "from-a")
    b = part(tmp_path / "b.csv", range(4, 9), "from-b")
    loaded(str(a), "-c", "k")
    result = run("load", str(b), "-c", "k", "--id", "id")
    out = result.output
    for key in ("4", "5"):
        assert f"warning: key '{key}' of {b.resolve()} was stored from {a.resolve()}" in out, out
    assert "key '6'" not in out
    summary = loaded(str(b), "-c", "k")  # again: b's versions are stored, nothing to say
    assert summary["shared_count"] == 0 and summary["unchanged"] == 5
    docs = stored()
    assert "from-b" in docs["4"]["abstract"] and docs["4"]["_also"] == [str(a.resolve())]

    # b drops key 4, which a still holds: the document stays, now a's.
    part(b, range(5, 9), "from-b")
    summary = loaded(str(b), "-c", "k", "--prune")
    assert summary["pruned"] == 0 and summary["prune_kept_shared"] == 1
    docs = stored()
    assert set(docs) == {str(i) for i in range(1, 9)}
    assert docs["4"]["_path"] == str(a.resolve()) and "_also" not in docs["4"]
    # Reloading a stores a's own version of key 4 again; key 5 is b's and a's.
    summary = loaded(str(a), "-c", "k")
    assert "from-a" in stored()["4"]["abstract"]

    # a drops key 5, which b holds: kept.  a drops key 1, which only a held: pruned.
    part(a, [2, 3, 4], "from-a")
    summary = loaded(str(a), "-c", "k", "--prune")
    assert summary["pruned"] == 1 and summary["prune_kept_shared"] == 1
    docs = stored()
    assert "5" in docs and "1" not in docs
    assert docs["5"]["_path"] == str(b.resolve())


# -- stores written before paths were recorded ------------------------------------------------


def make_legacy(last: Path | None = None, collection: str = "k") -> None:
    """Rewrite a collection as older versions stored it: no ``_path``/``_also`` in the
    payloads, manifest ``sources`` keyed by file name (``last``, the file of its name loaded
    last, wins)."""
    store = open_store(StoreSettings.resolve())
    try:
        coll = store.open(collection)
        points = list(coll.scroll())
        coll.overwrite_payload(
            [
                (p.id, {k: v for k, v in p.payload.items() if k not in ("_path", "_also")})
                for p in points
            ]
        )
        m = coll.read_manifest()
        by_name = {}
        for path, entry in sorted(m.sources.items(), key=lambda kv: kv[0] == str(last)):
            by_name[Path(path).name] = entry
        m.sources = by_name
        coll.write_manifest(m)
    finally:
        store.close()


def test_an_old_store_with_one_file_per_name_prunes_as_before(tmp_path):
    a = part(tmp_path / "a.csv", range(0, 30))
    loaded(str(a), "-c", "k")
    make_legacy()
    part(a, range(0, 27))
    summary = loaded(str(a), "-c", "k", "--prune")
    assert summary["pruned"] == 3 and summary["prune_kept_unsure"] == 0
    assert summary["unchanged"] == 27 and summary["paths_recorded"] == 27
    assert summary["embedded"] == 0 and summary["shared_count"] == 0
    assert {p["_path"] for p in stored().values()} == {str(a.resolve())}
    assert list(manifest()["sources"]) == [str(a.resolve())]


def test_an_old_store_with_two_files_of_one_name_keeps_what_it_cannot_attribute(tmp_path):
    """The reported case, in a store written by the old version: v1/part_a and
    other/part_a both loaded; the manifest remembers only the last one."""
    v1 = part(tmp_path / "v1" / "part_a.csv", range(0, 40), "v1")
    other = part(tmp_path / "other" / "part_a.csv", range(500, 510), "other")
    loaded(str(v1), "-c", "k")
    summary = loaded(str(other), "-c", "k")
    assert summary["points"] == 50
    make_legacy(last=other.resolve())
    assert manifest()["sources"]["part_a.csv"]["file"] == str(other.resolve())

    result = run("load", str(other), "-c", "k", "--id", "id", "--prune")
    assert "pruned 0" in result.output, result.output
    assert "prune kept 40 documents stored before patentsim recorded folders" in result.output
    assert len(stored()) == 50, "v1/part_a.csv's documents were deleted"
