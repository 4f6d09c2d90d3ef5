//! Reading the log on the second core: a long pass (an as-of fold, a
//! rebuild) hands its read of the log (the store's I/O, hash checks and
//! record decoding) to a thread of its own, and folds what that thread has
//! already read. Memory stays bounded: the reader runs at most
//! [`READ_AHEAD_BATCHES`] batches of [`READ_AHEAD_ITEMS`] ahead.

use std::sync::mpsc::{sync_channel, IntoIter, Receiver, SyncSender};

/// How many records the reader hands over at a time: one channel message
/// per batch keeps the hand-over's cost per record small.
pub const READ_AHEAD_ITEMS: usize = 1_024;

/// How many batches the reader may be ahead of the fold.
pub const READ_AHEAD_BATCHES: usize = 4;

/// The sending side of a hand-over between two threads: items go over in
/// batches of [`READ_AHEAD_ITEMS`], at most [`READ_AHEAD_BATCHES`] of them
/// waiting, so the sender blocks rather than run far ahead.
pub struct HandOver<T> {
    batch: Vec<T>,
    send: SyncSender<Vec<T>>,
}

/// The receiving side of a [`HandOver`]: the items in the order sent. It
/// ends when the sender is dropped.
pub type Received<T> = std::iter::Flatten<IntoIter<Vec<T>>>;

/// A hand-over and its receiving side.
pub fn hand_over<T>() -> (HandOver<T>, Received<T>) {
    let (send, receive): (_, Receiver<Vec<T>>) = sync_channel(READ_AHEAD_BATCHES);
    let hand = HandOver {
        batch: Vec::with_capacity(READ_AHEAD_ITEMS),
        send,
    };
    (hand, receive.into_iter().flatten())
}

impl<T> HandOver<T> {
    /// Hands `item` over (in the next batch); `false` once the receiver is
    /// gone, when sending more is pointless.
    pub fn push(&mut self, item: T) -> bool {
        self.batch.push(item);
        self.batch.len() < READ_AHEAD_ITEMS
            || self.send.send(std::mem::take(&mut self.batch)).is_ok()
    }

    /// Hands over what is left and ends the items. (Dropping the hand-over
    /// instead ends them without its last batch.)
    pub fn finish(self) {
        if !self.batch.is_empty() {
            let _ = self.send.send(self.batch);
        }
    }
}

/// Runs `consume` over `items` (the store's [`crate::Events`]), which are
/// read on another thread while `consume` works, and arrive in their order.
/// When `consume` returns early (at an error, say), the reader stops.
pub fn read_ahead<T: Send, R>(
    items: impl Iterator<Item = T> + Send,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> R,
) -> R {
    let (mut hand, mut received) = hand_over();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for item in items {
                // The fold has stopped: so does the reader.
                if !hand.push(item) {
                    return;
                }
            }
            hand.finish();
        });
        // The receiver is dropped when `consume` returns, before the scope
        // waits for the reader: a reader blocked on a full channel then
        // stops.
        let answer = consume(&mut received);
        drop(received);
        answer
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
    fn a_hand_over_sends_its_last_batch_on_finish_and_is_refused_once_the_receiver_is_gone() {
        let (mut hand, received) = hand_over();
        for n in 0..3 {
            assert!(hand.push(n));
        }
        hand.finish();
        assert_eq!(received.collect::<Vec<i32>>(), vec![0, 1, 2]);

        let (mut hand, received) = hand_over();
        drop(received);
        let pushed = (0..READ_AHEAD_ITEMS)
            .map(|n| hand.push(n))
            .collect::<Vec<_>>();
        // Refused when a batch is full and cannot be sent.
        assert_eq!(pushed.last(), Some(&false));
        assert!(pushed[..READ_AHEAD_ITEMS - 1].iter().all(|ok| *ok));
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
