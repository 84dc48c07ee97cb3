//! A Prometheus server scraping test processes, and reading one series from a text
//! exposition.

use super::*;

/// The value of one series (`name{labels}` exactly as the text format prints it) in a
/// Prometheus text exposition; `None` when the series is absent.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// A Prometheus server on a free loopback port scraping `targets` (job name, host:port) every
/// second, with its data in a temporary directory. Killed on drop.
pub struct Prometheus {
    child: tokio::process::Child,
    pub url: String,
    dir: PathBuf,
    http: reqwest::Client,
}

impl Prometheus {
    /// Every target is scraped with the B2BUA's control token as a bearer token (the B2BUA's
    /// /metrics needs it; the gateway's admin listener ignores it).
    pub async fn start(prog: &str, targets: &[(&str, String)]) -> Self {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("patchbay-prom-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("prometheus dir");
        let mut cfg = String::from(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n",
        );
        for (job, addr) in targets {
            cfg.push_str(&format!(
                "  - job_name: {job}\n    authorization:\n      credentials: {CONTROL_TOKEN}\n    static_configs:\n      - targets: ['{addr}']\n"
            ));
        }
        std::fs::write(dir.join("prometheus.yml"), cfg).expect("config");
        let port = free_port();
        let child = tokio::process::Command::new(prog)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus starts");
        let p = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client"),
        };
        for _ in 0..200 {
            if let Ok(r) = p.http.get(format!("{}/-/ready", p.url)).send().await
                && r.status().is_success()
            {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("prometheus did not become ready");
    }

    /// `data.result` of an instant query (panics on an API error).
    pub async fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        let v: serde_json::Value = self
            .http
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .expect("prometheus answers")
            .json()
            .await
            .expect("json");
        assert_eq!(v["status"], "success", "query {expr}: {v}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// Wait until every target has been scraped successfully at least `scrapes` times.
    pub async fn wait_scraped(&self, jobs: usize, scrapes: u32) {
        for _ in 0..(scrapes * 20 + 100) {
            let up = self.query("count_over_time(up[5m]) and up == 1").await;
            if up.len() >= jobs
                && up.iter().all(|r| {
                    r["value"][1]
                        .as_str()
                        .and_then(|v| v.parse::<u32>().ok())
                        .is_some_and(|c| c >= scrapes)
                })
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("prometheus did not scrape every target {scrapes} times");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
