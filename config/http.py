"""HTTP response headers both apps send (OWASP ASVS 3.4). Plain data, no Flask: each app
applies them in an ``after_request`` hook."""

from __future__ import annotations

from urllib.parse import quote

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

# The intake pages that seal in the reporter's browser run libsodium's WebAssembly, which
# needs 'wasm-unsafe-eval' (compiling WebAssembly, not evaluating strings: 'unsafe-eval'
# stays off). Those pages only: intake.sealing.seals_in_browser.
SEALING_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'"
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "battery",
        "bluetooth",
        "camera",
        "display-capture",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


# The caseworker app signs in with security keys: WebAuthn for its own origin only.
WEBAUTHN_PERMISSIONS_POLICY = PERMISSIONS_POLICY.replace(
    "publickey-credentials-get=()",
    "publickey-credentials-create=(self), publickey-credentials-get=(self)",
)


def security_headers(*, https: bool, webauthn: bool = False) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Permissions-Policy": WEBAUTHN_PERMISSIONS_POLICY if webauthn else PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store, max-age=0",
        "Pragma": "no-cache",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


def attachment_disposition(name: str) -> str:
    """``Content-Disposition`` for a download: always an attachment (never rendered inline),
    with an ASCII fallback name for old clients and the real name in RFC 6266 / 5987 form."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# A downloaded file is the reporter's, not ours: no browser may run or sniff it.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Download-Options": "noopen",
}
