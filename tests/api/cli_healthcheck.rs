//! `aarthik-bff healthcheck`, the container health check: it finds the port `serve` listens on
//! in the same configuration (environment or config file) and exits 0 only on a 200.

use std::process::{Output, Stdio};

use crate::cli::{bin, listening_port, output_within, KillOnDrop};

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn healthcheck(envs: &[(&str, String)], args: &[&str]) -> Output {
    let mut c = bin();
    c.arg("healthcheck").args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    output_within(c, 30)
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn healthcheck_follows_the_configured_port_and_fails_when_nothing_healthy_answers() {
    let port = free_port();
    let mut server = bin()
        .env("BFF__SERVER__PORT", port.to_string())
        .env("BFF__UPSTREAM__BASE_URL", "http://127.0.0.1:9")
        .env("BFF__TELEMETRY__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(server.id());
    assert_eq!(listening_port(&mut server), u64::from(port));

    // The port from the environment, as in the image (BFF__SERVER__PORT).
    let out = healthcheck(&[("BFF__SERVER__PORT", port.to_string())], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("127.0.0.1:{port}/healthz")),
        "{}",
        text(&out)
    );

    // The port from a config file (BFF_CONFIG_DIR), no variable at all.
    let dir = std::env::temp_dir().join(format!("bff-healthcheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("default.toml"),
        format!("[server]\nport = {port}\n"),
    )
    .unwrap();
    let out = healthcheck(&[("BFF_CONFIG_DIR", dir.display().to_string())], &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", text(&out));

    // `--path /readyz` asks the readiness question (the in-memory store is ready).
    let out = healthcheck(
        &[("BFF__SERVER__PORT", port.to_string())],
        &["--path", "/readyz"],
    );
    assert!(out.status.success(), "{}", text(&out));

    // A path that is not 200 fails with one line naming the status.
    let out = healthcheck(
        &[("BFF__SERVER__PORT", port.to_string())],
        &["--path", "/nope"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("answered 404"), "{}", text(&out));
    assert_eq!(err.trim().lines().count(), 1, "{}", text(&out));

    // Another port (nothing listens there): exit 1, one line.
    let other = free_port();
    let out = healthcheck(&[("BFF__SERVER__PORT", other.to_string())], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("127.0.0.1:{other}")),
        "{}",
        text(&out)
    );
    assert_eq!(err.trim().lines().count(), 1, "{}", text(&out));

    // Once the server is gone, the same check fails.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let out = healthcheck(&[("BFF__SERVER__PORT", port.to_string())], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn healthcheck_refuses_a_random_port_and_a_bad_configuration_with_one_line() {
    let out = healthcheck(&[("BFF__SERVER__PORT", "0".to_owned())], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("server.port"),
        "{}",
        text(&out)
    );
    let out = healthcheck(&[("BFF__SERVER__PORT", "notaport".to_owned())], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.port"), "{}", text(&out));
    assert_eq!(err.trim().lines().count(), 1, "{}", text(&out));
}
