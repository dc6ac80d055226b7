//! The processes under test: the gateway (and Prism and nginx), started by
//! the harness on a free loopback port and always stopped by it.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Conn, Tls};
use crate::target::Target;

/// Process groups started by the harness (0 = free slot), for the watchdog
/// and the signal handler: atomics, so a signal handler may read them.
static STARTED: [AtomicI32; 16] = [const { AtomicI32::new(0) }; 16];

fn remember(pgid: i32) {
    let _ = STARTED.iter().any(|s| s.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst).is_ok());
}

fn forget(pgid: i32) {
    for slot in &STARTED {
        let _ = slot.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Stops every process group the harness started (and only those).
/// Async-signal-safe: atomics and kill(2) only.
pub fn stop_all_started() {
    for slot in &STARTED {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: signals only a process group this harness created.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    stop_all_started();
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(128 + signal) };
}

/// On Ctrl-C or SIGTERM, stop the servers before exiting (they run in
/// their own process groups, so the terminal's signal does not reach them).
pub fn stop_servers_on_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only uses async-signal-safe calls.
        unsafe {
            libc::signal(signal, on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
        }
    }
}

/// A free port on 127.0.0.1 (the listener is closed again at once).
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A running server process, stopped on drop.
pub struct Server {
    child: Child,
    pub target: Target,
    pub log: PathBuf,
    name: &'static str,
    stopped: bool,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True once the process has exited. It is not reaped here, so its
    /// process id (and group id) cannot be reused while we may signal it.
    fn has_exited(&self) -> bool {
        // SAFETY: waitid on our own child with WNOWAIT only reads its status.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let rc = libc::waitid(
                libc::P_PID,
                self.child.id() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            );
            rc == 0 && info.si_pid() != 0
        }
    }

    /// Starts `command` in a process group of its own that dies with the
    /// harness (`PR_SET_PDEATHSIG`), stdout and stderr to `log`.
    pub fn spawn(name: &'static str, mut command: Command, target: Target, log: PathBuf) -> Result<Server, String> {
        let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
        command.stdin(Stdio::null()).stdout(log_file).stderr(log_err).process_group(0);
        // SAFETY: prctl is async-signal-safe; the child dies with the harness.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| format!("starting {name}: {e}"))?;
        remember(child.id() as i32);
        Ok(Server { child, target, log, name, stopped: false })
    }

    /// Starts the gateway binary with `args` on a free port.
    pub fn gateway(
        binary: &Path,
        root: &Path,
        args: &[String],
        env: &[(String, String)],
        log: PathBuf,
    ) -> Result<Server, String> {
        let port = free_port()?;
        let target = Target::parse(&format!("https://127.0.0.1:{port}"))?;
        let mut command = Command::new(binary);
        command.current_dir(root).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        command.envs(env.iter().map(|(k, v)| (k, v)));
        command.arg("--listen").arg(format!("127.0.0.1:{port}")).args(args);
        Server::spawn("agentgateway", command, target, log)
    }

    /// Starts Prism mocking `openapi` on a free port (plain HTTP).
    pub fn prism(prism: &Path, openapi: &Path, log: PathBuf) -> Result<Server, String> {
        let port = free_port()?;
        let target = Target::parse(&format!("http://127.0.0.1:{port}"))?;
        let mut command = Command::new(prism);
        command.arg("mock").arg(openapi).args(["-h", "127.0.0.1", "-p", &port.to_string()]);
        Server::spawn("prism", command, target, log)
    }

    /// Waits until `path` answers (any HTTP status), at most `within`.
    pub async fn wait_ready(&mut self, tls: Option<&Tls>, path: &str, within: Duration) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < within {
            if self.has_exited() {
                return Err(format!("{} exited at start-up; see {}", self.name, self.log.display()));
            }
            match Conn::open(&self.target, tls).await {
                Ok(mut conn) => match conn.send(hyper::Method::GET, path, None, None).await {
                    Ok(_) => return Ok(()),
                    Err(e) => last = e,
                },
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("{} not ready within {within:?}: {last}; see {}", self.name, self.log.display()))
    }

    /// SIGTERM, then SIGKILL after a grace period.
    pub fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        // The leader is reaped only at the end, so until then its pid names
        // our process group and nothing else.
        let pgid = self.child.id() as i32;
        // SAFETY: signals only the process group this harness created.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !self.has_exited() {
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above; the group may still hold children.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        forget(pgid);
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
