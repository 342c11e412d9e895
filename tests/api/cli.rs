//! The binary as a user runs it: configuration errors, `token`, graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aarthik-bff"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("BFF") {
            c.env_remove(k);
        }
    }
    c.env("RUST_LOG", "info");
    c
}

/// Run to completion, killing the child if it is still running after `secs` (a test never hangs).
pub(crate) fn output_within(mut cmd: Command, secs: u64) -> std::process::Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the command did not finish within {secs} s");
        }
    }
}

#[test]
fn a_bad_port_stops_start_up_with_one_line_naming_the_key() {
    let out = {
        let mut c = bin();
        c.env("BFF__SERVER__PORT", "notaport");
        output_within(c, 30)
    };
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.port"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn production_refuses_the_development_defaults() {
    let mut c = bin();
    c.env("BFF_ENV", "production");
    let out = output_within(c, 30);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("production"), "{err}");
}

#[test]
fn token_prints_a_verifiable_hs256_jwt() {
    let mut c = bin();
    c.args(["token", "--sub", "u1", "--ttl", "120"]);
    let out = output_within(c, 30);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(crate::helpers::dev::HS256_SECRET.as_bytes()),
        &validation,
    )
    .expect("valid token");
    assert_eq!(data.claims["sub"], "u1");
    let exp = data.claims["exp"].as_i64().unwrap();
    let iat = data.claims["iat"].as_i64().unwrap();
    assert_eq!(exp - iat, 120);
}

#[test]
fn token_refuses_when_no_hs256_secret_is_configured() {
    let dir = std::env::temp_dir().join(format!("bff-jwks-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, r#"{"keys":[]}"#).unwrap();
    let mut c = bin();
    c.env("BFF__AUTH__HS256_SECRET", "")
        .env("BFF__AUTH__JWKS_FILE", &jwks)
        .args(["token", "--sub", "u1"]);
    let out = output_within(c, 30);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HS256"));
}

#[test]
fn sigterm_stops_the_server_gracefully_with_exit_code_zero() {
    let mut child = bin()
        .env("BFF__SERVER__PORT", "0")
        .env("BFF__UPSTREAM__BASE_URL", "http://127.0.0.1:9")
        .env("BFF__TELEMETRY__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    let port = listening_port(&mut child);
    let health = reqwest::blocking_get(port);
    assert!(health, "served /healthz before shutdown");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop within 15 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The port the server logged (JSON logs) once it listens; its stdout keeps being drained.
pub(crate) fn listening_port(child: &mut std::process::Child) -> u64 {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if v["message"] == "aarthik-bff listening" {
                    if let Some(port) = v["port"].as_u64() {
                        // Keep draining the pipe so the server never blocks on a full one.
                        std::thread::spawn(move || for _ in rx {});
                        return port;
                    }
                }
            }
        }
    }
    panic!("the server logged its port as JSON");
}

/// Kills the child if the test fails before it exits (SIGKILL to an exited pid is harmless here).
pub(crate) struct KillOnDrop(pub(crate) u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

mod reqwest {
    /// A tiny synchronous GET /healthz over a raw socket (no blocking client in the deps).
    pub fn blocking_get(port: u64) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port as u16)) else {
            return false;
        };
        let _ =
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200")
    }
}

/// The binary with `env`'s rules and every production-grade value set, `key` changed to `value`.
fn production_grade(env: &str, key: &str, value: &str) -> std::process::Output {
    let mut c = bin();
    c.env("BFF_ENV", env);
    for (k, v) in [
        ("BFF__UPSTREAM__BASE_URL", "https://api.example.com"),
        ("BFF__STORE__REDIS_URL", "redis://127.0.0.1:1"),
        ("BFF__UPSTREAM__API_KEY", "sk_live_abc"),
        (
            "BFF__AUTH__HS256_SECRET",
            "a-production-secret-of-enough-length-xx",
        ),
        ("BFF__AUTH__ISSUER", "https://partner.example"),
        ("BFF__AUTH__AUDIENCE", "aarthik-bff"),
        (
            "BFF__WEBHOOK__SECRETS",
            "whsec_live_0123456789abcdefghijklmnop",
        ),
        (
            "BFF__OPS__TOKENS",
            "asha:ops-live-token-0123456789abcdefghijkl",
        ),
        (
            "BFF__SESSION__ENCRYPTION_KEYS",
            "k2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
    ] {
        c.env(k, v);
    }
    c.env(key, value);
    output_within(c, 30)
}

#[test]
fn production_grade_environments_refuse_unsafe_values_with_one_line_naming_the_key() {
    let mut c = bin();
    c.env("BFF_ENV", "staging");
    let out = output_within(c, 30);
    assert!(
        !out.status.success(),
        "staging refuses development defaults"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("upstream.base_url"), "{err}");
    for (key, value, named) in [
        (
            "BFF__UPSTREAM__BASE_URL",
            "http://127.0.0.1:9000",
            "upstream.base_url",
        ),
        ("BFF__OPS__TOKENS", "asha:short-token", "ops.tokens"),
        ("BFF__WEB__COOKIE_NAME", "bff_session", "web.cookie_name"),
        ("BFF__AUTH__ISSUER", "", "auth.issuer"),
        ("BFF__AUTH__AUDIENCE", "", "auth.audience"),
    ] {
        for env in ["production", "staging"] {
            let out = production_grade(env, key, value);
            assert!(!out.status.success(), "{env} {key}={value}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(named), "{env} {key}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
        }
    }
}
