//! compat-specs: the conformance walk over each vendor's cases, and the matrix rendered
//! from them.

use super::*;

/// `PATCHBAY_BLESS` set: rewrite expectations instead of checking them. Never in CI, where it
/// would turn every check green.
pub fn bless() -> bool {
    let on = std::env::var_os("PATCHBAY_BLESS").is_some();
    assert!(
        !(on && std::env::var_os("CI").is_some()),
        "PATCHBAY_BLESS is set in CI: expectations are never rewritten there"
    );
    on
}

/// The compat-specs conformance walk: every `compat-specs/<vendor>/cases/<case>.request`, in
/// name order (cases may depend on earlier ones), sent to `base`; the reply must equal
/// `<case>.response`: status line, each header listed there, and the body byte for byte.
/// `{host}` stands for the gateway's `host:port` in both files; the walker sets
/// `Content-Length` itself (a request file's body ends before its last newline). A header value
/// ending in `*` in a response file pins only what comes before it (digest nonces).
/// `PATCHBAY_BLESS=1` writes the replies as the new expectations instead (review the diff).
/// Returns the number of cases.
pub async fn walk_compat_cases(vendor: &str, base: &str) -> usize {
    walk_cases(vendor, base, false).await
}

/// The `*.phones.request` cases of `vendor`: calls that succeed, walked with 4005 and 4007
/// registered (answering phones). A response body may hold `{id}` or `{ms}` where the reply
/// has a number that differs on every run (call ids, timestamps): the shape is pinned, not
/// the number. `PATCHBAY_BLESS` writes runs of 13 or more digits as those placeholders.
pub async fn walk_compat_cases_with_phones(vendor: &str, base: &str) -> usize {
    walk_cases(vendor, base, true).await
}

/// Whether `got` is `want` with each `{id}` / `{ms}` of `want` standing for one or more digits.
pub fn body_matches(want: &str, got: &str) -> bool {
    let want = want.replace("{ms}", "{id}");
    let mut parts = want.split("{id}");
    let Some(first) = parts.next() else {
        return got.is_empty();
    };
    let Some(mut rest) = got.strip_prefix(first) else {
        return false;
    };
    for part in parts {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        match rest[digits..].strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Runs of 13+ digits (call ids, unix milliseconds) as `{id}` / `{ms}` (after `_ms":`).
fn placeholders(body: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |out: &mut String, digits: &mut String| {
        if digits.len() >= 13 {
            out.push_str(if out.ends_with("_ms\":") {
                "{ms}"
            } else {
                "{id}"
            });
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut out, &mut digits);
            out.push(c);
        }
    }
    flush(&mut out, &mut digits);
    out
}

async fn walk_cases(vendor: &str, base: &str, with_phones: bool) -> usize {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../compat-specs")
        .join(vendor)
        .join("cases");
    let host = base.trim_start_matches("http://");
    let bless = bless();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "request"))
        .filter(|p| {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy();
            stem.ends_with(".phones") == with_phones
        })
        .collect();
    cases.sort();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut failures = Vec::new();
    for case in &cases {
        let raw = std::fs::read_to_string(case)
            .unwrap()
            .replace("{host}", host);
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let body = body.strip_suffix('\n').unwrap_or(body).to_string();
        let mut lines = head.lines();
        let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
        let method = reqwest::Method::from_bytes(first[0].as_bytes()).expect("method");
        let mut req = http.request(method, format!("{base}{}", first[1]));
        for l in lines {
            let (k, v) = l.split_once(':').expect("header line");
            req = req.header(k.trim(), v.trim());
        }
        let r = req.body(body).send().await.expect("gateway answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let got = r.text().await.unwrap().replace(host, "{host}");
        let expected_path = case.with_extension("response");
        if bless {
            let mut out = format!("HTTP/1.1 {status}\n");
            for name in ["content-type", "server", "www-authenticate", "retry-after"] {
                for v in headers.get_all(name) {
                    out.push_str(&format!("{name}: {}\n", v.to_str().unwrap()));
                }
            }
            out.push('\n');
            out.push_str(&if with_phones { placeholders(&got) } else { got });
            std::fs::write(&expected_path, out).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let (want_head, want_body) = want.split_once("\n\n").unwrap_or((want.as_str(), ""));
        let mut wl = want_head.lines();
        let want_status: u16 = wl
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        if status != want_status {
            failures.push(format!("{name}: status {status}, expected {want_status}"));
        }
        for l in wl {
            let (k, v) = l.split_once(": ").expect("header line");
            let all: Vec<&str> = headers
                .get_all(k)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            // A value ending in `*` pins the prefix (a fresh digest nonce follows it).
            let found = all.iter().any(|a| match v.strip_suffix('*') {
                Some(prefix) => a.starts_with(prefix),
                None => *a == v,
            });
            if !found {
                failures.push(format!("{name}: header {k}: {all:?}, expected {v:?}"));
            }
        }
        if !body_matches(want_body, &got) {
            failures.push(format!(
                "{name}: body\n  got:      {got:?}\n  expected: {want_body:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "compat-specs/{vendor}: {} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}

/// `compat-specs/MATRIX.md`: the conformance matrix, rendered from the case files. One row per
/// case: the request line, the expected status and the start of the expected body. Every row is
/// checked against the running gateway by the vendor's conformance walk in the same test run,
/// so the matrix of a commit whose tests pass is the set of behaviours that commit reproduces.
pub fn render_compat_matrix() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../compat-specs");
    let mut vendors: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("compat-specs")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    vendors.sort();
    let cell = |s: &str| {
        let s: String = s.chars().filter(|c| *c != '\r').collect();
        let one = s.split('\n').map(str::trim).collect::<Vec<_>>().join(" ");
        let short: String = one.chars().take(72).collect();
        let more = if one.chars().count() > 72 { "…" } else { "" };
        format!("`{}{more}`", short.replace('`', "'").replace('|', "\\|"))
    };
    let out = String::from(
        "# Conformance matrix\n\n\
         Generated from `*/cases/` by `patchbay_tests::render_compat_matrix` (the test\n\
         `compat_matrix` fails when this file is stale; `PATCHBAY_BLESS=1` rewrites it). Every row\n\
         is sent to the running gateway and compared byte for byte by the vendor's conformance\n\
         test, so on a commit whose CI passed, every row below holds. Choices behind the\n\
         responses: `<vendor>/choices.md`.\n",
    );
    let mut summary = String::from("\n| Vendor | Cases | Choices recorded |\n|---|---|---|\n");
    let mut tables = String::new();
    for v in &vendors {
        let name = v.file_name().unwrap().to_string_lossy().into_owned();
        let choices = std::fs::read_to_string(v.join("choices.md"))
            .map(|s| {
                s.lines()
                    .filter(|l| l.starts_with("| ") && !l.starts_with("| Topic"))
                    .count()
            })
            .unwrap_or(0);
        let mut cases: Vec<PathBuf> = std::fs::read_dir(v.join("cases"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        cases.retain(|p| p.extension().is_some_and(|x| x == "request"));
        cases.sort();
        summary.push_str(&format!("| {name} | {} | {choices} |\n", cases.len()));
        if cases.is_empty() {
            continue;
        }
        tables.push_str(&format!(
            "\n## {name}\n\n| Case | Request | Status | Response body |\n|---|---|---|---|\n"
        ));
        for c in &cases {
            let req = std::fs::read_to_string(c).unwrap_or_default();
            let line = req.lines().next().unwrap_or("");
            let mut line = line.strip_suffix(" HTTP/1.1").unwrap_or(line).to_string();
            // SOAP: name the operation (the first element inside the Body).
            if let Some(i) = req.find(":Body>") {
                let op = req[i + 6..]
                    .trim_start()
                    .trim_start_matches('<')
                    .split([' ', '>', '/'])
                    .next()
                    .unwrap_or("");
                let op = op.rsplit(':').next().unwrap_or(op);
                if !op.is_empty() {
                    line = format!("{line} {op}");
                }
            }
            let resp = std::fs::read_to_string(c.with_extension("response")).unwrap_or_default();
            let (head, body) = resp.split_once("\n\n").unwrap_or((&resp, ""));
            let status = head
                .lines()
                .next()
                .and_then(|l| l.split(' ').nth(1))
                .unwrap_or("?");
            let stem = c.file_stem().unwrap().to_string_lossy();
            // XML bodies: their text (fault strings, return values) says more than the markup.
            let text = if body.starts_with("<?xml") && !body.contains("<wsdl:") {
                let mut t = String::new();
                let mut in_tag = false;
                for ch in body.chars() {
                    match ch {
                        '<' => {
                            in_tag = true;
                            t.push(' ');
                        }
                        '>' => in_tag = false,
                        _ if !in_tag => t.push(ch),
                        _ => {}
                    }
                }
                t.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                body.to_string()
            };
            tables.push_str(&format!(
                "| {stem} | {} | {status} | {} |\n",
                cell(&line),
                cell(&text)
            ));
        }
    }
    out + &summary + &tables
}
