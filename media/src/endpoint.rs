//! The engine's I/O: one task per leg served by the engine (instead of the relay), running a
//! [`LegEngine`] on the leg's RTP socket. Every 20 ms (one interval per leg; a tick that
//! fires more than [`LATE_MS`] after its slot counts as late) it sends what the engine
//! plays; packets from the phone go to the engine as they arrive (latching as the relay
//! does); commands come in on a channel, [`Event`]s go out on the one given at start, tagged
//! with the leg's tag. Prompts arrive as samples: reading files and rendering speech happen
//! elsewhere, never on this loop.
//!
//! The stream the phone sees goes on from the last packet sent to it (by the relay or an
//! earlier endpoint): same SSRC, next sequence number, timestamp moved on.

mod metrics;

pub use metrics::EngineMetrics;

use crate::engine::g711::Law;
use crate::engine::leg::{CmdId, Command, Event, LegEngine};
use crate::engine::rtp::Sender;
use crate::relay::LegMedia;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// A packet sent this many milliseconds after its slot counts as late.
pub const LATE_MS: u64 = 10;

enum Ctl {
    Cmd(Command),
    Stop(CmdId),
    StopAll,
}

/// Where an endpoint hears the phone.
enum Input {
    /// It reads the leg's RTP socket (the leg is not bridged).
    Socket,
    /// The relay reads it (a bridged leg) and copies each packet here; the endpoint takes the
    /// phone's stream from the relay only while it has something to send.
    Tap(mpsc::Receiver<(u8, Vec<u8>)>, u64),
}

/// A leg served by the engine; dropping it stops the task (without `Done` events: whoever
/// drops it reports what was pending).
#[derive(Debug)]
pub struct Endpoint {
    tx: mpsc::UnboundedSender<Ctl>,
    task: JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Endpoint {
    /// Serve `leg` (speaking `law`, with telephone-event on `te_pt` if agreed). Must run in a
    /// tokio runtime.
    ///
    /// Not `bridged`: the endpoint reads the leg's RTP socket (nothing else may meanwhile).
    /// `bridged` (the relay bridges the leg): the engine hears the phone through a tap on the
    /// relay and speaks to it only while it plays (a prompt, a tone, keys): it then takes the
    /// phone's stream from the relay (one packet slot later, so the two never both send),
    /// carries it on, and hands it back when done; the relay carries it on again. Keys are
    /// heard (and collected) all along.
    pub fn start(
        leg: Arc<LegMedia>,
        law: Law,
        te_pt: Option<u8>,
        tag: u64,
        events: mpsc::UnboundedSender<(u64, Event)>,
        metrics: EngineMetrics,
        bridged: bool,
    ) -> Self {
        let engine = LegEngine::new(law, te_pt, sender_for(&leg));
        let input = if bridged {
            let (ptx, prx) = mpsc::channel(256);
            let tap = crate::recording::Tap::new(0, ptx);
            let tap_id = tap.id;
            leg.add_tap(tap);
            Input::Tap(prx, tap_id)
        } else {
            Input::Socket
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(leg, engine, rx, tag, events, metrics, input));
        Self { tx, task }
    }

    pub fn command(&self, cmd: Command) {
        let _ = self.tx.send(Ctl::Cmd(cmd));
    }

    /// Stop one command (its `Done` says `stopped`; nothing when it already ended).
    pub fn stop(&self, id: CmdId) {
        let _ = self.tx.send(Ctl::Stop(id));
    }

    /// Stop every command of the leg (each reports `Done`).
    pub fn stop_all(&self) {
        let _ = self.tx.send(Ctl::StopAll);
    }
}

/// The stream a new sender on `leg` uses: carrying on the last one the phone got (same SSRC,
/// next sequence number, one frame later), or a fresh random one.
pub(crate) fn sender_for(leg: &LegMedia) -> Sender {
    match leg.last_sent() {
        Some(last) => Sender::following(last, crate::engine::FRAME as u32),
        None => {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u16(leg.local_rtp().port());
            let r = h.finish();
            Sender::new((r >> 32) as u32, (r >> 16) as u16, (r as u32) & 0xffff_0000)
        }
    }
}

async fn run(
    leg: Arc<LegMedia>,
    mut engine: LegEngine,
    mut rx: mpsc::UnboundedReceiver<Ctl>,
    tag: u64,
    events: mpsc::UnboundedSender<(u64, Event)>,
    m: EngineMetrics,
    input: Input,
) {
    m.legs.inc();
    let _gauge = Gauge(m.clone());
    let (mut tap, tap_id) = match input {
        Input::Socket => (None, None),
        Input::Tap(rx, id) => (Some(rx), Some(id)),
    };
    let bridged = tap.is_some();
    // However the task ends, a bridged leg goes back to the relay and loses its tap.
    let _release = Release {
        leg: leg.clone(),
        tap: tap_id,
    };
    // Bridged: whether the engine holds the phone's stream, and whether it took it this
    // slot (it sends from the next one on).
    let (mut owned, mut taking) = (false, false);
    let epoch = Instant::now();
    let mut pacing = tokio::time::interval(Duration::from_millis(20));
    pacing.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut buf = [0u8; 2048];
    let mut out = Vec::with_capacity(256);
    loop {
        tokio::select! {
            biased;
            slot = pacing.tick() => {
                let now = Instant::now();
                let late = now.saturating_duration_since(slot).as_millis() as u64 > LATE_MS;
                let at = slot.duration_since(epoch).as_millis() as u64;
                if bridged {
                    if !owned && engine.has_output() {
                        // Take the stream; send from the next slot, after the relay's last.
                        leg.take_over();
                        (owned, taking) = (true, true);
                        continue;
                    }
                    if taking {
                        engine.resync(sender_for(&leg));
                        taking = false;
                    }
                }
                let sent = engine.tick(at, &mut out);
                if bridged && owned && !sent {
                    leg.hand_back();
                    owned = false;
                }
                if sent {
                    if let Some(to) = leg.remote_rtp() {
                        if leg.rtp.send_to(&out, to).await.is_ok() {
                            leg.note_sent(&out);
                            leg.stats.rtp_out.fetch_add(1, Relaxed);
                            leg.stats.rtp_out_bytes.fetch_add(out.len() as u64, Relaxed);
                            m.packets.inc();
                            if late {
                                m.late.inc();
                            }
                        } else {
                            leg.stats.undeliverable.fetch_add(1, Relaxed);
                        }
                    } else {
                        leg.stats.undeliverable.fetch_add(1, Relaxed);
                    }
                }
            }
            ctl = rx.recv() => match ctl {
                None => break,
                Some(Ctl::Cmd(c)) => engine.command(c),
                Some(Ctl::Stop(id)) => { engine.stop(id); }
                Some(Ctl::StopAll) => engine.stop_all(),
            },
            Some((_, pkt)) = recv_tap(&mut tap) => {
                let at = epoch.elapsed().as_millis() as u64;
                engine.on_packet(at, &pkt);
            }
            got = leg.rtp.recv_from(&mut buf), if !bridged => {
                let Ok((n, from)) = got else { continue };
                if !leg.accept_from(from) {
                    continue;
                }
                leg.stats.rtp_in.fetch_add(1, Relaxed);
                leg.stats.rtp_in_bytes.fetch_add(n as u64, Relaxed);
                leg.tap(&buf[..n]);
                let at = epoch.elapsed().as_millis() as u64;
                engine.on_packet(at, &buf[..n]);
            }
        }
        while let Some(ev) = engine.poll_event() {
            if matches!(ev, Event::Key(_)) {
                m.keys.inc();
            }
            if events.send((tag, ev)).is_err() {
                return;
            }
        }
    }
}

async fn recv_tap(tap: &mut Option<mpsc::Receiver<(u8, Vec<u8>)>>) -> Option<(u8, Vec<u8>)> {
    match tap {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Gives a bridged leg back to the relay and removes its tap, however the task ends.
struct Release {
    leg: Arc<LegMedia>,
    tap: Option<u64>,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(id) = self.tap {
            self.leg.hand_back();
            self.leg.remove_tap(id);
        }
    }
}

/// Decrements the legs gauge however the task ends (also when aborted).
struct Gauge(EngineMetrics);

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.legs.dec();
    }
}

#[cfg(test)]
mod tests;
