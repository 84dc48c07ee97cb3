//! Conference rooms' wiring: a `conference` primitive moves a leg into the tenant's room of
//! that name (a mixer task, started with its first member): an application call's leg from
//! its engine endpoint, a bridged call's leg from the relay (the room hears it through a tap
//! and holds its stream; join both legs for a three-way call). `stop` moves it back once the
//! room let it go (the room reports the command's `Done` first, then the endpoint starts or
//! the relay carries the stream on, so the phone's stream never has two senders); the call's
//! end just takes it out. A room ends with its last member.

use super::Driver;
use patchbay_api::{CallId, ConferenceRequest, MediaReason};
use patchbay_media::conference::{Member, Room};
use patchbay_media::engine::record::Limits;
use patchbay_media::recording::{self, RecordingHandle};
use patchbay_proto::{LegId, MediaEvent};
use std::collections::{HashMap, HashSet};

/// A room of a tenant: (tenant, name).
type RoomKey = (String, String);

/// The rooms with members (and the recording of each recorded one: it ends with the room),
/// and which leg is in which (with its joining command).
#[derive(Default)]
pub(crate) struct Rooms {
    rooms: HashMap<RoomKey, (Room, HashSet<LegId>, Option<RecordingHandle>)>,
    legs: HashMap<LegId, (RoomKey, u64)>,
}

impl Rooms {
    /// Take `leg` out of its room's member set; the room is dropped (ended) with its last.
    fn forget(&mut self, leg: LegId) -> Option<u64> {
        let (key, command) = self.legs.remove(&leg)?;
        if let Some((_, members, _)) = self.rooms.get_mut(&key) {
            members.remove(&leg);
            if members.is_empty() {
                self.rooms.remove(&key);
            }
        }
        Some(command)
    }
}

// === impl Driver ===

impl Driver {
    /// The room's members' talking energy, from its mixer (the core knows who is in it).
    pub(super) fn add_energy(
        &self,
        tenant: &str,
        room: &str,
        members: &mut [patchbay_api::ConferenceMember],
    ) {
        let key = (tenant.to_string(), room.to_string());
        let Some((handle, legs, _)) = self.rooms.rooms.get(&key) else {
            return;
        };
        for m in members.iter_mut() {
            let leg = legs
                .iter()
                .find(|l| self.rooms.legs.get(l).is_some_and(|(_, c)| *c == m.command));
            if let Some(leg) = leg {
                m.energy = handle.energy(leg.0);
            }
        }
    }

    pub(super) fn join_room(
        &mut self,
        call: &CallId,
        leg: LegId,
        command: u64,
        req: ConferenceRequest,
    ) {
        let tenant = self.calls.info(call).map(|i| i.tenant).unwrap_or_default();
        let Some(media) = self.leg_media.get(&leg).cloned() else {
            self.feed_media(leg, hangup(command));
            return;
        };
        // The room sends to the phone from now on; the endpoint (idle: the core let the leg
        // join only without other commands) stops. A bridged leg's stream comes from the
        // relay, which gives it back when the leg leaves.
        self.apps.endpoints.remove(&leg);
        let bridged = self.bridges.contains_key(call);
        let (law, te_pt) = self.leg_law(leg);
        let key = (tenant, req.room);
        let (events, metrics) = (self.apps.events.clone(), self.apps.metrics.clone());
        let (room, members, recording) = self
            .rooms
            .rooms
            .entry(key.clone())
            .or_insert_with(|| (Room::start(events, metrics), HashSet::new(), None));
        if req.record && recording.is_none() {
            *recording = Some(record_room(&self.sh, &key, room, &self.apps.metrics));
        }
        room.join(Member {
            leg: media,
            law,
            te_pt,
            tag: leg.0,
            command,
            muted: req.muted,
            bridged,
            tones: req.tones,
        });
        members.insert(leg);
        self.rooms.legs.insert(leg, (key, command));
    }

    /// `stop` of a leg's joining command: ask its room to let it go (`true`: it was that).
    pub(super) fn leave_room(&mut self, leg: LegId, command: u64) -> bool {
        match self.rooms.legs.get(&leg) {
            Some((key, c)) if *c == command => {
                if let Some((room, ..)) = self.rooms.rooms.get(key) {
                    room.leave(leg.0);
                }
                true
            }
            _ => false,
        }
    }

    /// The room reported `command` done on `leg`: if that was its joining command, the leg
    /// is out; the engine serves it again (an application call's), or the relay (a bridged
    /// call's: it took the stream back already).
    pub(super) fn left_room(&mut self, leg: LegId, command: u64) {
        if self
            .rooms
            .legs
            .get(&leg)
            .is_some_and(|(_, c)| *c == command)
        {
            self.rooms.forget(leg);
            let app = self
                .calls
                .call_of(leg)
                .is_some_and(|c| !self.bridges.contains_key(c));
            if app {
                self.attach(leg);
            }
        }
    }

    pub(super) fn mute_in_room(&mut self, leg: LegId, muted: bool) {
        if let Some((room, ..)) = self
            .rooms
            .legs
            .get(&leg)
            .and_then(|(key, _)| self.rooms.rooms.get(key))
        {
            room.mute(leg.0, muted);
        }
    }

    /// The leg's call ended: out of its room (the core already ended the command).
    pub(super) fn drop_from_room(&mut self, leg: LegId) {
        if let Some((key, _)) = self.rooms.legs.get(&leg).cloned() {
            if let Some((room, ..)) = self.rooms.rooms.get(&key) {
                room.leave(leg.0);
            }
            self.rooms.forget(leg);
        }
    }
}

/// Record `room`'s mix as `<recordings_dir>/<tenant>/room-<name>-r<ms>.wav` until it ends;
/// then index it (listed with call `room-<name>`).
fn record_room(
    sh: &std::sync::Arc<crate::shared::Shared>,
    (tenant, name): &RoomKey,
    room: &Room,
    metrics: &patchbay_media::endpoint::EngineMetrics,
) -> RecordingHandle {
    let started_ms = super::now_ms();
    // `<call>-r<n>` like calls' recordings, the call being `room-<name>`.
    let id = format!("room-{name}-r{started_ms}");
    let path = sh.cfg.recordings_dir.join(tenant).join(format!("{id}.wav"));
    let limits = Limits {
        max_ms: Some(patchbay_api::MAX_RECORD_MS),
        silence_ms: None,
        stop_keys: String::new(),
    };
    let (frames, handle, task) = recording::start_frames(path.clone(), limits, metrics.clone());
    room.record(frames);
    let (store, tenant, name) = (sh.store.clone(), tenant.clone(), name.clone());
    tokio::spawn(async move {
        let Ok(out) = task.await else { return };
        if out.bytes == 0 {
            tracing::warn!(tenant, room = name, ending = ?out.ending, "room recording failed");
            return;
        }
        let rec = patchbay_store::Recording {
            id,
            call_id: format!("room-{name}"),
            tenant,
            side: "room".into(),
            layout: "mono".into(),
            path: path.to_string_lossy().into_owned(),
            started_ms,
            duration_ms: out.duration_ms,
            bytes: out.bytes,
        };
        // One retry, as for calls' recordings.
        if store.insert_recording(&rec).await.is_err()
            && let Err(e) = store.insert_recording(&rec).await
        {
            tracing::warn!(error = %e, id = rec.id, "room recording written but not indexed");
        }
    });
    handle
}

fn hangup(command: u64) -> MediaEvent {
    MediaEvent::Done {
        command,
        reason: MediaReason::Hangup,
        played_ms: 0,
        digits: None,
        ok: false,
        key: None,
        error: None,
    }
}
