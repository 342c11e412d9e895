//! Draining, as a load balancer sees the binary after SIGTERM: it keeps serving with `/readyz`
//! 503 for `server.shutdown_delay_secs`, then refuses new connections, ends event streams with a
//! `retry:` hint, lets the request in flight finish, and exits 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{bin, listening_port, KillOnDrop};

/// One request on a fresh connection (`Connection: close`): the whole raw answer, or `None` when
/// the connection is refused.
fn http(port: u64, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port as u16)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    Some(buf)
}

/// Read from `s` until `needle` shows up (or EOF / timeout); everything read.
fn read_until(s: &mut TcpStream, needle: &str, secs: u64) -> String {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !String::from_utf8_lossy(&got).contains(needle) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn after_sigterm_it_serves_with_readyz_503_for_the_delay_then_drains_and_exits() {
    const DELAY: u64 = 2;
    let mut child = bin()
        .env("BFF__SERVER__PORT", "0")
        .env("BFF__UPSTREAM__BASE_URL", "http://127.0.0.1:9")
        .env("BFF__TELEMETRY__FORMAT", "json")
        .env("BFF__SERVER__SHUTDOWN_DELAY_SECS", DELAY.to_string())
        .env("BFF__SERVER__SHUTDOWN_TIMEOUT_SECS", "20")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    let port = listening_port(&mut child);
    assert!(http(port, "/readyz").unwrap().starts_with("HTTP/1.1 200"));

    // An open event stream, and a request whose body is still arriving.
    let mut sse = TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    sse.write_all(
        b"GET /v1/ops/events/stream HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer dev-ops-token\r\n\r\n",
    )
    .unwrap();
    assert!(read_until(&mut sse, "retry: 2000", 10).contains("retry: 2000"));
    let body = br#"{"event_id":"evt_drain"}"#;
    let mut slow = TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    slow.write_all(
        format!(
            "POST /v1/webhooks/aarthik HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    slow.write_all(&body[..5]).unwrap();

    let t0 = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // The signal is delivered asynchronously: give it a moment (well inside the delay) to land.
    let signalled = Instant::now();
    while http(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200"))
        && signalled.elapsed() < Duration::from_millis(500)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The delay: still serving, but not ready.
    let mut saw_draining = false;
    while t0.elapsed() < Duration::from_millis(DELAY * 1000 - 700) {
        let ready = http(port, "/readyz").expect("still accepting during the delay");
        assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
        assert!(ready.contains("draining"), "{ready}");
        saw_draining = true;
        let health = http(port, "/healthz").expect("still accepting during the delay");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(saw_draining);

    // Then: no new connections, and the event stream ends with a retry hint.
    let tail = read_until(&mut sse, "retry: 1000", DELAY + 5);
    assert!(tail.contains("retry: 1000"), "{tail}");
    assert!(
        t0.elapsed() >= Duration::from_secs(DELAY),
        "not before the delay"
    );
    let refused = {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            if TcpStream::connect(("127.0.0.1", port as u16)).is_err() {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert!(refused, "new connections are refused after the delay");

    // The request in flight still gets its answer.
    slow.write_all(&body[5..]).unwrap();
    let answer = read_until(&mut slow, "\r\n\r\n", 10);
    assert!(
        answer.starts_with("HTTP/1.1 "),
        "in-flight request answered: {answer:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not exit once drained");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        t0.elapsed() < Duration::from_secs(DELAY + 10),
        "exited well before the 20 s shutdown timeout: {:?}",
        t0.elapsed()
    );
}
