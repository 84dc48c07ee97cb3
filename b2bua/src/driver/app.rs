//! Media wiring of applications: legs the core attaches to the media engine get an
//! [`Endpoint`] (instead of a relay bridge); primitives become engine commands, with prompts
//! loaded in tasks first (a file read, a TTS render: never on the packet loop nor on this
//! one); what the engine reports goes back to the core as [`Input::MediaEvent`].

use super::{Driver, TaskDone, now_ms};
use patchbay_api::{MediaOp, MediaReason, ToneName};
use patchbay_media::endpoint::{Endpoint, EngineMetrics};
use patchbay_media::engine::collect::CollectSpec;
use patchbay_media::engine::g711::Law;
use patchbay_media::engine::leg::{Command, Done, Event, Reason};
use patchbay_media::engine::tone;
use patchbay_media::prompts::{PromptError, Prompts};
use patchbay_media::tts::Tts;
use patchbay_proto::{Input, LegId, MediaEvent};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The engine side of the driver.
pub(crate) struct Apps {
    pub(super) endpoints: HashMap<LegId, Endpoint>,
    /// Per leg, the commands behind a `play` whose prompt is still loading, in the order the
    /// core gave them: a collection after a prompt must not start (nor its timeout run)
    /// before the prompt even plays, nor a second prompt overtake the first.
    queued: HashMap<LegId, VecDeque<Slot>>,
    pub(super) prompts: Prompts,
    pub(super) metrics: EngineMetrics,
    pub(super) events: mpsc::UnboundedSender<(u64, Event)>,
}

impl Apps {
    /// The engine's state, and where its endpoints' events arrive.
    pub(crate) fn new(
        cfg: &crate::B2buaConfig,
        metrics: EngineMetrics,
    ) -> (Self, mpsc::UnboundedReceiver<(u64, Event)>) {
        let tts = Tts::new(&cfg.tts_program, cfg.prompt_cache_samples);
        let dir = if cfg.prompts_dir.as_os_str().is_empty() {
            std::path::PathBuf::from("prompts")
        } else {
            cfg.prompts_dir.clone()
        };
        let (events, rx) = mpsc::unbounded_channel();
        let apps = Self {
            endpoints: HashMap::new(),
            queued: HashMap::new(),
            prompts: Prompts::new(dir, tts, cfg.prompt_cache_samples)
                .with_sounds(cfg.sounds_dir.clone())
                .with_audio_dirs(&cfg.audio_dirs)
                .allow_private_urls(cfg.url_prompts_allow_private),
            metrics,
            events,
        };
        (apps, rx)
    }
}

/// A command waiting its turn for the engine.
enum Slot {
    /// A `play` whose prompt is loading.
    Loading(u64),
    /// Ready, behind one that loads.
    Ready(Command),
}

impl Slot {
    fn id(&self) -> u64 {
        match self {
            Slot::Loading(id) => *id,
            Slot::Ready(c) => c.id(),
        }
    }
}

fn media_reason(r: Reason) -> (MediaReason, Option<char>) {
    match r {
        Reason::Finished => (MediaReason::Finished, None),
        Reason::Stopped => (MediaReason::Stopped, None),
        Reason::BargeIn(k) => (MediaReason::BargeIn, Some(k)),
        Reason::MaxDigits => (MediaReason::MaxDigits, None),
        Reason::Terminator(k) => (MediaReason::Terminator, Some(k)),
        Reason::Timeout => (MediaReason::Timeout, None),
    }
}

fn done_event(command: u64, reason: MediaReason, error: Option<String>) -> MediaEvent {
    MediaEvent::Done {
        command,
        reason,
        played_ms: 0,
        digits: None,
        ok: false,
        key: None,
        error,
    }
}

// === impl Driver ===

impl Driver {
    /// The G.711 law and telephone-event payload type `leg`'s phone agreed on.
    pub(super) fn leg_law(&self, leg: LegId) -> (Law, Option<u8>) {
        let codecs = self.leg_codecs.get(&leg).map(Vec::as_slice).unwrap_or(&[]);
        let law = codecs
            .iter()
            .find_map(|c| Law::from_pt(c.pt))
            .unwrap_or(Law::Mu);
        let te_pt = codecs
            .iter()
            .find(|c| {
                c.rtpmap
                    .to_ascii_lowercase()
                    .starts_with("telephone-event/8000")
            })
            .map(|c| c.pt);
        (law, te_pt)
    }

    /// A primitive on a leg the relay bridges: the engine serves it beside the relay (from a
    /// tap, speaking only while it plays) until the call ends.
    fn serve_bridged(&mut self, call: &patchbay_api::CallId, leg: LegId) {
        if !self.apps.endpoints.contains_key(&leg) && self.bridges.contains_key(call) {
            self.start_endpoint(leg, true);
        }
    }

    /// Serve `leg` from the engine, in the law its phone agreed on.
    pub(super) fn attach(&mut self, leg: LegId) {
        self.start_endpoint(leg, false);
    }

    /// An engine endpoint for `leg`: on its socket, or (`bridged`) beside the relay.
    fn start_endpoint(&mut self, leg: LegId, bridged: bool) {
        let Some(media) = self.leg_media.get(&leg).cloned() else {
            return;
        };
        let (law, te_pt) = self.leg_law(leg);
        let (events, metrics) = (self.apps.events.clone(), self.apps.metrics.clone());
        let ep = Endpoint::start(media, law, te_pt, leg.0, events, metrics, bridged);
        self.apps.endpoints.insert(leg, ep);
    }

    /// Run a primitive on a leg the engine serves.
    pub(super) fn media_command(
        &mut self,
        call: &patchbay_api::CallId,
        leg: LegId,
        command: u64,
        op: MediaOp,
    ) {
        if let MediaOp::Conference(c) = op {
            self.join_room(call, leg, command, c);
            return;
        }
        self.serve_bridged(call, leg);
        if !self.apps.endpoints.contains_key(&leg) {
            self.feed_media(leg, done_event(command, MediaReason::Hangup, None));
            return;
        }
        match op {
            MediaOp::Play(p) => {
                let tenant = self.calls.info(call).map(|i| i.tenant).unwrap_or_default();
                let prompts = self.apps.prompts.clone();
                let recordings_dir = self.sh.cfg.recordings_dir.clone();
                let tasks = self.tasks.clone();
                self.apps
                    .queued
                    .entry(leg)
                    .or_default()
                    .push_back(Slot::Loading(command));
                tokio::spawn(async move {
                    let result = match (&p.file, &p.text, &p.url) {
                        // The B2BUA's own plays may give a file and a text: the file, else
                        // the text (a greeting not recorded).
                        (Some(f), text, _) => match (prompts.file(&tenant, f).await, text) {
                            (Err(PromptError::NotFound(_)), Some(t)) => {
                                prompts.text(p.voice.as_deref().unwrap_or("en"), t).await
                            }
                            (r, _) => r,
                        },
                        (_, Some(t), _) => {
                            prompts.text(p.voice.as_deref().unwrap_or("en"), t).await
                        }
                        (_, _, Some(u)) => prompts.url(u).await,
                        _ if p.recording.is_some() => {
                            let rec = p.recording.clone().unwrap_or_default();
                            let path = recordings_dir.join(&tenant).join(format!("{rec}.wav"));
                            prompts.path(path, &rec).await
                        }
                        _ => Err(PromptError::NotFound(String::new())),
                    };
                    let _ = tasks.send(TaskDone::Prompt {
                        leg,
                        command,
                        result: result.map_err(|e| e.to_string()),
                        repeat: p.repeat,
                        barge_in: p.barge_in,
                    });
                });
            }
            MediaOp::Collect(c) => self.engine_command(
                leg,
                Command::Collect {
                    id: command,
                    spec: CollectSpec {
                        min_digits: c.min_digits,
                        max_digits: c.max_digits,
                        terminators: c.terminators,
                        first_timeout_ms: c.first_timeout_ms,
                        inter_timeout_ms: c.inter_timeout_ms,
                    },
                },
            ),
            MediaOp::Dtmf(d) => self.engine_command(
                leg,
                Command::SendDtmf {
                    id: command,
                    digits: d.digits,
                    duration_ms: d.duration_ms,
                },
            ),
            MediaOp::Tone(t) => self.engine_command(
                leg,
                Command::Tone {
                    id: command,
                    tone: match t.tone {
                        ToneName::Ringback => tone::RINGBACK,
                        ToneName::Busy => tone::BUSY,
                        ToneName::Beep => tone::BEEP,
                    },
                    max_ms: t.duration_ms,
                    barge_in: t.barge_in,
                },
            ),
            // Recordings come as their own action (`LegAction::Record`, see `record`).
            MediaOp::Record(_) => {}
            MediaOp::Conference(_) => {} // above
        }
    }

    /// Send `cmd` to the leg's engine now, or behind the prompts still loading before it.
    fn engine_command(&mut self, leg: LegId, cmd: Command) {
        match self.apps.queued.get_mut(&leg) {
            Some(q) if !q.is_empty() => q.push_back(Slot::Ready(cmd)),
            _ => {
                if let Some(ep) = self.apps.endpoints.get(&leg) {
                    ep.command(cmd);
                }
            }
        }
    }

    /// Send what is ready at the head of the leg's queue (up to the next prompt loading).
    fn flush_queued(&mut self, leg: LegId) {
        let Some(q) = self.apps.queued.get_mut(&leg) else {
            return;
        };
        while let Some(Slot::Ready(_)) = q.front() {
            if let (Some(Slot::Ready(cmd)), Some(ep)) =
                (q.pop_front(), self.apps.endpoints.get(&leg))
            {
                ep.command(cmd);
            }
        }
        if q.is_empty() {
            self.apps.queued.remove(&leg);
        }
    }

    /// Take command `command` out of the leg's queue, if it waits there.
    fn unqueue(&mut self, leg: LegId, command: u64) -> Option<Slot> {
        let q = self.apps.queued.get_mut(&leg)?;
        let i = q.iter().position(|s| s.id() == command)?;
        q.remove(i)
    }

    pub(super) fn media_stop(&mut self, leg: LegId, command: u64) {
        if self.leave_room(leg, command) {
            return;
        }
        if self.unqueue(leg, command).is_some() {
            // Never reached the engine: it ends here.
            self.feed_media(leg, done_event(command, MediaReason::Stopped, None));
            self.flush_queued(leg);
        } else if let Some(ep) = self.apps.endpoints.get(&leg) {
            ep.stop(command);
        }
    }

    /// A prompt finished loading: play it, or report why not.
    pub(super) fn prompt_loaded(
        &mut self,
        leg: LegId,
        command: u64,
        result: Result<Arc<[i16]>, String>,
        repeat: bool,
        barge_in: bool,
    ) {
        let Some(slot) = self.apps.queued.get_mut(&leg).and_then(|q| {
            q.iter_mut()
                .find(|s| matches!(s, Slot::Loading(id) if *id == command))
        }) else {
            return; // stopped, or the call ended, meanwhile
        };
        match result {
            Ok(samples) => {
                *slot = Slot::Ready(Command::Play {
                    id: command,
                    samples,
                    repeat,
                    barge_in,
                });
            }
            Err(e) => {
                self.unqueue(leg, command);
                tracing::info!(leg = leg.0, command, error = %e, "prompt not played");
                self.feed_media(leg, done_event(command, MediaReason::Error, Some(e)));
            }
        }
        self.flush_queued(leg);
    }

    /// What an endpoint reported.
    pub(super) fn engine_event(&mut self, tag: u64, event: Event) {
        let leg = LegId(tag);
        if let Event::Done(d) = &event {
            self.left_room(leg, d.id);
        }
        let event = match event {
            Event::Key(k) => MediaEvent::Key(k),
            Event::Done(Done {
                id,
                reason,
                played_ms,
                digits,
                ok,
            }) => {
                let (reason, key) = media_reason(reason);
                MediaEvent::Done {
                    command: id,
                    reason,
                    played_ms,
                    digits,
                    ok,
                    key,
                    error: None,
                }
            }
        };
        self.feed_media(leg, event);
        self.step();
    }

    pub(super) fn feed_media(&mut self, leg: LegId, event: MediaEvent) {
        let _ = self
            .calls
            .handle_input(now_ms(), Input::MediaEvent { leg, event });
    }

    /// The leg's call ended: stop its endpoint (the core already ended its primitives).
    pub(super) fn detach(&mut self, leg: LegId) {
        self.drop_from_room(leg);
        self.apps.endpoints.remove(&leg);
        self.apps.queued.remove(&leg);
    }
}
