//! One hashed timer wheel for every SIP timer of the node (RFC 3261 timers A-M, 2xx
//! retransmissions, 100 Trying): O(1) insert, O(expired) expiry, no task or allocation per
//! timer. Cancelling is lazy: the owner of an entry checks, when it fires, whether the entry is
//! still current (a generation or a state), so nothing ever has to be found and removed.

use crate::Ms;
use std::collections::BTreeMap;

/// Width of one slot. RFC 3261's shortest timer is T1 = 500 ms (A, E, G start there), so 10 ms
/// of granularity is 2 % of the shortest timer.
pub const SLOT_MS: Ms = 10;
/// Slots in the wheel: 4,096 x 10 ms = 40.96 s covers every transaction timer (the longest,
/// 64 x T1, is 32 s); later deadlines wait in an ordered map until they come within range.
const SLOTS: usize = 4096;

/// Timers holding a value `T` each, fired in deadline order per slot.
#[derive(Debug)]
pub struct TimerWheel<T> {
    slots: Vec<Vec<(Ms, T)>>,
    /// Start of the slot the cursor is on: everything before it has fired.
    cursor: Ms,
    /// Deadlines beyond the wheel's span, keyed by (deadline, insertion number).
    far: BTreeMap<(Ms, u64), T>,
    far_seq: u64,
    len: usize,
}

impl<T> TimerWheel<T> {
    /// A wheel whose first slot starts at `now`.
    pub fn new(now: Ms) -> Self {
        Self {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            cursor: now - now % SLOT_MS,
            far: BTreeMap::new(),
            far_seq: 0,
            len: 0,
        }
    }

    /// Timers waiting (stale ones included until they come due).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Arm a timer. A deadline in the past fires at the next [`TimerWheel::expire`].
    pub fn insert(&mut self, deadline: Ms, value: T) {
        self.len += 1;
        let deadline = deadline.max(self.cursor);
        if deadline >= self.cursor + SLOT_MS * SLOTS as Ms {
            self.far_seq += 1;
            self.far.insert((deadline, self.far_seq), value);
        } else {
            self.slots[slot_of(deadline)].push((deadline, value));
        }
    }

    /// When the driver should next call [`TimerWheel::expire`]: the end of the current slot
    /// while anything is armed (at most one wake-up per slot), `None` when empty.
    pub fn next_wake(&self) -> Option<Ms> {
        (self.len > 0).then(|| self.cursor + SLOT_MS)
    }

    /// Move the wheel to `now` and push every value whose deadline is at or before `now`
    /// into `fired`, earliest slot first.
    pub fn expire(&mut self, now: Ms, fired: &mut Vec<T>) {
        if self.len == 0 {
            self.cursor = self.cursor.max(now - now % SLOT_MS);
            return;
        }
        // Never spin through more than one turn: past that, every slot is visited once.
        let mut turns = 0;
        loop {
            let idx = slot_of(self.cursor);
            self.len -= drain_due(&mut self.slots[idx], now, fired);
            if self.cursor + SLOT_MS > now {
                break;
            }
            self.cursor += SLOT_MS;
            turns += 1;
            if turns >= SLOTS {
                self.cursor = now - now % SLOT_MS;
                for slot in &mut self.slots {
                    self.len -= drain_due(slot, now, fired);
                }
                break;
            }
        }
        // Bring far deadlines that are now within range onto the wheel (or fire them).
        let horizon = self.cursor + SLOT_MS * (SLOTS as Ms - 1);
        while let Some(entry) = self.far.first_entry() {
            let deadline = entry.key().0;
            if deadline >= horizon {
                break;
            }
            let v = entry.remove();
            if deadline <= now {
                fired.push(v);
                self.len -= 1;
            } else {
                self.slots[slot_of(deadline)].push((deadline, v));
            }
        }
    }
}

/// Move every entry of `slot` due at `now` to `fired`; how many moved.
fn drain_due<T>(slot: &mut Vec<(Ms, T)>, now: Ms, fired: &mut Vec<T>) -> usize {
    let mut moved = 0;
    let mut i = 0;
    while i < slot.len() {
        if slot[i].0 <= now {
            let (_, v) = slot.swap_remove(i);
            fired.push(v);
            moved += 1;
        } else {
            i += 1;
        }
    }
    moved
}

fn slot_of(deadline: Ms) -> usize {
    ((deadline / SLOT_MS) % SLOTS as Ms) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire(w: &mut TimerWheel<u32>, now: Ms) -> Vec<u32> {
        let mut v = Vec::new();
        w.expire(now, &mut v);
        v.sort();
        v
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let mut w = TimerWheel::new(1_000);
        w.insert(1_500, 1);
        w.insert(1_505, 2);
        w.insert(3_000, 3);
        assert_eq!(fire(&mut w, 1_499), Vec::<u32>::new());
        assert_eq!(fire(&mut w, 1_500), vec![1]);
        assert_eq!(fire(&mut w, 1_504), Vec::<u32>::new());
        assert_eq!(fire(&mut w, 2_000), vec![2]);
        assert_eq!(w.len(), 1);
        assert_eq!(fire(&mut w, 3_000), vec![3]);
        assert!(w.is_empty());
        assert_eq!(w.next_wake(), None);
    }

    #[test]
    fn far_deadlines_come_onto_the_wheel() {
        let mut w = TimerWheel::new(0);
        w.insert(100_000, 7); // beyond the 40.96 s span
        w.insert(45_000, 8);
        assert_eq!(fire(&mut w, 44_999), Vec::<u32>::new());
        assert_eq!(fire(&mut w, 45_000), vec![8]);
        assert_eq!(fire(&mut w, 99_990), Vec::<u32>::new());
        assert_eq!(fire(&mut w, 100_000), vec![7]);
        assert!(w.is_empty());
    }

    #[test]
    fn a_long_sleep_fires_everything_due_once() {
        let mut w = TimerWheel::new(0);
        for i in 0..100 {
            w.insert(i * 500, i as u32);
        }
        let fired = fire(&mut w, 1_000_000);
        assert_eq!(fired, (0..100).collect::<Vec<u32>>());
        assert!(w.is_empty());
        // Past deadlines inserted later fire at the next expiry.
        w.insert(5, 9);
        assert_eq!(fire(&mut w, 1_000_001), vec![9]);
    }

    #[test]
    fn same_slot_other_turn_waits_for_its_turn() {
        let mut w = TimerWheel::new(0);
        // 40.96 s apart: same slot index, different turns.
        w.insert(20, 1);
        w.insert(20 + 40_950, 2);
        assert_eq!(fire(&mut w, 30), vec![1]);
        assert_eq!(fire(&mut w, 40_000), Vec::<u32>::new());
        assert_eq!(fire(&mut w, 40_970), vec![2]);
    }
}
