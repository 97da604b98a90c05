"""Audio and video files made by the tests with PyAV (FFmpeg's libraries) and tagged with
mutagen, with a marker in every place that can betray who recorded them: titles,
names, comments, the place (QuickTime's ``©xyz``, ID3 ``TXXX``), the device, dates,
the encoding software, chapters, a GPS data track, cover pictures, private frames."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av

MARKER = b"MRKZ"  # in every tag the files carry; none may survive the cleaning
PLACE = "+12.3456+065.4321/"  # ISO 6709, as phones write it
TAKEN = "2021-03-04T05:06:07.000000Z"
JPEG_WITH_EXIF = (b"\xff\xd8\xff\xe1\x00\x0eExif\x00\x00" + MARKER + b"GPS\xff\xdb\x00\x04\x00\x00"
                  b"\xff\xd9")  # enough of a JPEG for a cover picture


def _tags(prefix: str = "") -> dict[str, str]:
    m = MARKER.decode()
    return {"title": f"{m}title{prefix}", "artist": f"{m}artist", "comment": f"{m}comment",
            "location": PLACE, "creation_time": TAKEN, "make": f"{m}make",
            "model": f"{m}model", "encoder": f"{m}encoder"}


def video(fmt: str, vcodec: str = "mpeg4", acodec: str = "aac", rate: int = 44100,
          data_codec: str = "", chapters: bool = False) -> bytes:
    """Ten frames of video and some silence in ``fmt``, every tag set; ``data_codec``
    adds a data track carrying the marker (as a GPS logger's would)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        out.metadata.update(_tags())
        v = out.add_stream(vcodec, rate=10)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        v.metadata.update({"handler_name": MARKER.decode() + "handler",
                           "title": MARKER.decode() + "track"})
        a = out.add_stream(acodec, rate=rate)
        data = out.add_data_stream(data_codec) if data_codec else None
        if chapters:
            out.set_chapters([{"id": 1, "start": 0, "end": 5, "time_base": Fraction(1, 10),
                               "metadata": {"title": MARKER.decode() + "chapter"}}])
        for i in range(10):
            frame = av.VideoFrame(64, 48, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([i * 20]) * plane.buffer_size)
            frame.pts = i
            out.mux(v.encode(frame))
            if data is not None:
                packet = av.Packet(b"GPS " + MARKER + b"%d" % i)
                packet.stream, packet.pts, packet.dts = data, i, i
                packet.time_base = Fraction(1, 10)
                out.mux(packet)
        out.mux(v.encode())
        _silence(out, a, rate)
    return buf.getvalue()


def audio(fmt: str, codec: str, rate: int = 44100, tagged: bool = True) -> bytes:
    """Some silence in ``fmt``; with ``tagged``, FFmpeg's own tags (for WAV's INFO list
    and MP4's ``ilst``) carry the marker too."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        if tagged:
            out.metadata.update(_tags())
        _silence(out, out.add_stream(codec, rate=rate), rate)
    return buf.getvalue()


def _silence(out: Any, stream: Any, rate: int) -> None:
    samples = stream.codec_context.frame_size or 1024
    for i in range(12):
        frame = av.AudioFrame(format=stream.format.name, layout="mono", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.rate, frame.pts = rate, i * samples
        out.mux(stream.encode(frame))
    out.mux(stream.encode())


def mp3() -> bytes:
    """An MP3 with ID3v2 (text, comment, place, private frame, cover), ID3v1 and APEv2."""
    from mutagen.apev2 import APEv2
    from mutagen.id3 import APIC, COMM, ID3, PRIV, TIT2, TPE1, TXXX

    buf = io.BytesIO(audio("mp3", "libmp3lame", tagged=False))
    tags = ID3()
    m = MARKER.decode()
    for frame in (TIT2(encoding=3, text=m + "title"), TPE1(encoding=3, text=m + "artist"),
                  COMM(encoding=3, lang="eng", desc="", text=m + "comment"),
                  TXXX(encoding=3, desc="GPS", text=PLACE + m),
                  PRIV(owner=m + "owner", data=MARKER),
                  APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=JPEG_WITH_EXIF)):
        tags.add(frame)
    tags.save(buf, v1=2)
    ape = APEv2()
    ape["Comment"] = m + "ape"
    ape.save(buf)
    return buf.getvalue()


def flac() -> bytes:
    from mutagen.flac import FLAC, Picture

    buf = io.BytesIO(audio("flac", "flac", tagged=False))
    tagged = FLAC(buf)
    tagged["title"], tagged["artist"] = MARKER.decode() + "title", MARKER.decode() + "artist"
    tagged["location"] = PLACE + MARKER.decode()
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/jpeg", JPEG_WITH_EXIF
    tagged.add_picture(picture)
    buf.seek(0)
    tagged.save(buf)
    return buf.getvalue()


def opus() -> bytes:
    from mutagen.oggopus import OggOpus

    buf = io.BytesIO(audio("ogg", "libopus", rate=48000, tagged=False))
    tagged = OggOpus(buf)
    tagged["title"], tagged["artist"] = MARKER.decode() + "title", MARKER.decode() + "artist"
    tagged["comment"] = PLACE + MARKER.decode()
    buf.seek(0)
    tagged.save(buf)
    return buf.getvalue()


# name -> (how to make it, the kind cases.attachments.filetype.detect gives it)
FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "mp3": (mp3, "mp3"),
    "flac": (flac, "flac"),
    "opus": (opus, "ogg"),
    "wav": (lambda: audio("wav", "pcm_s16le"), "wav"),
    "m4a": (lambda: audio("ipod", "aac"), "m4a"),
    "mp4": (lambda: video("mp4", data_codec="bin_data"), "mp4"),
    "mov": (lambda: video("mov", chapters=True), "mov"),
    "mkv": (lambda: video("matroska", acodec="libopus", rate=48000, chapters=True), "matroska"),
    "webm": (lambda: video("webm", vcodec="libvpx", acodec="libopus", rate=48000), "webm"),
    "avi": (lambda: video("avi", acodec="libmp3lame"), "avi"),
}


def packets(data: bytes) -> dict[str, list[bytes]]:
    """The audio and video payloads of a file, per kind of stream, in order: what a
    cleaning that does not re-encode must leave bit for bit."""
    found: dict[str, list[bytes]] = {}
    with av.open(io.BytesIO(data)) as container:
        for packet in container.demux():
            cover = packet.stream.disposition & av.stream.Disposition.attached_pic
            if packet.size and packet.stream.type in ("audio", "video") and not cover:
                found.setdefault(packet.stream.type, []).append(bytes(packet))
    return found


def movie_times(data: bytes) -> list[int]:
    """Creation and modification times of every ``mvhd``, ``tkhd`` and ``mdhd`` box of an
    MP4 or QuickTime file (seconds since 1904; 0 when not set)."""
    times: list[int] = []
    for box in (b"mvhd", b"tkhd", b"mdhd"):
        at = data.find(box)
        while at != -1:
            version = data[at + 4]
            width = 8 if version == 1 else 4
            start = at + 8
            times += [int.from_bytes(data[start:start + width], "big"),
                      int.from_bytes(data[start + width:start + 2 * width], "big")]
            at = data.find(box, at + 4)
    return times
