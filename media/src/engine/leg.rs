//! The application end of one leg, sans-IO: what the engine plays into a leg (prompts, tones,
//! RFC 4733 keys), what it hears from it (keys, by telephone-event or in-band), and digit
//! collection, as one state machine driven by three inputs: a command, a packet from the
//! phone, and the 20 ms tick of the pacing loop. Results come out as [`Event`]s; every command
//! ends with exactly one [`Done`] (or none when [`LegEngine::stop`] says it was unknown).
//!
//! Output order within one 20 ms slot: a key being sent, else the head of the output queue
//! (prompts and tones play one after the other, in the order they were asked for), else
//! nothing (the stream's clock moves on; the next sound starts a talkspurt with the marker).

use super::collect::{CollectSpec, Collected, Collector, Ended};
use super::dtmf::{self, EventPacket};
use super::g711::Law;
use super::goertzel::Detector;
use super::playback::Playback;
use super::rtp::{self, Sender};
use super::tone::{Tone, ToneGen};
use super::{FRAME, RATE};
use std::collections::VecDeque;
use std::sync::Arc;

/// A command's id, chosen by the caller (unique per leg).
pub type CmdId = u64;

/// What the application asks of a leg.
#[derive(Debug, Clone)]
pub enum Command {
    /// Play 8 kHz samples, once or looped; with `barge_in` a key from the phone ends it.
    Play {
        id: CmdId,
        samples: Arc<[i16]>,
        repeat: bool,
        barge_in: bool,
    },
    /// Play a tone for `max_ms` (or until it ends by itself, or forever when neither).
    Tone {
        id: CmdId,
        tone: Tone,
        max_ms: Option<u64>,
        barge_in: bool,
    },
    /// Collect keys; the first-digit timeout counts from when nothing plays any more.
    Collect { id: CmdId, spec: CollectSpec },
    /// Send keys as RFC 4733 events (or as in-band tones when the leg has no telephone-event),
    /// each held `duration_ms`.
    SendDtmf {
        id: CmdId,
        digits: String,
        duration_ms: u32,
    },
}

impl Command {
    /// The command's id.
    pub fn id(&self) -> CmdId {
        match self {
            Command::Play { id, .. }
            | Command::Tone { id, .. }
            | Command::Collect { id, .. }
            | Command::SendDtmf { id, .. } => *id,
        }
    }
}

/// Why a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Played to its end, or every key sent.
    Finished,
    /// Stopped by a command, or by the leg leaving the engine.
    Stopped,
    /// A key from the phone interrupted it.
    BargeIn(char),
    /// Collection: enough digits.
    MaxDigits,
    /// Collection: a terminator key.
    Terminator(char),
    /// Collection: no (further) key in time; tone: its `max_ms` passed.
    Timeout,
}

/// The end of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub id: CmdId,
    pub reason: Reason,
    /// Milliseconds of sound played (prompts and tones), 0 otherwise.
    pub played_ms: u64,
    /// Collected digits (collection only).
    pub digits: Option<String>,
    /// Collection: at least `min_digits` came.
    pub ok: bool,
}

/// What the leg reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Done(Done),
    /// A key the phone pressed (each once).
    Key(char),
}

#[derive(Debug)]
enum Sound {
    Prompt(Playback),
    Tone {
        generator: ToneGen,
        max: Option<u64>,
    },
}

#[derive(Debug)]
struct Output {
    id: CmdId,
    sound: Sound,
    barge_in: bool,
    /// Samples played so far.
    played: u64,
}

#[derive(Debug)]
struct Sending {
    id: CmdId,
    keys: VecDeque<char>,
    duration_ms: u32,
    /// Packets of the key being sent, the RTP timestamp of its start.
    packets: VecDeque<EventPacket>,
    start: u32,
    /// In-band: the tone of the key being sent and the samples left of it (with the pause).
    inband: Option<(ToneGen, u64)>,
    /// Silent slots between keys.
    gap: u32,
}

#[derive(Debug)]
enum Collecting {
    /// Asked for; its clock starts at the first key, or when nothing plays.
    Waiting(CmdId, CollectSpec),
    Running(CmdId, Collector),
}

/// One leg's application media.
#[derive(Debug)]
pub struct LegEngine {
    law: Law,
    /// telephone-event payload type agreed with the phone (`None`: keys go in-band).
    te_pt: Option<u8>,
    sender: Sender,
    /// The previous slot carried sound (the next one continues the talkspurt).
    talking: bool,
    queue: VecDeque<Output>,
    sending: VecDeque<Sending>,
    collecting: Option<Collecting>,
    rx: dtmf::Receiver,
    inband: Option<Detector>,
    decoded: Vec<i16>,
    frame: Vec<u8>,
    events: VecDeque<Event>,
}

impl LegEngine {
    /// A leg speaking `law`, with telephone-event on `te_pt` if agreed, sending on `sender`.
    pub fn new(law: Law, te_pt: Option<u8>, sender: Sender) -> Self {
        Self {
            law,
            te_pt,
            sender,
            talking: false,
            queue: VecDeque::new(),
            sending: VecDeque::new(),
            collecting: None,
            rx: dtmf::Receiver::default(),
            inband: te_pt.is_none().then(Detector::default),
            decoded: Vec::with_capacity(FRAME),
            frame: Vec::with_capacity(FRAME),
            events: VecDeque::new(),
        }
    }

    /// The stream as it stands (to hand over to whatever sends on the leg next).
    pub fn sender(&self) -> Sender {
        self.sender
    }

    /// Whether anything is asked of the leg (a sound, keys to send, a collection).
    /// Whether it has anything to send (sound queued, keys to send): a leg that the relay
    /// also serves is taken from the relay only then.
    pub fn has_output(&self) -> bool {
        !self.queue.is_empty() || !self.sending.is_empty()
    }

    /// Carry on the phone's stream from `sender` (it moved on meanwhile: the relay sent);
    /// the next packet starts a talkspurt.
    pub fn resync(&mut self, sender: Sender) {
        self.sender = sender;
        self.talking = false;
    }

    pub fn busy(&self) -> bool {
        !self.queue.is_empty() || !self.sending.is_empty() || self.collecting.is_some()
    }

    pub fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Play {
                id,
                samples,
                repeat,
                barge_in,
            } => self.queue.push_back(Output {
                id,
                sound: Sound::Prompt(Playback::new(samples, repeat)),
                barge_in,
                played: 0,
            }),
            Command::Tone {
                id,
                tone,
                max_ms,
                barge_in,
            } => self.queue.push_back(Output {
                id,
                sound: Sound::Tone {
                    generator: ToneGen::new(tone),
                    max: max_ms.map(|ms| ms * u64::from(RATE) / 1000),
                },
                barge_in,
                played: 0,
            }),
            Command::Collect { id, spec } => {
                // A new collection replaces one still running (that one ends as stopped).
                if let Some(old) = self.collecting.take() {
                    self.finish_collect(old, Reason::Stopped);
                }
                self.collecting = Some(Collecting::Waiting(id, spec));
            }
            Command::SendDtmf {
                id,
                digits,
                duration_ms,
            } => self.sending.push_back(Sending {
                id,
                keys: digits.chars().collect(),
                duration_ms: duration_ms.clamp(40, 2_000),
                packets: VecDeque::new(),
                start: 0,
                inband: None,
                gap: 0,
            }),
        }
    }

    /// Stop command `id`; `false` when it is not (or no longer) running.
    pub fn stop(&mut self, id: CmdId) -> bool {
        if let Some(pos) = self.queue.iter().position(|o| o.id == id) {
            if let Some(o) = self.queue.remove(pos) {
                self.done_output(o, Reason::Stopped);
            }
            return true;
        }
        if let Some(pos) = self.sending.iter().position(|s| s.id == id) {
            self.sending.remove(pos);
            self.done(id, Reason::Stopped, 0, None, false);
            return true;
        }
        let collecting = match &self.collecting {
            Some(Collecting::Waiting(c, _) | Collecting::Running(c, _)) => *c == id,
            None => false,
        };
        if collecting && let Some(c) = self.collecting.take() {
            self.finish_collect(c, Reason::Stopped);
            return true;
        }
        false
    }

    /// End everything asked of the leg (it leaves the engine): each command's `Done` with
    /// `reason`.
    pub fn stop_all(&mut self) {
        while let Some(o) = self.queue.pop_front() {
            self.done_output(o, Reason::Stopped);
        }
        while let Some(s) = self.sending.pop_front() {
            self.done(s.id, Reason::Stopped, 0, None, false);
        }
        if let Some(c) = self.collecting.take() {
            self.finish_collect(c, Reason::Stopped);
        }
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// A packet from the phone at `now`; the audio it carried, decoded (empty for anything
    /// else), for recording and mixing.
    pub fn on_packet(&mut self, now: u64, pkt: &[u8]) -> &[i16] {
        self.decoded.clear();
        let Some((h, payload)) = rtp::parse(pkt) else {
            return &self.decoded;
        };
        if Some(h.pt) == self.te_pt {
            if let Some(key) = self.rx.on_packet(h.ssrc, h.ts, payload) {
                self.key(key, now);
            }
            return &self.decoded;
        }
        let Some(law) = Law::from_pt(h.pt) else {
            return &self.decoded;
        };
        let mut decoded = std::mem::take(&mut self.decoded);
        law.decode(payload, &mut decoded);
        if let Some(det) = self.inband.as_mut() {
            for key in det.push(&decoded) {
                self.key(key, now);
            }
        }
        self.decoded = decoded;
        &self.decoded
    }

    fn key(&mut self, key: char, now: u64) {
        self.events.push_back(Event::Key(key));
        let barged: Vec<Output> = {
            let (b, keep): (Vec<Output>, Vec<Output>) =
                self.queue.drain(..).partition(|o| o.barge_in);
            self.queue.extend(keep);
            b
        };
        for o in barged {
            self.done_output(o, Reason::BargeIn(key));
        }
        let result = match self.collecting.take() {
            Some(Collecting::Waiting(id, spec)) => {
                let mut c = Collector::new(spec, now);
                let r = c.key(key, now);
                self.collecting = Some(Collecting::Running(id, c));
                r.map(|r| (id, r))
            }
            Some(Collecting::Running(id, mut c)) => {
                let r = c.key(key, now);
                self.collecting = Some(Collecting::Running(id, c));
                r.map(|r| (id, r))
            }
            None => None,
        };
        if let Some((id, r)) = result {
            self.collecting = None;
            self.collected(id, r);
        }
    }

    /// The 20 ms slot at `now`: the packet to send, if any, written into `out`.
    pub fn tick(&mut self, now: u64, out: &mut Vec<u8>) -> bool {
        self.tick_collect(now);
        let sent = self.tick_dtmf(out) || self.tick_sound(out);
        if !sent {
            self.sender.skip(FRAME as u32);
        }
        self.talking = sent;
        sent
    }

    fn tick_collect(&mut self, now: u64) {
        let idle = self.queue.is_empty();
        let result = match self.collecting.take() {
            Some(Collecting::Waiting(id, spec)) if idle => {
                self.collecting = Some(Collecting::Running(id, Collector::new(spec, now)));
                None
            }
            Some(Collecting::Running(id, mut c)) => {
                let r = c.tick(now);
                self.collecting = Some(Collecting::Running(id, c));
                r.map(|r| (id, r))
            }
            other => {
                self.collecting = other;
                None
            }
        };
        if let Some((id, r)) = result {
            self.collecting = None;
            self.collected(id, r);
        }
    }

    fn tick_sound(&mut self, out: &mut Vec<u8>) -> bool {
        let mut pcm = [0i16; FRAME];
        loop {
            let Some(o) = self.queue.front_mut() else {
                return false;
            };
            let more = match &mut o.sound {
                Sound::Prompt(p) => p.next_frame(&mut pcm),
                Sound::Tone { generator, max } => {
                    let over = generator.done() || max.is_some_and(|m| o.played >= m);
                    if !over {
                        generator.fill(&mut pcm);
                    }
                    !over
                }
            };
            if more {
                o.played += FRAME as u64;
                break;
            }
            let o = self.queue.pop_front().expect("front exists");
            let reason = match o.sound {
                Sound::Tone { max: Some(m), .. } if o.played >= m => Reason::Timeout,
                _ => Reason::Finished,
            };
            self.done_output(o, reason);
        }
        self.frame.clear();
        self.law.encode(&pcm, &mut self.frame);
        let marker = !self.talking;
        self.sender
            .audio(self.law.pt(), marker, &self.frame, FRAME as u32, out);
        true
    }

    fn tick_dtmf(&mut self, out: &mut Vec<u8>) -> bool {
        loop {
            let Some(s) = self.sending.front_mut() else {
                return false;
            };
            if s.gap > 0 {
                s.gap -= 1;
                return false;
            }
            if let Some(p) = s.packets.pop_front() {
                let pt = self.te_pt.unwrap_or(101);
                let payload = p.payload.bytes();
                self.sender.event(pt, p.marker, s.start, &payload, out);
                // The clock runs on while the event lasts; the end packets repeat its end.
                if !p.payload.end {
                    self.sender.skip(FRAME as u32);
                } else if s.packets.is_empty() {
                    s.gap = 2; // 40 ms between keys
                }
                return true;
            }
            if let Some((generator, left)) = s.inband.as_mut() {
                let mut pcm = [0i16; FRAME];
                generator.fill(&mut pcm);
                *left = left.saturating_sub(FRAME as u64);
                if *left == 0 {
                    s.inband = None;
                }
                self.frame.clear();
                self.law.encode(&pcm, &mut self.frame);
                let marker = !self.talking;
                self.sender
                    .audio(self.law.pt(), marker, &self.frame, FRAME as u32, out);
                return true;
            }
            match s.keys.pop_front() {
                Some(key) => {
                    if self.te_pt.is_some() {
                        s.packets = dtmf::key_packets(key, s.duration_ms, 10)
                            .unwrap_or_default()
                            .into();
                        s.start = self.sender.ts();
                    } else if let Some(t) = super::tone::dtmf(key, s.duration_ms, 60) {
                        let span = u64::from(s.duration_ms + 60) * u64::from(RATE) / 1000;
                        s.inband = Some((ToneGen::new(t), span));
                    }
                }
                None => {
                    let id = s.id;
                    self.sending.pop_front();
                    self.done(id, Reason::Finished, 0, None, false);
                }
            }
        }
    }

    fn collected(&mut self, id: CmdId, r: Collected) {
        let reason = match r.ended {
            Ended::Max => Reason::MaxDigits,
            Ended::Terminator(k) => Reason::Terminator(k),
            Ended::Timeout => Reason::Timeout,
        };
        self.done(id, reason, 0, Some(r.digits), r.ok);
    }

    fn finish_collect(&mut self, c: Collecting, reason: Reason) {
        let (id, digits) = match c {
            Collecting::Waiting(id, _) => (id, String::new()),
            Collecting::Running(id, c) => (id, c.digits().to_string()),
        };
        self.done(id, reason, 0, Some(digits), false);
    }

    fn done_output(&mut self, o: Output, reason: Reason) {
        let ms = o.played * 1000 / u64::from(RATE);
        self.done(o.id, reason, ms, None, false);
    }

    fn done(
        &mut self,
        id: CmdId,
        reason: Reason,
        played_ms: u64,
        digits: Option<String>,
        ok: bool,
    ) {
        self.events.push_back(Event::Done(Done {
            id,
            reason,
            played_ms,
            digits,
            ok,
        }));
    }
}

#[cfg(test)]
mod tests;
