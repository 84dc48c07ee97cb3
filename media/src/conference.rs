//! Conference rooms' I/O: one task per room mixes its members every 20 ms (each hears the
//! sum of the others, never itself: [`mix`]) and sends each member its frame in the law its
//! phone agreed on, continuing the stream the phone had (no jump when a leg moves in from
//! the engine, or back). Each member's RTP socket is read by a small task of its own that
//! latches, counts, feeds the leg's taps (recordings) and hands the packet to the room;
//! the room turns packets into frames ([`Channel`]) and reports keys as [`Event::Key`].
//!
//! Leaving is ordered: the room stops reading and sending for the member, then reports the
//! member's command as [`Event::Done`] (reason `Stopped`), so whoever takes the leg next (the
//! engine's endpoint) starts only once the room let go. Dropping the handle ends the room
//! once the commands sent before are done (a last `leave` is still reported).

use crate::endpoint::{EngineMetrics, sender_for};
use crate::engine::FRAME;
use crate::engine::capture::Channel;
use crate::engine::g711::Law;
use crate::engine::leg::{Done, Event, Reason};
use crate::engine::mixer::mix;
use crate::engine::rtp::Sender;
use crate::engine::tone::{JOINED, LEFT, ToneGen};
use crate::relay::LegMedia;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// A member joining: its leg, what its phone agreed on, and the tag and command its events
/// carry.
#[derive(Debug)]
pub struct Member {
    pub leg: Arc<LegMedia>,
    pub law: Law,
    pub te_pt: Option<u8>,
    /// Tags its events (the driver's leg id).
    pub tag: u64,
    /// The command that joined it (named again by its `Done`).
    pub command: u64,
    pub muted: bool,
    /// The relay bridges the leg: the room hears it through a tap and takes its stream from
    /// the relay (handing it back when the member leaves), instead of reading its socket.
    pub bridged: bool,
    /// The others hear a tone when it joins and when it leaves.
    pub tones: bool,
}

enum Ctl {
    Join(Member),
    Leave(u64),
    Mute(u64, bool),
    Record(mpsc::Sender<[i16; FRAME]>),
}

/// Each member's talking energy (its voice's mean absolute sample, 0-32767, averaged over
/// about 80 ms), by tag.
type Levels = Arc<std::sync::Mutex<std::collections::HashMap<u64, u16>>>;

/// The handle of a running room. Dropping it ends the room (after what was sent before).
#[derive(Debug)]
pub struct Room {
    tx: mpsc::UnboundedSender<Ctl>,
    levels: Levels,
}

impl Room {
    /// Start an empty room; members' events go to `events` tagged with their tag.
    pub fn start(events: mpsc::UnboundedSender<(u64, Event)>, metrics: EngineMetrics) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let levels = Levels::default();
        tokio::spawn(run(rx, events, metrics, levels.clone()));
        Self { tx, levels }
    }

    /// How loud member `tag` talks now (0 when silent or not a member).
    pub fn energy(&self, tag: u64) -> u16 {
        self.levels
            .lock()
            .map(|l| l.get(&tag).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    pub fn join(&self, m: Member) {
        let _ = self.tx.send(Ctl::Join(m));
    }

    /// The member tagged `tag` leaves (its `Done` follows once it is out).
    pub fn leave(&self, tag: u64) {
        let _ = self.tx.send(Ctl::Leave(tag));
    }

    pub fn mute(&self, tag: u64, muted: bool) {
        let _ = self.tx.send(Ctl::Mute(tag, muted));
    }

    /// Every 20 ms from now on, the room's whole mix (everyone heard, tones included) goes
    /// to `frames` (a recording: see `recording::start_frames`), until the room ends.
    pub fn record(&self, frames: mpsc::Sender<[i16; FRAME]>) {
        let _ = self.tx.send(Ctl::Record(frames));
    }
}

struct Seat {
    tag: u64,
    command: u64,
    leg: Arc<LegMedia>,
    law: Law,
    muted: bool,
    channel: Channel,
    /// Made at the member's first tick (after the relay let go of a bridged leg's stream).
    sender: Option<Sender>,
    talking: bool,
    reader: JoinHandle<()>,
    /// A bridged member's tap.
    tap: Option<u64>,
    tones: bool,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.reader.abort();
        if let Some(id) = self.tap {
            self.leg.remove_tap(id);
            self.leg.hand_back();
        }
    }
}

/// A bridged member's packets, from its tap on the relay, into the room.
async fn from_tap(
    mut rx: mpsc::Receiver<(u8, Vec<u8>)>,
    tag: u64,
    tx: mpsc::Sender<(u64, Vec<u8>)>,
) {
    while let Some((_, pkt)) = rx.recv().await {
        if tx.send((tag, pkt)).await.is_err() {
            return;
        }
    }
}

async fn read(leg: Arc<LegMedia>, tag: u64, tx: mpsc::Sender<(u64, Vec<u8>)>) {
    let mut buf = [0u8; 2048];
    loop {
        let Ok((n, from)) = leg.rtp.recv_from(&mut buf).await else {
            continue;
        };
        if !leg.accept_from(from) {
            continue;
        }
        leg.stats.rtp_in.fetch_add(1, Relaxed);
        leg.stats.rtp_in_bytes.fetch_add(n as u64, Relaxed);
        leg.tap(&buf[..n]);
        if tx.send((tag, buf[..n].to_vec())).await.is_err() {
            return;
        }
    }
}

async fn run(
    mut ctl: mpsc::UnboundedReceiver<Ctl>,
    events: mpsc::UnboundedSender<(u64, Event)>,
    m: EngineMetrics,
    levels: Levels,
) {
    let (pkt_tx, mut pkts) = mpsc::channel::<(u64, Vec<u8>)>(1024);
    let mut seats: Vec<Seat> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (mut frames, mut heard) = (Vec::new(), Vec::new());
    let (mut payload, mut out) = (Vec::with_capacity(FRAME), Vec::with_capacity(256));
    // A join or leave tone every member hears on top of the mix.
    let mut cue: Option<ToneGen> = None;
    // Where the whole mix goes (a recording of the room).
    let mut recording: Option<mpsc::Sender<[i16; FRAME]>> = None;
    loop {
        tokio::select! {
            biased;
            c = ctl.recv() => match c {
                None => break,
                Some(Ctl::Join(mb)) => {
                    m.conference_members.inc();
                    if mb.tones && !seats.is_empty() {
                        cue = Some(ToneGen::new(JOINED));
                    }
                    let (reader, tap) = if mb.bridged {
                        let (ttx, trx) = mpsc::channel(256);
                        let tap = crate::recording::Tap::new(0, ttx);
                        let id = tap.id;
                        mb.leg.add_tap(tap);
                        mb.leg.take_over();
                        (tokio::spawn(from_tap(trx, mb.tag, pkt_tx.clone())), Some(id))
                    } else {
                        (tokio::spawn(read(mb.leg.clone(), mb.tag, pkt_tx.clone())), None)
                    };
                    seats.push(Seat {
                        tag: mb.tag,
                        command: mb.command,
                        sender: None,
                        leg: mb.leg,
                        law: mb.law,
                        muted: mb.muted,
                        channel: Channel::new(mb.te_pt),
                        talking: false,
                        reader,
                        tap,
                        tones: mb.tones,
                    });
                }
                Some(Ctl::Leave(tag)) => {
                    if let Some(i) = seats.iter().position(|s| s.tag == tag) {
                        let seat = seats.swap_remove(i);
                        m.conference_members.dec();
                        if let Ok(mut l) = levels.lock() {
                            l.remove(&tag);
                        }
                        if seat.tones && !seats.is_empty() {
                            cue = Some(ToneGen::new(LEFT));
                        }
                        let done = Done {
                            id: seat.command,
                            reason: Reason::Stopped,
                            played_ms: 0,
                            digits: None,
                            ok: false,
                        };
                        drop(seat);
                        let _ = events.send((tag, Event::Done(done)));
                    }
                }
                Some(Ctl::Mute(tag, muted)) => {
                    if let Some(s) = seats.iter_mut().find(|s| s.tag == tag) {
                        s.muted = muted;
                    }
                }
                Some(Ctl::Record(frames)) => recording = Some(frames),
            },
            _ = tick.tick() => {
                frames.clear();
                let mut now_levels = Vec::with_capacity(seats.len());
                for s in seats.iter_mut() {
                    let mut f = [0i16; FRAME];
                    s.channel.frame(&mut f);
                    let sum: u32 = f.iter().map(|x| u32::from(x.unsigned_abs())).sum();
                    now_levels.push((s.tag, (sum / FRAME as u32) as u16));
                    if s.muted {
                        f = [0; FRAME];
                    }
                    frames.push(f);
                }
                if let Ok(mut l) = levels.lock() {
                    for (tag, level) in now_levels {
                        let e = l.entry(tag).or_insert(0);
                        *e = ((u32::from(*e) * 3 + u32::from(level)) / 4) as u16;
                    }
                }
                mix(&frames, &mut heard);
                let mut tone = [0i16; FRAME];
                if let Some(g) = cue.as_mut() {
                    g.fill(&mut tone);
                    for h in heard.iter_mut() {
                        for (x, y) in h.iter_mut().zip(tone) {
                            *x = x.saturating_add(y);
                        }
                    }
                    if g.done() {
                        cue = None;
                    }
                }
                if let Some(r) = &recording {
                    let mut all = tone;
                    for f in &frames {
                        for (x, y) in all.iter_mut().zip(f) {
                            *x = x.saturating_add(*y);
                        }
                    }
                    if let Err(mpsc::error::TrySendError::Closed(_)) = r.try_send(all) {
                        recording = None;
                    }
                }
                for (s, f) in seats.iter_mut().zip(&heard) {
                    payload.clear();
                    s.law.encode(f, &mut payload);
                    let leg = &s.leg;
                    let sender = s.sender.get_or_insert_with(|| sender_for(leg));
                    sender.audio(s.law.pt(), !s.talking, &payload, FRAME as u32, &mut out);
                    s.talking = true;
                    let Some(to) = s.leg.remote_rtp() else { continue };
                    if s.leg.rtp.send_to(&out, to).await.is_ok() {
                        s.leg.note_sent(&out);
                        s.leg.stats.rtp_out.fetch_add(1, Relaxed);
                        s.leg.stats.rtp_out_bytes.fetch_add(out.len() as u64, Relaxed);
                        m.packets.inc();
                    }
                }
                m.mixed_frames.inc_by(seats.len() as u64);
            }
            Some((tag, pkt)) = pkts.recv() => {
                if let Some(s) = seats.iter_mut().find(|s| s.tag == tag)
                    && let Some(key) = s.channel.push(&pkt)
                {
                    m.keys.inc();
                    let _ = events.send((tag, Event::Key(key)));
                }
            }
        }
    }
    m.conference_members.sub(seats.len() as i64);
}

#[cfg(test)]
mod tests;
