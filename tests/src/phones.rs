//! Phones: SIPp processes on the repository's scenarios, raw SIP exchanges, and the RTP
//! sockets tests own.

use super::*;

/// Send one SIP request from `sock` to `sip`; the first final response (1xx passed over).
pub fn sip_exchange(sock: &StdUdp, sip: &str, msg: &str) -> String {
    sock.send_to(msg.as_bytes(), sip).expect("send");
    let mut buf = [0u8; 8192];
    loop {
        let (n, _) = sock.recv_from(&mut buf).expect("a SIP response");
        let t = String::from_utf8_lossy(&buf[..n]).to_string();
        if !t.starts_with("SIP/2.0 1") {
            return t;
        }
    }
}

pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../loadtest/sipp")
        .join(name)
}

pub fn g711a_pcap() -> PathBuf {
    PathBuf::from("/usr/share/sip-tester/g711a.pcap")
}

/// A SIPp process (a phone), logging into its own directory.
pub struct Sipp {
    child: tokio::process::Child,
    name: String,
    dir: PathBuf,
}

impl Sipp {
    /// `sipp [remote] -sf <scenario> -i 127.0.0.1 -m 1 <args>`; `remote` empty for a UAS.
    pub fn spawn(scenario_name: &str, remote: &str, args: &[&str]) -> Sipp {
        Self::spawn_limits(scenario_name, remote, 1, 40, args)
    }

    /// Like [`Sipp::spawn`], for up to `max_calls` calls within `timeout_secs` in all.
    pub fn spawn_limits(
        scenario_name: &str,
        remote: &str,
        max_calls: u32,
        timeout_secs: u32,
        args: &[&str],
    ) -> Sipp {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("patchbay-sipp-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("sipp dir");
        let mut cmd = tokio::process::Command::new("sipp");
        if !remote.is_empty() {
            cmd.arg(remote);
        }
        // `sn:uas`: one of SIPp's built-in scenarios; else a file of loadtest/sipp/.
        match scenario_name.strip_prefix("sn:") {
            Some(builtin) => cmd.arg("-sn").arg(builtin),
            None => cmd.arg("-sf").arg(scenario(scenario_name)),
        };
        let (max_calls, timeout) = (max_calls.to_string(), format!("{timeout_secs}s"));
        cmd.args([
            "-i",
            "127.0.0.1",
            "-m",
            &max_calls,
            "-nostdin",
            "-timeout",
            &timeout,
            "-timeout_error",
            "-trace_err",
        ]);
        if max_calls == "1" {
            cmd.arg("-trace_msg");
        }
        cmd.args(args);
        cmd.current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let child = cmd.spawn().expect(
            "sipp is missing: install it with `apt-get install sip-tester` (or run `make test`)",
        );
        Sipp {
            child,
            name: scenario_name.to_string(),
            dir,
        }
    }

    /// A phone answering on `port` (uas scenarios).
    pub fn phone(scenario_name: &str, port: u16, args: &[&str]) -> Sipp {
        let mut all = vec!["-p".to_string(), port.to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        Self::spawn(scenario_name, "", &refs)
    }

    /// Demo phone 4005 (digest with its demo password) on SIP port `port` calling `callee`
    /// through `stack` with one of the `uac_*.xml` scenarios; `rtp_port` is its RTP socket and
    /// `extra` more SIPp arguments (`-set talk_ms 3000`, `-t t1` ...).
    pub fn caller(
        scenario: &str,
        stack: &Stack,
        port: u16,
        callee: &str,
        rtp_port: u16,
        extra: &[&str],
    ) -> Sipp {
        let sip = stack.sip();
        let (port, rtp, auth_uri) = (
            port.to_string(),
            rtp_port.to_string(),
            format!("{callee}@{sip}"),
        );
        let mut args = vec![
            "-s",
            callee,
            "-p",
            &port,
            "-au",
            "4005",
            "-ap",
            "demo-4005",
            "-auth_uri",
            &auth_uri,
            "-set",
            "user",
            "4005",
            "-set",
            "rtpport",
            &rtp,
        ];
        args.extend_from_slice(extra);
        Self::spawn(scenario, &sip, &args)
    }

    /// Demo user `user` (digest with its demo password) dialling `number` through `stack`
    /// (`uac_call_until_bye.xml`: it stays on the call until the other side hangs up), its
    /// RTP on `rtp_port`.
    pub fn dial(stack: &Stack, user: &str, number: &str, rtp_port: u16) -> Sipp {
        Self::dial_via(&stack.sip(), user, number, rtp_port)
    }

    /// Like [`Sipp::dial`], through `remote` (a B2BUA, or the SIP edge in front of several).
    pub fn dial_via(remote: &str, user: &str, number: &str, rtp_port: u16) -> Sipp {
        let (port, rtp) = (free_port().to_string(), rtp_port.to_string());
        let (auth_uri, pw) = (format!("{number}@{remote}"), format!("demo-{user}"));
        Self::spawn(
            "uac_call_until_bye.xml",
            remote,
            &[
                "-s",
                number,
                "-p",
                &port,
                "-au",
                user,
                "-ap",
                &pw,
                "-auth_uri",
                &auth_uri,
                "-set",
                "user",
                user,
                "-set",
                "rtpport",
                &rtp,
            ],
        )
    }

    /// REGISTER `user@domain` at `remote` with `password`, its contact on `contact_port`
    /// (`extra`: more SIPp arguments); SIPp's exit code (0 = registered).
    pub async fn register_via(
        remote: &str,
        domain: &str,
        user: &str,
        password: &str,
        contact_port: u16,
        extra: &[&str],
    ) -> i32 {
        let port = contact_port.to_string();
        let mut args = vec![
            "-au",
            user,
            "-ap",
            password,
            "-auth_uri",
            remote,
            "-set",
            "user",
            user,
            "-set",
            "domain",
            domain,
            "-set",
            "contact_port",
            &port,
            "-set",
            "expires",
            "300",
        ];
        args.extend_from_slice(extra);
        Sipp::spawn("register.xml", remote, &args).wait(15).await
    }

    /// A phone on `port` that rings `ring_ms`, answers, and sends its RTP from / expects it on
    /// `rtp_port` (`uas_answer.xml`).
    pub fn answering(port: u16, ring_ms: u32, rtp_port: u16) -> Sipp {
        Self::phone(
            "uas_answer.xml",
            port,
            &[
                "-set",
                "ring_ms",
                &ring_ms.to_string(),
                "-set",
                "rtpport",
                &rtp_port.to_string(),
            ],
        )
    }

    /// Exit code (0 = scenario passed); -1 if it had to be killed after `secs`.
    pub async fn wait(self, secs: u64) -> i32 {
        self.wait_messages(secs).await.0
    }

    /// Like [`Sipp::wait`], with SIPp's message trace (`-trace_msg`, on for single-call
    /// phones): every message it received and sent, for checks on what the phone was sent.
    pub async fn wait_messages(mut self, secs: u64) -> (i32, String) {
        let code = match tokio::time::timeout(Duration::from_secs(secs), self.child.wait()).await {
            Ok(Ok(st)) => st.code().unwrap_or(-1),
            _ => {
                let _ = self.child.kill().await;
                -1
            }
        };
        let mut messages = String::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for f in rd.flatten() {
                if f.file_name().to_string_lossy().ends_with("_messages.log") {
                    messages += &std::fs::read_to_string(f.path()).unwrap_or_default();
                }
            }
        }
        if code != 0 {
            eprintln!(
                "--- SIPp {} exited {code}; logs in {}",
                self.name,
                self.dir.display()
            );
            if let Ok(rd) = std::fs::read_dir(&self.dir) {
                for f in rd.flatten() {
                    if f.file_name().to_string_lossy().contains("errors") {
                        eprintln!("{}", std::fs::read_to_string(f.path()).unwrap_or_default());
                    }
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        (code, messages)
    }
}

/// The INVITE a phone received, from its SIPp message trace ([`Sipp::wait_messages`]): the
/// request line and headers (the SDP body is not needed by any check).
pub fn received_invite(messages: &str) -> String {
    let start = messages
        .find("\nINVITE sip:")
        .unwrap_or_else(|| panic!("no INVITE in the trace:\n{messages}"));
    let rest = &messages[start + 1..];
    let end = [rest.find("\r\n\r\n"), rest.find("\n\n")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

/// A phone's RTP socket, owned by the test: counts what arrives, optionally echoes it back.
pub struct RtpPeer {
    pub sock: Arc<UdpSocket>,
    pub received: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RtpPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RtpPeer {
    pub async fn new(echo: bool) -> Self {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("rtp socket"));
        let received = Arc::new(AtomicU64::new(0));
        let (s, r) = (sock.clone(), received.clone());
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while let Ok((n, from)) = s.recv_from(&mut buf).await {
                r.fetch_add(1, Ordering::Relaxed);
                if echo {
                    let _ = s.send_to(&buf[..n], from).await;
                }
            }
        });
        Self {
            sock,
            received,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.sock.local_addr().expect("addr").port()
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Send the RTP packets of SIPp's g711a.pcap to `dest` (2 ms apart); returns how many.
    pub async fn play_pcap(&self, dest: SocketAddr) -> u64 {
        let file = std::fs::File::open(g711a_pcap()).expect("g711a.pcap from sip-tester");
        let mut reader = pcap_file::pcap::PcapReader::new(file).expect("pcap");
        let mut sent = 0;
        while let Some(pkt) = reader.next_packet() {
            let pkt = pkt.expect("pcap packet");
            let d = &pkt.data;
            // Ethernet (14) + IPv4 (IHL * 4) + UDP (8) -> RTP.
            if d.len() < 14 + 20 + 8 || d[12..14] != [0x08, 0x00] {
                continue;
            }
            let ihl = usize::from(d[14] & 0x0f) * 4;
            let rtp = &d[14 + ihl + 8..];
            self.sock.send_to(rtp, dest).await.expect("send rtp");
            sent += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        sent
    }

    /// Wait until `n` packets arrived (or 5 s passed); returns the count.
    pub async fn wait_received(&self, n: u64) -> u64 {
        for _ in 0..100 {
            if self.received() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}
