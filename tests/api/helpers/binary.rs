//! The `aarthik-bff` binary as a user runs it: a command with none of the test process's `BFF*`
//! variables, a run to completion with a time limit, and a long-running child (the BFF, a
//! standalone sandbox) whose stdout and stderr are collected and which is killed on drop.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary, run from the repository root, with no `BFF*` variable of this process.
pub fn bff_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aarthik-bff"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars() {
        if k.starts_with("BFF") || k.starts_with("SANDBOX_") {
            c.env_remove(k);
        }
    }
    c.env("RUST_LOG", "info");
    c
}

/// Run to completion, killing the child if it is still running after `secs` (never hangs).
pub fn run_within(mut cmd: Command, secs: u64) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(out) => out.expect("the binary's output"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the command did not finish within {secs} s");
        }
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

/// A running child process; everything it prints is kept. Killed when dropped.
pub struct Running {
    child: std::process::Child,
    out: Arc<Mutex<String>>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let out = Arc::new(Mutex::new(String::new()));
        if let Some(s) = child.stdout.take() {
            collect(s, Arc::clone(&out));
        }
        if let Some(s) = child.stderr.take() {
            collect(s, Arc::clone(&out));
        }
        Running { child, out }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send SIGTERM and wait (at most `secs`) for the child to exit; whether it did.
    pub async fn terminate(&mut self, secs: u64) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(secs);
        while sent && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Everything printed so far (stdout and stderr interleaved).
    pub fn output(&self) -> String {
        self.out.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Wait (at most `secs`) until some printed line gives a value.
    pub async fn wait_for_line<T>(&self, secs: u64, find: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = self.output().lines().find_map(&find) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "the expected line was not printed: {}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The port a BFF started with `BFF__TELEMETRY__FORMAT=json` logs when it listens.
    pub async fn bff_port(&self) -> u16 {
        self.wait_for_line(30, |l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            (v["message"] == "aarthik-bff listening").then(|| v["port"].as_u64())?
        })
        .await as u16
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = into.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
}

/// Every borrower token (`st_` or `rt_` and 32 base62 characters) in `text`.
pub fn borrower_tokens_in(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for prefix in ["st_", "rt_"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix) {
            let start = from + at;
            let body = &bytes[start + 3..];
            let len = body
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            if len >= 32 {
                found.push(text[start..start + 3 + len].to_owned());
            }
            from = start + 3;
        }
    }
    found
}
