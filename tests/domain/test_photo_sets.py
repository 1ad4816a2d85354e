"""Photo sets in the media library (a real SQLCipher vault, migrated to 0007)."""

from __future__ import annotations

from pathlib import Path

import pytest

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.media import MediaService
from piper_desktop.domain.photo_sets import PhotoSetService
from piper_desktop.sandbox.images import write_image
from piper_desktop.store.db import Database


def _images(tmp_path: Path, n: int) -> list[Path]:
    return [write_image(tmp_path / f"i{k}.jpg", "jpeg", shade=k * 9) for k in range(n)]


def test_add_photo_set_in_order_with_cover(db: Database, tmp_path: Path) -> None:
    service = PhotoSetService(db)
    paths = [*_images(tmp_path, 3), write_image(tmp_path / "w.webp", "webp")]
    item, created = service.add(paths, title="Trip", cover_index=2)
    assert created and item.kind == "photo_set" and item.cover_index == 2
    assert [Path(i["path"]).name for i in item.images or []] == [
        "i0.jpg",
        "i1.jpg",
        "i2.jpg",
        "w.webp",
    ]
    assert [i["format"] for i in item.images or []] == ["jpeg"] * 3 + ["webp"]
    again, created_again = service.add(paths, title="Trip")
    assert again.id == item.id and not created_again
    reordered, created_other = service.add(list(reversed(paths)))
    assert created_other and reordered.id != item.id
    media = MediaService(db)
    assert media.problem(media.get(item.id)) is None
    paths[1].write_bytes(b"changed")
    assert "changed" in (media.problem(media.get(item.id)) or "")


@pytest.mark.parametrize(
    ("case", "field"),
    [("empty", "images"), ("many", "images"), ("text", "images"), ("cover", "cover")],
)
def test_refusals_name_the_field(db: Database, tmp_path: Path, case: str, field: str) -> None:
    paths: list[Path] = _images(tmp_path, 2)
    cover = 0
    if case == "empty":
        paths = []
    elif case == "many":
        paths = paths * 18
    elif case == "text":
        note = tmp_path / "note.jpg"
        note.write_text("hello")
        paths.append(note)
    else:
        cover = 5
    with pytest.raises(ValidationError) as info:
        PhotoSetService(db).add(paths, cover_index=cover)
    assert info.value.field == field
    assert MediaService(db).count() == 0
