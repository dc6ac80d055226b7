//! The real binary as a child process, for what an in-process gateway
//! cannot show: a signal, a second process on one trail, a file size
//! limit, its log.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use agentgateway::settings::Settings;

use crate::helpers::TestApp;

/// The binary, on free loopback ports with the test certificate, and a
/// client for it.
pub struct Binary {
    pub app: TestApp,
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every log line read so far.
    pub log: Vec<String>,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary with a clean environment, as `settings` say for the listener's
/// certificate, the audit trail (never the checkout's `data/`) and the poll
/// wait; metrics off unless more flags say otherwise.
pub fn command(settings: &Settings) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentgateway"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--listen", "127.0.0.1:0", "--workers", "2", "--audit-sync", "off", "--hash-concurrency", "2"])
        .arg("--tls-cert")
        .arg(&settings.server.tls_cert)
        .arg("--tls-key")
        .arg(&settings.server.tls_key)
        .arg("--audit-file")
        .arg(&settings.audit.file)
        .args(["--poll-wait-ms", &settings.gateway.poll_wait_ms.to_string()])
        .stderr(Stdio::piped());
    command
}

impl Binary {
    /// Starts `command` (see [`command`]) and waits until it listens.
    pub fn start(mut command: Command, settings: Settings) -> Binary {
        if !command.get_args().any(|a| a == "--metrics-listen") {
            command.args(["--metrics-listen", "off"]);
        }
        let mut child = command.spawn().expect("the gateway starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || stderr.lines().map_while(Result::ok).try_for_each(|line| sender.send(line)));
        let mut binary = Binary { app: TestApp::client_for(0, settings.clone()), child, lines, log: Vec::new() };
        let port = binary.port_after("listening on https://127.0.0.1:");
        binary.app = TestApp::client_for(port, settings);
        binary
    }

    /// Reads the log until a line contains `marker`; returns the text after it.
    pub fn wait_for_line(&mut self, marker: &str) -> String {
        if let Some(rest) = self.log.iter().find_map(|l| l.split_once(marker).map(|(_, r)| r.to_owned())) {
            return rest;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| panic!("no {marker:?} in {:#?}", self.log));
            self.log.push(line.clone());
            if let Some((_, rest)) = line.split_once(marker) {
                return rest.to_owned();
            }
        }
    }

    /// The port in the first log line after `marker`.
    pub fn port_after(&mut self, marker: &str) -> u16 {
        let rest = self.wait_for_line(marker);
        rest.split(['/', ' ']).next().and_then(|port| port.parse().ok()).unwrap_or_else(|| panic!("port in {rest:?}"))
    }

    pub fn pid(&self) -> libc::pid_t {
        libc::pid_t::try_from(self.child.id()).unwrap()
    }

    pub fn terminate(&self) {
        // SAFETY: kill(2) with our own child's pid and a valid signal number.
        assert_eq!(unsafe { libc::kill(self.pid(), libc::SIGTERM) }, 0, "SIGTERM sent");
    }

    /// Waits for the process to end, at most `within`.
    pub fn exit_status(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running {within:?} after being told to stop");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops it with SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        self.terminate();
        let status = self.exit_status(Duration::from_secs(20));
        assert!(status.success(), "exit status {status}: {:#?}", self.log);
    }
}

/// A command's output when it refused to start: its error text.
pub fn refusal(command: &mut Command) -> String {
    let output = command.stderr(Stdio::piped()).output().unwrap();
    assert!(!output.status.success(), "should not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}
