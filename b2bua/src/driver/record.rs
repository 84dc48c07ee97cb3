//! Recordings' wiring: a [`LegAction::Record`](patchbay_proto::LegAction) starts a recording
//! task on the legs' media (taps on the relay or the engine's endpoint, whichever serves the
//! leg), writing `<recordings_dir>/<tenant>/<id>.wav`; when it ends, a task indexes it in the
//! store and only then reports it to the core, so that `recording_ready` names a recording
//! that can be downloaded.

use super::{Driver, TaskDone, now_ms};
use patchbay_api::{CallId, MediaReason, RecordLayout, RecordRequest};
use patchbay_media::engine::record::{Layout, Limits, Stop};
use patchbay_media::recording::{self, Ending, RecordingSpec};
use patchbay_proto::{Input, LegId, RecordingDone};

fn te_pt(codecs: &[patchbay_media::sdp::Codec]) -> Option<u8> {
    codecs
        .iter()
        .find(|c| {
            c.rtpmap
                .to_ascii_lowercase()
                .starts_with("telephone-event/8000")
        })
        .map(|c| c.pt)
}

fn done_of(ending: Ending, duration_ms: u64, bytes: u64) -> RecordingDone {
    let (reason, key, error) = match ending {
        Ending::Stopped => (MediaReason::Stopped, None, None),
        Ending::Limit(Stop::MaxLength) => (MediaReason::MaxLength, None, None),
        Ending::Limit(Stop::Silence) => (MediaReason::Silence, None, None),
        Ending::Limit(Stop::Key(k)) => (MediaReason::Terminator, Some(k), None),
        Ending::Error(e) => (MediaReason::Error, None, Some(e)),
    };
    RecordingDone {
        reason,
        duration_ms,
        bytes,
        key,
        error,
    }
}

// === impl Driver ===

impl Driver {
    pub(super) fn record(
        &mut self,
        call: CallId,
        command: u64,
        id: String,
        legs: &[LegId],
        layout: RecordLayout,
        req: RecordRequest,
    ) {
        let tenant = self.calls.info(&call).map(|i| i.tenant).unwrap_or_default();
        let sources: Vec<_> = legs
            .iter()
            .filter_map(|l| {
                let media = self.leg_media.get(l)?.clone();
                let te = self.leg_codecs.get(l).and_then(|c| te_pt(c));
                Some((media, te))
            })
            .collect();
        let path = self
            .sh
            .cfg
            .recordings_dir
            .join(&tenant)
            .join(format!("{id}.wav"));
        let tasks = self.tasks.clone();
        if sources.is_empty() || tenant.is_empty() {
            let _ = tasks.send(TaskDone::Recording {
                call,
                command,
                done: done_of(Ending::Error("no media on the leg".into()), 0, 0),
            });
            return;
        }
        let spec = RecordingSpec {
            path: path.clone(),
            layout: match layout {
                RecordLayout::Mono => Layout::Mono,
                RecordLayout::Stereo => Layout::Stereo,
            },
            limits: Limits {
                max_ms: Some(
                    req.max_ms
                        .unwrap_or(patchbay_api::MAX_RECORD_MS)
                        .min(patchbay_api::MAX_RECORD_MS),
                ),
                silence_ms: req.silence_ms,
                stop_keys: req.stop_keys,
            },
            legs: sources,
        };
        let (handle, task) = recording::start(spec, self.apps.metrics.clone());
        self.recordings.insert(command, handle);
        let store = self.sh.store.clone();
        let started_ms = now_ms();
        let side = req.side.map_or("call", |s| match s {
            patchbay_api::Side::A => "a",
            patchbay_api::Side::B => "b",
        });
        let layout = match layout {
            RecordLayout::Mono => "mono",
            RecordLayout::Stereo => "stereo",
        };
        tokio::spawn(async move {
            let out = match task.await {
                Ok(o) => o,
                Err(e) => patchbay_media::recording::Outcome {
                    ending: Ending::Error(format!("recording task: {e}")),
                    duration_ms: 0,
                    bytes: 0,
                },
            };
            let mut done = done_of(out.ending, out.duration_ms, out.bytes);
            if out.bytes > 0 {
                let rec = patchbay_store::Recording {
                    id,
                    call_id: call.0.clone(),
                    tenant,
                    side: side.into(),
                    layout: layout.into(),
                    path: path.to_string_lossy().into_owned(),
                    started_ms,
                    duration_ms: out.duration_ms,
                    bytes: out.bytes,
                };
                // One retry, as for CDRs: a transient store error must not lose it.
                if let Err(e) = match store.insert_recording(&rec).await {
                    Ok(()) => Ok(()),
                    Err(_) => store.insert_recording(&rec).await,
                } {
                    done.reason = MediaReason::Error;
                    done.error = Some(format!("written but not indexed: {e}"));
                }
            }
            let _ = tasks.send(TaskDone::Recording {
                call,
                command,
                done,
            });
        });
    }

    pub(super) fn record_stop(&mut self, command: u64) {
        if let Some(h) = self.recordings.get_mut(&command) {
            h.stop();
        }
    }

    /// A recording ended and was indexed: tell the core (a recording the hangup stopped says
    /// `hangup`).
    pub(super) fn recording_done(&mut self, call: CallId, command: u64, mut done: RecordingDone) {
        self.recordings.remove(&command);
        if done.reason == MediaReason::Stopped && self.calls.info(&call).is_none() {
            done.reason = MediaReason::Hangup;
        }
        let _ = self.calls.handle_input(
            now_ms(),
            Input::RecordingDone {
                call,
                command,
                done,
            },
        );
    }
}
