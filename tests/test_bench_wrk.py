"""bench/wrk.py: the request pool file pool.lua reads, and wrk's output as the benches read it (canned input)."""

from pathlib import Path

import pytest

from bench import wrk

CANNED = Path(__file__).parent / "data" / "wrk-output.txt"


def test_http_request_is_raw_http_with_the_body_length():
    raw = wrk.http_request("POST", "/wechat?nonce=1", "127.0.0.1:8000", [("Content-Type", "text/xml")],
                           "<xml>消息</xml>".encode())
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.split(b"\r\n") == [b"POST /wechat?nonce=1 HTTP/1.1", b"Host: 127.0.0.1:8000",
                                   b"Content-Type: text/xml", b"Content-Length: %d" % len(body)]
    assert body.decode() == "<xml>消息</xml>"


def test_a_get_has_no_content_length():
    assert wrk.http_request("GET", "/v/abc", "h:1") == b"GET /v/abc HTTP/1.1\r\nHost: h:1\r\n\r\n"


def test_pool_file_round_trips_requests_with_newlines_and_binary(tmp_path):
    requests = [wrk.http_request("POST", f"/wechat?n={i}", "h:1", body=b"a\nb\r\n\x00" * i) for i in range(5)]
    assert wrk.write_pool(tmp_path / "p.pool", requests) == 5
    assert wrk.read_pool(tmp_path / "p.pool") == requests
    assert (tmp_path / "p.pool").read_bytes().startswith(b"%d\n" % len(requests[0]))


def test_an_empty_pool_is_refused(tmp_path):
    with pytest.raises(ValueError):
        wrk.write_pool(tmp_path / "p.pool", [])


def test_threads_take_disjoint_slices_covering_the_pool():
    slices = wrk.thread_slices(list(range(7)), 2)
    assert slices == [[0, 2, 4, 6], [1, 3, 5]]


def test_parse_reads_the_script_line_and_agrees_with_wrk():
    result = wrk.parse(CANNED.read_text())
    assert (result.requests, result.non2xx, result.statuses) == (2593, 1304, {302: 2, 404: 1302})
    assert (result.read_errors, result.timeouts, result.repeated, result.pool) == (3, 2, 2498, 100)
    assert result.p50_ms == pytest.approx(1.153) and result.p99_ms == pytest.approx(11.349)
    assert result.rps == pytest.approx(2593 / 1.100029)
    assert result.errors == 1304 + 3 + 2
    assert "HTTP 404×1302" in result.summary() and "timeout 2" in result.summary()


def test_parse_refuses_output_without_the_script_line():
    with pytest.raises(wrk.WrkError):
        wrk.parse("Running 1s test @ http://127.0.0.1:1\nRequests/sec: 10.0\n")


def test_parse_refuses_a_script_count_below_wrks_own():
    text = CANNED.read_text().replace("non2xx=1304", "non2xx=10")
    with pytest.raises(wrk.WrkError):
        wrk.parse(text)
