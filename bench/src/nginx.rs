//! nginx as the reference server of the command-cost table: the same
//! certificate, the same body as the gateway's `/healthz`, its access log
//! on, as many worker processes as the gateway has workers. Its server CPU
//! per request is the floor the gateway's rows are measured against.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::servers::{self, Server};
use crate::target::Target;

/// Debian's package and the binary it installs.
pub const PACKAGE: &str = "nginx-light";
pub const BINARY: &str = "/usr/sbin/nginx";
/// What nginx answers on [`PATH`]: the gateway's `/healthz` body, byte for byte.
pub const BODY: &str = r#"{"message":"alive","retcode":"0"}"#;
pub const PATH: &str = "/healthz";
/// The gateway's `--keep-alive-ms` default, in seconds.
const KEEPALIVE_S: u32 = 15;
/// The access log is written in batches, at the latest this long after a
/// line, as the gateway's log writer gathers its lines for 5 ms.
const LOG_FLUSH_MS: u32 = 5;

/// nginx as found (or installed) before the load, and how it is started.
#[derive(Debug, Clone)]
pub struct Nginx {
    pub binary: PathBuf,
    /// Worker processes: the gateway's workers.
    pub workers: usize,
    /// Started as the first process of its own PID namespace (`unshare
    /// --pid --fork --kill-child`), so its workers die with it.
    pub own_pid_namespace: bool,
    /// e.g. "nginx/1.22.1 (Debian nginx-light 1.22.1-9+deb12u11), OpenSSL 3.0.19".
    pub version: String,
}

/// Installs nginx-light with apt-get when the binary is missing, as
/// `.ci/run`'s `ensure_debian` does (`apt-get update` only when the
/// install fails without it). Needs the network: run before the namespace.
pub fn ensure_installed() -> Result<PathBuf, String> {
    let binary = PathBuf::from(BINARY);
    if binary.exists() {
        return Ok(binary);
    }
    eprintln!("bench: installing {PACKAGE} with apt-get (the reference server of the command-cost table)");
    let install = || {
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends", PACKAGE])
            .status()
            .is_ok_and(|s| s.success())
    };
    let updated = || Command::new("apt-get").arg("update").status().is_ok_and(|s| s.success());
    let installed = install() || (updated() && install());
    if !installed {
        return Err(format!("apt-get install {PACKAGE} failed (as root, or install it yourself)"));
    }
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!("{PACKAGE} is installed but {BINARY} is missing"))
    }
}

/// Finds what the harness needs to start nginx (after [`ensure_installed`]).
pub fn prepare(binary: PathBuf, workers: usize) -> Nginx {
    let own_pid_namespace = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let version = version(&binary);
    Nginx { binary, workers, own_pid_namespace, version }
}

fn version(binary: &Path) -> String {
    // `nginx -V` writes to stderr.
    let text = Command::new(binary).arg("-V").output().map(|o| String::from_utf8_lossy(&o.stderr).into_owned());
    let text = text.unwrap_or_default();
    let nginx = text.lines().find_map(|l| l.strip_prefix("nginx version: ")).unwrap_or("nginx ?").trim();
    let openssl = text
        .split("running with ")
        .nth(1)
        .or_else(|| text.split("built with ").nth(1))
        .and_then(|t| t.split_whitespace().take(2).reduce(|_, v| v).map(|v| format!(", OpenSSL {v}")))
        .unwrap_or_default();
    let package = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", PACKAGE])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| format!(" (Debian {PACKAGE} {})", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_default();
    format!("{nginx}{package}{openssl}")
}

/// The gateway's workers as its flags and environment set them
/// (`--workers N`, `--workers=N`, `AGW_WORKERS`; the last flag wins and a
/// flag beats the variable), else its default: the number of CPUs.
pub fn gateway_workers(args: &[String], env: &[(String, String)]) -> usize {
    let mut from_flag = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--workers" {
            from_flag = it.next().and_then(|v| v.parse().ok()).or(from_flag);
        } else if let Some(v) = arg.strip_prefix("--workers=") {
            from_flag = v.parse().ok().or(from_flag);
        }
    }
    let from_env = env.iter().rev().find(|(k, _)| k == "AGW_WORKERS").and_then(|(_, v)| v.parse().ok());
    from_flag
        .or(from_env)
        .filter(|n: &usize| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// A path as a double-quoted nginx string. Refuses what nginx would read
/// as something else (`$` starts a variable, which makes `access_log`
/// open its file per request).
fn quoted(path: &Path) -> Result<String, String> {
    let text = path.to_str().ok_or_else(|| format!("{}: not UTF-8", path.display()))?;
    if !path.is_absolute() || text.contains(['"', '\'', '\\', '$', ';', '{', '}', '\n', '\r']) {
        return Err(format!("{text}: not usable in an nginx config (absolute, without quotes, $ ; {{ }} or \\)"));
    }
    Ok(format!("\"{text}\""))
}

/// The whole configuration: nothing from /etc/nginx, every path in `dir`.
pub fn config(dir: &Path, port: u16, workers: usize, cert: &Path, key: &Path) -> Result<String, String> {
    let at = |name: &str| quoted(&dir.join(name));
    let (pid, lock, errors, access) = (at("nginx.pid")?, at("nginx.lock")?, at("error.log")?, at("access.log")?);
    let temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .iter()
        .map(|t| Ok(format!("    {t}_temp_path {};\n", at(&format!("temp-{t}"))?)))
        .collect::<Result<String, String>>()?;
    let (cert, key) = (quoted(cert)?, quoted(key)?);
    Ok(format!(
        r#"# Generated by agentgateway-bench: the reference server of the command-cost table.
daemon off;
master_process on;
worker_processes {workers};
pid {pid};
lock_file {lock};
error_log {errors} warn;

events {{
    worker_connections 1024;
}}

http {{
{temp}    log_format bench '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent $request_time $ssl_protocol $ssl_cipher';
    access_log {access} bench buffer=64k flush={LOG_FLUSH_MS}ms;
    keepalive_timeout {KEEPALIVE_S}s;
    keepalive_requests 100000000;

    server {{
        listen 127.0.0.1:{port} ssl reuseport;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;

        location = {PATH} {{
            default_type application/json;
            return 200 '{BODY}';
        }}
        location / {{
            return 404;
        }}
    }}
}}
"#
    ))
}

impl Nginx {
    /// Writes a config into `dir` (emptied first) and starts nginx on a
    /// free port of 127.0.0.1 with the repository's certificate.
    pub fn start(&self, root: &Path, dir: &Path) -> Result<Server, String> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let dir = dir.canonicalize().map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = servers::free_port()?;
        let target = Target::parse(&format!("https://127.0.0.1:{port}"))?;
        let (cert, key) = (root.join("certs/server.crt"), root.join("certs/server.key"));
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(&dir, port, self.workers, &cert, &key)?)
            .map_err(|e| format!("{}: {e}", conf.display()))?;
        let mut command = if self.own_pid_namespace {
            let mut c = Command::new("unshare");
            c.args(["--pid", "--fork", "--kill-child"]).arg(&self.binary);
            c
        } else {
            Command::new(&self.binary)
        };
        // -p: no compiled-in prefix; -e: the error log before the config is read.
        command.arg("-p").arg(&dir).arg("-c").arg(&conf).arg("-e").arg(dir.join("error.log"));
        Server::spawn("nginx", command, target, dir.join("nginx.out"))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn config_is_self_contained_and_matches_the_gateway() {
        let text = config(
            Path::new("/w/nginx-00"),
            40123,
            3,
            Path::new("/repo/certs/server.crt"),
            Path::new("/repo/certs/server.key"),
        )
        .unwrap();
        for line in [
            "daemon off;",
            "worker_processes 3;",
            "pid \"/w/nginx-00/nginx.pid\";",
            "error_log \"/w/nginx-00/error.log\" warn;",
            "client_body_temp_path \"/w/nginx-00/temp-client_body\";",
            "scgi_temp_path \"/w/nginx-00/temp-scgi\";",
            "access_log \"/w/nginx-00/access.log\" bench buffer=64k flush=5ms;",
            "keepalive_timeout 15s;",
            "listen 127.0.0.1:40123 ssl reuseport;",
            "ssl_certificate \"/repo/certs/server.crt\";",
            "ssl_certificate_key \"/repo/certs/server.key\";",
            "ssl_protocols TLSv1.2 TLSv1.3;",
            "location = /healthz {",
            "default_type application/json;",
            r#"return 200 '{"message":"alive","retcode":"0"}';"#,
        ] {
            assert!(text.lines().any(|l| l.trim() == line), "missing `{line}` in\n{text}");
        }
        assert!(!text.contains("/etc/") && !text.contains("include"), "{text}");
        // Every block closes.
        assert_eq!(text.matches('{').count() - text.matches("{\"").count(), text.matches('}').count() - 1);
    }

    #[test]
    fn paths_nginx_would_misread_are_refused() {
        assert!(quoted(Path::new("/w/a b/log")).is_ok());
        for bad in ["relative/log", "/w/$host.log", "/w/a;b", "/w/a\"b", "/w/{a}"] {
            assert!(quoted(Path::new(bad)).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn workers_follow_the_gateway() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let env = vec![("AGW_WORKERS".to_owned(), "5".to_owned())];
        assert_eq!(gateway_workers(&s(&["--workers=1"]), &[]), 1);
        assert_eq!(gateway_workers(&s(&["--workers", "4", "--log", "debug"]), &env), 4);
        assert_eq!(gateway_workers(&s(&["--workers=1", "--workers=3"]), &[]), 3);
        assert_eq!(gateway_workers(&s(&["--log", "info"]), &env), 5);
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(gateway_workers(&[], &[]), cpus);
        assert_eq!(gateway_workers(&s(&["--workers=0"]), &[]), cpus);
    }
}
