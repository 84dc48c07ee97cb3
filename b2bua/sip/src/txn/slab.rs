//! Storage of live transactions: a vector with a free list and a generation per slot, so a
//! handle kept by the transaction user (or a timer) after its transaction ended never reaches
//! a newer one in the same slot.

#[derive(Debug)]
struct Entry<T> {
    epoch: u32,
    value: Option<T>,
}

#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    pub(crate) fn insert(&mut self, value: T) -> (u32, u32) {
        self.len += 1;
        if let Some(idx) = self.free.pop() {
            let e = &mut self.entries[idx as usize];
            e.epoch = e.epoch.wrapping_add(1);
            e.value = Some(value);
            (idx, e.epoch)
        } else {
            self.entries.push(Entry {
                epoch: 0,
                value: Some(value),
            });
            ((self.entries.len() - 1) as u32, 0)
        }
    }

    pub(crate) fn get(&self, idx: u32, epoch: u32) -> Option<&T> {
        let e = self.entries.get(idx as usize)?;
        if e.epoch == epoch {
            e.value.as_ref()
        } else {
            None
        }
    }

    pub(crate) fn get_mut(&mut self, idx: u32, epoch: u32) -> Option<&mut T> {
        let e = self.entries.get_mut(idx as usize)?;
        if e.epoch == epoch {
            e.value.as_mut()
        } else {
            None
        }
    }

    pub(crate) fn remove(&mut self, idx: u32, epoch: u32) -> Option<T> {
        let e = self.entries.get_mut(idx as usize)?;
        if e.epoch != epoch {
            return None;
        }
        let v = e.value.take()?;
        self.free.push(idx);
        self.len -= 1;
        Some(v)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_handles_miss() {
        let mut s = Slab::default();
        let (i, g) = s.insert("a");
        assert_eq!(s.remove(i, g), Some("a"));
        let (i2, g2) = s.insert("b");
        assert_eq!(i, i2);
        assert_ne!(g, g2);
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.get(i2, g2), Some(&"b"));
        assert_eq!(s.len(), 1);
    }
}
