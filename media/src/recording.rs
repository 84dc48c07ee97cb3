//! Recordings' I/O: what the phones of one or two legs send is copied off the packet path
//! (the relay's forwarding loop, or the engine's endpoint, hands each packet to the leg's
//! taps: a non-blocking send into a bounded queue, dropped when the queue is full), and one
//! task per recording turns the copies into 20 ms frames ([`Channel`]) and writes them
//! ([`Recorder`], 8 kHz 16-bit WAV) once per 20 ms tick, so the file's length is the time
//! recorded. It ends on [`RecordingHandle::stop`], on a limit (length, silence, a key), or
//! on a write error, and reports an [`Outcome`] with the file closed.

use crate::endpoint::EngineMetrics;
use crate::engine::FRAME;
use crate::engine::capture::{Channel, RECORDING_BACKLOG};
use crate::engine::record::{Layout, Limits, Recorder, Stop};
use crate::relay::LegMedia;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Packets a recording's queue holds (about 2.5 s of two legs).
const QUEUE: usize = 256;

static NEXT_TAP: AtomicU64 = AtomicU64::new(1);

/// A copy of one leg's incoming packets into a recording's queue (see `LegMedia::tap`).
#[derive(Debug)]
pub(crate) struct Tap {
    pub(crate) id: u64,
    channel: u8,
    tx: mpsc::Sender<(u8, Vec<u8>)>,
}

impl Tap {
    /// A tap of its own (not a recording's): packets arrive on `tx` as `(channel, packet)`.
    pub(crate) fn new(channel: u8, tx: mpsc::Sender<(u8, Vec<u8>)>) -> Self {
        Self {
            id: NEXT_TAP.fetch_add(1, Relaxed),
            channel,
            tx,
        }
    }

    pub(crate) fn send(&self, pkt: &[u8]) {
        let _ = self.tx.try_send((self.channel, pkt.to_vec()));
    }
}

/// What to record.
#[derive(Debug)]
pub struct RecordingSpec {
    /// The WAV to write (its directory is created).
    pub path: PathBuf,
    pub layout: Layout,
    pub limits: Limits,
    /// Leg A (left, or the only one), then leg B: each with the telephone-event payload type
    /// its phone agreed on (for stop keys).
    pub legs: Vec<(Arc<LegMedia>, Option<u8>)>,
}

/// Why a recording ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// [`RecordingHandle::stop`] (or the handle was dropped).
    Stopped,
    Limit(Stop),
    /// The file could not be written (what was written before is kept and closed if possible).
    Error(String),
}

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ending: Ending,
    pub duration_ms: u64,
    /// Size of the file (0 if it could not be created).
    pub bytes: u64,
}

/// Stops a recording (dropping it stops it too).
#[derive(Debug)]
pub struct RecordingHandle {
    stop: Option<oneshot::Sender<()>>,
}

impl RecordingHandle {
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Start recording; the task's result is the [`Outcome`]. Must run in a tokio runtime.
pub fn start(
    spec: RecordingSpec,
    metrics: EngineMetrics,
) -> (RecordingHandle, JoinHandle<Outcome>) {
    let (stop_tx, stop_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel(QUEUE);
    let taps = Taps {
        legs: spec.legs.iter().map(|(l, _)| l.clone()).collect(),
        id: NEXT_TAP.fetch_add(1, Relaxed),
    };
    for (i, leg) in taps.legs.iter().enumerate() {
        leg.add_tap(Tap {
            id: taps.id,
            channel: i as u8,
            tx: tx.clone(),
        });
    }
    drop(tx);
    metrics.recordings.inc();
    let gauge = Gauge(metrics.clone());
    let task = tokio::spawn(run(spec, taps, rx, stop_rx, metrics, gauge));
    (
        RecordingHandle {
            stop: Some(stop_tx),
        },
        task,
    )
}

/// Removes the taps however the task ends.
struct Taps {
    legs: Vec<Arc<LegMedia>>,
    id: u64,
}

impl Drop for Taps {
    fn drop(&mut self) {
        for l in &self.legs {
            l.remove_tap(self.id);
        }
    }
}

type FileRecorder = Recorder<std::io::BufWriter<std::fs::File>>;

/// The WAV at `path` (its directory made), or the failed outcome.
fn create(path: &std::path::Path, layout: Layout, limits: Limits) -> Result<FileRecorder, Outcome> {
    let failed = |e: String| Outcome {
        ending: Ending::Error(e),
        duration_ms: 0,
        bytes: 0,
    };
    let file = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::File::create(path))
        .map_err(|e| failed(format!("{}: {e}", path.display())))?;
    Recorder::new(std::io::BufWriter::new(file), layout, limits).map_err(|e| failed(e.to_string()))
}

/// Close the file: the outcome of a recording that ended with `ending`.
fn close(rec: FileRecorder, ending: Ending, path: &std::path::Path, m: &EngineMetrics) -> Outcome {
    let recorded = rec.duration_ms();
    m.recorded_seconds.inc_by(recorded as f64 / 1_000.0);
    let (ending, duration_ms) = match (rec.finish(), ending) {
        (Ok(ms), ending) => (ending, ms),
        (Err(e), Ending::Error(first)) => (Ending::Error(format!("{first}; {e}")), recorded),
        (Err(e), _) => (Ending::Error(e.to_string()), recorded),
    };
    let bytes = std::fs::metadata(path).map_or(0, |md| md.len());
    if matches!(ending, Ending::Error(_)) {
        m.recording_errors.inc();
    }
    Outcome {
        ending,
        duration_ms,
        bytes,
    }
}

/// Record frames made elsewhere (a conference room's mix: one 20 ms frame per tick on the
/// sender, so the file lasts the time recorded) as a mono WAV at `path`. It ends when the
/// sender is dropped (the room ended), on [`RecordingHandle::stop`], or at a limit.
pub fn start_frames(
    path: PathBuf,
    limits: Limits,
    metrics: EngineMetrics,
) -> (
    mpsc::Sender<[i16; FRAME]>,
    RecordingHandle,
    JoinHandle<Outcome>,
) {
    let (stop_tx, mut stop) = oneshot::channel();
    let (tx, mut rx) = mpsc::channel::<[i16; FRAME]>(QUEUE);
    metrics.recordings.inc();
    let gauge = Gauge(metrics.clone());
    let task = tokio::spawn(async move {
        let _gauge = gauge;
        let mut rec = match create(&path, Layout::Mono, limits) {
            Ok(r) => r,
            Err(out) => return out,
        };
        let ending = loop {
            tokio::select! {
                biased;
                _ = &mut stop => break Ending::Stopped,
                f = rx.recv() => match f {
                    None => break Ending::Stopped,
                    Some(f) => match rec.push(&f, None) {
                        Ok(Some(limit)) => break Ending::Limit(limit),
                        Ok(None) => {}
                        Err(e) => break Ending::Error(e.to_string()),
                    },
                },
            }
        };
        close(rec, ending, &path, &metrics)
    });
    let handle = RecordingHandle {
        stop: Some(stop_tx),
    };
    (tx, handle, task)
}

async fn run(
    spec: RecordingSpec,
    taps: Taps,
    mut rx: mpsc::Receiver<(u8, Vec<u8>)>,
    mut stop: oneshot::Receiver<()>,
    m: EngineMetrics,
    _gauge: Gauge,
) -> Outcome {
    let mut rec = match create(&spec.path, spec.layout, spec.limits.clone()) {
        Ok(r) => r,
        Err(out) => return out,
    };
    let mut chans: Vec<Channel> = spec
        .legs
        .iter()
        .map(|(_, te)| Channel::with_backlog(*te, RECORDING_BACKLOG))
        .collect();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (mut fa, mut fb) = ([0i16; FRAME], [0i16; FRAME]);
    let ending = loop {
        tokio::select! {
            biased;
            _ = &mut stop => break Ending::Stopped,
            _ = tick.tick() => {
                chans[0].frame(&mut fa);
                let b = match chans.get_mut(1) {
                    Some(c) => { c.frame(&mut fb); Some(&fb) }
                    None => None,
                };
                match rec.push(&fa, b) {
                    Ok(Some(limit)) => break Ending::Limit(limit),
                    Ok(None) => {}
                    Err(e) => break Ending::Error(e.to_string()),
                }
            }
            Some((ch, pkt)) = rx.recv() => {
                if let Some(c) = chans.get_mut(usize::from(ch))
                    && let Some(key) = c.push(&pkt)
                    && let Some(limit) = rec.key(key)
                {
                    break Ending::Limit(limit);
                }
            }
        }
    };
    drop(taps);
    close(rec, ending, &spec.path, &m)
}

/// Decrements the recordings gauge however the task ends.
struct Gauge(EngineMetrics);

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.recordings.dec();
    }
}

#[cfg(test)]
mod tests;
