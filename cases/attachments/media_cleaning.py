"""What identifies the maker of an audio or video file, removed inside the sandboxed
worker (``cleaner_worker``), the way ``pdf_cleaning`` does for PDFs. Nothing is
re-encoded: the sound and the pictures come out bit for bit as they went in.

* **MP3, FLAC and Ogg** (Vorbis, Opus, FLAC in Ogg) keep their audio frames untouched;
  mutagen deletes the tags around them: ID3v1 and ID3v2 (titles, names, comments,
  dates, the encoding software, attached pictures, private frames), APEv2, FLAC's
  Vorbis comments and pictures, Ogg's comment headers.
* **MP4 and QuickTime** (mp4, m4a, mov, 3gp), **Matroska and WebM**, **AVI** and
  **WAV** are remuxed with PyAV (FFmpeg's libraries) into a new container of the same
  format that carries only the audio, video and subtitle packets: the container's and
  each track's tags (``udta``/``meta``/``ilst`` atoms with QuickTime's ``©xyz`` place
  and Apple's ``com.apple.quicktime.*`` keys, Matroska tags, RIFF ``LIST``/``INFO`` and
  ``bext``), creation and modification times, chapters, data tracks (GPS and sensor
  telemetry such as GoPro's, timecode) and attachments (cover art, fonts) are not
  written, and FFmpeg's bit-exact mode leaves out its own version.

Kept: the streams themselves, their timing, codec parameters and language-neutral
handler names. What the pictures and sound show or say is the evidence and is never
touched (docs/THREAT_MODEL.md).
"""

from __future__ import annotations

import io
from typing import Any

# Keys of what was removed, shown in words by the apps (cases.attachments.cleaning).
TAGS, LOCATION, DEVICE, DATES, PICTURES, CHAPTERS, DATA_TRACKS = (
    "tags", "location", "device", "dates", "pictures", "chapters", "data_tracks")

MUTAGEN_FORMATS = ("mp3", "flac", "ogg")
REMUX_FORMATS = {"mp4": "mp4", "m4a": "ipod", "3gp": "3gp", "mov": "mov",
                 "matroska": "matroska", "webm": "webm", "avi": "avi", "wav": "wav"}
MEDIA_FORMATS = frozenset({*MUTAGEN_FORMATS, *REMUX_FORMATS})

# What a demuxer reports that is structure, not a tag anyone wrote.
_STRUCTURAL = frozenset({"major_brand", "minor_version", "compatible_brands", "duration",
                         "language", "handler_name", "vendor_id", "doctype"})
_LOCATION_WORDS = ("location", "gps", "xyz", "iso6709")
_DEVICE_WORDS = ("make", "model", "software", "camera", "device", "lens")
_DATE_WORDS = ("creation_time", "date", "time")


class NotMedia(LookupError):
    """Not one of the formats above: nothing to clean (a file that starts like one and
    does not read as one is damaged, and raises another error: "failed")."""


def clean_media(kind: str, data: bytes) -> tuple[bytes, list[str]]:
    """The cleaned file and the keys of what was removed. ``kind`` is
    ``cases.attachments.filetype.detect``'s word for the file."""
    if kind in MUTAGEN_FORMATS:
        return _untag(data)
    if kind in REMUX_FORMATS:
        return _remux(REMUX_FORMATS[kind], data)
    raise NotMedia(f"no cleaner for {kind!r}")


def _untag(data: bytes) -> tuple[bytes, list[str]]:
    import mutagen
    from mutagen.flac import FLAC

    buffer = io.BytesIO(data)
    ape_removed = _without_ape(buffer)  # first: an ID3v1 tag after it is then last again
    audio = mutagen.File(buffer)
    if audio is None:  # it starts like one, so it is damaged: "failed", not "unsupported"
        raise ValueError("mutagen does not read this file")
    removed = _classify(list((audio.tags or {}).keys())) | ({TAGS} if ape_removed else set())
    if isinstance(audio, FLAC):
        flac: Any = audio  # mutagen's FLAC methods carry no types
        if flac.pictures:
            removed.add(PICTURES)
        flac.clear_pictures()
        if flac.tags is not None:
            flac.tags.clear()
        buffer.seek(0)
        flac.save(buffer, deleteid3=True, padding=lambda _info: 0)
    else:  # an attached picture's tag (APIC, covr...) was classified with the others
        buffer.seek(0)
        audio.delete(buffer)
    return buffer.getvalue(), sorted(removed)


def _without_ape(buffer: io.BytesIO) -> bool:
    """An APEv2 tag (at the end of an MP3, which ID3 does not cover) deleted; whether
    there was one."""
    from mutagen.apev2 import delete as delete_ape

    before = len(buffer.getvalue())
    delete_ape(buffer)
    buffer.seek(0)
    return len(buffer.getvalue()) != before


def _remux(container: str, data: bytes) -> tuple[bytes, list[str]]:
    import av

    with av.open(io.BytesIO(data), mode="r") as source:  # damaged: FFmpegError, "failed"
        removed = _classify(list(source.metadata))
        if source.chapters():
            removed.add(CHAPTERS)
        out = io.BytesIO()
        with av.open(out, mode="w", format=container,
                     container_options={"fflags": "+bitexact"}) as target:
            streams = _copied_streams(source, target, removed)
            if not streams:
                raise ValueError("no audio or video stream: damaged, or not really media")
            for packet in source.demux(*[s for s in source.streams if s.index in streams]):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = streams[packet.stream.index]
                target.mux(packet)
    return out.getvalue(), sorted(removed)


def _copied_streams(source: Any, target: Any, removed: set[str]) -> dict[int, Any]:
    """Each audio, video and subtitle stream of ``source`` added to ``target`` with its
    codec parameters and no tags; every other stream is left out."""
    copied: dict[int, Any] = {}
    for stream in source.streams:
        removed |= _classify(list(stream.metadata))
        if stream.type not in ("audio", "video", "subtitle"):
            removed.add(PICTURES if stream.type == "attachment" else DATA_TRACKS)
            continue
        if stream.disposition & _attached_picture():
            removed.add(PICTURES)  # cover art, stored as a one-frame video stream
            continue
        twin = target.add_stream_from_template(stream)
        twin.metadata.clear()
        copied[stream.index] = twin
    return copied


def _attached_picture() -> int:
    import av

    return int(av.stream.Disposition.attached_pic)


def _classify(keys: list[Any]) -> set[str]:
    """What a file's tag names say it held, in the apps' words."""
    found: set[str] = set()
    for key in keys:
        name = str(key).lower()
        if name in _STRUCTURAL:
            continue
        if any(word in name for word in _LOCATION_WORDS):
            found.add(LOCATION)
        elif any(word in name for word in _DEVICE_WORDS):
            found.add(DEVICE)
        elif any(word in name for word in _DATE_WORDS) or name in ("tdrc", "tdor", "tyer"):
            found.add(DATES)
        elif name.startswith(("apic", "covr", "metadata_block_picture")):
            found.add(PICTURES)
        else:
            found.add(TAGS)
    return found
