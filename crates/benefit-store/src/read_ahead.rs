//! Reading the log on the second core: a long pass (an as-of fold, a
//! rebuild) hands its read of the log (the store's I/O, hash checks and
//! record decoding) to a thread of its own, and folds what that thread has
//! already read. Memory stays bounded: the reader runs at most
//! [`READ_AHEAD_BATCHES`] batches of [`READ_AHEAD_ITEMS`] ahead.

use std::sync::mpsc::sync_channel;

/// How many records the reader hands over at a time: one channel message
/// per batch keeps the hand-over's cost per record small.
pub const READ_AHEAD_ITEMS: usize = 1_024;

/// How many batches the reader may be ahead of the fold.
pub const READ_AHEAD_BATCHES: usize = 4;

/// Runs `consume` over `items` (the store's [`crate::Events`]), which are
/// read on another thread while `consume` works, and arrive in their order.
/// When `consume` returns early (at an error, say), the reader stops.
pub fn read_ahead<T: Send, R>(
    items: impl Iterator<Item = T> + Send,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> R,
) -> R {
    let (send, receive) = sync_channel::<Vec<T>>(READ_AHEAD_BATCHES);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch = Vec::with_capacity(READ_AHEAD_ITEMS);
            for item in items {
                batch.push(item);
                // A send fails once the fold has stopped: so does the reader.
                if batch.len() == READ_AHEAD_ITEMS && send.send(std::mem::take(&mut batch)).is_err()
                {
                    return;
                }
            }
            if !batch.is_empty() {
                let _ = send.send(batch);
            }
        });
        // The receiver is dropped when `consume` returns, before the scope
        // waits for the reader: a reader blocked on a full channel then
        // stops.
        let mut items = receive.into_iter().flatten();
        consume(&mut items)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_items_arrive_in_order_and_all_of_them() {
        for count in [0, 1, READ_AHEAD_ITEMS, 3 * READ_AHEAD_ITEMS + 7] {
            let got: Vec<usize> = read_ahead(0..count, |items| items.collect());
            assert_eq!(got, (0..count).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_fold_that_stops_early_stops_the_reader() {
        let read = AtomicUsize::new(0);
        let endless = std::iter::repeat(()).map(|()| read.fetch_add(1, Ordering::Relaxed));
        let first: Vec<usize> = read_ahead(endless, |items| items.take(3).collect());
        assert_eq!(first, vec![0, 1, 2]);
        // The reader stopped within the batches the channel holds.
        let bound = (READ_AHEAD_BATCHES + 2) * READ_AHEAD_ITEMS;
        assert!(read.load(Ordering::Relaxed) <= bound, "{read:?}");
    }
}
