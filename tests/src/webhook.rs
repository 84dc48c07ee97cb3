//! A webhook receiver for the tests: a local HTTP/1.1 server recording every request (path,
//! headers, body) and answering with a status the test sets (or a body it sets); it can stop
//! listening (the receiver is down) and start again on the same port.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request received.
#[derive(Debug, Clone)]
pub struct Hook {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived (unix ms).
    pub at_ms: u64,
}

impl Hook {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter of the path (decoded).
    pub fn param(&self, name: &str) -> Option<String> {
        let q = self.path.split_once('?')?.1;
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The path without its query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// A form-encoded body's field (decoded).
    pub fn field(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The form-encoded body's field names, in order.
    pub fn field_names(&self) -> Vec<String> {
        form_urlencoded::parse(self.body.as_bytes())
            .map(|(k, _)| k.into_owned())
            .collect()
    }
}

#[derive(Default)]
struct State {
    hooks: Vec<Hook>,
    status: u16,
    reply: String,
    /// Replies by path (else `reply`).
    replies: std::collections::HashMap<String, String>,
    /// How long to wait before answering.
    delay_ms: u64,
}

pub struct Receiver {
    pub port: u16,
    state: Arc<Mutex<State>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Receiver {
    /// A receiver that will listen on `port` once started (down until then).
    pub fn on(port: u16) -> Self {
        Self {
            port,
            state: Arc::new(Mutex::new(State {
                status: 200,
                ..State::default()
            })),
            task: None,
        }
    }

    /// Start listening (again).
    pub async fn start(&mut self) {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("receiver port");
        let state = self.state.clone();
        self.task = Some(tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(serve(s, state.clone()));
            }
        }));
    }

    /// Stop listening (connections are refused).
    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set_status(&self, status: u16) {
        self.state.lock().unwrap().status = status;
    }

    /// Answer only after `ms` from now on (a slow app).
    pub fn set_delay_ms(&self, ms: u64) {
        self.state.lock().unwrap().delay_ms = ms;
    }

    /// The body of every reply from now on.
    pub fn set_reply(&self, body: &str) {
        self.state.lock().unwrap().reply = body.to_string();
    }

    /// The body answered to requests for `path` (an app serving OzML per URL; the query
    /// string is not part of the match).
    pub fn set_reply_for(&self, path: &str, body: &str) {
        self.state
            .lock()
            .unwrap()
            .replies
            .insert(path.to_string(), body.to_string());
    }

    /// The requests to `path` (query strings aside) once there are `n` of them (or what came
    /// in `secs`).
    pub async fn wait_for(&self, path: &str, n: usize, secs: u64) -> Vec<Hook> {
        let mut got = Vec::new();
        for _ in 0..secs * 20 {
            got = self
                .hooks()
                .into_iter()
                .filter(|h| h.route() == path)
                .collect();
            if got.len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        got
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.state.lock().unwrap().hooks.clone()
    }
}

async fn serve(mut s: tokio::net::TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        // Every complete request in the buffer (keep-alive).
        while let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..h]).to_string();
            let mut lines = head.lines();
            let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            if buf.len() < h + 4 + len {
                break;
            }
            let body = String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).to_string();
            buf.drain(..h + 4 + len);
            let (status, reply, delay) = {
                let mut st = state.lock().unwrap();
                let path = first.get(1).unwrap_or(&"").to_string();
                let route = path.split('?').next().unwrap_or("");
                let reply = st.replies.get(route).unwrap_or(&st.reply).clone();
                let at_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                st.hooks.push(Hook {
                    method: first.first().unwrap_or(&"").to_string(),
                    path,
                    headers,
                    body,
                    at_ms,
                });
                (st.status, reply, st.delay_ms)
            };
            if delay > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            }
            let out = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{reply}",
                reply.len()
            );
            if s.write_all(out.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}
