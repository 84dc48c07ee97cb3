//! One call's OzML: the interpreter's actions carried out on the control API, their ends read
//! from the call's events. The app's replies are fetched within the webhook timeout; one
//! that fails (no answer in time, not 2xx, not well-formed OzML) hangs the call up and tells
//! the `ErrorUrl`. A program that runs out hangs up too (the API extension has nothing left
//! to say); a transfer hands the caller on instead.

use super::PendingRecord;
use super::feed::{enqueue, record_completed};
use crate::Gateway;
use patchbay_api::client::ClientError;
use patchbay_api::{
    ApiErrorKind, CallId, CollectRequest, DtmfRequest, Event, EventKind, MediaOp, PlayRequest,
    RecordRequest, Side, TransferMethod, TransferRequest,
};
use patchbay_gateway_proto::vendors::ozeki::interp::{Action, Input, Interp};
use patchbay_gateway_proto::vendors::ozeki::ozml::{self, Program};
use patchbay_gateway_proto::vendors::ozeki::{PlaceCall, dialable, notify};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How a session's program comes.
pub(crate) enum First {
    /// POST `form` to `url`; the reply is the program.
    Fetch { url: String, form: String },
    /// Given already (`ResponseOzML`).
    Program(Program),
}

pub(crate) struct Session {
    gw: Arc<Gateway>,
    tenant: String,
    /// The call's API extension (empty: none).
    ext: String,
    call: CallId,
    error_url: Option<String>,
    rx: mpsc::UnboundedReceiver<Event>,
    /// Fetches since the call last waited for something (a prompt, keys, a delay): a program
    /// that only fetches (a `GoTo` loop, or prompts that all fail) is cut off.
    fetches: u32,
}

/// Fetches in a row without waiting for anything before a program counts as looping.
const MAX_FETCHES_UNWAITED: u32 = 20;

/// The call is over (hung up, or gone from the B2BUA): the session stops.
struct Gone;

/// Time between checks that a call whose events stay quiet still exists.
const QUIET: Duration = Duration::from_secs(30);

fn step_name(a: &Action) -> &'static str {
    match a {
        Action::Say { .. } => "say",
        Action::Collect { .. } => "collect",
        Action::Fetch { .. } => "fetch",
        Action::Sleep { .. } => "sleep",
        Action::SendDtmf { .. } => "dtmf",
        Action::Hold { .. } => "hold",
        Action::Transfer { .. } => "transfer",
        Action::Forward { .. } => "forward",
        Action::Record { .. } => "record",
        Action::Call { .. } => "call",
        Action::SendSms { .. } => "sms",
        Action::Hangup => "hangup",
        Action::Reject => "reject",
        Action::Skipped(_) | Action::End => "skipped",
    }
}

impl Session {
    pub(crate) fn new(
        gw: Arc<Gateway>,
        (tenant, ext): (&str, &str),
        call: &CallId,
        error_url: Option<String>,
        rx: mpsc::UnboundedReceiver<Event>,
    ) -> Self {
        Self {
            gw,
            tenant: tenant.to_string(),
            ext: ext.to_string(),
            call: call.clone(),
            error_url,
            rx,
            fetches: 0,
        }
    }

    pub(crate) async fn run(mut self, first: First) {
        let m = self.gw.metrics.clone();
        m.ozml_sessions.inc();
        let program = match first {
            First::Program(p) => Ok((p, Instant::now())),
            First::Fetch { url, form } => self.fetch(&url, form).await,
        };
        if let Ok((program, at)) = program {
            let _ = self.program(program, at).await;
        }
        m.ozml_sessions.dec();
    }

    /// Run `program` to its end (`Err`: the call ended first).
    async fn program(&mut self, program: Program, replied: Instant) -> Result<(), Gone> {
        let mut replied = Some(replied);
        let mut interp = Interp::new(&self.call.0, program);
        let mut action = interp.start();
        let mut handed_on = false;
        loop {
            if matches!(action, Action::End) {
                break;
            }
            self.gw
                .metrics
                .ozml_steps
                .with_label_values(&[step_name(&action)])
                .inc();
            let input = match action {
                Action::End => break,
                Action::Fetch { url, form } => {
                    self.fetches += 1;
                    if self.fetches > MAX_FETCHES_UNWAITED {
                        self.step_failed("GoTo", "the program fetches without waiting: a loop");
                        let _ = self.gw.b2bua.hangup(&self.call).await;
                        return Err(Gone);
                    }
                    let (p, at) = self.fetch(&url, notify::form_owned(&form)).await?;
                    replied = Some(at);
                    Input::Fetched(Some(p))
                }
                Action::Say {
                    text,
                    audio,
                    language,
                    repeat,
                    barge_in,
                    ..
                } => {
                    let is_url = audio
                        .as_deref()
                        .is_some_and(|a| a.starts_with("http://") || a.starts_with("https://"));
                    let op = MediaOp::Play(PlayRequest {
                        side: Side::A,
                        file: audio.clone().filter(|_| !is_url),
                        url: audio.filter(|_| is_url),
                        text,
                        recording: None,
                        voice: language.map(|l| l.to_ascii_lowercase()),
                        repeat,
                        barge_in,
                    });
                    let key = match self.start(op, &mut replied).await? {
                        Some(cmd) => match self
                            .wait(|k| matches!(k, EventKind::PlayFinished { command, .. } if *command == cmd))
                            .await?
                        {
                            EventKind::PlayFinished { key, .. } => {
                                key.and_then(|k| k.chars().next())
                            }
                            _ => None,
                        },
                        None => None,
                    };
                    Input::Done { key }
                }
                Action::Collect {
                    min,
                    max,
                    first_timeout_ms,
                    typed,
                } => {
                    self.collect(min, max, first_timeout_ms, typed, &mut replied)
                        .await?
                }
                Action::Sleep { ms } => {
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                        r = self.wait(|_| false) => { r?; }
                    }
                    self.fetches = 0;
                    Input::Done { key: None }
                }
                Action::SendDtmf { digits, .. } => {
                    let op = MediaOp::Dtmf(DtmfRequest {
                        side: Side::A,
                        digits,
                        duration_ms: 100,
                    });
                    if let Some(cmd) = self.start(op, &mut replied).await? {
                        self.wait(
                            |k| matches!(k, EventKind::DtmfSent { command, .. } if *command == cmd),
                        )
                        .await?;
                    }
                    Input::Done { key: None }
                }
                Action::Hold { on } => {
                    let r = self.gw.b2bua.hold(&self.call, on).await;
                    self.refused(r).await?;
                    Input::Done { key: None }
                }
                Action::Transfer { target, .. }
                | Action::Forward {
                    destination: target,
                } => {
                    handed_on = self.transfer(target).await?;
                    Input::Done { key: None }
                }
                Action::Record {
                    finished_url,
                    max_secs,
                    silence_secs,
                    stop_keys,
                } => {
                    let op = MediaOp::Record(RecordRequest {
                        side: None,
                        layout: None,
                        max_ms: max_secs.map(|s| u64::from(s) * 1000),
                        silence_ms: silence_secs.map(|s| (u64::from(s) * 1000).clamp(200, 60_000)),
                        stop_keys,
                    });
                    if let Some(cmd) = self.start(op, &mut replied).await? {
                        let ev = self
                            .wait(|k| matches!(k, EventKind::RecordingReady { command, .. } if *command == cmd))
                            .await?;
                        if let (EventKind::RecordingReady { recording, .. }, Some(url)) =
                            (ev, finished_url)
                        {
                            let r = PendingRecord {
                                tenant: self.tenant.clone(),
                                finished_url: url,
                                base: self.gw.ozeki.public_base.clone(),
                            };
                            record_completed(&self.gw, &self.call, &recording, &r).await;
                        }
                    }
                    Input::Done { key: None }
                }
                Action::Call {
                    dialled,
                    caller_id,
                    caller_display_name,
                    url,
                    error_url,
                } => {
                    self.place(PlaceCall {
                        dialed: dialled,
                        api_extension: None,
                        caller_id,
                        caller_display_name,
                        url,
                        error_url,
                        response_ozml: None,
                        finished_url: None,
                        ring_secs: None,
                    })
                    .await;
                    Input::Done { key: None }
                }
                Action::SendSms {
                    api_extension,
                    sender,
                    recipient,
                    text,
                    report_url,
                } => {
                    let sms = super::Sms {
                        api_extension: api_extension.unwrap_or_else(|| self.ext.clone()),
                        sender,
                        recipient,
                        message: text,
                        report_url,
                    };
                    if let Err(f) = self.gw.ozeki_sms(&self.tenant, sms).await {
                        self.step_failed("SendSms", &f.to_string());
                    }
                    Input::Done { key: None }
                }
                Action::Hangup | Action::Reject => {
                    handed_on = true;
                    let _ = self.gw.b2bua.hangup(&self.call).await;
                    Input::Done { key: None }
                }
                Action::Skipped(name) => {
                    tracing::warn!(call = %self.call, element = %name, "OzML element skipped");
                    Input::Done { key: None }
                }
            };
            action = interp.next(input);
        }
        if !handed_on {
            let _ = self.gw.b2bua.hangup(&self.call).await;
        }
        Ok(())
    }

    /// Keys for a `UserInput`: those typed during its prompts count first.
    async fn collect(
        &mut self,
        min: usize,
        max: usize,
        first_timeout_ms: u64,
        typed: String,
        replied: &mut Option<Instant>,
    ) -> Result<Input, Gone> {
        if typed.len() >= max {
            return Ok(Input::Digits(typed));
        }
        let op = MediaOp::Collect(CollectRequest {
            side: Side::A,
            min_digits: min.saturating_sub(typed.len()).max(1),
            max_digits: max - typed.len(),
            // A multi-digit entry may end with #; a one-key menu may use # as a key.
            terminators: if max > 1 { "#".into() } else { String::new() },
            first_timeout_ms: if typed.is_empty() {
                first_timeout_ms
            } else {
                3_000
            },
            inter_timeout_ms: 3_000,
        });
        let Some(cmd) = self.start(op, replied).await? else {
            return Ok(Input::Digits(typed));
        };
        let ev = self
            .wait(|k| matches!(k, EventKind::Digits { command, .. } if *command == cmd))
            .await?;
        let got = match ev {
            EventKind::Digits { digits, .. } => digits,
            _ => String::new(),
        };
        Ok(Input::Digits(typed + &got))
    }

    /// Transfer the caller to `target`: `true` once it left for the target (a failed
    /// attempt leaves it with the program, which then ends).
    async fn transfer(&mut self, target: String) -> Result<bool, Gone> {
        if !dialable(&target) {
            self.step_failed("transfer target", &target);
            return Ok(false);
        }
        let req = TransferRequest {
            target,
            keep: Side::A,
            method: TransferMethod::Bridge,
        };
        let r = self.gw.b2bua.transfer(&self.call, &req).await;
        if !self.refused(r).await? {
            return Ok(false);
        }
        let ev = self
            .wait(|k| {
                matches!(
                    k,
                    EventKind::Transferred { .. } | EventKind::TransferFailed { .. }
                )
            })
            .await?;
        Ok(matches!(ev, EventKind::Transferred { .. }))
    }

    /// OzML `Call`: a new call of the tenant (this one goes on).
    async fn place(&mut self, call: PlaceCall) {
        if !dialable(&call.dialed) {
            self.step_failed("Call", &call.dialed);
            return;
        }
        match self.gw.ozeki_place(&self.tenant, call).await {
            Ok(id) => self.gw.start_call(&id).await,
            Err(f) => self.step_failed("Call", &f.to_string()),
        }
    }

    fn step_failed(&self, what: &str, why: &str) {
        self.gw
            .metrics
            .ozml_errors
            .with_label_values(&["step"])
            .inc();
        tracing::warn!(call = %self.call, what, why, "OzML step refused");
    }

    /// A control-API result: `Ok(true)` done, `Ok(false)` refused (counted, the program goes
    /// on), `Err` the call is gone (unknown, or refused because it ended).
    async fn refused<T>(&mut self, r: Result<T, ClientError>) -> Result<bool, Gone> {
        match r {
            Ok(_) => Ok(true),
            Err(ClientError::Api {
                kind: ApiErrorKind::NotFound,
                ..
            }) => Err(Gone),
            Err(e) => {
                if self.over().await {
                    return Err(Gone);
                }
                self.step_failed("control", &e.to_string());
                Ok(false)
            }
        }
    }

    /// Whether the call has ended: its `ended` event came, or the B2BUA says so.
    async fn over(&mut self) -> bool {
        while let Ok(e) = self.rx.try_recv() {
            if e.kind.is_terminal() {
                return true;
            }
        }
        match self.gw.b2bua.call(&self.call).await {
            Ok(c) => c.ended_ms.is_some(),
            Err(ClientError::Api {
                kind: ApiErrorKind::NotFound,
                ..
            }) => true,
            Err(_) => false,
        }
    }

    /// Start a media primitive: its command id (`None`: refused, counted).
    async fn start(
        &mut self,
        op: MediaOp,
        replied: &mut Option<Instant>,
    ) -> Result<Option<u64>, Gone> {
        let r = self.gw.b2bua.primitive(&self.call, &op).await;
        if let Some(at) = replied.take() {
            self.gw
                .metrics
                .ozml_action
                .observe(at.elapsed().as_secs_f64());
        }
        match r {
            Ok(c) => Ok(Some(c.command)),
            Err(e) => self.refused(Err::<(), _>(e)).await.map(|_| None),
        }
    }

    /// The call's next event matching `want` (`Err`: the call ended first).
    async fn wait(&mut self, want: impl Fn(&EventKind) -> bool) -> Result<EventKind, Gone> {
        loop {
            match tokio::time::timeout(QUIET, self.rx.recv()).await {
                Ok(Some(e)) if e.kind.is_terminal() => return Err(Gone),
                Ok(Some(e)) if want(&e.kind) => {
                    self.fetches = 0;
                    return Ok(e.kind);
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err(Gone),
                // Quiet for long: make sure the call still exists (a restarted B2BUA).
                Err(_) => match self.gw.b2bua.call(&self.call).await {
                    Ok(c) if c.ended_ms.is_none() => {}
                    Ok(_) => return Err(Gone),
                    Err(ClientError::Api {
                        kind: ApiErrorKind::NotFound,
                        ..
                    }) => return Err(Gone),
                    Err(_) => {}
                },
            }
        }
    }

    /// POST `form` to the app and parse its OzML; a failure hangs up and tells `ErrorUrl`.
    async fn fetch(&mut self, url: &str, form: String) -> Result<(Program, Instant), Gone> {
        let headers: Vec<(String, String)> = notify::HEADERS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let timeout = Duration::from_millis(self.gw.cfg.webhooks.timeout_ms);
        let r = self
            .gw
            .webhooks
            .request(
                &self.tenant,
                url,
                notify::CONTENT_TYPE,
                &headers,
                form,
                timeout,
            )
            .await;
        let why = match r {
            Ok(a) if (200..300).contains(&a.status) => match ozml::parse(&a.body) {
                Ok(p) => return Ok((p, Instant::now())),
                Err(e) => ("not_ozml", format!("the reply of {url} is not OzML: {e}")),
            },
            Ok(a) => ("fetch", format!("{url} answered {}", a.status)),
            Err(e) => ("fetch", format!("{url}: {e}")),
        };
        self.gw
            .metrics
            .ozml_errors
            .with_label_values(&[why.0])
            .inc();
        tracing::warn!(call = %self.call, error = %why.1, "OzML fetch failed; hanging up");
        if let Some(err_url) = self.error_url.clone() {
            let body = notify::form(
                "Error",
                &[("CallId", &self.call.0), ("ErrorMessage", &why.1)],
            );
            enqueue(&self.gw, &self.tenant, "Error", &self.call, &err_url, body).await;
        }
        let _ = self.gw.b2bua.hangup(&self.call).await;
        Err(Gone)
    }
}
