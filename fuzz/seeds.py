#!/usr/bin/env python3
"""Writes the seed corpus of the response, token and webhook fuzz targets.

Every seed is a documented example: the request/response JSON quoted in the platform notes
(`docs/meta-graph-api.md`, `docs/tiktok-api.md`, kept by the project's maintainers) or one of the
connectors' test fixtures (`cmis-meta/tests/fixtures`, `cmis-tiktok/tests/fixtures`, themselves
taken from those notes). The probe targets' seeds are real media files and are not made here.

Inputs are framed as `cmis_http::fuzzing::frame` reads them:
`<selector byte><header lines>\\n\\n<body>`. The selector's low four bits pick the HTTP status
from the target's table (see `cmis-meta/src/fuzzing.rs`, `cmis-tiktok/src/fuzzing.rs`), bit 4
marks a mutation, bit 5 picks Instagram (Meta only). The webhook target takes
`secret \\0 webhook-id \\0 webhook-timestamp \\0 webhook-signature \\0 body` (Standard Webhooks);
its seeds are the test vectors of the specification's reference libraries
(github.com/standard-webhooks/standard-webhooks, `libraries/python/tests/test_webhooks.py`,
`libraries/rust/src/lib.rs`) and a notification as the scheduler sends it.

Run from the repository root: `python3 fuzz/seeds.py`. It rewrites only files named `seed-*`.
"""

import base64
import glob
import hashlib
import hmac
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")

META_STATUS = [200, 201, 204, 206, 301, 302, 400, 401, 403, 404, 429, 500, 502, 503, 504, 599]
TIKTOK_STATUS = [200, 201, 204, 206, 302, 400, 401, 403, 404, 416, 429, 500, 502, 503, 504, 599]
MUTATION = 0x10
INSTAGRAM = 0x20


def selector(table, status, flags=0):
    return bytes([table.index(status) | flags])


def framed(sel, body, headers=()):
    head = "".join(f"{k}: {v}\n" for k, v in headers).encode()
    if isinstance(body, str):
        body = body.encode()
    return sel + (head + b"\n" if head else b"") + body


def fixture(crate, name):
    with open(os.path.join(ROOT, crate, "tests", "fixtures", name), "rb") as f:
        return f.read()


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"seed-{name}"), "wb") as f:
        f.write(data)


def clear(target):
    for path in glob.glob(os.path.join(CORPUS, target, "seed-*")):
        os.remove(path)


# Headers quoted in docs/meta-graph-api.md §4 "Rate-limit headers".
APP_USAGE = ("x-app-usage", '{"call_count":28,"total_time":25,"total_cputime":25}')
BUC_USAGE = (
    "x-business-use-case-usage",
    '{"1234567890":[{"type":"pages","call_count":97,"total_cputime":23,"total_time":23,'
    '"estimated_time_to_regain_access":7}]}',
)
PAGE_USAGE = ("x-page-usage", '{"call_count":85,"total_time":12,"total_cputime":9}')


def meta_graph_response():
    t = "meta_graph_response"
    clear(t)
    m = lambda status, flags=0: selector(META_STATUS, status, flags)
    successes = {
        # docs §1 and §2 response examples
        "doc-feed": '{"id":"1234567890_9876543210"}',
        "doc-success": '{"success":true}',
        "doc-photo": '{"id":"photo_id","post_id":"page_post_id"}',
        "doc-upload-session": '{"id":"upload:MTphdHRhY2htZW50"}',
        "doc-upload-handle": '{"h":"2:c2FtcGxlLm1wNA==:video/mp4:f9bb1bd4"}',
        "doc-video": '{"id":"30000000000000001"}',
        "doc-reel-start": '{"video_id":"40000000000000001","upload_url":"https://rupload.facebook.com/video-upload/v25.0/40000000000000001"}',
        "doc-ig-container": '{"id":"17889455560051444"}',
        "doc-ig-status-error": '{"status_code":"ERROR","status":"Error: Media upload has failed with error code 2207026"}',
        "doc-ig-limit": '{"data":[{"quota_usage":2,"config":{"quota_total":50,"quota_duration":86400}}]}',
        "doc-ig-upload-ok": '{"success":true,"message":"Upload successful."}',
        "doc-ig-upload-failed": '{"debug_info":{"retriable":false,"type":"ProcessingFailedError"}}',
        "doc-fb-video-status": '{"status":{"video_status":"processing"},"id":"30000000000000001"}',
        "numeric-id": '{"id":17889455560051444}',
        "empty": "",
    }
    for name, body in successes.items():
        write(t, f"{name}-read", framed(m(200), body))
        write(t, f"{name}-mutation", framed(m(200, MUTATION | INSTAGRAM), body))
    for path in sorted(glob.glob(os.path.join(ROOT, "cmis-meta/tests/fixtures/*.json"))):
        name = os.path.basename(path)[:-5]
        body = fixture("cmis-meta", os.path.basename(path))
        if name.startswith("error_"):
            write(t, f"fixture-{name}-400", framed(m(400, MUTATION), body))
            write(t, f"fixture-{name}-500-read", framed(m(500), body))
            write(t, f"fixture-{name}-200", framed(m(200, INSTAGRAM), body))
        else:
            write(t, f"fixture-{name}", framed(m(200), body))
    # docs §4: the error envelope with every field, and throttling with the usage headers.
    envelope = (
        '{"error":{"message":"Error validating access token","type":"OAuthException","code":190,'
        '"error_subcode":463,"error_user_title":"Session expired","error_user_msg":"Log in again",'
        '"fbtrace_id":"AbCdEf","is_transient":false}}'
    )
    write(t, "doc-envelope-401", framed(m(401), envelope))
    throttled = '{"error":{"message":"(#80001) There have been too many calls to this Page account.","type":"OAuthException","code":80001,"fbtrace_id":"A9x"}}'
    write(t, "doc-usage-429", framed(m(429, MUTATION), throttled, [APP_USAGE, BUC_USAGE]))
    write(t, "doc-usage-200", framed(m(200), '{"id":"1"}', [APP_USAGE, BUC_USAGE, PAGE_USAGE]))
    write(t, "retry-after-429", framed(m(429), "", [("retry-after", "120")]))
    write(t, "bare-502", framed(m(502, MUTATION), "bad gateway"))
    write(t, "redirect-302", framed(m(302), "", [("location", "https://example.com/")]))
    write(t, "string-code", framed(m(400), '{"error":{"code":"190","error_subcode":"463"}}'))


def meta_token_response():
    t = "meta_token_response"
    clear(t)
    m = lambda status, flags=0: selector(META_STATUS, status, flags)
    # docs §3 response examples
    write(t, "doc-long-lived", framed(m(200), '{"access_token":"EAAB-long-lived","token_type":"bearer","expires_in":5183944}'))
    write(t, "doc-ig-login", framed(m(200), '{"data":[{"access_token":"IGQW-token","user_id":"17841400000000000","permissions":"instagram_business_basic,instagram_business_content_publish"}]}'))
    write(t, "doc-debug-token", framed(m(200), '{"data":{"app_id":"1234567890","type":"USER","expires_at":0,"data_access_expires_at":1795000000,"is_valid":true,"issued_at":1780000000,"scopes":["pages_show_list"],"user_id":"10000000000000001"}}'))
    for name in ["long_lived", "ig_refresh", "debug_token", "me_accounts_1", "me_accounts_2"]:
        write(t, f"fixture-{name}", framed(m(200), fixture("cmis-meta", f"{name}.json")))
    write(t, "fixture-error_190_463", framed(m(400), fixture("cmis-meta", "error_190_463.json")))
    write(t, "no-expiry", framed(m(200), '{"access_token":"EAAB-page","token_type":"bearer"}'))


def tiktok_api_response():
    t = "tiktok_api_response"
    clear(t)
    k = lambda status, flags=0: selector(TIKTOK_STATUS, status, flags)
    for path in sorted(glob.glob(os.path.join(ROOT, "cmis-tiktok/tests/fixtures/*.json"))):
        name = os.path.basename(path)[:-5]
        if name in ("token", "oauth_invalid_grant", "revoke", "init_errors"):
            continue
        body = fixture("cmis-tiktok", os.path.basename(path))
        write(t, f"fixture-{name}", framed(k(200), body))
        write(t, f"fixture-{name}-mutation", framed(k(200, MUTATION), body))
    # docs §3 init errors, each in the §7 envelope with its documented status.
    for row in json.loads(fixture("cmis-tiktok", "init_errors.json")):
        body = json.dumps({"data": {}, "error": {"code": row["code"], "message": "", "log_id": "202210271914ERR"}})
        write(t, f"init-error-{row['code']}", framed(k(row["http"], MUTATION), body))
    # docs §6: a status error, §3: cancel errors, §7: a generic one on HTTP 200.
    for code, status in [("invalid_publish_id", 400), ("publish_not_cancellable", 400), ("access_token_invalid", 401), ("scope_permission_missed", 401)]:
        body = json.dumps({"error": {"code": code, "message": "m", "log_id": "L"}})
        write(t, f"doc-{code}", framed(k(status), body))
    write(t, "doc-rate-limited", framed(k(429), '{"error":{"code":"rate_limit_exceeded","message":"","log_id":"L"}}', [("retry-after", "60")]))
    write(t, "doc-cancel-ok", framed(k(200, MUTATION), '{"error":{"code":"ok","message":"","log_id":"L"}}'))
    # docs §3 upload answers: 416 with the Content-Range TikTok reports.
    write(t, "doc-upload-416", framed(k(416), "", [("content-range", "bytes 0-9999999/50000123")]))
    write(t, "doc-upload-206", framed(k(206), "", [("content-range", "bytes 0-9999999/*")]))
    write(t, "bare-503", framed(k(503, MUTATION), "Service Unavailable"))


def tiktok_oauth_response():
    t = "tiktok_oauth_response"
    clear(t)
    k = lambda status: selector(TIKTOK_STATUS, status)
    write(t, "fixture-token", framed(k(200), fixture("cmis-tiktok", "token.json")))
    write(t, "fixture-revoke", framed(k(200), fixture("cmis-tiktok", "revoke.json")))
    write(t, "fixture-invalid-grant", framed(k(400), fixture("cmis-tiktok", "oauth_invalid_grant.json")))
    # docs §1: the PKCE failure quoted there, and each documented OAuth error code.
    write(t, "doc-invalid-request", framed(k(400), '{"error":"invalid_request","error_description":"Code verifier or code challenge is invalid."}'))
    for code in ["access_denied", "invalid_client", "invalid_scope", "unauthorized_client", "unsupported_grant_type"]:
        write(t, f"doc-{code}", framed(k(400), json.dumps({"error": code, "error_description": "", "log_id": "L"})))
    write(t, "doc-token-older-lifetimes", framed(k(200), '{"open_id":"o","scope":"user.info.basic","access_token":"act.a","expires_in":86400,"refresh_token":"rft.r","refresh_expires_in":31536000,"token_type":"Bearer"}'))
    write(t, "v2-envelope", framed(k(401), '{"error":{"code":"access_token_invalid","message":"","log_id":"L"}}'))
    write(t, "bare-500", framed(k(500), "oops"))


def webhook_verify():
    t = "webhook_verify"
    clear(t)

    def sign(secret, msg_id, ts, body):
        key = base64.b64decode(secret.removeprefix(b"whsec_"))
        mac = hmac.new(key, msg_id + b"." + ts + b"." + body, hashlib.sha256).digest()
        return b"v1," + base64.b64encode(mac)

    def seed(name, secret, msg_id, ts, sig, body):
        write(t, name, b"\0".join([secret, msg_id, ts, sig, body]))

    # libraries/python/tests/test_webhooks.py (test_sign_function), also in the JavaScript and
    # Go tests: this secret, id, timestamp and payload sign to exactly this signature.
    secret = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = b"msg_p5jXN8AQM9LWM0D4loKWxJek"
    ts = b"1614265330"
    body = b'{"test": 2432232314}'
    sig = b"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, msg_id, ts, body) == sig
    seed("vector", secret, msg_id, ts, sig, body)
    seed("vector-bare-secret", secret[6:], msg_id, ts, sig, body)
    # The signature the Python test tampers (last character) and the JavaScript/Go tests' wrong
    # one, each with the genuine one after it, as during a rotation.
    seed("vector-rotation", secret, msg_id, ts, b" ".join([
        b"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
        b"v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        sig,
    ]), body)
    seed("vector-wrong", secret, msg_id, ts, b"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", body)
    seed("vector-partial", secret, msg_id, ts, b"v1,", body)
    seed("vector-tampered-body", secret, msg_id, ts, sig, body + b" ")
    seed("vector-tampered-id", secret, msg_id + b"x", ts, sig, body)
    seed("vector-other-timestamp", secret, msg_id, b"1614265331", sig, body)
    seed("vector-no-version", secret, msg_id, ts, sig[3:], body)
    # libraries/rust/src/lib.rs (test_sign).
    rust = b"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    rust_id = b"msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"
    rust_ts = b"1649367553"
    rust_body = b'{"email":"test@example.com","username":"test_user"}'
    rust_sig = b"v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
    assert sign(rust, rust_id, rust_ts, rust_body) == rust_sig
    seed("rust-vector", rust, rust_id, rust_ts, rust_sig, rust_body)
    # The notification JSON the scheduler sends (cmis-core's Notification, as in
    # cmis-scheduler/tests/webhook.rs), signed at a time within the fuzz entry point's tolerance.
    note = b'{"id":"evt_42","tenant":"acme","kind":"publish_failed","account":null,"subject":"42","message":"post p-1 failed","deadline":null,"at":"2024-10-04T00:00:00Z"}'
    now = b"1728000000"
    seed("notification", secret, b"evt_42", now, sign(secret, b"evt_42", now, note), note)
    seed("empty-secret", b"", msg_id, ts, sig, body)
    seed("raw-key-secret", b"not base64!", msg_id, ts, sig, body)
    seed("extreme-timestamp", secret, msg_id, b"-9223372036854775808", sig, body)

if __name__ == "__main__":
    meta_graph_response()
    meta_token_response()
    tiktok_api_response()
    tiktok_oauth_response()
    webhook_verify()
