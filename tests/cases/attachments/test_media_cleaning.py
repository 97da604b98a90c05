"""Audio and video cleaning in the sandboxed worker: files made by the test (PyAV, tags
by mutagen) with a marker in every tag come out with none, in the same format, with every
audio and video packet bit for bit as it was (nothing re-encoded), no creation times in
MP4 and QuickTime, no chapters, data tracks or cover pictures; broken and hostile files
are contained and kept as sent."""

from __future__ import annotations

import io

import av
import mediakit
import pytest

from cases.attachments.cleaning import AttachmentCleaner, outcome
from cases.attachments.filetype import detect
from cases.attachments.sandbox import Cleaned, Limits, NotCleaned, clean_in_sandbox

EXPECTED = {  # what each corpus file must be reported as having lost, at least
    "mp3": {"tags", "location", "pictures"},
    "flac": {"tags", "location", "pictures"},
    "opus": {"tags"},
    "wav": {"tags"},
    "m4a": {"tags", "dates"},
    "mp4": {"tags", "dates", "data_tracks"},
    "mov": {"tags", "dates", "device", "location", "chapters"},
    "mkv": {"tags", "dates", "device", "location", "chapters"},
    "webm": {"tags", "dates", "device", "location"},
    "avi": {"tags", "device"},
}


@pytest.fixture(scope="module", params=sorted(mediakit.FILES))
def corpus(request: pytest.FixtureRequest) -> tuple[str, str, bytes]:
    make, kind = mediakit.FILES[request.param]
    return request.param, kind, make()


def test_every_tag_is_gone_and_not_one_packet_changed(corpus: tuple[str, str, bytes]) -> None:
    name, kind, dirty = corpus
    assert detect(dirty) == kind and mediakit.MARKER in dirty  # the test can fail
    result = clean_in_sandbox("media", dirty)
    assert isinstance(result, Cleaned), result
    assert mediakit.MARKER not in result.data and mediakit.PLACE.encode() not in result.data
    assert detect(result.data) == kind  # the same format, which the same players open
    assert mediakit.packets(result.data) == mediakit.packets(dirty)  # nothing re-encoded
    assert EXPECTED[name] <= set(result.removed)
    with av.open(io.BytesIO(result.data)) as cleaned:
        assert not cleaned.chapters()
        assert {s.type for s in cleaned.streams} <= {"audio", "video"}
        assert not any(s.disposition & av.stream.Disposition.attached_pic
                       for s in cleaned.streams)
        tags = {k: v for k, v in cleaned.metadata.items()
                if k not in ("major_brand", "minor_version", "compatible_brands", "encoder")}
        assert tags == {}, tags


@pytest.mark.parametrize("name", ["mp4", "mov", "m4a"])
def test_quicktime_creation_times_are_not_kept(name: str) -> None:
    make, _kind = mediakit.FILES[name]
    dirty = make()
    assert any(mediakit.movie_times(dirty))  # the corpus carries the recording time
    result = clean_in_sandbox("media", dirty)
    assert isinstance(result, Cleaned)
    times = mediakit.movie_times(result.data)
    assert times and not any(times)


@pytest.mark.parametrize(
    ("data", "limits"),
    [
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 64, Limits()),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\xff\xff\xff\xffmoov" + b"\0" * 999,
         Limits()),  # a box that claims 4 GiB
        (b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\0" * 4096, Limits()),  # a tag of 256 MiB
        (b"fLaC\x00\x00\x00\x22" + b"\xff" * 64, Limits()),  # a stream header of nonsense
        (None, Limits(memory_bytes=64 * 1024 * 1024)),  # too little memory for FFmpeg
        (None, Limits(wall_seconds=0.01)),
    ],
    ids=["noise", "huge-box", "huge-id3", "bad-flac", "memory", "time"],
)
def test_broken_or_hostile_files_cost_only_the_worker(data: bytes | None, limits: Limits) -> None:
    sent = data if data is not None else mediakit.FILES["mov"][0]()
    cleaner = AttachmentCleaner(sandbox=lambda kind, held: clean_in_sandbox(kind, held, limits))
    out = cleaner.feed(sent) + cleaner.finish()
    report = cleaner.report()
    assert not report["cleaned"] and report["reason"] in ("failed", "timeout")
    assert out == sent and outcome(report)[0] == "unreadable"


def test_a_truncated_video_is_kept_as_sent() -> None:
    dirty = mediakit.FILES["mov"][0]()
    assert clean_in_sandbox("media", dirty[: len(dirty) // 2]) == NotCleaned("failed")


def test_the_cleaner_holds_a_video_and_reports_in_words_keys() -> None:
    dirty = mediakit.FILES["mov"][0]()
    cleaner = AttachmentCleaner()
    out = b"".join(cleaner.feed(dirty[i:i + 700]) for i in range(0, len(dirty), 700))
    assert out == b""  # held until complete
    out += cleaner.finish()
    assert mediakit.MARKER not in out
    what, keys = outcome(cleaner.report())
    assert what == "removed" and {"location", "device", "chapters"} <= set(keys)
    assert cleaner.report()["kind"] == "media"
