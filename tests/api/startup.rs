//! Start-up: settings layering and refusals, as a user runs the binary.

use std::process::Command;

/// The binary with a clean environment and an audit trail of its own
/// (never the checkout's `data/`).
fn gateway() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentgateway"));
    let trail = std::env::temp_dir().join(format!("agw-startup-{}", std::process::id())).join("audit.jsonl");
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("AGW_AUDIT_FILE", trail);
    command
}

fn refusal(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(!output.status.success(), "should not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_documents_every_setting() {
    let output = gateway().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--listen",
        "--auth-mode",
        "--guid-interval-ms",
        "--guid-timeout-ms",
        "--poll-wait-ms",
        "--heartbeat-timeout-ms",
        "--directory",
        "--tls-cert",
        "--tls-key",
        "--queue-capacity",
        "--metrics-listen",
        "--shutdown-timeout-ms",
        "--config",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn invalid_values_and_unknown_keys_stop_start_up_naming_the_key() {
    let err = refusal(gateway().args(["--poll-wait-ms", "soon"]));
    assert!(err.contains("--poll-wait-ms"), "{err}");
    let err = refusal(gateway().env("AGW_POLL_WIAT_MS", "5"));
    assert!(err.contains("AGW_POLL_WIAT_MS"), "{err}");
    let dir = std::env::temp_dir().join(format!("agw-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gateway.toml");
    std::fs::write(&file, "poll-wait-ms = 100\nhearbeat-timeout-ms = 5\n").unwrap();
    let err = refusal(gateway().arg("--config").arg(&file));
    assert!(err.contains("hearbeat-timeout-ms"), "{err}");
    let err = refusal(gateway().args(["--guid-interval-ms", "5000", "--guid-timeout-ms", "1000"]));
    assert!(err.contains("guid-timeout-ms"), "{err}");
}

#[test]
fn a_bad_value_is_named_where_it_was_given_with_the_file_line_and_column() {
    let err = refusal(gateway().env("AGW_POLL_WAIT_MS", "soon"));
    assert!(err.contains("AGW_POLL_WAIT_MS: invalid value 'soon'"), "{err}");
    assert!(!err.contains("--poll-wait-ms"), "named by the variable, not the flag: {err}");
    let dir = std::env::temp_dir().join(format!("agw-startup-located-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gateway.toml");
    std::fs::write(&file, "queue-capacity = 7\npoll-wait-ms = \"soon\"\n").unwrap();
    let err = refusal(gateway().arg("--config").arg(&file));
    assert!(err.contains(&format!("{}:2:16: poll-wait-ms: invalid type", file.display())), "{err}");
    let directory = dir.join("agents.toml");
    std::fs::write(
        &directory,
        "[[skills]]\nid = 1\nname = \"Sales\"\n\n[[agents]]\nwork_no = 101\npassword_hash = \"x\"\n",
    )
    .unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let err = refusal(gateway().current_dir(root).args(["--listen", "127.0.0.1:0"]).arg("--directory").arg(&directory));
    assert!(
        err.contains(&format!("directory {}:5:1: agent 101: password_hash is not a PHC string", directory.display())),
        "{err}"
    );
    std::fs::write(&directory, "# nobody yet\n").unwrap();
    let err = refusal(gateway().current_dir(root).args(["--listen", "127.0.0.1:0"]).arg("--directory").arg(&directory));
    assert!(err.contains("the directory lists no agents"), "{err}");
}

#[test]
fn completions_and_the_help_name_every_variable() {
    let output = gateway().args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && script.contains("--poll-wait-ms") && script.contains("complete"), "{script}");
    let help = String::from_utf8_lossy(&gateway().arg("--help").output().unwrap().stdout).into_owned();
    assert!(help.contains("[env: AGW_POLL_WAIT_MS] [default: 10000]"), "{help}");
}

#[test]
fn hash_password_refuses_an_empty_password() {
    use std::io::Write;
    let mut child = gateway()
        .arg("hash-password")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("the password is empty"));
}

#[test]
fn the_development_certificate_is_refused_on_a_public_address() {
    let root = env!("CARGO_MANIFEST_DIR");
    let err = refusal(gateway().current_dir(root).args(["--listen", "0.0.0.0:0"]));
    assert!(err.contains("development certificate"), "{err}");
}

#[test]
fn a_taken_metrics_port_stops_start_up_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let root = env!("CARGO_MANIFEST_DIR");
    let err = refusal(gateway().current_dir(root).args(["--listen", "127.0.0.1:0", "--metrics-listen", &address]));
    assert!(err.contains(&format!("metrics-listen {address}")), "{err}");
}
