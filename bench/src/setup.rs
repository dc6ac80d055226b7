//! Everything before the load: building the gateway and installing Prism
//! (both may need the network, so they run before the namespace), the
//! generated agent directories, and the description of the machine and
//! versions for the report.

use std::path::{Path, PathBuf};
use std::process::Command;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::load;

pub fn run_text(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

pub fn lock_version(root: &Path, name: &str) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"") {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return v.trim_end_matches('"').to_owned();
            }
        }
    }
    "?".into()
}

pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".into(), |(_, v)| v.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit fills the struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    format!(
        "{model}, {cores} cores, {:.0} GiB RAM, {}, open-file limit {} per process; shared with other work",
        mem_kib / 1024.0 / 1024.0,
        run_text("uname", &["-sr"]),
        limit.rlim_cur
    )
}

/// The machine's 1-minute load average (other engineers share it).
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_owned()
}

pub fn phc(params: Option<Params>) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let argon = match params {
        Some(p) => Argon2::new(Algorithm::Argon2id, Version::V0x13, p),
        None => Argon2::default(),
    };
    argon.hash_password(load::PASSWORD.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// A directory of `count` agents (101, 102, …), all with the same hash;
/// phone number = work number.
pub fn write_directory(path: &Path, count: usize, hash: &str) -> Result<(), String> {
    let mut text = String::from("[[skills]]\nid = 1\nname = \"Bench\"\n");
    for i in 0..count {
        let wn = 101 + i;
        text.push_str(&format!(
            "\n[[agents]]\nwork_no = {wn}\npassword_hash = \"{hash}\"\nphones = [\"{wn}\"]\nskills = [1]\n"
        ));
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Builds the gateway (before entering the namespace: cargo may need the registry).
pub fn build_gateway(root: &Path, release: bool) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).args(["build", "--locked", "-p", "agentgateway", "--bin", "agentgateway"]);
    if release {
        command.arg("--release");
    } else {
        // The features `cargo test` builds the binary with: after the tests
        // (as in CI) this is a no-op instead of a second build.
        command.arg("--tests");
    }
    let status = command.status().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of the gateway failed ({status})"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), PathBuf::from);
    Ok(target.join(if release { "release" } else { "debug" }).join("agentgateway"))
}

/// Installs Prism into bench/node_modules if needed; returns its launcher.
pub fn install_prism(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("bench");
    let bin = dir.join("node_modules/.bin/prism");
    if !bin.exists() {
        let verb = if dir.join("package-lock.json").exists() { "ci" } else { "install" };
        eprintln!("bench: installing Prism with npm {verb} (once, into bench/node_modules)");
        let status = Command::new("npm")
            .current_dir(&dir)
            .args([verb, "--no-audit", "--no-fund"])
            .status()
            .map_err(|e| format!("npm: {e}"))?;
        if !status.success() || !bin.exists() {
            return Err(format!("npm {verb} failed ({status})"));
        }
    }
    Ok(bin)
}

pub fn prism_version(root: &Path) -> String {
    let text =
        std::fs::read_to_string(root.join("bench/node_modules/@stoplight/prism-cli/package.json")).unwrap_or_default();
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"version\": \""))
        .map(|v| v.trim_end_matches([',', '"']).to_owned())
        .unwrap_or_else(|| "?".into());
    format!("@stoplight/prism-cli {version} on Node.js {}", run_text("node", &["--version"]))
}
